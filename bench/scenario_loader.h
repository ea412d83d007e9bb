// LoadScenarioForBench: reads a scenario file for the benchmarks and rss_probe.
//
// The CLI has its own loader (cli/scenario_file.h, with hashing and friendly
// JSON error positions); the benchmarks only need the model API, so this is
// the minimum: std::ifstream -> nlohmann::json -> ApplyOverride for each
// "path=value" -> ParseScenario, with files named by the scenario read
// relative to it. Errors come back as a Status, never as an exception.
//
//   Result<Scenario> s = LoadScenarioForBench(BenchScenarioPath("mmc-check.json"), {"duration=100m"});
#pragma once

#include <string>
#include <vector>

#include "model/scenario.h"
#include "model/status.h"

namespace scaletwin::bench {

Result<Scenario> LoadScenarioForBench(const std::string& path, const std::vector<std::string>& overrides = {});

// <source dir>/scenarios/<name>; the source dir is $SCALETWIN_SOURCE_DIR when
// set, else the one this binary was configured from.
std::string BenchScenarioPath(const std::string& name);

}  // namespace scaletwin::bench
