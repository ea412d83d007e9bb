#include "model/rng.h"

#include <gtest/gtest.h>

#include <cmath>

namespace scaletwin {
namespace {

TEST(Rng, SameSeedAndNameGiveTheSameStream) {
  Rng a(42, "arrivals"), b(42, "arrivals");
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(a.Next(), b.Next());
}

TEST(Rng, DifferentNamesSeedsAndIndexesGiveDifferentStreams) {
  Rng a(42, "arrivals"), b(42, "service"), c(43, "arrivals"), d(42, "service", 0), e(42, "service", 1);
  const uint64_t x = a.Next();
  EXPECT_NE(x, b.Next());
  EXPECT_NE(x, c.Next());
  EXPECT_NE(d.Next(), e.Next());
}

TEST(Rng, KnownValuesPinTheGeneratorAcrossPlatforms) {
  // Pinned: a change of generator or stream derivation changes every report,
  // so it must be deliberate (and bump the report's documented determinism).
  Rng r(1, "pin");
  EXPECT_EQ(r.Next(), 14596997168271971946ULL);
  EXPECT_EQ(r.Next(), 11828968280797429340ULL);
}

TEST(Rng, UniformIntStaysInRangeAndCoversIt) {
  Rng r(5, "uniform-int");
  int seen[7] = {};
  for (int i = 0; i < 70'000; ++i) {
    const uint64_t v = r.UniformInt(7);
    ASSERT_LT(v, 7u);
    ++seen[v];
  }
  for (int n : seen) EXPECT_NEAR(n, 10'000, 500);
}

TEST(Rng, ExponentialAndNormalHaveTheRightMoments) {
  Rng r(9, "moments");
  const int n = 400'000;
  double se = 0, sn = 0, sn2 = 0;
  for (int i = 0; i < n; ++i) {
    se += r.Exp1();
    const double z = r.StdNormal();
    sn += z;
    sn2 += z * z;
  }
  EXPECT_NEAR(se / n, 1.0, 0.01);
  EXPECT_NEAR(sn / n, 0.0, 0.01);
  EXPECT_NEAR(sn2 / n, 1.0, 0.01);
}

TEST(InverseNormalCdf, MatchesTabulatedQuantiles) {
  EXPECT_NEAR(InverseNormalCdf(0.5), 0.0, 1e-12);
  EXPECT_NEAR(InverseNormalCdf(0.99), 2.3263478740408408, 1e-9);
  EXPECT_NEAR(InverseNormalCdf(0.975), 1.959963984540054, 1e-9);
  EXPECT_NEAR(InverseNormalCdf(0.001), -3.090232306167814, 1e-9);
}

}  // namespace
}  // namespace scaletwin
