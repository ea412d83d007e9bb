// The output half of `scaletwin run` and `scaletwin real`: once a run has a
// RunResult, both render report.json (expectations evaluated), write
// report.json and report.html, record the run in the history database and
// print the summary — the same way, so a sim report and a real report of
// one scenario differ only in what happened.
#pragma once

#include <boost/program_options.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cli/scenario_file.h"
#include "model/run_result.h"

namespace scaletwin::cli {

struct RunOutputs {
  std::string command;       // "run" or "real", for messages
  std::string out_dir;
  std::string history_path;
  bool no_history = false;
  bool quiet = false;
  std::string started_utc;   // ISO 8601, when the run started
  double wall_seconds = 0;
  std::string machine;       // for the HTML page
};

// The flags `run` and `real` share: --seed, --out, --set, --quiet,
// --history, --no-history, and the positional SCENARIO.
struct RunFlags {
  std::string scenario_path, out_dir, history_path = "out/history.sqlite";
  std::vector<std::string> sets;
  uint64_t seed = 0;
  bool quiet = false, no_history = false;
};
void AddRunFlags(boost::program_options::options_description& opts, RunFlags& flags);

// Parses `args` into `flags` (plus whatever else `opts` declares) and loads
// the scenario with the overrides applied; out_dir defaults to
// out/<scenario name>. nullopt with `exit_code` set when the command should
// stop (--help: 0; bad flags or scenario: 2, message printed).
std::optional<LoadedScenario> ParseRunFlags(const std::string& command, const std::vector<std::string>& args,
                                            boost::program_options::options_description& opts, RunFlags& flags,
                                            int& exit_code);

// Exit code: 0 all expectations passed, 1 one failed, 2 an unusable out_dir.
int FinishRun(RunResult& result, const LoadedScenario& loaded, const RunOutputs& outputs);

// "host, N cores".
std::string MachineLine();

}  // namespace scaletwin::cli
