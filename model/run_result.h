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
};
inline constexpr int kFailureCauseCount = 6;
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
  size_t size() const { return offered.size(); }
  nlohmann::json ToJson() const;
};

struct ExpectationResult {
  Expectation expectation;
  bool found = false;     // the metric exists in the report and is a number
  double actual = 0;
  bool passed = false;
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
  std::vector<ExpectationResult> expectations;

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
