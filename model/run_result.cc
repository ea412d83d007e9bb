#include "model/run_result.h"

#include <cmath>
#include <cstdlib>
#include <functional>
#include <sstream>

namespace scaletwin {

const char* FailureCauseName(FailureCause c) {
  switch (c) {
    case FailureCause::kQueueFull: return "queue_full";
    case FailureCause::kPoolTimeout: return "pool_timeout";
    case FailureCause::kDbTooManyClients: return "db_too_many_clients";
    case FailureCause::kRedisError: return "redis_error";
    case FailureCause::kUpstreamUnavailable: return "upstream_unavailable";
    case FailureCause::kKilledInFlight: return "killed_in_flight";
    case FailureCause::kUpstreamConnectError: return "upstream_connect_error";
    case FailureCause::kRateLimited: return "rate_limited";
  }
  return "?";
}

namespace {

nlohmann::json CausesToJson(const std::array<uint64_t, kFailureCauseCount>& by_cause) {
  nlohmann::json j = nlohmann::json::object();
  for (int i = 0; i < kFailureCauseCount; ++i) j[FailureCauseName(static_cast<FailureCause>(i))] = by_cause[i];
  return j;
}

double Ms(int64_t ns) { return static_cast<double>(ns) / kNanosPerMilli; }

// Rounds to 1 ns resolution expressed in ms so reports do not carry float noise.
double RoundMs(double ms) { return std::round(ms * 1e6) / 1e6; }

}  // namespace

nlohmann::json OutcomeCounts::ToJson() const {
  return {{"offered", offered}, {"completed", completed}, {"rejected", rejected},
          {"rejected_by_cause", CausesToJson(by_cause)}};
}

void IntervalSeries::Reset(Nanos interval_length, Nanos duration) {
  interval = interval_length;
  const size_t n = static_cast<size_t>((duration + interval - 1) / interval);
  offered.assign(n, 0);
  completed.assign(n, 0);
  rejected.assign(n, 0);
  for (auto& v : rejected_by_cause) v.assign(n, 0);
  latency_p50_ms.assign(n, std::nan(""));
  latency_p95_ms.assign(n, std::nan(""));
  latency_p99_ms.assign(n, std::nan(""));
  queue_length_mean.assign(n, 0);
  queue_length_max.assign(n, 0);
  busy_workers_mean.assign(n, 0);
  in_flight.assign(n, 0);
  replicas_ready.assign(n, 0);
}

nlohmann::json IntervalSeries::ToJson() const {
  nlohmann::json causes = nlohmann::json::object();
  for (int i = 0; i < kFailureCauseCount; ++i) causes[FailureCauseName(static_cast<FailureCause>(i))] = rejected_by_cause[i];
  nlohmann::json t = nlohmann::json::array();
  for (size_t i = 0; i < size(); ++i) t.push_back(ToSeconds(static_cast<Nanos>(i) * interval));
  auto rounded = [](const std::vector<double>& v) {
    nlohmann::json a = nlohmann::json::array();
    for (double x : v) {
      if (std::isnan(x)) a.push_back(nullptr);
      else a.push_back(std::round(x * 1e4) / 1e4);
    }
    return a;
  };
  nlohmann::json j = {{"interval_s", ToSeconds(interval)},
          {"t_s", std::move(t)},
          {"offered", offered},
          {"completed", completed},
          {"rejected", rejected},
          {"rejected_by_cause", std::move(causes)},
          {"latency_ms", {{"p50", rounded(latency_p50_ms)}, {"p95", rounded(latency_p95_ms)}, {"p99", rounded(latency_p99_ms)}}},
          {"queue_length_mean", rounded(queue_length_mean)},
          {"queue_length_max", queue_length_max},
          {"busy_workers_mean", rounded(busy_workers_mean)},
          {"in_flight", in_flight},
          {"replicas_ready", replicas_ready}};
  if (!pool_in_use.empty()) {
    j["pool_in_use"] = pool_in_use;
    j["pool_waiting"] = pool_waiting;
    j["db_connections"] = db_connections;
  }
  if (!replicas_desired.empty()) {
    j["replicas_desired"] = replicas_desired;
    j["replicas_total"] = replicas_total;
    j["load_per_pod_qps"] = rounded(load_per_pod_qps);
    j["cpu_utilization_pct"] = rounded(cpu_utilization_pct);
  }
  return j;
}

nlohmann::json ClusterResult::ToJson() const {
  auto seconds_or_null = [](const std::optional<Nanos>& t) -> nlohmann::json {
    if (!t) return nullptr;
    return ToSeconds(*t);
  };
  return {{"pods_created", pods_created},
          {"pods_deleted", pods_deleted},
          {"container_crashes", container_crashes},
          {"container_restarts", container_restarts},
          {"rescales_up", rescales_up},
          {"rescales_down", rescales_down},
          {"replicas_max", replicas_max},
          {"ready_max", ready_max},
          {"first_scale_up_s", seconds_or_null(first_scale_up_at)},
          {"catch_up_s", first_scale_up_at && caught_up_at ? nlohmann::json(ToSeconds(*caught_up_at - *first_scale_up_at))
                                                           : nlohmann::json(nullptr)},
          {"first_db_refusal_s", seconds_or_null(first_db_refusal_at)},
          {"replicas_at_first_db_refusal", replicas_at_first_db_refusal}};
}

namespace {

nlohmann::json DecisionsToJson(const std::vector<HpaDecisionRow>& rows) {
  nlohmann::json out = nlohmann::json::array();
  for (const HpaDecisionRow& row : rows) {
    nlohmann::json proposals = nlohmann::json::array();
    for (const HpaDecisionRow::Proposal& p : row.proposals) {
      nlohmann::json j = {{"metric", p.metric}, {"target", p.target}, {"ok", p.ok}};
      if (p.ok) {
        j["replicas"] = p.replicas;
        j["usage"] = static_cast<double>(p.usage_milli) / 1000.0;
      } else {
        j["error"] = p.error;
      }
      proposals.push_back(std::move(j));
    }
    auto opt = [](const std::optional<int32_t>& v) -> nlohmann::json {
      if (!v) return nullptr;
      return *v;
    };
    out.push_back({{"t_s", ToSeconds(row.time)},
                   {"current", row.current},
                   {"proposals", std::move(proposals)},
                   {"metric_replicas", opt(row.metric_replicas)},
                   {"recommendation", opt(row.stabilized_replicas)},
                   {"desired", row.desired},
                   {"rescale", row.rescale},
                   {"limiting_reason", row.limiting_reason},
                   {"reason", row.reason}});
  }
  return out;
}

}  // namespace

bool RunResult::AllExpectationsPassed() const {
  for (const ExpectationResult& e : expectations) {
    if (!e.passed) return false;
  }
  return true;
}

nlohmann::json RunResult::ToJson() const {
  const double window_s = ToSeconds(duration - warmup);
  nlohmann::json summary;
  summary["window_s"] = window_s;
  summary["requests"] = {{"offered", this->summary.offered},
                         {"completed", this->summary.completed},
                         {"rejected", this->summary.rejected},
                         {"in_flight_at_end", in_flight_at_end}};
  summary["rejected_by_cause"] = CausesToJson(this->summary.by_cause);
  summary["offered_rps"] = window_s > 0 ? this->summary.offered / window_s : 0.0;
  summary["throughput_rps"] = window_s > 0 ? this->summary.completed / window_s : 0.0;
  summary["rejected_fraction"] =
      this->summary.offered ? static_cast<double>(this->summary.rejected) / this->summary.offered : 0.0;
  summary["latency_ms"] = {{"mean", RoundMs(latency.Mean() / kNanosPerMilli)},
                           {"p50", Ms(latency.Percentile(0.50))},
                           {"p90", Ms(latency.Percentile(0.90))},
                           {"p95", Ms(latency.Percentile(0.95))},
                           {"p99", Ms(latency.Percentile(0.99))},
                           {"p999", Ms(latency.Percentile(0.999))},
                           {"max", Ms(latency.max())}};
  summary["queue_wait_ms"] = {{"mean", RoundMs(queue_wait.Mean() / kNanosPerMilli)},
                              {"p50", Ms(queue_wait.Percentile(0.50))},
                              {"p99", Ms(queue_wait.Percentile(0.99))},
                              {"max", Ms(queue_wait.max())},
                              {"p_wait", started ? static_cast<double>(waited) / started : 0.0}};
  summary["service_ms"] = {{"mean", RoundMs(service.Mean() / kNanosPerMilli)}, {"p99", Ms(service.Percentile(0.99))}};
  if (has_database) {
    summary["pool_wait_ms"] = {{"mean", RoundMs(pool_wait.Mean() / kNanosPerMilli)},
                               {"p99", Ms(pool_wait.Percentile(0.99))},
                               {"max", Ms(pool_wait.max())}};
    summary["database"] = {{"connections_max", db_connections_max},
                           {"refused_connections", db_refused_connections}};
  }
  summary["mean_in_system"] = mean_in_system;
  summary["utilization"] = utilization;
  summary["cluster"] = cluster.ToJson();
  if (has_limiter) summary["limiter"] = limiter_summary;
  if (has_cache) {
    const uint64_t lookups = cache_hits + cache_misses + cache_errors;
    summary["cache"] = {{"hits", cache_hits},
                        {"misses", cache_misses},
                        {"errors", cache_errors},
                        {"set_errors", cache_set_errors},
                        {"hit_ratio", lookups ? static_cast<double>(cache_hits) / static_cast<double>(lookups) : 0.0}};
  }

  nlohmann::json tenants = nlohmann::json::object();
  for (const auto& [id, c] : by_tenant) tenants[id] = c.ToJson();
  nlohmann::json routes = nlohmann::json::object();
  for (const auto& [id, c] : by_route) routes[id] = c.ToJson();

  nlohmann::json report = {{"schema", kReportSchema},
          {"tool", {{"name", "scaletwin"}, {"version", kToolVersion}}},
          {"mode", mode},
          {"scenario",
           {{"name", scenario_name},
            {"description", scenario_description},
            {"hash", scenario_hash},
            {"seed", seed},
            {"duration_s", ToSeconds(duration)},
            {"warmup_s", ToSeconds(warmup)}}},
          {"summary", std::move(summary)},
          {"tenants", std::move(tenants)},
          {"routes", std::move(routes)},
          {"series", series.ToJson()},
          {"histograms", {{"latency_ns", latency.ToJson()}, {"queue_wait_ns", queue_wait.ToJson()}}}};
  if (has_limiter) report["limiter"] = {{"audit", limiter_audit}, {"series", limiter_series}};
  if (!redis_stats.is_null()) report["redis"] = redis_stats;
  if (!real.is_null()) report["real"] = real;
  if (cluster.has_hpa) {
    nlohmann::json hpa = {{"targets", cluster.hpa_targets}, {"decisions", DecisionsToJson(cluster.decisions)}};
    hpa["pods_metric_target"] = cluster.pods_metric_target ? nlohmann::json(*cluster.pods_metric_target) : nullptr;
    hpa["cpu_target_pct"] = cluster.cpu_target_pct ? nlohmann::json(*cluster.cpu_target_pct) : nullptr;
    report["hpa"] = std::move(hpa);
  }
  return report;
}

const nlohmann::json* FindMetric(const nlohmann::json& report, const std::string& dotted) {
  std::vector<std::string> parts;
  std::stringstream in(dotted);
  for (std::string p; std::getline(in, p, '.');) parts.push_back(p);
  // Depth-first: at an object, try the longest run of parts that names a key,
  // so ids with dots ("tenants.acme.com.rejected") still resolve.
  std::function<const nlohmann::json*(const nlohmann::json&, size_t)> walk =
      [&](const nlohmann::json& node, size_t i) -> const nlohmann::json* {
    if (i == parts.size()) return &node;
    if (node.is_object()) {
      std::string key;
      std::vector<std::pair<size_t, std::string>> candidates;
      for (size_t j = i; j < parts.size(); ++j) {
        key += (j == i ? "" : ".") + parts[j];
        candidates.emplace_back(j + 1, key);
      }
      for (auto it = candidates.rbegin(); it != candidates.rend(); ++it) {
        auto child = node.find(it->second);
        if (child == node.end()) continue;
        if (const nlohmann::json* found = walk(*child, it->first)) return found;
      }
      return nullptr;
    }
    if (node.is_array()) {
      char* end = nullptr;
      const unsigned long idx = std::strtoul(parts[i].c_str(), &end, 10);
      if (parts[i].empty() || *end != '\0' || idx >= node.size()) return nullptr;
      return walk(node[idx], i + 1);
    }
    return nullptr;
  };
  return walk(report, 0);
}

std::vector<ExpectationResult> EvaluateExpectations(const std::vector<Expectation>& expect,
                                                    const nlohmann::json& report) {
  std::vector<ExpectationResult> out;
  for (const Expectation& e : expect) {
    ExpectationResult r;
    r.expectation = e;
    const nlohmann::json* v = FindMetric(report, e.metric);
    if (v && (v->is_number() || v->is_boolean())) {
      r.found = true;
      r.actual = v->is_boolean() ? (v->get<bool>() ? 1.0 : 0.0) : v->get<double>();
      r.passed = (!e.min || r.actual >= *e.min) && (!e.max || r.actual <= *e.max);
    }
    out.push_back(std::move(r));
  }
  return out;
}

nlohmann::json ExpectationsToJson(const std::vector<ExpectationResult>& results) {
  nlohmann::json a = nlohmann::json::array();
  for (const ExpectationResult& r : results) {
    nlohmann::json j = {{"metric", r.expectation.metric}, {"passed", r.passed}};
    if (r.expectation.min) j["min"] = *r.expectation.min;
    if (r.expectation.max) j["max"] = *r.expectation.max;
    if (r.found) j["actual"] = r.actual;
    else j["error"] = "metric not found in the report (or not a number)";
    if (!r.expectation.description.empty()) j["description"] = r.expectation.description;
    a.push_back(std::move(j));
  }
  return a;
}

nlohmann::json RenderReport(RunResult& result, const std::vector<Expectation>& expect) {
  nlohmann::json report = result.ToJson();
  result.expectations = EvaluateExpectations(expect, report);
  report["expectations"] = ExpectationsToJson(result.expectations);
  report["passed"] = result.AllExpectationsPassed();
  return report;
}

}  // namespace scaletwin
