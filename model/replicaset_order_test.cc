#include "model/replicaset_order.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "model/rng.h"

namespace scaletwin {
namespace {

constexpr Nanos kS = kNanosPerSecond;

ReplicaSetPod Running(std::string name, Nanos created, std::optional<Nanos> ready_since) {
  ReplicaSetPod p;
  p.name = name;
  p.uid = "uid-" + name;
  p.node = "node-a";
  p.phase = PodPhase::kRunning;
  p.ready = ready_since.has_value();
  p.ready_since = ready_since;
  p.created_at = created;
  return p;
}

std::vector<std::string> Names(const std::vector<ReplicaSetPod>& pods, const std::vector<size_t>& idx) {
  std::vector<std::string> out;
  for (size_t i : idx) out.push_back(pods[i].name);
  return out;
}

TEST(ReplicaSetOrder, UnassignedThenPendingThenUnreadyThenReady) {
  std::vector<ReplicaSetPod> pods;
  pods.push_back(Running("ready", 0, 10 * kS));
  pods.push_back(Running("unready", 50 * kS, std::nullopt));
  ReplicaSetPod pending = Running("pending", 60 * kS, std::nullopt);
  pending.phase = PodPhase::kPending;
  pods.push_back(pending);
  ReplicaSetPod unassigned = pending;
  unassigned.name = "unassigned";
  unassigned.node = "";
  pods.push_back(unassigned);
  ReplicaSetPod unknown = Running("unknown", 5 * kS, std::nullopt);
  unknown.phase = PodPhase::kUnknown;
  pods.push_back(unknown);
  EXPECT_EQ(Names(pods, DeletionOrder(pods, 1000 * kS)),
            (std::vector<std::string>{"unassigned", "pending", "unknown", "unready", "ready"}));
}

TEST(ReplicaSetOrder, ReadyForAShorterTimeGoesFirst) {
  std::vector<ReplicaSetPod> pods = {Running("old", 0, 20 * kS), Running("young", 0, 900 * kS)};
  EXPECT_EQ(Names(pods, DeletionOrder(pods, 1000 * kS)), (std::vector<std::string>{"young", "old"}));
}

TEST(ReplicaSetOrder, ReadyTimesInTheSameLog2BucketFallBackToUid) {
  // Ages 40 s and 60 s: floor(log2(ns)) is 35 for both.
  std::vector<ReplicaSetPod> pods = {Running("a", 0, 960 * kS), Running("b", 0, 940 * kS)};
  pods[0].uid = "zzz";
  pods[1].uid = "aaa";
  EXPECT_EQ(Names(pods, DeletionOrder(pods, 1000 * kS)), (std::vector<std::string>{"b", "a"}))
      << "same bucket: uid order decides, not the exact age";
  ReplicaSetOrderOptions exact;
  exact.logarithmic_scale_down = false;
  EXPECT_EQ(Names(pods, DeletionOrder(pods, 1000 * kS, exact)), (std::vector<std::string>{"a", "b"}))
      << "without LogarithmicScaleDown the later ready time goes first";
}

TEST(ReplicaSetOrder, MoreRestartsThenNewerCreationGoFirst) {
  std::vector<ReplicaSetPod> pods = {Running("old", 0, std::nullopt), Running("new", 500 * kS, std::nullopt),
                                     Running("crashy", 0, std::nullopt)};
  pods[2].restart_count = 4;
  EXPECT_EQ(Names(pods, DeletionOrder(pods, 1000 * kS)), (std::vector<std::string>{"crashy", "new", "old"}));
}

TEST(ReplicaSetOrder, DeletionCostAndDoubledUpNodesComeBeforeAge) {
  std::vector<ReplicaSetPod> pods = {Running("cheap", 0, 10 * kS), Running("young", 0, 900 * kS),
                                     Running("crowded", 0, 10 * kS), Running("alone", 0, 10 * kS)};
  pods[0].deletion_cost = -5;
  pods[1].node = "node-b";
  pods[2].node = "node-c";
  pods[3].node = "node-d";
  Nanos now = 1000 * kS;
  pods.push_back(Running("crowded2", 0, 10 * kS));
  pods[4].node = "node-c";
  std::vector<std::string> order = Names(pods, DeletionOrder(pods, now));
  EXPECT_EQ(order.front(), "cheap");
  // node-c holds two pods: its pods go before the single ones, even the young one.
  EXPECT_LT(std::find(order.begin(), order.end(), "crowded") - order.begin(),
            std::find(order.begin(), order.end(), "young") - order.begin());
  ReplicaSetOrderOptions no_cost;
  no_cost.pod_deletion_cost = false;
  EXPECT_NE(Names(pods, DeletionOrder(pods, now, no_cost)).front(), "cheap");
}

TEST(ReplicaSetOrder, TimestampsCompareInWholeSecondsLikeTheApi) {
  std::vector<ReplicaSetPod> pods = {Running("first", 100 * kS + 100 * kNanosPerMilli, std::nullopt),
                                     Running("second", 100 * kS + 900 * kNanosPerMilli, std::nullopt)};
  ReplicaSetOrderOptions exact;
  exact.logarithmic_scale_down = false;
  EXPECT_EQ(Names(pods, DeletionOrder(pods, 1000 * kS, exact)), (std::vector<std::string>{"first", "second"}))
      << "same second: a tie, input order kept";
  exact.timestamp_resolution = 0;
  EXPECT_EQ(Names(pods, DeletionOrder(pods, 1000 * kS, exact)), (std::vector<std::string>{"second", "first"}));
}

TEST(ReplicaSetOrder, PodsToDeleteSkipsInactivePodsAndOnlyRemovesTheSurplus) {
  std::vector<ReplicaSetPod> pods = {Running("a", 0, 10 * kS), Running("b", 10 * kS, 20 * kS),
                                     Running("c", 20 * kS, std::nullopt), Running("gone", 30 * kS, std::nullopt)};
  pods[3].deleting = true;
  ReplicaSetPod failed = Running("failed", 40 * kS, std::nullopt);
  failed.phase = PodPhase::kFailed;
  pods.push_back(failed);
  EXPECT_EQ(Names(pods, PodsToDelete(pods, 2, 1000 * kS)), (std::vector<std::string>{"c"}));
  EXPECT_TRUE(PodsToDelete(pods, 3, 1000 * kS).empty());
  EXPECT_TRUE(PodsToDelete(pods, 5, 1000 * kS).empty());
  EXPECT_EQ(PodsToDelete(pods, 0, 1000 * kS).size(), 3u);
}

TEST(ReplicaSetOrder, OneSyncDeletesAtMostBurstReplicas) {
  std::vector<ReplicaSetPod> pods;
  for (int i = 0; i < 600; ++i) pods.push_back(Running("p" + std::to_string(i), i * kS, std::nullopt));
  EXPECT_EQ(PodsToDelete(pods, 0, 1000 * kS).size(), static_cast<size_t>(kBurstReplicas));
}

// Without the log scale every rule is a plain comparison, so the order must
// equal a stable sort by one lexicographic key: a trivially correct model.
TEST(ReplicaSetOrder, MatchesALexicographicKeyModelOnRandomPods) {
  Rng rng(7, "replicaset-order");
  auto draw = [&](int lo, int hi) { return lo + static_cast<int>(rng.UniformInt(static_cast<uint64_t>(hi - lo + 1))); };
  ReplicaSetOrderOptions o;
  o.logarithmic_scale_down = false;
  o.timestamp_resolution = 0;
  for (int round = 0; round < 200; ++round) {
    std::vector<ReplicaSetPod> pods;
    const int n = 1 + static_cast<int>(draw(0, 11));
    for (int i = 0; i < n; ++i) {
      ReplicaSetPod p;
      p.name = "p" + std::to_string(i);
      p.node = draw(0, 5) == 0 ? "" : "node-" + std::to_string(draw(0, 2));
      p.phase = std::vector<PodPhase>{PodPhase::kPending, PodPhase::kUnknown, PodPhase::kRunning}[draw(0, 2)];
      p.ready = draw(0, 1) == 1;
      if (p.ready) p.ready_since = draw(0, 4) * kS;
      p.created_at = draw(0, 4) * kS;
      p.restart_count = static_cast<int32_t>(draw(0, 2));
      p.deletion_cost = static_cast<int32_t>(draw(0, 1));
      pods.push_back(p);
    }
    std::map<std::string, int> on_node;
    for (const ReplicaSetPod& p : pods) ++on_node[p.node];
    auto key = [&](const ReplicaSetPod& p) {
      return std::make_tuple(p.node.empty() ? 0 : 1, p.phase == PodPhase::kPending ? 0 : p.phase == PodPhase::kUnknown ? 1 : 2,
                             p.ready ? 1 : 0, p.deletion_cost, -on_node[p.node],
                             p.ready ? -*p.ready_since : 0, -p.restart_count, -p.created_at);
    };
    std::vector<size_t> model(pods.size());
    for (size_t i = 0; i < pods.size(); ++i) model[i] = i;
    std::stable_sort(model.begin(), model.end(), [&](size_t a, size_t b) { return key(pods[a]) < key(pods[b]); });
    ASSERT_EQ(DeletionOrder(pods, 1000 * kS, o), model) << "round " << round;
  }
}

}  // namespace
}  // namespace scaletwin
