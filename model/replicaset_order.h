// Which pods a ReplicaSet deletes when it scales down, in Kubernetes' order.
//
// The simulated and the real harness both ask this unit which pods to remove
// when the HPA lowers the replica count, so the two worlds kill the same pods
// (the newest unready ones first, the long-ready ones last).
//
// Rules followed: Kubernetes v1.22 and later with the default feature gates
// (PodDeletionCost and LogarithmicScaleDown, both beta and on by default since
// v1.22), i.e. pkg/controller/controller_utils.go ActivePodsWithRanks.Less as
// used by pkg/controller/replicaset getPodsToDelete. The order is unchanged up
// to the newest source read (≈v1.30+). A pod A is deleted before a pod B when
// the first rule that tells them apart says so:
//   1. A is unassigned (no node) and B is assigned;
//   2. A's phase ranks lower: Pending < Unknown < Running;
//   3. A is not Ready and B is Ready;
//   4. A has the lower controller.kubernetes.io/pod-deletion-cost;
//   5. A has the higher rank = number of active pods on A's node (doubled-up first);
//   6. both Ready with different Ready transition times: A has been Ready for a
//      shorter time — compared as floor(log2(now − t in ns)) buckets; equal
//      buckets fall back to UID order (A.uid < B.uid), a pseudo-random choice;
//   7. A's container restarted more (max over containers);
//   8. different creation times: A is newer (same log2 buckets and UID rule).
// A zero (unset) timestamp sorts first in 6 and 8 and disables the log scale.
// Only active pods (not Succeeded/Failed, no deletionTimestamp) are candidates;
// a ReplicaSet deletes at most kBurstReplicas per sync.
//
// Timestamps: the API serialises metav1.Time in whole seconds, so by default
// ready and creation times are truncated to `timestamp_resolution` (1 s) before
// comparing; `now` keeps full precision, as metav1.Now() does.
//
// Determinism: Go's sort.Sort is not stable and rule 6/8's UID fallback is not
// always transitive, so the exact order among "equal" pods in Kubernetes
// depends on the sort algorithm. Here a stable insertion sort is used, with the
// input order as the final tie-break, which is safe for any comparator.
//
//   std::vector<ReplicaSetPod> pods = ...;   // every pod of the ReplicaSet
//   for (size_t i : PodsToDelete(pods, /*desired_replicas=*/3, now)) Delete(pods[i]);
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/duration.h"
#include "model/replica_calculator.h"  // PodPhase

namespace scaletwin {

// replicaset.BurstReplicas: the most pods one sync creates or deletes.
inline constexpr int32_t kBurstReplicas = 500;

// The facts about one pod that the ordering reads.
struct ReplicaSetPod {
  std::string name;
  std::string uid;                 // metadata.uid; tie-break for equal log2 buckets
  std::string node;                // spec.nodeName; "" = not scheduled yet
  PodPhase phase = PodPhase::kPending;
  bool ready = false;              // Ready condition is True
  std::optional<Nanos> ready_since;  // Ready's lastTransitionTime (when ready); nullopt = zero time
  Nanos created_at = 0;            // metadata.creationTimestamp
  int32_t restart_count = 0;       // max restartCount over the pod's containers
  int32_t deletion_cost = 0;       // controller.kubernetes.io/pod-deletion-cost
  bool deleting = false;           // deletionTimestamp set
};

struct ReplicaSetOrderOptions {
  bool pod_deletion_cost = true;       // feature gate PodDeletionCost
  bool logarithmic_scale_down = true;  // feature gate LogarithmicScaleDown
  Nanos timestamp_resolution = kNanosPerSecond;  // metav1.Time precision; <= 1 keeps ns
};

// IsPodActive: not Succeeded, not Failed, not being deleted.
bool IsPodActive(const ReplicaSetPod& pod);

// ActivePodsWithRanks.Less: true iff `a` (with rank `rank_a`) should be deleted
// before `b`. `now` is the ranking time (0 disables the log scale, as in Go).
bool PreferForDeletion(const ReplicaSetPod& a, int rank_a, const ReplicaSetPod& b, int rank_b, Nanos now,
                       const ReplicaSetOrderOptions& options = {});

// Indices of the active pods of `pods`, the pod to delete first at the front.
// Ranks are computed over the active pods in `pods` (pass every related pod).
std::vector<size_t> DeletionOrder(const std::vector<ReplicaSetPod>& pods, Nanos now,
                                  const ReplicaSetOrderOptions& options = {});

// Indices of the pods one ReplicaSet sync deletes to reach `desired_replicas`:
// the first min(active − desired, kBurstReplicas) of DeletionOrder; empty when
// there are not more active pods than desired. Pods already being deleted do
// not count (the ReplicaSet replaces them at once).
std::vector<size_t> PodsToDelete(const std::vector<ReplicaSetPod>& pods, int32_t desired_replicas, Nanos now,
                                 const ReplicaSetOrderOptions& options = {});

}  // namespace scaletwin
