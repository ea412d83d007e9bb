// Pod admission: what a pod does with a request that arrives while it has
// `outstanding` requests (running plus waiting) — the one rule behind the
// simulator's `pods.workers` / `pods.queue_limit` and the real pod's
// `workers` / `queue_limit`, so both refuse the same request with queue_full.
//
//   switch (AdmitToPod(busy + queued, workers, queue_limit)) { ... }
//
// A request starts when fewer than `workers` are outstanding (a worker is
// free), waits while fewer than `queue_limit` wait beyond the workers, and is
// refused otherwise. queue_limit -1 means an unbounded waiting room; 0 means
// none (Erlang B). Pure function.
#pragma once

#include <cstdint>

namespace scaletwin {

enum class PodAdmission { kStart, kQueue, kReject };

// REQUIRES: outstanding >= 0, workers >= 1, queue_limit >= -1.
inline PodAdmission AdmitToPod(int64_t outstanding, int64_t workers, int64_t queue_limit) {
  if (outstanding < workers) return PodAdmission::kStart;
  if (queue_limit < 0 || outstanding - workers < queue_limit) return PodAdmission::kQueue;
  return PodAdmission::kReject;
}

}  // namespace scaletwin
