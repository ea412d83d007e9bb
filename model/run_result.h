// RunResult: what one run of a scenario produced, in either world.
//
// sim::Run() and (later) real::Run() both fill this struct; ToJson() renders
// the versioned report.json documented in reports/README.md. Everything in it
// is a function of the scenario and seed for the simulator (no wall-clock
// fields), so the simulator's report is byte-identical across runs.
//
// Summary figures cover requests that *arrived* in [warmup, duration); series
// cover the whole run in fixed intervals by event time.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/duration.h"
#include "model/histogram.h"
#include "model/scenario.h"

namespace scaletwin {

inline constexpr const char* kToolVersion = "0.1.0";
inline constexpr const char* kReportSchema = "scaletwin.report/v1";

// Why a request did not complete. Every cause appears in every report (zeros
// included) so tools can rely on the keys.
enum class FailureCause : uint8_t {
  kQueueFull = 0,        // the pod's waiting room was full (or there is none)
  kPoolTimeout,          // waited longer than acquire_timeout for a pooled connection
  kDbTooManyClients,     // PostgreSQL refused a new connection: max_connections reached
  kRedisError,           // the limiter or cache could not reach Redis (fail_closed)
  kUpstreamUnavailable,  // the ingress had no ready endpoint
  kKilledInFlight,       // the pod was killed while the request was in flight
  kUpstreamConnectError, // every endpoint tried refused the connection (listener closed, container down): 502
  kRateLimited,          // the limiter refused it: 429
};
inline constexpr int kFailureCauseCount = 8;
const char* FailureCauseName(FailureCause c);

struct OutcomeCounts {
  uint64_t offered = 0;
  uint64_t completed = 0;
  uint64_t rejected = 0;  // all failure causes together
  std::array<uint64_t, kFailureCauseCount> by_cause{};
  nlohmann::json ToJson() const;
};

// One value per series interval; index i covers [i·interval, (i+1)·interval).
struct IntervalSeries {
  Nanos interval = kNanosPerSecond;
  std::vector<uint64_t> offered, completed, rejected;
  std::array<std::vector<uint64_t>, kFailureCauseCount> rejected_by_cause;
  std::vector<double> latency_p50_ms, latency_p95_ms, latency_p99_ms;  // of completions in the interval; NaN (null) when none
  std::vector<double> queue_length_mean;   // time-average over the interval, summed over pods
  std::vector<uint64_t> queue_length_max;
  std::vector<double> busy_workers_mean;   // time-average, summed over pods
  std::vector<uint64_t> in_flight;         // at the end of the interval
  std::vector<uint64_t> replicas_ready;    // at the end of the interval
  // With a database (empty otherwise), at the end of the interval, summed over pods:
  std::vector<uint64_t> pool_in_use, pool_waiting, db_connections;
  // With an `hpa` section (empty otherwise), at the end of the interval:
  std::vector<uint64_t> replicas_desired;  // the HPA's scale.spec.replicas
  std::vector<uint64_t> replicas_total;    // pod objects that exist, terminating ones included
  std::vector<double> load_per_pod_qps;    // arrivals in the interval per second per ready pod (NaN: none ready)
  std::vector<double> cpu_utilization_pct; // CPU used / CPU requested of running pods, time-averaged (NaN: none)
  size_t size() const { return offered.size(); }
  // Sizes the columns every run has to ceil(duration / interval) intervals:
  // counts and levels zero, latency NaN (no completion yet). The optional
  // columns (database, hpa) stay empty for the recorder that has them.
  void Reset(Nanos interval_length, Nanos duration);
  nlohmann::json ToJson() const;
};

struct ExpectationResult {
  Expectation expectation;
  bool found = false;     // the metric exists in the report and is a number
  double actual = 0;
  bool passed = false;
};

// One HPA reconcile as the decision table shows it.
struct HpaDecisionRow {
  Nanos time = 0;
  int32_t current = 0;
  struct Proposal {
    std::string metric, target;
    bool ok = false;
    int32_t replicas = 0;
    int64_t usage_milli = 0;    // the usage the metric compared with its target (per pod, or %)
    std::string error;
  };
  std::vector<Proposal> proposals;
  std::optional<int32_t> metric_replicas;      // max over the metrics
  std::optional<int32_t> stabilized_replicas;  // after stabilization windows (the recommendation)
  int32_t desired = 0;
  bool rescale = false;
  std::string reason;          // the rescale reason, or the limiting reason, or the error
  std::string limiting_reason; // ScalingLimited reason ("" when not limited)
};

// What the simulated cluster did (with an `hpa` section or pod events).
struct ClusterResult {
  bool has_hpa = false;
  std::vector<std::string> hpa_targets;  // "pods/http_requests: 100 (AverageValue)", ...
  std::optional<double> pods_metric_target;    // per-pod AverageValue of the first Pods metric
  std::optional<double> cpu_target_pct;        // cpu Utilization target
  std::vector<HpaDecisionRow> decisions;       // every reconcile
  uint64_t pods_created = 0, pods_deleted = 0, container_crashes = 0, container_restarts = 0;
  uint64_t rescales_up = 0, rescales_down = 0; // HPA rescales by direction
  uint64_t replicas_max = 0;                   // most pod objects at once
  uint64_t ready_max = 0;
  std::optional<Nanos> first_scale_up_at;      // first rescale upwards
  // When Ready pods first reached the desired count after the first climb
  // ended (the first reconcile after the first scale-up that adds no pod).
  std::optional<Nanos> caught_up_at;
  std::optional<Nanos> first_db_refusal_at;    // PostgreSQL first refused a pool's connection
  uint64_t replicas_at_first_db_refusal = 0;   // pods whose app was up then
  nlohmann::json ToJson() const;
};

struct RunResult {
  // Identity.
  std::string scenario_name, scenario_description, scenario_hash;
  std::string mode = "sim";
  uint64_t seed = 0;
  Nanos duration = 0, warmup = 0;

  // Over requests arriving in [warmup, duration).
  OutcomeCounts summary;
  uint64_t in_flight_at_end = 0;   // of those, still unfinished when the run stopped
  uint64_t started = 0;            // of those, how many started service
  uint64_t waited = 0;             // of the started, how many queued before service
  LogLinearHistogram latency;      // arrival to completion, ns
  LogLinearHistogram queue_wait;   // arrival at pod to start of service, ns
  LogLinearHistogram service;      // service time (after any database work), ns
  LogLinearHistogram pool_wait;    // worker start to pooled connection, ns (with a database)
  bool has_database = false;
  uint64_t db_connections_max = 0;     // peak connections PostgreSQL held
  uint64_t db_refused_connections = 0; // connections refused (too many clients)
  double mean_in_system = 0;       // time-average requests in the system over the window
  double utilization = 0;          // busy worker-time / (workers × window), pooled over all pods
  std::map<std::string, OutcomeCounts> by_tenant;
  std::map<std::string, OutcomeCounts> by_route;

  IntervalSeries series;
  ClusterResult cluster;
  // With the Redis limiter: report.json's limiter.audit (per key),
  // limiter.series (the same verdicts per interval) and summary.limiter (sums).
  bool has_limiter = false;
  nlohmann::json limiter_audit, limiter_summary, limiter_series;
  // With Redis in use (limiter or cache): report.json's `redis` — limiter
  // decisions, plain calls, and the server's own counters (memory, evictions).
  nlohmann::json redis_stats;
  // With a link cache (`cache`): redirects that found their key, missed it,
  // could not ask Redis, and SETs Redis refused (all redirects of the run).
  bool has_cache = false;
  uint64_t cache_hits = 0, cache_misses = 0, cache_errors = 0, cache_set_errors = 0;
  std::vector<ExpectationResult> expectations;
  // Real runs only (mode "real"): what the real world adds — the machine,
  // the load generator's lag, unexpected answers, Redis events as executed,
  // scenario settings not applied. report.json's `real`; null for the simulator.
  nlohmann::json real;

  bool AllExpectationsPassed() const;
  // report.json. Expectations are rendered as evaluated; see EvaluateExpectations.
  nlohmann::json ToJson() const;
};

// Evaluates each expectation against `report` (a rendered report.json):
// the metric is a dotted path ("summary.latency_ms.p99", "tenants.acme.completed").
std::vector<ExpectationResult> EvaluateExpectations(const std::vector<Expectation>& expect,
                                                    const nlohmann::json& report);
// Looks up a dotted path; nullptr when absent.
const nlohmann::json* FindMetric(const nlohmann::json& report, const std::string& dotted);

// Renders expectation results as the report's "expectations" array.
nlohmann::json ExpectationsToJson(const std::vector<ExpectationResult>& results);

}  // namespace scaletwin

namespace scaletwin {
// Renders report.json, evaluates `expect` against it, stores the results in
// `result.expectations` and adds "expectations" and "passed" to the report.
nlohmann::json RenderReport(RunResult& result, const std::vector<Expectation>& expect);
}  // namespace scaletwin
