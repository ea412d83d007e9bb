// rss_probe: runs one scenario once in the simulator and prints what it did.
//
//   rss_probe scenarios/mmc-check.json --set duration=100m
//   /usr/bin/time -v rss_probe scenarios/mmc-check.json --set duration=10m
//
// Used to check that peak RSS does not grow with the simulated duration
// (bench/run_benchmarks.sh runs it at 10 m and 100 m under /usr/bin/time -v).
// --set takes the CLI's path=value form and goes through ApplyOverride.
// Prints one line of key=value pairs, including its own ru_maxrss as a
// cross-check of /usr/bin/time. Exit 0 ok, 2 bad input.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <numeric>
#include <string>
#include <vector>

#include "bench/scenario_loader.h"
#include "sim/run.h"

int main(int argc, char** argv) {
  std::string path;
  std::vector<std::string> overrides;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--set" && i + 1 < argc) {
      overrides.push_back(argv[++i]);
    } else if (arg.rfind("--set=", 0) == 0) {
      overrides.push_back(arg.substr(6));
    } else if (path.empty() && !arg.empty() && arg[0] != '-') {
      path = arg;
    } else {
      std::fprintf(stderr, "usage: rss_probe <scenario.json> [--set path=value]...\n");
      return 2;
    }
  }
  if (path.empty()) {
    std::fprintf(stderr, "usage: rss_probe <scenario.json> [--set path=value]...\n");
    return 2;
  }
  scaletwin::Result<scaletwin::Scenario> scenario = scaletwin::bench::LoadScenarioForBench(path, overrides);
  if (!scenario.ok()) {
    std::fprintf(stderr, "rss_probe: %s\n", scenario.status().ToString().c_str());
    return 2;
  }
  const auto start = std::chrono::steady_clock::now();
  const scaletwin::RunResult result = scaletwin::sim::Run(*scenario);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const uint64_t offered =
      std::accumulate(result.series.offered.begin(), result.series.offered.end(), uint64_t{0});
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  std::printf("scenario=%s duration_s=%.0f requests=%llu completed_in_window=%llu wall_s=%.3f "
              "requests_per_s=%.0f ru_maxrss_kb=%ld\n",
              result.scenario_name.c_str(), scaletwin::ToSeconds(result.duration),
              static_cast<unsigned long long>(offered),
              static_cast<unsigned long long>(result.summary.completed), seconds,
              seconds > 0 ? static_cast<double>(offered) / seconds : 0.0, usage.ru_maxrss);
  return 0;
}
