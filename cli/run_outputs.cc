// Reports, history and summary of a finished run.
#include "cli/run_outputs.h"

#include <unistd.h>

#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "cli/options.h"
#include "cli/summary_printer.h"
#include "reports/report_files.h"
#include "reports/run_history.h"

namespace scaletwin::cli {

std::string MachineLine() {
  char host[256] = "unknown";
  gethostname(host, sizeof host - 1);
  return std::string(host) + ", " + std::to_string(sysconf(_SC_NPROCESSORS_ONLN)) + " cores";
}

namespace po = boost::program_options;

void AddRunFlags(po::options_description& opts, RunFlags& f) {
  opts.add_options()
      ("help,h", "show this help")
      ("seed", po::value<uint64_t>(&f.seed), "override the scenario's seed")
      ("out,o", po::value<std::string>(&f.out_dir), "report directory (default: out/<scenario name>)")
      ("set", po::value<std::vector<std::string>>(&f.sets)->composing(),
       "override one scenario field by dotted path, e.g. --set pods.workers=12 or --set duration=60s; "
       "the value is read as JSON when it parses, else as a string; repeatable")
      ("quiet,q", po::bool_switch(&f.quiet), "print nothing but errors")
      ("history", po::value<std::string>(&f.history_path), "history database (default: out/history.sqlite)")
      ("no-history", po::bool_switch(&f.no_history), "do not record this run in the history database");
}

std::optional<LoadedScenario> ParseRunFlags(const std::string& command, const std::vector<std::string>& args,
                                            po::options_description& opts, RunFlags& f, int& exit_code) {
  po::options_description hidden;
  hidden.add_options()("scenario", po::value<std::string>(&f.scenario_path));
  po::positional_options_description pos;
  pos.add("scenario", 1);
  po::variables_map vm;
  if (int code = ParseOptions(args, opts, hidden, pos, vm); code >= 0) {
    exit_code = code;
    return std::nullopt;
  }
  exit_code = kExitBadInput;
  if (f.scenario_path.empty()) {
    std::cerr << "scaletwin " << command << ": a scenario file is required\n\n" << opts;
    return std::nullopt;
  }
  if (vm.count("seed")) f.sets.insert(f.sets.begin(), "seed=" + std::to_string(f.seed));
  Result<LoadedScenario> loaded = LoadScenarioFile(f.scenario_path, f.sets);
  if (!loaded.ok()) {
    std::cerr << "scaletwin " << command << ": " << loaded.status().message() << "\n";
    return std::nullopt;
  }
  if (f.out_dir.empty()) f.out_dir = (std::filesystem::path("out") / loaded->scenario.name).string();
  return std::move(*loaded);
}

int FinishRun(RunResult& result, const LoadedScenario& loaded, const RunOutputs& o) {
  const std::string prefix = "scaletwin " + o.command + ": ";
  result.scenario_hash = loaded.hash;
  nlohmann::json report = RenderReport(result, loaded.scenario.expect);
  reports::HtmlContext ctx;
  ctx.generated_at_utc = o.started_utc;
  ctx.wall_seconds = o.wall_seconds;
  ctx.machine = o.machine;
  if (Status s = reports::WriteReportFiles(o.out_dir, report, ctx); !s.ok()) {
    // An unusable --out is the user's input too: exit 2 like any other bad input.
    std::cerr << prefix << s.ToString() << "\n";
    return kExitBadInput;
  }
  if (!o.no_history) {
    Status recorded = Status::Ok();
    if (auto dir = std::filesystem::path(o.history_path).parent_path(); !dir.empty()) {
      std::error_code ec;
      std::filesystem::create_directories(dir, ec);
    }
    Result<reports::RunHistory> history = reports::RunHistory::Open(o.history_path);
    if (history.ok()) {
      reports::HistoryEntry entry = reports::FromReport(report);
      entry.started_at_utc = o.started_utc;
      entry.wall_seconds = o.wall_seconds;
      entry.report_dir = std::filesystem::absolute(o.out_dir).string();
      recorded = history->Record(entry);
    } else {
      recorded = history.status();
    }
    // The reports are written; a history failure is worth a warning, not a failed run.
    if (!recorded.ok()) std::cerr << prefix << "warning: run not recorded in history: " << recorded.ToString() << "\n";
  }
  if (!o.quiet) {
    PrintSummary(std::cout, report, o.wall_seconds);
    std::cout << "report.json: " << (std::filesystem::path(o.out_dir) / "report.json").string() << "\n"
              << "report.html: " << (std::filesystem::path(o.out_dir) / "report.html").string() << "\n";
  }
  return result.AllExpectationsPassed() ? kExitOk : kExitFailed;
}

}  // namespace scaletwin::cli
