#include "model/arrivals.h"

#include <gtest/gtest.h>

#include <cmath>

namespace scaletwin {
namespace {

constexpr Nanos S = kNanosPerSecond;

Scenario Base(ArrivalProcess process, RateProfile profile, Nanos duration) {
  Scenario s;
  s.name = "t";
  s.seed = 17;
  s.duration = duration;
  s.tenants = {{"a", 3}, {"b", 1}};
  s.traffic.arrivals = process;
  s.traffic.profile = std::move(profile);
  s.traffic.mix[0] = 0.9;
  s.traffic.mix[1] = 0.1;
  return s;
}

struct Counts {
  uint64_t total = 0;
  uint64_t in[2] = {0, 0};  // arrivals in [a0, a1) and [b0, b1)
  uint64_t tenant_a = 0, create = 0;
  bool monotone = true;
};

Counts Count(const Scenario& s, double a0, double a1, double b0, double b1) {
  ArrivalGenerator g(s);
  Arrival a;
  Counts c;
  Nanos last = 0;
  while (g.Next(&a)) {
    if (a.time < last || a.time >= s.duration) c.monotone = false;
    last = a.time;
    ++c.total;
    const double t = ToSeconds(a.time);
    if (t >= a0 && t < a1) ++c.in[0];
    if (t >= b0 && t < b1) ++c.in[1];
    c.tenant_a += a.tenant == 0;
    c.create += a.route == Route::kCreate;
  }
  return c;
}

// Poisson counts: |observed - expected| within 5 standard deviations.
void ExpectPoissonCount(uint64_t observed, double expected) {
  EXPECT_NEAR(static_cast<double>(observed), expected, 5 * std::sqrt(expected)) << "expected " << expected;
}

TEST(ArrivalGenerator, PoissonConstantRateHasTheRightMeanAndAttributeMix) {
  Scenario s = Base(ArrivalProcess::kPoisson, RateProfile::FromPoints({{0, 1000, 0}}), 200 * S);
  Counts c = Count(s, 0, 200, 0, 0);
  EXPECT_TRUE(c.monotone);
  ExpectPoissonCount(c.total, 200'000);
  EXPECT_NEAR(static_cast<double>(c.tenant_a) / c.total, 0.75, 0.005);
  EXPECT_NEAR(static_cast<double>(c.create) / c.total, 0.10, 0.005);
}

TEST(ArrivalGenerator, UniformArrivalsAreEvenlySpaced) {
  Scenario s = Base(ArrivalProcess::kUniform, RateProfile::FromPoints({{0, 250, 0}}), 10 * S);
  ArrivalGenerator g(s);
  Arrival a;
  std::vector<Nanos> times;
  while (g.Next(&a)) times.push_back(a.time);
  ASSERT_EQ(times.size(), 2499u);  // at 4 ms, 8 ms, ..., 9996 ms
  for (size_t i = 1; i < times.size(); ++i) ASSERT_NEAR(static_cast<double>(times[i] - times[i - 1]), 4e6, 1.0);
}

TEST(ArrivalGenerator, RampFollowsTheProfile) {
  Scenario s = Base(ArrivalProcess::kPoisson, RateProfile::FromPoints({{0, 900, 0}, {100 * S, 1800, 30 * S}}), 200 * S);
  Counts c = Count(s, 0, 100, 100, 130);
  ExpectPoissonCount(c.in[0], 90'000);
  ExpectPoissonCount(c.in[1], 1350 * 30);
  ExpectPoissonCount(c.total, 90'000 + 40'500 + 1800 * 70);
}

TEST(ArrivalGenerator, SpikeAndDiurnalShapesHaveTheirMeanRates) {
  Scenario spike = Base(ArrivalProcess::kPoisson, RateProfile::FromSpike({200, 2000, 50 * S, 0, 20 * S, 0}), 100 * S);
  Counts c = Count(spike, 0, 50, 50, 70);
  ExpectPoissonCount(c.in[0], 10'000);
  ExpectPoissonCount(c.in[1], 40'000);

  Scenario diurnal = Base(ArrivalProcess::kPoisson, RateProfile::FromDiurnal({500, 0.9, 100 * S, 0}), 200 * S);
  Counts d = Count(diurnal, 0, 50, 50, 100);  // sine positive then negative half
  ExpectPoissonCount(d.total, 100'000);
  ExpectPoissonCount(d.in[0], 500 * 50 + 500 * 0.9 * 100 / M_PI);
  ExpectPoissonCount(d.in[1], 500 * 50 - 500 * 0.9 * 100 / M_PI);
}

TEST(ArrivalGenerator, TraceIsReplayedAsWrittenAndCutAtDuration) {
  Scenario s = Base(ArrivalProcess::kTrace, RateProfile(), 2 * S);
  s.traffic.trace = {{0, 1, 1}, {S / 2, -1, -1}, {S, 0, 0}, {3 * S, 0, 0}};
  ArrivalGenerator g(s);
  Arrival a;
  ASSERT_TRUE(g.Next(&a));
  EXPECT_EQ(a.time, 0);
  EXPECT_EQ(a.tenant, 1u);
  EXPECT_EQ(a.route, Route::kCreate);
  ASSERT_TRUE(g.Next(&a));
  EXPECT_EQ(a.time, S / 2);
  ASSERT_TRUE(g.Next(&a));
  EXPECT_EQ(a.route, Route::kRedirect);
  EXPECT_FALSE(g.Next(&a));
}

TEST(ArrivalGenerator, ChangingTheMixDoesNotMoveArrivalTimes) {
  Scenario a = Base(ArrivalProcess::kPoisson, RateProfile::FromPoints({{0, 100, 0}}), 10 * S);
  Scenario b = a;
  b.traffic.mix[0] = 0.5;
  b.traffic.mix[1] = 0.5;
  ArrivalGenerator ga(a), gb(b);
  Arrival x, y;
  while (ga.Next(&x)) {
    ASSERT_TRUE(gb.Next(&y));
    ASSERT_EQ(x.time, y.time);
  }
}

}  // namespace
}  // namespace scaletwin
