#include "model/replicaset_order.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace scaletwin {
namespace {

// podPhaseToOrdinal; phases outside the map read as 0 in Go (they are never
// active, so only PreferForDeletion called directly can see them).
int PhaseOrdinal(PodPhase p) {
  switch (p) {
    case PodPhase::kPending: return 0;
    case PodPhase::kUnknown: return 1;
    case PodPhase::kRunning: return 2;
    default: return 0;
  }
}

// A timestamp as the API stores it: nullopt is Go's zero time.
std::optional<Nanos> ApiTime(std::optional<Nanos> t, const ReplicaSetOrderOptions& o) {
  if (!t || o.timestamp_resolution <= 1) return t;
  const Nanos r = o.timestamp_resolution;
  Nanos q = *t / r;
  if (*t % r != 0 && *t < 0) --q;  // floor, also for times before run start
  return q * r;
}

// afterOrZero: a zero time sorts first, otherwise the later time first.
bool AfterOrZero(const std::optional<Nanos>& t1, const std::optional<Nanos>& t2) {
  if (!t1 || !t2) return !t1;
  return *t1 > *t2;
}

// logarithmicRankDiff: floor(log2(age in ns)), −1 for ages <= 0.
int64_t LogRank(Nanos t, Nanos now) {
  const Nanos d = now - t;
  return d > 0 ? static_cast<int64_t>(std::log2(static_cast<double>(d))) : -1;
}

// Rules 6 and 8 once the timestamps are known to differ.
bool NewerFirst(const std::optional<Nanos>& t1, const std::optional<Nanos>& t2, const ReplicaSetPod& a,
                const ReplicaSetPod& b, Nanos now, const ReplicaSetOrderOptions& o) {
  if (!o.logarithmic_scale_down || now == 0 || !t1 || !t2) return AfterOrZero(t1, t2);
  const int64_t diff = LogRank(*t1, now) - LogRank(*t2, now);
  if (diff == 0) return a.uid < b.uid;
  return diff < 0;
}

}  // namespace

bool IsPodActive(const ReplicaSetPod& pod) {
  return pod.phase != PodPhase::kSucceeded && pod.phase != PodPhase::kFailed && !pod.deleting;
}

bool PreferForDeletion(const ReplicaSetPod& a, int rank_a, const ReplicaSetPod& b, int rank_b, Nanos now,
                       const ReplicaSetOrderOptions& o) {
  // 1. Unassigned < assigned.
  if (a.node != b.node && (a.node.empty() || b.node.empty())) return a.node.empty();
  // 2. Pending < Unknown < Running.
  if (PhaseOrdinal(a.phase) != PhaseOrdinal(b.phase)) return PhaseOrdinal(a.phase) < PhaseOrdinal(b.phase);
  // 3. Not ready < ready.
  if (a.ready != b.ready) return !a.ready;
  // 4. Lower deletion cost first.
  if (o.pod_deletion_cost && a.deletion_cost != b.deletion_cost) return a.deletion_cost < b.deletion_cost;
  // 5. Doubled up (more active pods on the same node) first.
  if (rank_a != rank_b) return rank_a > rank_b;
  // 6. Ready for a shorter time first.
  if (a.ready && b.ready) {
    const std::optional<Nanos> ra = ApiTime(a.ready_since, o);
    const std::optional<Nanos> rb = ApiTime(b.ready_since, o);
    if (ra != rb) return NewerFirst(ra, rb, a, b, now, o);
  }
  // 7. More restarts first.
  if (a.restart_count != b.restart_count) return a.restart_count > b.restart_count;
  // 8. Newer first.
  const std::optional<Nanos> ca = ApiTime(a.created_at, o);
  const std::optional<Nanos> cb = ApiTime(b.created_at, o);
  if (ca != cb) return NewerFirst(ca, cb, a, b, now, o);
  return false;
}

std::vector<size_t> DeletionOrder(const std::vector<ReplicaSetPod>& pods, Nanos now,
                                  const ReplicaSetOrderOptions& options) {
  // getPodsRankedByRelatedPodsOnSameNode: active pods per node name.
  std::map<std::string, int> on_node;
  for (const ReplicaSetPod& p : pods) {
    if (IsPodActive(p)) ++on_node[p.node];
  }
  std::vector<size_t> order;
  for (size_t i = 0; i < pods.size(); ++i) {
    if (IsPodActive(pods[i])) order.push_back(i);
  }
  // Stable insertion sort: well defined even for a non-transitive comparator.
  for (size_t i = 1; i < order.size(); ++i) {
    const size_t cur = order[i];
    size_t j = i;
    while (j > 0) {
      const size_t prev = order[j - 1];
      if (!PreferForDeletion(pods[cur], on_node[pods[cur].node], pods[prev], on_node[pods[prev].node], now, options)) {
        break;
      }
      order[j] = prev;
      --j;
    }
    order[j] = cur;
  }
  return order;
}

std::vector<size_t> PodsToDelete(const std::vector<ReplicaSetPod>& pods, int32_t desired_replicas, Nanos now,
                                 const ReplicaSetOrderOptions& options) {
  std::vector<size_t> order = DeletionOrder(pods, now, options);
  const int64_t diff = static_cast<int64_t>(order.size()) - std::max<int32_t>(desired_replicas, 0);
  if (diff <= 0) return {};
  order.resize(static_cast<size_t>(std::min<int64_t>(diff, kBurstReplicas)));
  return order;
}

}  // namespace scaletwin
