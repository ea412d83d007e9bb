#include "model/load_balancer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <vector>

namespace scaletwin {
namespace {

constexpr Nanos S = kNanosPerSecond, ms = kNanosPerMilli;
const std::vector<uint32_t> kThree = {0, 1, 2};

TEST(LoadBalancer, RoundRobinRotatesThroughTheList) {
  LoadBalancer lb(IngressPolicy::kRoundRobin, Rng(1, "lb"));
  lb.SetEndpoints(kThree, 0);
  std::vector<uint32_t> got;
  for (int i = 0; i < 6; ++i) got.push_back(lb.Pick(0));
  EXPECT_EQ(got, (std::vector<uint32_t>{0, 1, 2, 0, 1, 2}));
}

TEST(LoadBalancer, RetriesSkipTriedEndpointsUntilAllWereTried) {
  for (IngressPolicy p : {IngressPolicy::kRoundRobin, IngressPolicy::kRandom, IngressPolicy::kLeastRequest,
                          IngressPolicy::kEwma}) {
    LoadBalancer lb(p, Rng(2, "lb"));
    lb.SetEndpoints(kThree, 0);
    const std::vector<uint32_t> tried = {0, 2};
    for (int i = 0; i < 50; ++i) EXPECT_EQ(lb.Pick(0, tried), 1u) << IngressPolicyName(p);
    const std::vector<uint32_t> all = {0, 1, 2};
    std::map<uint32_t, int> seen;
    for (int i = 0; i < 300; ++i) ++seen[lb.Pick(0, all)];
    EXPECT_GE(seen.size(), 2u) << IngressPolicyName(p) << ": all tried means all eligible again";
  }
}

TEST(LoadBalancer, LeastRequestPrefersTheLessBusyOfTwoDraws) {
  LoadBalancer lb(IngressPolicy::kLeastRequest, Rng(3, "lb"));
  lb.SetEndpoints(kThree, 0);
  for (int i = 0; i < 10; ++i) lb.OnStart(0);
  // Draws are distinct, so any pair holding 0 also holds a less busy endpoint: 0 never wins.
  for (int i = 0; i < 1000; ++i) {
    const uint32_t id = lb.Pick(0);
    EXPECT_NE(id, 0u);
    lb.OnStart(id);
    lb.OnFinish(id, ms, 0);
  }
  EXPECT_EQ(lb.active(0), 10u);
}

TEST(LoadBalancer, EwmaFollowsIngressNginxDecayRule) {
  LoadBalancer lb(IngressPolicy::kEwma, Rng(4, "lb"));
  lb.SetEndpoints(kThree, 0);
  lb.OnStart(0);
  lb.OnFinish(0, 100 * ms, 1 * S);  // first sample becomes the estimate
  EXPECT_NEAR(lb.EwmaScore(0, 1 * S), 0.100, 1e-12);
  lb.OnStart(0);
  lb.OnFinish(0, 300 * ms, 6 * S);  // w = exp(-5/10)
  const double w = std::exp(-0.5);
  EXPECT_NEAR(lb.EwmaScore(0, 6 * S), 0.1 * w + 0.3 * (1 - w), 1e-12);
  // Idle decay toward zero with the 10 s time constant.
  EXPECT_NEAR(lb.EwmaScore(0, 16 * S), (0.1 * w + 0.3 * (1 - w)) * std::exp(-1.0), 1e-12);
}

TEST(LoadBalancer, EwmaSeedsNewEndpointsWithTheMeanAndForgetsRemovedOnes) {
  LoadBalancer lb(IngressPolicy::kEwma, Rng(5, "lb"));
  lb.SetEndpoints(kThree, 0);
  lb.OnFinish(0, 100 * ms, S);
  lb.OnFinish(1, 300 * ms, S);
  const std::vector<uint32_t> next = {0, 1, 7};
  lb.SetEndpoints(next, S);
  EXPECT_NEAR(lb.EwmaScore(7, S), 0.200, 1e-12);
  const std::vector<uint32_t> fewer = {1, 7};
  lb.SetEndpoints(fewer, S);
  EXPECT_EQ(lb.EwmaScore(0, S), 0.0);
}

TEST(LoadBalancer, EwmaSendsTrafficAwayFromASlowEndpoint) {
  LoadBalancer lb(IngressPolicy::kEwma, Rng(6, "lb"));
  lb.SetEndpoints(kThree, 0);
  std::map<uint32_t, int> picks;
  Nanos now = 0;
  for (int i = 0; i < 30'000; ++i) {
    now += ms;
    const uint32_t id = lb.Pick(now);
    ++picks[id];
    lb.OnStart(id);
    lb.OnFinish(id, id == 2 ? 50 * ms : 10 * ms, now);
  }
  EXPECT_LT(picks[2], 30'000 / 3 / 2) << "the 5x slower endpoint gets far less than a third";
}

}  // namespace
}  // namespace scaletwin
