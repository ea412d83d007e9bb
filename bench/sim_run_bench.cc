// Whole simulator runs: simulated requests per second of CPU time.
//
// Each iteration is one complete scaletwin::sim::Run of a scenario file loaded
// through the model API (ParseScenario + FileReader), exactly what
// `scaletwin run` does minus report rendering. items_per_second counts every
// simulated request (the sum of the offered series: warm-up included, since
// the simulator does the same work for them); events_per_second counts event
// queue pops. Targets: >= 3 M simulated requests/s for mmc-check on one core;
// >= 1 M/s for bench/scenarios/hpa-50-pods.json (HPA, pools, metrics pipeline).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <string>

#include "bench/scenario_loader.h"
#include "sim/run.h"
#include "sim/world.h"

namespace scaletwin::bench {
namespace {

uint64_t TotalOffered(const RunResult& r) {
  return std::accumulate(r.series.offered.begin(), r.series.offered.end(), uint64_t{0});
}

void BM_SimRun(benchmark::State& state, const std::string& file) {
  Result<Scenario> scenario = LoadScenarioForBench(BenchScenarioPath(file));
  if (!scenario.ok()) {
    state.SkipWithError(scenario.status().message().c_str());
    return;
  }
  // One untimed run for the per-run event count (and to warm the caches).
  uint64_t events = 0;
  {
    sim::World world(*scenario);
    (void)world.Run();
    events = world.events_processed();
  }
  uint64_t requests = 0, runs = 0, redis_commands = 0;
  for (auto _ : state) {
    RunResult result = sim::Run(*scenario);
    requests += TotalOffered(result);
    if (result.redis_stats.is_object()) redis_commands += result.redis_stats["server"]["commands"].get<uint64_t>();
    ++runs;
    benchmark::DoNotOptimize(result.summary.completed);
  }
  state.SetItemsProcessed(static_cast<int64_t>(requests));
  state.counters["events_per_second"] =
      benchmark::Counter(static_cast<double>(events * runs), benchmark::Counter::kIsRate);
  state.counters["events_per_request"] = static_cast<double>(events * runs) / static_cast<double>(requests);
  state.counters["requests_per_run"] = static_cast<double>(requests) / static_cast<double>(runs);
  if (redis_commands > 0) {
    state.counters["redis_commands_per_second"] =
        benchmark::Counter(static_cast<double>(redis_commands), benchmark::Counter::kIsRate);
  }
}

BENCHMARK_CAPTURE(BM_SimRun, mmc_check, std::string("mmc-check.json"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_SimRun, flash_sale, std::string("flash-sale.json"))->Unit(benchmark::kMillisecond);
// The Kubernetes issue's speed target: 50 pods with HPA, pools and the metrics
// pipeline at >= 1 M simulated requests/s on one core.
// The Redis issue's figure: simulated Redis commands per second (limiter
// round trips through pools, network and the single-threaded server).
BENCHMARK_CAPTURE(BM_SimRun, race_check_then_add, std::string("race-check-then-add.json"))
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_SimRun, hpa_50_pods, std::string("../bench/scenarios/hpa-50-pods.json"))
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace scaletwin::bench

BENCHMARK_MAIN();
