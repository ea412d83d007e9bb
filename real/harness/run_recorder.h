// RealRunRecorder: turns what the real world's clients saw — one record per
// request of the arrival trace, plus sampled pod levels — into the RunResult
// fields the simulator's MetricsRecorder fills, with the same conventions:
// summary figures count requests that *arrived* in [warmup, duration);
// series cover [0, duration) in `series_interval` buckets, an arrival by its
// time and an outcome by its completion time; latency is arrival (the
// scheduled time, so a late send counts against the system) to the end of
// the answer, for completed requests.
//
// What only the inside of a simulated pod knows (when service started, the
// service and pool-wait histograms) stays empty here; queue length and busy
// workers come from samples of the pods' worker pools instead of exact
// integrals.
//
//   RealRunRecorder rec(scenario, &result);
//   rec.Add({.arrival = a, .done = d, .tenant = 0, .route = Route::kRedirect});
//   rec.SampleLevels(t, queued, busy);
//   rec.Finish();
//
// Thread-safety: none.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "model/duration.h"
#include "model/run_result.h"
#include "model/scenario.h"

namespace scaletwin {

struct RealRequestRecord {
  Nanos arrival = 0;  // scheduled time from run start
  Nanos done = 0;     // when the answer (or the failure) was known, from run start
  uint32_t tenant = 0;
  Route route = Route::kRedirect;
  std::optional<FailureCause> failure = {};  // nullopt: completed
  // Neither completed nor a failure cause the report knows (an unexpected
  // status): offered, and counted in `unexpected`, nowhere else.
  bool unexpected = false;
};

class RealRunRecorder {
 public:
  RealRunRecorder(const Scenario& scenario, RunResult* out);

  void Add(const RealRequestRecord& r);
  // Worker-pool levels summed over pods at time t (from run start).
  void SampleLevels(Nanos t, int64_t queued, int64_t busy);
  // Fills summary, tenants, routes, histograms and series of the RunResult.
  void Finish();

  uint64_t unexpected_in_window() const { return unexpected_; }

 private:
  bool InWindow(Nanos arrival) const { return arrival >= warmup_ && arrival < duration_; }
  std::optional<size_t> Interval(Nanos t) const;

  RunResult& out_;
  Nanos warmup_, duration_, interval_;
  int replicas_, workers_;
  std::vector<std::string> tenant_ids_;
  std::vector<OutcomeCounts> tenant_counts_;
  OutcomeCounts route_counts_[kRouteCount];
  std::vector<LogLinearHistogram> interval_latency_;
  std::vector<double> queue_sum_, busy_sum_;
  std::vector<uint64_t> samples_;
  std::vector<Nanos> starts_, ends_;  // of every request, for in-flight counts
  double window_in_system_ns_ = 0;    // request-ns inside [warmup, duration)
  double window_busy_sum_ = 0;
  uint64_t window_samples_ = 0;
  uint64_t unexpected_ = 0;
};

}  // namespace scaletwin
