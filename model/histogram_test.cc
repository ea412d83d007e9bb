#include "model/histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/rng.h"

namespace scaletwin {
namespace {

// The exact percentile by the same rank rule, from a sorted copy.
int64_t ExactPercentile(std::vector<int64_t> v, double q) {
  std::sort(v.begin(), v.end());
  auto rank = static_cast<size_t>(std::ceil(q * v.size()));
  rank = std::clamp<size_t>(rank, 1, v.size());
  return v[rank - 1];
}

TEST(LogLinearHistogram, BucketsAreContiguousAndWithinOneThousandth) {
  for (int i = 1; i < LogLinearHistogram::kBucketCount; ++i) {
    ASSERT_EQ(LogLinearHistogram::BucketLower(i - 1) + LogLinearHistogram::BucketWidth(i - 1),
              LogLinearHistogram::BucketLower(i))
        << i;
    if (i < 2048) {
      ASSERT_EQ(LogLinearHistogram::BucketWidth(i), 1) << "values below 2048 are exact";
    } else {
      const double rel = static_cast<double>(LogLinearHistogram::BucketWidth(i)) / LogLinearHistogram::BucketLower(i);
      ASSERT_LE(rel, 1.0 / 1024 + 1e-12) << i;
    }
  }
  for (int64_t v : {int64_t{0}, int64_t{1}, int64_t{2047}, int64_t{2048}, int64_t{123456789}, int64_t{1} << 40}) {
    const int i = LogLinearHistogram::BucketIndex(v);
    EXPECT_LE(LogLinearHistogram::BucketLower(i), v);
    EXPECT_GT(LogLinearHistogram::BucketLower(i) + LogLinearHistogram::BucketWidth(i), v);
  }
}

TEST(LogLinearHistogram, PercentilesMatchSortedSamplesWithinPointOnePercent) {
  Rng rng(99, "histogram-test");
  std::vector<int64_t> values;
  LogLinearHistogram h;
  for (int i = 0; i < 200'000; ++i) {
    // Lognormal-ish latencies from microseconds to seconds.
    const auto v = static_cast<int64_t>(std::exp(8 + 3 * rng.StdNormal()));
    values.push_back(v);
    h.Record(v);
  }
  for (double q : {0.0, 0.001, 0.1, 0.5, 0.9, 0.99, 0.999, 1.0}) {
    const double exact = static_cast<double>(ExactPercentile(values, q));
    const double got = static_cast<double>(h.Percentile(q));
    EXPECT_LE(std::fabs(got - exact), exact * 0.001 + 0.5) << "q=" << q;
  }
  EXPECT_EQ(h.count(), values.size());
  EXPECT_EQ(h.min(), *std::min_element(values.begin(), values.end()));
  EXPECT_EQ(h.max(), *std::max_element(values.begin(), values.end()));
}

TEST(LogLinearHistogram, MergeEqualsRecordingEverythingInOne) {
  Rng rng(3, "merge");
  LogLinearHistogram a, b, all;
  for (int i = 0; i < 50'000; ++i) {
    const auto v = static_cast<int64_t>(rng.UniformInt(1'000'000'000));
    (i % 3 ? a : b).Record(v);
    all.Record(v);
  }
  a.Merge(b);
  EXPECT_EQ(a.count(), all.count());
  EXPECT_EQ(a.min(), all.min());
  EXPECT_EQ(a.max(), all.max());
  EXPECT_DOUBLE_EQ(a.Mean(), all.Mean());
  for (double q : {0.5, 0.9, 0.99}) EXPECT_EQ(a.Percentile(q), all.Percentile(q));
  EXPECT_EQ(a.ToJson(), all.ToJson());
}

TEST(LogLinearHistogram, ResetForgetsAndHugeValuesClampToTopBucket) {
  LogLinearHistogram h;
  h.Record(5);
  h.Record(int64_t{1} << 60);
  EXPECT_EQ(h.max(), int64_t{1} << 60);
  EXPECT_EQ(h.Percentile(1.0), int64_t{1} << 60);  // clamped to the exact max
  h.Reset();
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.Percentile(0.5), 0);
  h.Record(7);
  EXPECT_EQ(h.Percentile(0.5), 7);
}

TEST(LogLinearHistogram, FractionAboveCountsTheTail) {
  LogLinearHistogram h;
  for (int i = 1; i <= 1000; ++i) h.Record(i);
  EXPECT_NEAR(h.FractionAbove(900), 0.1, 1e-9);
  EXPECT_NEAR(h.FractionAbove(0), 1.0, 1e-9);
}

}  // namespace
}  // namespace scaletwin
