#include "model/distribution.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace scaletwin {
namespace {

constexpr Nanos ms = kNanosPerMilli;

// Sample mean and second moment agree with the closed forms the oracles use.
void ExpectMoments(const DurationDistribution& d, int n = 400'000) {
  Rng rng(21, "dist-test");
  double s = 0, s2 = 0;
  for (int i = 0; i < n; ++i) {
    const double x = ToSeconds(d.Sample(rng));
    s += x;
    s2 += x * x;
  }
  EXPECT_NEAR(s / n, d.MeanSeconds(), 0.01 * d.MeanSeconds());
  EXPECT_NEAR(s2 / n, d.SecondMomentSeconds(), 0.03 * d.SecondMomentSeconds());
}

TEST(DurationDistribution, SampleMomentsMatchClosedForms) {
  ExpectMoments(DurationDistribution::Constant(5 * ms));
  ExpectMoments(DurationDistribution::Exponential(10 * ms));
  ExpectMoments(DurationDistribution::Uniform(2 * ms, 8 * ms));
  ExpectMoments(DurationDistribution::Lognormal(8 * ms, 40 * ms));
  ExpectMoments(DurationDistribution::Empirical({1 * ms, 2 * ms, 9 * ms}));
}

TEST(DurationDistribution, LognormalHitsItsMedianAndP99) {
  const auto d = DurationDistribution::Lognormal(8 * ms, 40 * ms);
  Rng rng(4, "lognormal");
  std::vector<Nanos> v(200'000);
  for (Nanos& x : v) x = d.Sample(rng);
  std::sort(v.begin(), v.end());
  EXPECT_NEAR(ToMillis(v[v.size() / 2]), 8.0, 0.15);
  EXPECT_NEAR(ToMillis(v[v.size() * 99 / 100]), 40.0, 1.5);
}

TEST(DurationDistribution, UniformStaysWithinBounds) {
  const auto d = DurationDistribution::Uniform(3 * ms, 4 * ms);
  Rng rng(1, "u");
  for (int i = 0; i < 10'000; ++i) {
    const Nanos x = d.Sample(rng);
    ASSERT_GE(x, 3 * ms);
    ASSERT_LE(x, 4 * ms);
  }
}

}  // namespace
}  // namespace scaletwin
