// MetricsRecorder: turns simulated request events into a RunResult.
//
// Summary figures count requests that *arrived* in [warmup, duration); series
// bucket events by event time into fixed intervals, closed lazily when an event
// (or Finish) passes an interval's end, so quiet periods cost nothing. Levels
// (queue length, busy workers, requests in system) are integrated exactly over
// time between events: Advance() must be called with the current time before a
// level changes.
//
// Thread-safety: none.
#pragma once

#include <cstdint>
#include <vector>

#include "model/histogram.h"
#include "model/run_result.h"
#include "model/scenario.h"
#include "sim/request_slab.h"

namespace scaletwin::sim {

class MetricsRecorder {
 public:
  MetricsRecorder(const Scenario& scenario, RunResult* out);

  // Integrates levels up to `now` and closes any interval that ended.
  void Advance(Nanos now);

  void OnArrival(Nanos now, const Request& r);
  void OnReject(Nanos now, const Request& r, FailureCause cause);
  void OnServiceStart(Nanos now, const Request& r);
  void OnComplete(Nanos now, const Request& r);
  // The request got a pooled connection after waiting since its worker took it.
  void OnPoolAcquired(Nanos now, const Request& r);
  // Pool and database levels, sampled at each interval's end.
  void SetPoolLevel(uint32_t pod, int in_use, size_t waiting);
  void SetDbConnections(int n);

  // Level changes; call Advance(now) first.
  void AddQueued(int delta) { queued_ += delta; }
  void AddBusy(int delta) { busy_ += delta; }
  void AddInSystem(int delta) { in_system_ += delta; }
  // Pod counts (call Advance(now) first): the HPA's desired count, Ready pods,
  // pod objects, and pods with a running container (whose workers count as
  // capacity for utilization).
  void SetClusterLevels(uint64_t desired, uint64_t ready, uint64_t total, uint64_t running);

  // Closes the run at `end` (>= duration) with `in_flight` window requests unfinished.
  void Finish(Nanos end, uint64_t in_flight_window);

 private:
  void CloseInterval();
  bool InSeries(Nanos now) const { return now < duration_; }
  size_t IntervalIndex(Nanos now) const { return static_cast<size_t>(now / interval_); }

  RunResult& out_;
  Nanos warmup_, duration_, interval_;
  int workers_per_pod_;
  double cpu_per_busy_worker_, cpu_request_;  // cores
  bool has_hpa_;
  std::vector<OutcomeCounts> tenant_counts_;
  OutcomeCounts route_counts_[kRouteCount];
  std::vector<std::string> tenant_ids_;

  // Levels and their integrals.
  int64_t queued_ = 0, busy_ = 0, in_system_ = 0;
  uint64_t ready_replicas_ = 0, desired_replicas_ = 0, total_replicas_ = 0, running_pods_ = 0;
  std::vector<int> pool_in_use_, pool_waiting_;  // per pod
  int64_t pool_in_use_total_ = 0, pool_waiting_total_ = 0, db_connections_ = 0;
  Nanos last_ = 0;
  double window_in_system_area_ = 0, window_busy_area_ = 0, window_running_area_ = 0;  // level × ns
  double interval_queue_area_ = 0, interval_busy_area_ = 0, interval_running_area_ = 0;
  int64_t interval_queue_max_ = 0;

  // Current interval [interval_start_, interval_start_ + interval_).
  size_t interval_index_ = 0;
  Nanos interval_end_;
  LogLinearHistogram interval_latency_;
};

}  // namespace scaletwin::sim
