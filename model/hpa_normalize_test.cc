#include "model/hpa_normalize.h"

#include <gtest/gtest.h>

namespace scaletwin {
namespace {

constexpr Nanos kSec = kNanosPerSecond;
constexpr Nanos kNow = 10'000 * kSec;

ScalingRules Rules(SelectPolicy select, std::vector<ScalingPolicy> policies) {
  ScalingRules r;
  r.select_policy = select;
  r.stabilization_window_seconds = 0;
  r.policies = std::move(policies);
  return r;
}

ScaleEvent EventAgo(int32_t change, int64_t age_s) { return {change, kNow - age_s * kSec, false}; }

TEST(StabilizeLegacyTest, ScaleDownHoldsTheHighestRecentRecommendation) {
  std::vector<TimestampedRecommendation> recs{{10, kNow - 600 * kSec}, {4, kNow - 60 * kSec}, {5, kNow - 120 * kSec}};
  const Stabilized s = StabilizeLegacy(recs, 3, 300 * kSec, kNow);
  EXPECT_EQ(s.replicas, 5);
  EXPECT_EQ(s.reason, "ScaleDownStabilized");
  // The raw 3 overwrote the stale 10 instead of growing the list.
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(recs[0].replicas, 3);
  EXPECT_EQ(recs[0].time, kNow);
}

TEST(StabilizeLegacyTest, ScaleUpIsNeverDelayed) {
  std::vector<TimestampedRecommendation> recs{{2, kNow - 60 * kSec}};
  const Stabilized s = StabilizeLegacy(recs, 8, 300 * kSec, kNow);
  EXPECT_EQ(s.replicas, 8);
  EXPECT_EQ(s.reason, "ReadyForNewScale");
}

TEST(StabilizeLegacyTest, ARecordExactlyAsOldAsTheWindowIsOutside) {
  std::vector<TimestampedRecommendation> recs{{9, kNow - 300 * kSec}};
  EXPECT_EQ(StabilizeLegacy(recs, 3, 300 * kSec, kNow).replicas, 3);
}

TEST(StabilizeWithBehaviorTest, CurrentMovesOnlyAsFarAsEveryRecentRecommendationAgrees) {
  std::vector<TimestampedRecommendation> recs{{4, kNow - 120 * kSec}, {5, kNow - 60 * kSec}};
  std::vector<TimestampedRecommendation> copy = recs;
  // Scale-up window 300 s: the lowest recent recommendation (4) bounds the rise.
  const Stabilized up = StabilizeWithBehavior(copy, 1, 7, 300 * kSec, 0, kNow);
  EXPECT_EQ(up.replicas, 4);
  EXPECT_EQ(up.reason, "ScaleUpStabilized");
  // Scale-down window 180 s: the highest recent one (5) bounds the fall.
  copy = recs;
  const Stabilized down = StabilizeWithBehavior(copy, 100, 3, 0, 180 * kSec, kNow);
  EXPECT_EQ(down.replicas, 5);
  EXPECT_EQ(down.reason, "ScaleDownStabilized");
}

TEST(StabilizeWithBehaviorTest, AStaleHighRecommendationCannotCauseAScaleUp) {
  std::vector<TimestampedRecommendation> recs{{2, kNow - 6000 * kSec}, {3, kNow - 180 * kSec}};
  EXPECT_EQ(StabilizeWithBehavior(recs, 2, 1, 300 * kSec, 300 * kSec, kNow).replicas, 2);
}

TEST(StabilizeWithBehaviorTest, TheStoredValueIsTheRawProposalReplacingARecordOldForBothWindows) {
  std::vector<TimestampedRecommendation> recs{{10, kNow - 600 * kSec}, {9, kNow - 540 * kSec}};
  StabilizeWithBehavior(recs, 100, 3, 0, 0, kNow);
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[1].replicas, 3);  // the last old record is the one replaced
}

TEST(LegacyClampTest, ReasonsFollowTheBindingLimit) {
  EXPECT_EQ(LegacyClamp({3, 1000, 1, 2000}, 2.0, 4.0).replicas, 6);
  EXPECT_EQ(LegacyClamp({3, 1000, 1, 2000}, 2.0, 4.0).reason, "ScaleUpLimit");
  EXPECT_EQ(LegacyClamp({1, 10, 1, 2000}, 2.0, 4.0).replicas, 4) << "the minimum of 4 applies to small counts";
  EXPECT_EQ(LegacyClamp({20, 1000, 1, 10}, 2.0, 4.0).reason, "TooManyReplicas");
  const Limited low = LegacyClamp({5, 1, 3, 10}, 2.0, 4.0);
  EXPECT_EQ(low.replicas, 3);
  EXPECT_EQ(low.reason, "TooFewReplicas");
  EXPECT_EQ(LegacyClamp({5, 7, 3, 8}, 2.0, 4.0).reason, "DesiredWithinRange");
}

TEST(PolicyLimitTest, MaxSelectsTheLargestChangeAndMinTheSmallest) {
  const std::vector<ScalingPolicy> ps{{ScalingPolicyType::kPods, 4, 60}, {ScalingPolicyType::kPercent, 100, 60}};
  EXPECT_EQ(ScaleUpLimit(10, {}, {}, Rules(SelectPolicy::kMax, ps), kNow), 20);
  EXPECT_EQ(ScaleUpLimit(10, {}, {}, Rules(SelectPolicy::kMin, ps), kNow), 14);
  EXPECT_EQ(ScaleUpLimit(10, {}, {}, Rules(SelectPolicy::kDisabled, ps), kNow), 10);
  const std::vector<ScalingPolicy> down{{ScalingPolicyType::kPods, 20, 60}, {ScalingPolicyType::kPercent, 1, 60}};
  EXPECT_EQ(ScaleDownLimit(100, {}, {}, Rules(SelectPolicy::kMax, down), kNow), 80);
  EXPECT_EQ(ScaleDownLimit(100, {}, {}, Rules(SelectPolicy::kMin, down), kNow), 99);
}

TEST(PolicyLimitTest, PercentRoundsUpWhenGrowingAndTruncatesWhenShrinking) {
  const auto up = Rules(SelectPolicy::kMax, {{ScalingPolicyType::kPercent, 50, 60}});
  EXPECT_EQ(ScaleUpLimit(1, {}, {}, up, kNow), 2);  // ceil(1.5)
  const auto down = Rules(SelectPolicy::kMax, {{ScalingPolicyType::kPercent, 50, 60}});
  EXPECT_EQ(ScaleDownLimit(5, {}, {}, down, kNow), 2);  // trunc(2.5)
}

TEST(PolicyLimitTest, EventsInsideThePeriodMoveThePeriodStart) {
  const std::vector<ScaleEvent> up{EventAgo(1, 10), EventAgo(5, 60), EventAgo(9, 119), EventAgo(100, 120)};
  // Period start = 100 - 15 (the event aged exactly 120 s is outside) = 85.
  EXPECT_EQ(ScaleUpLimit(100, up, {}, Rules(SelectPolicy::kMax, {{ScalingPolicyType::kPods, 150, 120}}), kNow), 235);
  EXPECT_EQ(ScaleUpLimit(100, up, {}, Rules(SelectPolicy::kMax, {{ScalingPolicyType::kPercent, 200, 120}}), kNow), 255);
  // Both histories count in both directions.
  EXPECT_EQ(ScaleUpLimit(6, {EventAgo(4, 10)}, {EventAgo(2, 10)},
                         Rules(SelectPolicy::kMax, {{ScalingPolicyType::kPercent, 300, 300}}), kNow),
            16);
}

TEST(LimitWithBehaviorTest, ALimitBelowCurrentHoldsTheCountInsteadOfShrinkingIt) {
  const auto up = Rules(SelectPolicy::kMax, {{ScalingPolicyType::kPods, 5, 120}});
  const auto down = Rules(SelectPolicy::kMax, {{ScalingPolicyType::kPercent, 100, 15}});
  const std::vector<ScaleEvent> recent{EventAgo(1, 10), EventAgo(5, 20), EventAgo(9, 30)};
  const Limited l = LimitWithBehavior({100, 200, 1, 1000}, up, down, recent, {}, kNow);
  EXPECT_EQ(l.replicas, 100);
  EXPECT_EQ(l.reason, "ScaleUpLimit");
}

TEST(LimitWithBehaviorTest, MinAndMaxReplicasStillApply) {
  const auto up = Rules(SelectPolicy::kMax, {{ScalingPolicyType::kPercent, 900, 15}});
  const auto down = Rules(SelectPolicy::kMax, {{ScalingPolicyType::kPercent, 100, 15}});
  EXPECT_EQ(LimitWithBehavior({10, 500, 1, 50}, up, down, {}, {}, kNow).reason, "TooManyReplicas");
  const Limited low = LimitWithBehavior({10, 1, 3, 50}, up, down, {}, {}, kNow);
  EXPECT_EQ(low.replicas, 3);
  EXPECT_EQ(low.reason, "TooFewReplicas");
  const auto slow_down = Rules(SelectPolicy::kMax, {{ScalingPolicyType::kPods, 1, 60}});
  const Limited limited = LimitWithBehavior({10, 1, 3, 50}, up, slow_down, {}, {}, kNow);
  EXPECT_EQ(limited.replicas, 9);
  EXPECT_EQ(limited.reason, "ScaleDownLimit");
}

TEST(StoreScaleEventTest, AnOutdatedEventSlotIsReused) {
  const auto rules = Rules(SelectPolicy::kMax, {{ScalingPolicyType::kPods, 10, 60}});
  std::vector<ScaleEvent> events{EventAgo(7, 61), EventAgo(6, 59)};
  StoreScaleEvent(events, rules, 5, kNow);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].change, 5);
  EXPECT_FALSE(events[0].outdated);
  EXPECT_EQ(events[1].change, 6);
}

TEST(StoreScaleEventTest, TheLongestPolicyPeriodDecidesWhatIsOutdated) {
  const auto rules = Rules(SelectPolicy::kMax, {{ScalingPolicyType::kPods, 10, 120}, {ScalingPolicyType::kPercent, 100, 30}});
  std::vector<ScaleEvent> events{EventAgo(7, 58), EventAgo(6, 59)};
  StoreScaleEvent(events, rules, 5, kNow);
  EXPECT_EQ(events.size(), 3u);
}

}  // namespace
}  // namespace scaletwin
