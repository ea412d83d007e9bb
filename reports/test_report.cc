#include "reports/test_report.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>

namespace scaletwin::reports::testing {

nlohmann::json SampleReport() {
  return nlohmann::json::parse(R"json({
  "schema": "scaletwin.report/v1",
  "tool": {"name": "scaletwin", "version": "0.1.0"},
  "mode": "sim",
  "scenario": {"name": "mm1-basic", "description": "One pod, one worker.\nPoisson arrivals at 80 % load.",
               "hash": "sha256:0123abcd", "seed": 42, "duration_s": 10.0, "warmup_s": 2.0},
  "summary": {
    "window_s": 8.0,
    "requests": {"offered": 640, "completed": 630, "rejected": 8, "in_flight_at_end": 2},
    "rejected_by_cause": {"queue_full": 8, "pool_timeout": 0, "db_too_many_clients": 0, "redis_error": 0,
                          "upstream_unavailable": 0, "killed_in_flight": 0},
    "offered_rps": 80.0, "throughput_rps": 78.75, "rejected_fraction": 0.0125,
    "latency_ms": {"mean": 48.5, "p50": 35.1, "p90": 110.2, "p95": 150.7, "p99": 240.3, "p999": 301.0, "max": 310.4},
    "queue_wait_ms": {"mean": 38.5, "p50": 25.0, "p99": 230.0, "max": 300.1, "p_wait": 0.79},
    "service_ms": {"mean": 10.0, "p99": 46.0},
    "mean_in_system": 3.9, "utilization": 0.79
  },
  "tenants": {"acme": {"offered": 400, "completed": 394, "rejected": 5,
                       "rejected_by_cause": {"queue_full": 5, "pool_timeout": 0}},
              "globex": {"offered": 240, "completed": 236, "rejected": 3,
                         "rejected_by_cause": {"queue_full": 3, "pool_timeout": 0}}},
  "routes": {"redirect": {"offered": 600, "completed": 592, "rejected": 7, "rejected_by_cause": {"queue_full": 7}},
             "create": {"offered": 40, "completed": 38, "rejected": 1, "rejected_by_cause": {"queue_full": 1}}},
  "series": {
    "interval_s": 1.0,
    "t_s": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    "offered": [78, 82, 80, 79, 81, 80, 83, 77, 80, 80],
    "completed": [75, 80, 81, 78, 80, 79, 82, 78, 79, 0],
    "rejected": [0, 1, 0, 2, 0, 1, 0, 3, 1, 0],
    "rejected_by_cause": {"queue_full": [0, 1, 0, 2, 0, 1, 0, 3, 1, 0], "pool_timeout": [0, 0, 0, 0, 0, 0, 0, 0, 0, 0]},
    "latency_ms": {"p50": [30, 34, 36, 33, 35, 37, 34, 36, 35, 0],
                   "p95": [120, 140, 150, 145, 160, 150, 149, 152, 151, 0],
                   "p99": [200, 230, 240, 238, 250, 241, 239, 245, 242, 0]},
    "queue_length_mean": [2.1, 3.0, 3.2, 2.9, 3.1, 3.0, 3.3, 2.8, 3.0, 2.9],
    "queue_length_max": [8, 10, 12, 9, 11, 10, 13, 9, 10, 9],
    "busy_workers_mean": [0.75, 0.8, 0.81, 0.78, 0.8, 0.79, 0.82, 0.78, 0.79, 0.8],
    "in_flight": [3, 4, 4, 3, 4, 4, 5, 3, 4, 2],
    "replicas_ready": [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]
  },
  "histograms": {"latency_ns": {"count": 630, "min": 1000000, "max": 310400000, "sum": 30555000000.0,
                                "sub_buckets_per_octave": 1024, "buckets": [[1000000, 10], [35100000, 620]]},
                 "queue_wait_ns": {"count": 630, "min": 0, "max": 300100000, "sum": 24255000000.0,
                                   "sub_buckets_per_octave": 1024, "buckets": [[0, 132], [25000000, 498]]}},
  "expectations": [
    {"metric": "summary.latency_ms.p99", "max": 500.0, "actual": 240.3, "passed": true,
     "description": "p99 stays under half a second"},
    {"metric": "summary.rejected_fraction", "max": 0.01, "actual": 0.0125, "passed": false,
     "description": "almost nothing is turned away"}
  ],
  "passed": false
})json");
}

std::string NewTempDir(const std::string& name) {
  static std::atomic<int> counter{0};
  const std::filesystem::path dir =
      std::filesystem::path(::testing::TempDir()) /
      ("scaletwin_reports_" + name + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

}  // namespace scaletwin::reports::testing
