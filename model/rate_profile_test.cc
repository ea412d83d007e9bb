#include "model/rate_profile.h"

#include <gtest/gtest.h>

#include <cmath>

namespace scaletwin {
namespace {

constexpr Nanos S = kNanosPerSecond;

TEST(RateProfile, PointsWithRampsIntegrateToTheTrapezoid) {
  // 100 qps, then a 10 s ramp to 300 qps starting at 20 s.
  RateProfile p = RateProfile::FromPoints({{0, 100, 0}, {20 * S, 300, 10 * S}});
  EXPECT_DOUBLE_EQ(p.RateAt(5), 100);
  EXPECT_DOUBLE_EQ(p.RateAt(25), 200);
  EXPECT_DOUBLE_EQ(p.RateAt(40), 300);
  EXPECT_NEAR(p.Integral(0, 20), 2000, 1e-9);
  EXPECT_NEAR(p.Integral(20, 30), 2000, 1e-9);  // mean 200 over 10 s
  EXPECT_NEAR(p.Integral(0, 60), 2000 + 2000 + 9000, 1e-9);
}

TEST(RateProfile, AdvanceConsumesExactlyTheRequestedMass) {
  RateProfile p = RateProfile::FromPoints({{0, 50, 0}, {10 * S, 500, 5 * S}, {30 * S, 0, 10 * S}, {60 * S, 20, 0}});
  double t = 0;
  size_t seg = 0;
  double consumed = 0;
  for (int i = 0; i < 3000; ++i) {
    const double before = t;
    const double mass = 0.37 + (i % 5) * 0.5;
    ASSERT_TRUE(p.Advance(mass, &t, &seg));
    ASSERT_GE(t, before);
    consumed += mass;
    ASSERT_NEAR(p.Integral(0, t), consumed, 1e-6 * consumed) << i;
  }
}

TEST(RateProfile, AdvanceReportsExhaustionWhenTheRateEndsAtZero) {
  RateProfile p = RateProfile::FromPoints({{0, 10, 0}, {1 * S, 0, 0}});
  double t = 0;
  size_t seg = 0;
  EXPECT_TRUE(p.Advance(9.5, &t, &seg));
  EXPECT_FALSE(p.Advance(1.0, &t, &seg));
}

TEST(RateProfile, SpikeHasBaseRampPeakAndDecay) {
  RateProfile p = RateProfile::FromSpike({100, 1000, 60 * S, 10 * S, 30 * S, 20 * S});
  EXPECT_DOUBLE_EQ(p.RateAt(30), 100);
  EXPECT_DOUBLE_EQ(p.RateAt(65), 550);
  EXPECT_DOUBLE_EQ(p.RateAt(80), 1000);
  EXPECT_DOUBLE_EQ(p.RateAt(110), 550);
  EXPECT_DOUBLE_EQ(p.RateAt(200), 100);
}

TEST(RateProfile, DiurnalIntegratesToItsMeanOverWholePeriods) {
  RateProfile p = RateProfile::FromDiurnal({200, 0.8, 100 * S, 7 * S});
  EXPECT_NEAR(p.Integral(0, 300), 200 * 300, 1e-6);
  double t = 0;
  size_t seg = 0;
  ASSERT_TRUE(p.Advance(12345.6, &t, &seg));
  EXPECT_NEAR(p.Integral(0, t), 12345.6, 1e-5);
}

}  // namespace
}  // namespace scaletwin
