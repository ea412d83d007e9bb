#include "model/replica_calculator.h"

#include <gtest/gtest.h>

namespace scaletwin {
namespace {

constexpr Nanos kSec = kNanosPerSecond;
constexpr Nanos kNow = 1000 * kSec;
const ReadinessTiming kTiming{kNow, 120 * kSec, 10 * kSec};
const Tolerances kDefaultTolerance{0.1, 0.1};

// A pod that started long ago and has been Ready since start.
HpaPod ReadyPod(const std::string& name, int64_t cpu_request = 1000) {
  HpaPod p;
  p.name = name;
  p.start_time = kNow - 600 * kSec;
  p.ready = PodReadyCondition{ConditionStatus::kTrue, kNow - 600 * kSec};
  p.containers.push_back({"app", {{"cpu", cpu_request}}});
  return p;
}

PodMetricSample Sample(int64_t milli) { return {milli, kNow, 60 * kSec}; }

TEST(GroupPodsTest, DeletingAndFailedPodsAreIgnoredEvenWithSamples) {
  HpaPod deleting = ReadyPod("a");
  deleting.deleting = true;
  HpaPod failed = ReadyPod("b");
  failed.phase = PodPhase::kFailed;
  const PodGroups g = GroupPods({deleting, failed}, {{"a", Sample(1)}, {"b", Sample(1)}}, "cpu", kTiming);
  EXPECT_EQ(g.ignored, (std::set<std::string>{"a", "b"}));
  EXPECT_EQ(g.ready_count, 0);
}

TEST(GroupPodsTest, PendingPodsAreUnreadyForEveryMetric) {
  HpaPod pending = ReadyPod("a");
  pending.phase = PodPhase::kPending;
  EXPECT_EQ(GroupPods({pending}, {}, "", kTiming).unready, std::set<std::string>{"a"});
}

TEST(GroupPodsTest, ARunningUnreadyPodWithoutASampleIsMissingNotUnready) {
  HpaPod p = ReadyPod("a");
  p.ready->status = ConditionStatus::kFalse;
  const PodGroups g = GroupPods({p}, {}, "cpu", kTiming);
  EXPECT_EQ(g.missing, std::set<std::string>{"a"});
  EXPECT_TRUE(g.unready.empty());
}

TEST(GroupPodsTest, CpuSampleTakenBeforeReadyInsideInitPeriodIsUnready) {
  HpaPod p = ReadyPod("a");
  p.start_time = kNow - 60 * kSec;                    // inside the 120 s init period
  p.ready->last_transition_time = kNow - 30 * kSec;   // ready 30 s ago
  // A 60 s window ending now began before the Ready transition.
  EXPECT_EQ(GroupPods({p}, {{"a", Sample(100)}}, "cpu", kTiming).unready, std::set<std::string>{"a"});
  // A 20 s window lies wholly after it.
  EXPECT_EQ(GroupPods({p}, {{"a", {100, kNow, 20 * kSec}}}, "cpu", kTiming).ready_count, 1);
  // The same pod is ready for a non-cpu metric.
  EXPECT_EQ(GroupPods({p}, {{"a", Sample(100)}}, "memory", kTiming).ready_count, 1);
}

TEST(GroupPodsTest, PastInitPeriodOnlyANeverReadyPodIsUnready) {
  HpaPod never = ReadyPod("never");
  never.ready = PodReadyCondition{ConditionStatus::kFalse, *never.start_time + 5 * kSec};   // < 10 s delay
  HpaPod was = ReadyPod("was");
  was.ready = PodReadyCondition{ConditionStatus::kFalse, *was.start_time + 60 * kSec};     // became unready later
  HpaPod boundary = ReadyPod("boundary");
  boundary.ready = PodReadyCondition{ConditionStatus::kFalse, *boundary.start_time + 10 * kSec};
  const PodGroups g = GroupPods({never, was, boundary},
                                {{"never", Sample(1)}, {"was", Sample(1)}, {"boundary", Sample(1)}}, "cpu", kTiming);
  EXPECT_EQ(g.unready, std::set<std::string>{"never"});
  EXPECT_EQ(g.ready_count, 2);
}

TEST(GroupPodsTest, NoReadyConditionOrNoStartTimeIsUnreadyForCpu) {
  HpaPod no_cond = ReadyPod("a");
  no_cond.ready.reset();
  HpaPod no_start = ReadyPod("b");
  no_start.start_time.reset();
  EXPECT_EQ(GroupPods({no_cond, no_start}, {{"a", Sample(1)}, {"b", Sample(1)}}, "cpu", kTiming).unready.size(), 2u);
}

TEST(ResourceUtilizationTest, InsideTheToleranceBandKeepsCurrent) {
  // 3 pods at 74 % of a 70 % target: ratio 1.057.
  std::vector<HpaPod> pods{ReadyPod("a"), ReadyPod("b"), ReadyPod("c")};
  PodMetrics m{{"a", Sample(740)}, {"b", Sample(740)}, {"c", Sample(740)}};
  auto r = ResourceUtilizationReplicas(3, 70, "cpu", "", pods, m, kDefaultTolerance, kTiming);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->replicas, 3);
  EXPECT_EQ(r->utilization_percent, 74);
}

TEST(ResourceUtilizationTest, PerDirectionToleranceWidensOnlyOneSide) {
  std::vector<HpaPod> pods{ReadyPod("a"), ReadyPod("b"), ReadyPod("c")};
  PodMetrics m{{"a", Sample(650)}, {"b", Sample(650)}, {"c", Sample(650)}};  // 65 % of 100 %
  EXPECT_EQ(ResourceUtilizationReplicas(3, 100, "cpu", "", pods, m, {0.36, 0.1}, kTiming)->replicas, 3);
  EXPECT_EQ(ResourceUtilizationReplicas(3, 100, "cpu", "", pods, m, {0.34, 0.1}, kTiming)->replicas, 2);
}

TEST(ResourceUtilizationTest, UtilizationTruncatesToAnIntegerPercent) {
  // 1999 m of 2000 m is 99.95 %: truncated to 99 %, so a 100 % target with zero tolerance scales down.
  std::vector<HpaPod> pods{ReadyPod("a", 2000)};
  auto r = ResourceUtilizationReplicas(2, 100, "cpu", "", pods, {{"a", Sample(1999)}}, {0, 0}, kTiming);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->utilization_percent, 99);
  EXPECT_EQ(r->replicas, 1);  // ceil(0.99 × 1 ready pod)
}

TEST(ResourceUtilizationTest, MissingPodsCountAsFullOnScaleDownAndIdleOnScaleUp) {
  std::vector<HpaPod> pods{ReadyPod("a"), ReadyPod("b"), ReadyPod("c"), ReadyPod("d")};
  // Scale-down: 400 + 94 over 2000 = 24 %; filled at 100 %: 2494/4000 = 62 % -> ceil(2.48) = 3.
  auto down = ResourceUtilizationReplicas(4, 100, "cpu", "", pods, {{"a", Sample(400)}, {"b", Sample(94)}},
                                          kDefaultTolerance, kTiming);
  EXPECT_EQ(down->replicas, 3);
  // Scale-up: 2 × 1500 over 2000 = 150 %; filled at 0: 75 % — direction flipped, keep 4.
  auto up = ResourceUtilizationReplicas(4, 100, "cpu", "", pods, {{"a", Sample(1500)}, {"b", Sample(1500)}},
                                        kDefaultTolerance, kTiming);
  EXPECT_EQ(up->replicas, 4);
}

TEST(ResourceUtilizationTest, UnreadyPodsCountAsIdleOnlyOnScaleUp) {
  HpaPod hot = ReadyPod("c");
  hot.start_time = kNow;
  hot.ready->last_transition_time = kNow;
  std::vector<HpaPod> pods{ReadyPod("a"), ReadyPod("b"), hot};
  // Ready pods at 60 % of a 30 % target; with the hot pod at 0: 40 % -> ceil(1.333 × 3) = 4.
  auto r = ResourceUtilizationReplicas(3, 30, "cpu", "", pods,
                                       {{"a", Sample(500)}, {"b", Sample(700)}, {"c", Sample(900)}},
                                       kDefaultTolerance, kTiming);
  EXPECT_EQ(r->replicas, 4);
  EXPECT_EQ(r->utilization_percent, 60);
}

TEST(ResourceUtilizationTest, AMissingRequestFailsTheMetricEvenForIgnoredPods) {
  HpaPod ignored = ReadyPod("b");
  ignored.deleting = true;
  ignored.containers[0].requests_milli.clear();
  auto r = ResourceUtilizationReplicas(2, 50, "cpu", "", {ReadyPod("a"), ignored}, {{"a", Sample(500)}},
                                       kDefaultTolerance, kTiming);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("missing request for cpu in container app of Pod b"), std::string::npos);
}

TEST(ResourceUtilizationTest, ContainerResourceCountsOnlyTheNamedContainer) {
  HpaPod p = ReadyPod("a");
  p.containers.push_back({"sidecar", {}});  // no request: irrelevant when the container is named
  auto r = ResourceUtilizationReplicas(1, 50, "cpu", "app", {p}, {{"a", Sample(1000)}}, kDefaultTolerance, kTiming);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->utilization_percent, 100);
  EXPECT_EQ(r->replicas, 2);
  EXPECT_FALSE(ResourceUtilizationReplicas(1, 50, "cpu", "", {p}, {{"a", Sample(1000)}}, kDefaultTolerance, kTiming).ok());
}

TEST(PlainMetricTest, PodsMetricIgnoresReadiness) {
  HpaPod unready = ReadyPod("c");
  unready.ready->status = ConditionStatus::kFalse;
  auto r = PlainMetricReplicas(3, 15000, "", {ReadyPod("a"), ReadyPod("b"), unready},
                               {{"a", Sample(50000)}, {"b", Sample(10000)}, {"c", Sample(30000)}}, kDefaultTolerance,
                               kTiming);
  EXPECT_EQ(r->replicas, 6);  // average 30 rps over 3 pods against 15
}

TEST(PlainMetricTest, MissingPodsAreFilledAtTheTargetOnScaleDown) {
  // 2 pods at 5 rps, one missing, target 10: ratio 0.5; refilled (5+5+10)/3 = 6.66 -> ceil(0.666 × 3) = 2.
  auto r = PlainMetricReplicas(3, 10000, "", {ReadyPod("a"), ReadyPod("b"), ReadyPod("c")},
                               {{"a", Sample(5000)}, {"b", Sample(5000)}}, kDefaultTolerance, kTiming);
  EXPECT_EQ(r->replicas, 2);
  EXPECT_EQ(r->average_value_milli, 5000);
}

TEST(PlainMetricTest, NoPodsIsAnError) {
  EXPECT_FALSE(PlainMetricReplicas(1, 1000, "", {}, {{"x", Sample(1)}}, kDefaultTolerance, kTiming).ok());
}

TEST(ValueMetricTest, ObjectValueMultipliesByRunningReadyPodsOnly) {
  HpaPod pending = ReadyPod("b");
  pending.phase = PodPhase::kPending;
  HpaPod unready = ReadyPod("c");
  unready.ready->status = ConditionStatus::kFalse;
  auto r = ValueMetricReplicas(3, 8600, 4400, {ReadyPod("a"), pending, unready}, kDefaultTolerance);
  EXPECT_EQ(r->replicas, 2);  // ceil(1.95 × 1)
}

TEST(ValueMetricTest, FromZeroReplicasTheToleranceIsIgnored) {
  EXPECT_EQ(ValueMetricReplicas(0, 15000, 15000, {}, kDefaultTolerance)->replicas, 1);
  EXPECT_EQ(ValueMetricReplicas(0, 0, 15000, {}, kDefaultTolerance)->replicas, 0);
}

TEST(ValueMetricTest, PerPodAverageValueUsesStatusReplicas) {
  auto r = PerPodValueMetricReplicas(3, 8600, 2150, kDefaultTolerance);
  EXPECT_EQ(r->replicas, 4);         // ceil(8600 / 2150)
  EXPECT_EQ(r->value_milli, 2867);   // ceil(8600 / 3)
  EXPECT_EQ(PerPodValueMetricReplicas(4, 20166, 5000, kDefaultTolerance)->replicas, 4);  // within tolerance
}

TEST(ComputeMetricProposalTest, AFailedReadingNamesTheSourceReason) {
  MetricSpec spec;
  spec.type = MetricSourceType::kExternal;
  spec.metric_name = "queue";
  spec.target.type = MetricTargetType::kValue;
  spec.target.value = Quantity{"1", 1000, 1};
  MetricReading failed;
  failed.error = "adapter down";
  const MetricProposal p = ComputeMetricProposal(spec, failed, {});
  EXPECT_FALSE(p.ok);
  EXPECT_EQ(p.failure_reason, "FailedGetExternalMetric");
  EXPECT_NE(p.error.find("adapter down"), std::string::npos);
  // An empty result is a failure too.
  EXPECT_FALSE(ComputeMetricProposal(spec, MetricReading{}, {}).ok);
}

}  // namespace
}  // namespace scaletwin
