// World: the simulated service — open-loop arrivals → ingress → pods, and
// with a `database` section each pod's PostgreSQL pool and the database —
// driven by one event queue in integer virtual time.
//
// A request's path: the ingress picks a pod; a worker takes it (or it waits
// in the pod's queue, or is refused with queue_full); if its route needs the
// database (and misses the cache) the worker acquires a pooled connection
// (waiting up to acquire_timeout → pool_timeout; a connection the database
// refuses → db_too_many_clients), runs its queries (the database runs at most
// max_active_queries at once), releases the connection, then spends its
// service time and completes.
//
// Arrivals stop at `duration`; in-flight work may then finish for up to
// `drain`. Invariant (checked at every event): requests offered = completed +
// rejected + in flight, over the whole run.
//
//   World world(scenario);
//   RunResult result = world.Run(progress);
//
// Thread-safety: none; one world per thread.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "model/arrivals.h"
#include "model/connection_pool.h"
#include "model/load_balancer.h"
#include "model/run_result.h"
#include "model/scenario.h"
#include "sim/database.h"
#include "sim/event_queue.h"
#include "sim/metrics.h"
#include "sim/pod.h"
#include "sim/request_slab.h"

namespace scaletwin::sim {

// Called now and then with the virtual time reached (for progress lines).
using ProgressFn = std::function<void(Nanos now, Nanos end)>;

class World {
 public:
  explicit World(const Scenario& scenario);

  // Runs to completion. Call once.
  RunResult Run(const ProgressFn& progress = nullptr);

  uint64_t events_processed() const { return events_; }

 private:
  // Payload: kind in bits 56..63, a generation in 32..55, an index in 0..31.
  enum EventKind : uint64_t { kArrival = 0, kServiceDone, kConnectDone, kAcquireTimeout, kQueryDone };
  static uint64_t Payload(EventKind kind, uint32_t index, uint32_t generation = 0) {
    return (static_cast<uint64_t>(kind) << 56) | ((static_cast<uint64_t>(generation) & 0xFFFFFF) << 32) | index;
  }

  void HandleArrival(Nanos now);
  void StartService(Nanos now, uint32_t request);  // a worker took the request
  void AcquireConnection(Nanos now, uint32_t request);
  void OpenConnections(Nanos now, uint32_t pod);
  void HandleConnectDone(Nanos now, uint32_t pod);
  void HandleAcquireTimeout(Nanos now, uint32_t request, uint32_t generation);
  void StartQuery(Nanos now, uint32_t request);
  void HandleQueryDone(Nanos now, uint32_t request);
  void ReleaseConnection(Nanos now, uint32_t pod);
  void StartCpu(Nanos now, uint32_t request);
  void HandleServiceDone(Nanos now, uint32_t request);
  // The request leaves its worker, completed or failed; the worker takes the next.
  void LeaveWorker(Nanos now, uint32_t request, std::optional<FailureCause> failure);
  void ScheduleNextArrival();

  const Scenario& scenario_;
  RunResult result_;
  EventQueue queue_;
  ArrivalGenerator arrivals_;
  Arrival pending_arrival_;
  LoadBalancer balancer_;
  std::vector<Pod> pods_;
  std::vector<Rng> service_rng_;  // one stream per pod
  std::vector<ConnectionPool> pools_;  // one per pod, with a database
  std::optional<Database> database_;
  Rng db_rng_, cache_rng_;
  RequestSlab requests_;
  MetricsRecorder metrics_;
  uint64_t events_ = 0;
  // Whole-run conservation counters (not only the summary window).
  uint64_t offered_ = 0, completed_ = 0, rejected_ = 0;
  uint64_t in_flight_window_ = 0;
};

}  // namespace scaletwin::sim
