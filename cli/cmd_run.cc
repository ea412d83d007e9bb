// `scaletwin run`: one scenario through the simulator, reports written, run recorded.
#include <boost/program_options.hpp>
#include <chrono>

#include "cli/commands.h"
#include "cli/options.h"
#include "cli/run_outputs.h"
#include "reports/run_history.h"
#include "sim/run.h"

namespace scaletwin::cli {

namespace po = boost::program_options;

namespace {

constexpr const char* kRunHelp = R"(usage: scaletwin run SCENARIO [options]

Runs SCENARIO (a scenario JSON file, format v1: scenarios/README.md) in the
deterministic discrete-event simulator, writes DIR/report.json and
DIR/report.html, records the run in the history database and prints a summary
with the scenario's expectations. Same scenario and seed give a byte-identical
report.json.

Exit codes: 0 all expectations passed, 1 an expectation failed, 2 bad input.

options)";

}  // namespace

int RunCommand(const std::vector<std::string>& args) {
  RunFlags flags;
  po::options_description opts(kRunHelp);
  AddRunFlags(opts, flags);
  int exit_code = kExitOk;
  std::optional<LoadedScenario> loaded = ParseRunFlags("run", args, opts, flags, exit_code);
  if (!loaded) return exit_code;
  const Scenario& scenario = loaded->scenario;

  const std::string started = reports::FormatIso8601Utc(std::chrono::system_clock::now());
  const auto wall_start = std::chrono::steady_clock::now();
  ProgressLine progress("sim", flags.quiet);
  RunResult result = sim::Run(scenario, [&](Nanos now, Nanos end) { progress.Update(now, end); });
  progress.Done();
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();

  return FinishRun(result, *loaded,
                   {.command = "run", .out_dir = flags.out_dir, .history_path = flags.history_path,
                    .no_history = flags.no_history, .quiet = flags.quiet, .started_utc = started, .wall_seconds = wall,
                    .machine = MachineLine()});
}

}  // namespace scaletwin::cli
