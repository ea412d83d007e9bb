// RealRunRecorder against hand-counted outcomes: which requests the summary
// counts (arrived in [warmup, duration)), where the series put them (arrival
// for offered, completion for completed/rejected), in-flight counts at
// interval ends, sampled levels and utilization.
#include "real/harness/run_recorder.h"

#include <gtest/gtest.h>

#include <cmath>

namespace scaletwin {
namespace {

constexpr Nanos kMs = kNanosPerMilli;

Scenario FourSecondsTwoTenants() {
  const nlohmann::json doc = {
      {"version", 1},
      {"name", "recorder"},
      {"seed", 1},
      {"duration", "4s"},
      {"warmup", "1s"},
      {"tenants", {{{"id", "acme"}}, {{"id", "globex"}}}},
      {"traffic", {{"arrivals", "poisson"}, {"rate", {{{"at", "0s"}, {"qps", 10}}}}, {"mix", {{"redirect", 1.0}}}}},
      {"pods", {{"replicas", 2}, {"workers", 2}}}};
  Result<Scenario> s = ParseScenario(doc, [](const std::string& p) -> Result<std::string> {
    return Status::NotFound("no files in this test: " + p);
  });
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? *s : Scenario{};
}

TEST(RealRunRecorderTest, CountsSummaryBySeriesArrivalAndCompletionAsTheSimulatorDoes) {
  const Scenario scenario = FourSecondsTwoTenants();
  RunResult result;
  RealRunRecorder rec(scenario, &result);
  constexpr auto kRateLimited = FailureCause::kRateLimited;
  rec.Add({.arrival = 500 * kMs, .done = 600 * kMs, .tenant = 0});                        // warmup: series only
  rec.Add({.arrival = 1200 * kMs, .done = 1300 * kMs, .tenant = 1});                      // completed, 100 ms
  rec.Add({.arrival = 1500 * kMs, .done = 2500 * kMs, .tenant = 0, .failure = kRateLimited});
  rec.Add({.arrival = 2050 * kMs, .done = 2100 * kMs, .tenant = 0, .unexpected = true});  // offered only
  rec.Add({.arrival = 3900 * kMs, .done = 4200 * kMs, .tenant = 1});                      // answered after the end
  rec.SampleLevels(500 * kMs, 9, 4);  // before the window: series only
  rec.SampleLevels(1000 * kMs, 3, 2);
  rec.SampleLevels(1500 * kMs, 1, 4);
  rec.Finish();

  EXPECT_EQ(result.summary.offered, 4u);
  EXPECT_EQ(result.summary.completed, 2u);
  EXPECT_EQ(result.summary.rejected, 1u);
  EXPECT_EQ(result.summary.by_cause[static_cast<int>(kRateLimited)], 1u);
  EXPECT_EQ(rec.unexpected_in_window(), 1u);
  EXPECT_EQ(result.by_tenant["acme"].offered, 2u);
  EXPECT_EQ(result.by_tenant["globex"].completed, 2u);
  EXPECT_EQ(result.by_route["redirect"].offered, 4u);

  const IntervalSeries& s = result.series;
  ASSERT_EQ(s.size(), 4u);
  EXPECT_EQ(s.offered, (std::vector<uint64_t>{1, 2, 1, 1}));
  EXPECT_EQ(s.completed, (std::vector<uint64_t>{1, 1, 0, 0}));
  EXPECT_EQ(s.rejected, (std::vector<uint64_t>{0, 0, 1, 0}));
  EXPECT_EQ(s.rejected_by_cause[static_cast<int>(kRateLimited)], (std::vector<uint64_t>{0, 0, 1, 0}));
  EXPECT_EQ(s.in_flight, (std::vector<uint64_t>{0, 1, 0, 1}));
  EXPECT_EQ(s.replicas_ready, (std::vector<uint64_t>{2, 2, 2, 2}));
  EXPECT_NEAR(s.latency_p50_ms[1], 100.0, 2.0);
  EXPECT_TRUE(std::isnan(s.latency_p50_ms[2])) << "no completion in [2s, 3s)";
  EXPECT_DOUBLE_EQ(s.queue_length_mean[1], 2.0);
  EXPECT_DOUBLE_EQ(s.busy_workers_mean[1], 3.0);
  EXPECT_EQ(s.queue_length_max[0], 9u);
  // Busy workers averaged over the window's samples, over 2 pods x 2 workers.
  EXPECT_DOUBLE_EQ(result.utilization, 0.75);
  // Request-time inside [1s, 4s): 100 ms + 1000 ms + 50 ms + 100 ms, over 3 s.
  EXPECT_NEAR(result.mean_in_system, 1.25 / 3.0, 1e-9);
  EXPECT_EQ(result.cluster.ready_max, 2u);
}

}  // namespace
}  // namespace scaletwin
