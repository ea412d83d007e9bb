// Aggregating the real world's request records into a RunResult.
#include "real/harness/run_recorder.h"

#include <algorithm>
#include <cmath>

namespace scaletwin {

RealRunRecorder::RealRunRecorder(const Scenario& scenario, RunResult* out)
    : out_(*out),
      warmup_(scenario.warmup),
      duration_(scenario.duration),
      interval_(scenario.series_interval),
      replicas_(scenario.pods.replicas),
      workers_(scenario.pods.workers) {
  for (const Tenant& t : scenario.tenants) tenant_ids_.push_back(t.id);
  tenant_counts_.assign(tenant_ids_.size(), {});
  IntervalSeries& s = out_.series;
  s.Reset(interval_, duration_);
  const size_t n = s.size();
  // The real fleet is fixed: every pod is started and Ready before the trace begins.
  s.replicas_ready.assign(n, static_cast<uint64_t>(replicas_));
  interval_latency_.resize(n);
  queue_sum_.assign(n, 0);
  busy_sum_.assign(n, 0);
  samples_.assign(n, 0);
}

std::optional<size_t> RealRunRecorder::Interval(Nanos t) const {
  if (t < 0 || t >= duration_) return std::nullopt;
  return static_cast<size_t>(t / interval_);
}

void RealRunRecorder::Add(const RealRequestRecord& r) {
  IntervalSeries& s = out_.series;
  if (auto i = Interval(r.arrival)) ++s.offered[*i];
  starts_.push_back(r.arrival);
  ends_.push_back(r.done);
  const Nanos lo = std::max(r.arrival, warmup_), hi = std::min(r.done, duration_);
  if (hi > lo) window_in_system_ns_ += static_cast<double>(hi - lo);

  if (auto i = Interval(r.done); i && !r.unexpected) {
    if (r.failure) {
      ++s.rejected[*i];
      ++s.rejected_by_cause[static_cast<int>(*r.failure)][*i];
    } else {
      ++s.completed[*i];
      interval_latency_[*i].Record(r.done - r.arrival);
    }
  }
  if (!InWindow(r.arrival)) return;
  OutcomeCounts* counts[] = {&out_.summary, &tenant_counts_[r.tenant], &route_counts_[static_cast<int>(r.route)]};
  for (OutcomeCounts* c : counts) ++c->offered;
  if (r.unexpected) {
    ++unexpected_;
    return;
  }
  if (r.failure) {
    for (OutcomeCounts* c : counts) {
      ++c->rejected;
      ++c->by_cause[static_cast<int>(*r.failure)];
    }
    return;
  }
  for (OutcomeCounts* c : counts) ++c->completed;
  out_.latency.Record(r.done - r.arrival);
}

void RealRunRecorder::SampleLevels(Nanos t, int64_t queued, int64_t busy) {
  if (auto i = Interval(t)) {
    queue_sum_[*i] += static_cast<double>(queued);
    busy_sum_[*i] += static_cast<double>(busy);
    ++samples_[*i];
    out_.series.queue_length_max[*i] = std::max<uint64_t>(out_.series.queue_length_max[*i], static_cast<uint64_t>(queued));
  }
  if (t >= warmup_ && t < duration_) {
    window_busy_sum_ += static_cast<double>(busy);
    ++window_samples_;
  }
}

void RealRunRecorder::Finish() {
  IntervalSeries& s = out_.series;
  // In flight at an interval's end: arrived by then, not yet answered.
  std::sort(starts_.begin(), starts_.end());
  std::sort(ends_.begin(), ends_.end());
  for (size_t i = 0; i < s.size(); ++i) {
    const Nanos end = std::min(static_cast<Nanos>(i + 1) * interval_, duration_);
    const auto arrived = std::upper_bound(starts_.begin(), starts_.end(), end) - starts_.begin();
    const auto answered = std::upper_bound(ends_.begin(), ends_.end(), end) - ends_.begin();
    s.in_flight[i] = static_cast<uint64_t>(std::max<std::ptrdiff_t>(0, arrived - answered));
    if (samples_[i]) {
      s.queue_length_mean[i] = queue_sum_[i] / static_cast<double>(samples_[i]);
      s.busy_workers_mean[i] = busy_sum_[i] / static_cast<double>(samples_[i]);
    }
    if (interval_latency_[i].count()) {
      s.latency_p50_ms[i] = ToMillis(interval_latency_[i].Percentile(0.50));
      s.latency_p95_ms[i] = ToMillis(interval_latency_[i].Percentile(0.95));
      s.latency_p99_ms[i] = ToMillis(interval_latency_[i].Percentile(0.99));
    }
  }
  const double window = static_cast<double>(duration_ - warmup_);
  out_.mean_in_system = window > 0 ? window_in_system_ns_ / window : 0;
  const double capacity = static_cast<double>(replicas_) * workers_;
  out_.utilization = window_samples_ && capacity > 0 ? window_busy_sum_ / static_cast<double>(window_samples_) / capacity : 0;
  out_.in_flight_at_end = 0;  // the generator waits for every answer (or its timeout)
  // The fixed fleet: every pod exists and is Ready for the whole trace.
  out_.cluster.replicas_max = static_cast<uint64_t>(replicas_);
  out_.cluster.ready_max = static_cast<uint64_t>(replicas_);
  for (size_t i = 0; i < tenant_ids_.size(); ++i) out_.by_tenant[tenant_ids_[i]] = tenant_counts_[i];
  for (int i = 0; i < kRouteCount; ++i) {
    if (route_counts_[i].offered) out_.by_route[RouteName(static_cast<Route>(i))] = route_counts_[i];
  }
}

}  // namespace scaletwin
