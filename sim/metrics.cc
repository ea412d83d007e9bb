#include "sim/metrics.h"

#include <algorithm>
#include <cmath>

#include "model/check.h"

namespace scaletwin::sim {

MetricsRecorder::MetricsRecorder(const Scenario& scenario, RunResult* out)
    : out_(*out),
      warmup_(scenario.warmup),
      duration_(scenario.duration),
      interval_(scenario.series_interval),
      workers_per_pod_(scenario.pods.workers),
      cpu_per_busy_worker_(static_cast<double>(scenario.pods.cpu_per_busy_worker_milli) / 1000.0),
      cpu_request_(static_cast<double>(scenario.pods.cpu_request_milli) / 1000.0),
      has_hpa_(scenario.hpa.has_value()),
      tenant_counts_(scenario.tenants.size()),
      interval_end_(std::min(scenario.series_interval, scenario.duration)) {
  for (const Tenant& t : scenario.tenants) tenant_ids_.push_back(t.id);
  pool_in_use_.assign(static_cast<size_t>(scenario.pods.replicas), 0);
  pool_waiting_.assign(static_cast<size_t>(scenario.pods.replicas), 0);
  IntervalSeries& s = out_.series;
  s.Reset(interval_, duration_);
  const size_t n = s.size();
  if (scenario.database) {
    s.pool_in_use.assign(n, 0);
    s.pool_waiting.assign(n, 0);
    s.db_connections.assign(n, 0);
  }
  if (has_hpa_) {
    s.replicas_desired.assign(n, 0);
    s.replicas_total.assign(n, 0);
    s.load_per_pod_qps.assign(n, std::nan(""));
    s.cpu_utilization_pct.assign(n, std::nan(""));
  }
}

void MetricsRecorder::SetClusterLevels(uint64_t desired, uint64_t ready, uint64_t total, uint64_t running) {
  desired_replicas_ = desired;
  ready_replicas_ = ready;
  total_replicas_ = total;
  running_pods_ = running;
}

void MetricsRecorder::Advance(Nanos now) {
  SCALETWIN_CHECK(now >= last_);
  auto integrate = [this](Nanos to) {
    if (interval_index_ < out_.series.size()) {  // after the last interval (drain) nothing accrues
      const auto dt = static_cast<double>(to - last_);
      interval_queue_area_ += static_cast<double>(queued_) * dt;
      interval_busy_area_ += static_cast<double>(busy_) * dt;
      interval_running_area_ += static_cast<double>(running_pods_) * dt;
    }
    const Nanos lo = std::max(last_, warmup_), hi = std::min(to, duration_);
    if (hi > lo) {
      const auto w = static_cast<double>(hi - lo);
      window_in_system_area_ += static_cast<double>(in_system_) * w;
      window_busy_area_ += static_cast<double>(busy_) * w;
      window_running_area_ += static_cast<double>(running_pods_) * w;
    }
    last_ = to;
  };
  while (now >= interval_end_ && interval_index_ < out_.series.size()) {
    integrate(interval_end_);
    CloseInterval();
  }
  integrate(now);
  interval_queue_max_ = std::max(interval_queue_max_, queued_);
}

void MetricsRecorder::CloseInterval() {
  IntervalSeries& s = out_.series;
  const size_t i = interval_index_;
  // The last interval is shorter when duration is not a multiple of the interval.
  const auto len = static_cast<double>(interval_end_ - static_cast<Nanos>(i) * interval_);
  s.queue_length_mean[i] = interval_queue_area_ / len;
  s.busy_workers_mean[i] = interval_busy_area_ / len;
  s.queue_length_max[i] = static_cast<uint64_t>(std::max(interval_queue_max_, queued_));
  s.in_flight[i] = static_cast<uint64_t>(in_system_);
  s.replicas_ready[i] = ready_replicas_;
  if (!s.pool_in_use.empty()) {
    s.pool_in_use[i] = static_cast<uint64_t>(pool_in_use_total_);
    s.pool_waiting[i] = static_cast<uint64_t>(pool_waiting_total_);
    s.db_connections[i] = static_cast<uint64_t>(db_connections_);
  }
  if (interval_latency_.count()) {
    s.latency_p50_ms[i] = ToMillis(interval_latency_.Percentile(0.50));
    s.latency_p95_ms[i] = ToMillis(interval_latency_.Percentile(0.95));
    s.latency_p99_ms[i] = ToMillis(interval_latency_.Percentile(0.99));
  }
  if (!s.replicas_desired.empty()) {
    s.replicas_desired[i] = desired_replicas_;
    s.replicas_total[i] = total_replicas_;
    if (ready_replicas_ > 0) {
      s.load_per_pod_qps[i] = static_cast<double>(s.offered[i]) / ToSeconds(static_cast<Nanos>(len)) /
                              static_cast<double>(ready_replicas_);
    }
    if (interval_running_area_ > 0) {
      s.cpu_utilization_pct[i] =
          100.0 * interval_busy_area_ * cpu_per_busy_worker_ / (interval_running_area_ * cpu_request_);
    }
  }
  interval_latency_.Reset();
  interval_queue_area_ = interval_busy_area_ = interval_running_area_ = 0;
  interval_queue_max_ = queued_;
  ++interval_index_;
  interval_end_ = std::min(interval_end_ + interval_, duration_);
}

void MetricsRecorder::OnArrival(Nanos now, const Request& r) {
  if (InSeries(now)) ++out_.series.offered[IntervalIndex(now)];
  if (!r.in_window) return;
  ++out_.summary.offered;
  ++tenant_counts_[r.tenant].offered;
  ++route_counts_[static_cast<int>(r.route)].offered;
}

void MetricsRecorder::OnReject(Nanos now, const Request& r, FailureCause cause) {
  const int c = static_cast<int>(cause);
  if (InSeries(now)) {
    ++out_.series.rejected[IntervalIndex(now)];
    ++out_.series.rejected_by_cause[c][IntervalIndex(now)];
  }
  if (!r.in_window) return;
  for (OutcomeCounts* counts : {&out_.summary, &tenant_counts_[r.tenant], &route_counts_[static_cast<int>(r.route)]}) {
    ++counts->rejected;
    ++counts->by_cause[c];
  }
}

void MetricsRecorder::OnServiceStart(Nanos now, const Request& r) {
  if (!r.in_window) return;
  ++out_.started;
  out_.queue_wait.Record(now - r.arrival);
  if (now > r.arrival) ++out_.waited;
}

void MetricsRecorder::OnComplete(Nanos now, const Request& r) {
  const Nanos latency = now - r.arrival;
  if (InSeries(now)) {
    ++out_.series.completed[IntervalIndex(now)];
    interval_latency_.Record(latency);
  }
  if (!r.in_window) return;
  ++out_.summary.completed;
  ++tenant_counts_[r.tenant].completed;
  ++route_counts_[static_cast<int>(r.route)].completed;
  out_.latency.Record(latency);
  out_.service.Record(now - r.cpu_start);
}

void MetricsRecorder::OnPoolAcquired(Nanos now, const Request& r) {
  if (r.in_window) out_.pool_wait.Record(now - r.service_start);
}

void MetricsRecorder::SetPoolLevel(uint32_t pod, int in_use, size_t waiting) {
  if (pod >= pool_in_use_.size()) {
    pool_in_use_.resize(pod + 1, 0);
    pool_waiting_.resize(pod + 1, 0);
  }
  pool_in_use_total_ += in_use - pool_in_use_[pod];
  pool_waiting_total_ += static_cast<int64_t>(waiting) - pool_waiting_[pod];
  pool_in_use_[pod] = in_use;
  pool_waiting_[pod] = static_cast<int>(waiting);
}

void MetricsRecorder::SetDbConnections(int n) {
  db_connections_ = n;
  out_.db_connections_max = std::max<uint64_t>(out_.db_connections_max, static_cast<uint64_t>(n));
}

void MetricsRecorder::Finish(Nanos end, uint64_t in_flight_window) {
  Advance(std::max(end, duration_));
  const double window = static_cast<double>(duration_ - warmup_);
  out_.mean_in_system = window > 0 ? window_in_system_area_ / window : 0;
  // Time-weighted: busy worker-time over the worker-time of running pods.
  const double capacity = window_running_area_ * workers_per_pod_;
  out_.utilization = capacity > 0 ? window_busy_area_ / capacity : 0;
  out_.in_flight_at_end = in_flight_window;
  for (size_t i = 0; i < tenant_ids_.size(); ++i) out_.by_tenant[tenant_ids_[i]] = tenant_counts_[i];
  for (int i = 0; i < kRouteCount; ++i) {
    if (route_counts_[i].offered) out_.by_route[RouteName(static_cast<Route>(i))] = route_counts_[i];
  }
  const OutcomeCounts& s = out_.summary;
  SCALETWIN_CHECK(s.offered == s.completed + s.rejected + in_flight_window);
}

}  // namespace scaletwin::sim
