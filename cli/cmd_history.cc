// `scaletwin history`: lists runs recorded by `scaletwin run`.
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "cli/options.h"
#include "reports/run_history.h"

namespace scaletwin::cli {

namespace po = boost::program_options;

int HistoryCommand(const std::vector<std::string>& args) {
  std::string path = "out/history.sqlite", scenario;
  int limit = 20;
  bool json = false;
  po::options_description opts(R"(usage: scaletwin history [options]

Lists recorded runs, newest first: when, scenario and hash, seed, mode, key
figures, whether the expectations passed, and where the reports are.

options)");
  opts.add_options()("help,h", "show this help")(
      "history", po::value<std::string>(&path), "history database (default: out/history.sqlite)")(
      "scenario,s", po::value<std::string>(&scenario), "only runs of this scenario name")(
      "limit,n", po::value<int>(&limit), "at most this many runs (default 20)")(
      "json", po::bool_switch(&json), "print JSON lines instead of a table");
  po::variables_map vm;
  if (int code = ParseOptions(args, opts, po::options_description(), po::positional_options_description(), vm); code >= 0)
    return code;
  if (limit <= 0) {
    std::cerr << "scaletwin history: --limit must be positive\n";
    return kExitBadInput;
  }
  if (!std::filesystem::exists(path)) {
    std::cout << "no runs recorded in " << path << " (scaletwin run records each run there)\n";
    return kExitOk;
  }
  Result<reports::RunHistory> history = reports::RunHistory::Open(path);
  if (!history.ok()) {
    std::cerr << "scaletwin history: " << history.status().ToString() << "\n";
    return kExitBadInput;
  }
  reports::HistoryQuery query;
  query.scenario_name = scenario;
  query.limit = limit;
  Result<std::vector<reports::HistoryEntry>> rows = history->List(query);
  if (!rows.ok()) {
    std::cerr << "scaletwin history: " << rows.status().ToString() << "\n";
    return kExitBadInput;
  }
  if (json) {
    for (const auto& e : *rows) {
      nlohmann::json j = {{"id", e.id}, {"started_at_utc", e.started_at_utc}, {"scenario", e.scenario_name},
                          {"hash", e.scenario_hash}, {"mode", e.mode}, {"seed", e.seed},
                          {"duration_s", e.duration_s}, {"wall_seconds", e.wall_seconds}, {"offered", e.offered},
                          {"completed", e.completed}, {"rejected", e.rejected},
                          {"latency_p50_ms", e.latency_p50_ms}, {"latency_p99_ms", e.latency_p99_ms},
                          {"passed", e.passed}, {"report_dir", e.report_dir}};
      std::cout << j.dump() << "\n";
    }
    return kExitOk;
  }
  if (rows->empty()) {
    std::cout << "no runs recorded in " << path << "\n";
    return kExitOk;
  }
  std::printf("%-5s %-24s %-24s %-8s %-5s %12s %10s %10s %10s %-4s %s\n", "id", "started (UTC)", "scenario", "hash",
              "mode", "seed", "offered", "rejected", "p99 ms", "ok", "reports");
  for (const auto& e : *rows) {
    std::printf("%-5lld %-24s %-24s %-8s %-5s %12llu %10llu %10llu %10.3f %-4s %s\n", static_cast<long long>(e.id),
                e.started_at_utc.c_str(), e.scenario_name.c_str(), e.scenario_hash.substr(0, 8).c_str(),
                e.mode.c_str(), static_cast<unsigned long long>(e.seed), static_cast<unsigned long long>(e.offered),
                static_cast<unsigned long long>(e.rejected), e.latency_p99_ms, e.passed ? "yes" : "NO",
                e.report_dir.c_str());
  }
  return kExitOk;
}

}  // namespace scaletwin::cli
