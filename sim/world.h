// World: the simulated service — open-loop arrivals → ingress → pods — driven
// by one event queue in integer virtual time.
//
// Events: the next arrival (one pending at a time; the generator is lazy, so
// memory does not grow with the duration) and service completions. Arrivals
// stop at `duration`; in-flight work may then finish for up to `drain`.
// Invariant (checked at every event): requests offered = completed + rejected
// + in flight, over the whole run.
//
//   World world(scenario);
//   RunResult result = world.Run(progress);
//
// Thread-safety: none; one world per thread.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "model/arrivals.h"
#include "model/load_balancer.h"
#include "model/run_result.h"
#include "model/scenario.h"
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
  enum EventKind : uint64_t { kArrival = 0, kServiceDone = 1 };
  static uint64_t Payload(EventKind kind, uint32_t id) { return (static_cast<uint64_t>(kind) << 32) | id; }

  void HandleArrival(Nanos now);
  void HandleServiceDone(Nanos now, uint32_t request);
  void StartService(Nanos now, uint32_t request);
  void ScheduleNextArrival();

  const Scenario& scenario_;
  RunResult result_;
  EventQueue queue_;
  ArrivalGenerator arrivals_;
  Arrival pending_arrival_;
  LoadBalancer balancer_;
  std::vector<Pod> pods_;
  std::vector<Rng> service_rng_;  // one stream per pod
  RequestSlab requests_;
  MetricsRecorder metrics_;
  uint64_t events_ = 0;
  // Whole-run conservation counters (not only the summary window).
  uint64_t offered_ = 0, completed_ = 0, rejected_ = 0;
  uint64_t in_flight_window_ = 0;
};

}  // namespace scaletwin::sim
