#include "model/prometheus_rate.h"

#include <gtest/gtest.h>

#include <vector>

namespace scaletwin {
namespace {

constexpr Nanos kS = kNanosPerSecond;

TEST(PrometheusRate, SteadyCounterGivesItsExactRate) {
  // 1 req/s, scraped every 15 s at 5, 20, 35, 50 s; rate(x[1m]) at 60 s.
  std::vector<CounterSample> s = {{5 * kS, 105}, {20 * kS, 120}, {35 * kS, 135}, {50 * kS, 150}};
  ASSERT_TRUE(PromRate(s, 60 * kS, 60 * kS).has_value());
  EXPECT_DOUBLE_EQ(*PromRate(s, 60 * kS, 60 * kS), 1.0);
  EXPECT_DOUBLE_EQ(*PromIncrease(s, 60 * kS, 60 * kS), 60.0);
}

// Two samples 30 s apart (1 then 3) in a 60 s range whose edges are 15 s away:
// both gaps are below 1.1 × 30 s, so the increase extrapolates from 2 to 4.
TEST(PrometheusRate, ExtrapolatesToTheRangeEdgesWithinTheThreshold) {
  std::vector<CounterSample> s = {{45 * kS, 1}, {75 * kS, 3}};
  EXPECT_DOUBLE_EQ(*PromIncrease(s, 90 * kS, 60 * kS), 4.0);
  EXPECT_DOUBLE_EQ(*PromRate(s, 90 * kS, 60 * kS), 4.0 / 60);
}

TEST(PrometheusRate, ExtendsOnlyHalfAnIntervalBeyondAGapLargerThanTheThreshold) {
  // Samples every 10 s from 40 s to 60 s; range (0, 60]: the start gap of 40 s
  // is over 11 s, so the series is taken to start 5 s before its first sample.
  std::vector<CounterSample> s = {{40 * kS, 110}, {50 * kS, 120}, {60 * kS, 130}};
  EXPECT_DOUBLE_EQ(*PromIncrease(s, 60 * kS, 60 * kS), 25.0);
}

TEST(PrometheusRate, TheThresholdIsOnePointOneAverageIntervals) {
  // Samples every 10 s: a 10.5 s gap to the range start still extends fully,
  // an 11.5 s gap extends by half an interval only.
  std::vector<CounterSample> s = {{20 * kS, 120}, {30 * kS, 130}, {40 * kS, 140}};
  EXPECT_DOUBLE_EQ(*PromIncrease(s, 40 * kS, 30'500 * kNanosPerMilli), 30.5);
  EXPECT_DOUBLE_EQ(*PromIncrease(s, 40 * kS, 31'500 * kNanosPerMilli), 25.0);
}

// PR #13725: the zero point is applied after the threshold. The pre-fix order
// (zero point first: min(40, 10) = 10 < 11, extend by 10) would give 30.
TEST(PrometheusRate, ZeroPointIsAppliedAfterTheThresholdLikeCurrentPrometheus) {
  std::vector<CounterSample> s = {{40 * kS, 10}, {50 * kS, 20}, {60 * kS, 30}};
  EXPECT_DOUBLE_EQ(*PromIncrease(s, 60 * kS, 60 * kS), 25.0);
}

TEST(PrometheusRate, NeverExtrapolatesACounterBelowZero) {
  // A new pod's counter: 0 at its first scrape, so no extension before it.
  std::vector<CounterSample> s = {{20 * kS, 0}, {35 * kS, 15}, {50 * kS, 30}};
  EXPECT_DOUBLE_EQ(*PromIncrease(s, 60 * kS, 60 * kS), 40.0);
}

TEST(PrometheusRate, CounterResetsAddTheValueBeforeTheDrop) {
  std::vector<CounterSample> s = {{10 * kS, 10}, {20 * kS, 20}, {30 * kS, 5}, {40 * kS, 15}};
  // Raw increase 15 − 10 + 20 = 25 over 30 s; range (−20 s, 40 s] has 30 s before
  // the first sample (> 11 s threshold → 5 s), the counter's zero point is 12 s back.
  EXPECT_DOUBLE_EQ(*PromIncrease(s, 40 * kS, 60 * kS), 25.0 * (30.0 + 5.0) / 30.0);
}

TEST(PrometheusRate, NeedsTwoSamplesInTheLeftOpenRange) {
  std::vector<CounterSample> s = {{0, 0}, {15 * kS, 15}};
  EXPECT_FALSE(PromRate(std::vector<CounterSample>{}, 60 * kS, 60 * kS).has_value());
  EXPECT_FALSE(PromRate(std::vector<CounterSample>{{15 * kS, 15}}, 60 * kS, 60 * kS).has_value());
  EXPECT_TRUE(PromRate(s, 59 * kS, 60 * kS).has_value());
  EXPECT_FALSE(PromRate(s, 60 * kS, 60 * kS).has_value()) << "a sample at exactly T − W is outside (Prometheus 3)";
  EXPECT_EQ(SelectRange(s, 60 * kS, 60 * kS).size(), 1u);
  EXPECT_FALSE(PromRate(s, 10 * kS, 60 * kS).has_value()) << "samples after the evaluation time are not seen";
}

TEST(PrometheusRate, TimestampsAreMilliseconds) {
  std::vector<CounterSample> s = {{1'000'100, 1}, {1'000'900, 2}};
  EXPECT_FALSE(PromRate(s, 60 * kS, 60 * kS).has_value()) << "same millisecond: not a usable pair";
}

TEST(PrometheusIrate, UsesTheLastTwoSamplesAndHandlesAReset) {
  std::vector<CounterSample> s = {{0, 0}, {10 * kS, 100}, {20 * kS, 130}};
  EXPECT_DOUBLE_EQ(*PromIrate(s, 25 * kS, 60 * kS), 3.0);
  s.push_back({30 * kS, 20});
  EXPECT_DOUBLE_EQ(*PromIrate(s, 30 * kS, 60 * kS), 2.0);
  EXPECT_FALSE(PromIrate(s, 30 * kS, 5 * kS).has_value());
}

}  // namespace
}  // namespace scaletwin
