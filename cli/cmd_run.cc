// `scaletwin run`: one scenario through the simulator, reports written, run recorded.
#include <unistd.h>

#include <boost/program_options.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "cli/options.h"
#include "cli/scenario_file.h"
#include "cli/summary_printer.h"
#include "reports/report_files.h"
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

std::string MachineLine() {
  char host[256] = "unknown";
  gethostname(host, sizeof host - 1);
  return std::string(host) + ", " + std::to_string(sysconf(_SC_NPROCESSORS_ONLN)) + " cores";
}

}  // namespace

int RunCommand(const std::vector<std::string>& args) {
  std::string scenario_path, out_dir, history_path = "out/history.sqlite";
  std::vector<std::string> sets;
  uint64_t seed = 0;
  bool quiet = false, no_history = false;
  po::options_description opts(kRunHelp);
  opts.add_options()
      ("help,h", "show this help")
      ("seed", po::value<uint64_t>(&seed), "override the scenario's seed")
      ("out,o", po::value<std::string>(&out_dir), "report directory (default: out/<scenario name>)")
      ("set", po::value<std::vector<std::string>>(&sets)->composing(),
       "override one scenario field by dotted path, e.g. --set pods.workers=12 or --set duration=60s; "
       "the value is read as JSON when it parses, else as a string; repeatable")
      ("quiet,q", po::bool_switch(&quiet), "print nothing but errors")
      ("history", po::value<std::string>(&history_path), "history database (default: out/history.sqlite)")
      ("no-history", po::bool_switch(&no_history), "do not record this run in the history database");
  po::options_description hidden;
  hidden.add_options()("scenario", po::value<std::string>(&scenario_path));
  po::positional_options_description pos;
  pos.add("scenario", 1);
  po::variables_map vm;
  if (int code = ParseOptions(args, opts, hidden, pos, vm); code >= 0) return code;
  if (scenario_path.empty()) {
    std::cerr << "scaletwin run: a scenario file is required\n\n" << opts;
    return kExitBadInput;
  }
  if (vm.count("seed")) sets.insert(sets.begin(), "seed=" + std::to_string(seed));

  Result<LoadedScenario> loaded = LoadScenarioFile(scenario_path, sets);
  if (!loaded.ok()) {
    std::cerr << "scaletwin run: " << loaded.status().message() << "\n";
    return kExitBadInput;
  }
  const Scenario& scenario = loaded->scenario;
  if (out_dir.empty()) out_dir = (std::filesystem::path("out") / scenario.name).string();

  const std::string started = reports::FormatIso8601Utc(std::chrono::system_clock::now());
  const auto wall_start = std::chrono::steady_clock::now();
  ProgressLine progress("sim", quiet);
  RunResult result = sim::Run(scenario, [&](Nanos now, Nanos end) { progress.Update(now, end); });
  progress.Done();
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();

  result.scenario_hash = loaded->hash;
  nlohmann::json report = RenderReport(result, scenario.expect);
  reports::HtmlContext ctx;
  ctx.generated_at_utc = started;
  ctx.wall_seconds = wall;
  ctx.machine = MachineLine();
  if (Status s = reports::WriteReportFiles(out_dir, report, ctx); !s.ok()) {
    // An unusable --out is the user's input too: exit 2 like any other bad input.
    std::cerr << "scaletwin run: " << s.ToString() << "\n";
    return kExitBadInput;
  }
  if (!no_history) {
    Status recorded = Status::Ok();
    if (auto dir = std::filesystem::path(history_path).parent_path(); !dir.empty()) {
      std::error_code ec;
      std::filesystem::create_directories(dir, ec);
    }
    Result<reports::RunHistory> history = reports::RunHistory::Open(history_path);
    if (history.ok()) {
      reports::HistoryEntry entry = reports::FromReport(report);
      entry.started_at_utc = started;
      entry.wall_seconds = wall;
      entry.report_dir = std::filesystem::absolute(out_dir).string();
      recorded = history->Record(entry);
    } else {
      recorded = history.status();
    }
    // The reports are written; a history failure is worth a warning, not a failed run.
    if (!recorded.ok()) std::cerr << "scaletwin run: warning: run not recorded in history: " << recorded.ToString() << "\n";
  }
  if (!quiet) {
    PrintSummary(std::cout, report, wall);
    std::cout << "report.json: " << (std::filesystem::path(out_dir) / "report.json").string() << "\n"
              << "report.html: " << (std::filesystem::path(out_dir) / "report.html").string() << "\n";
  }
  return result.AllExpectationsPassed() ? kExitOk : kExitFailed;
}

}  // namespace scaletwin::cli
