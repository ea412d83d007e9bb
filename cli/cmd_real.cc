// `scaletwin real`: one scenario in the real world (real/harness/real_run.h),
// reports written and the run recorded exactly as `scaletwin run` does.
#include <boost/program_options.hpp>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include "cli/commands.h"
#include "cli/options.h"
#include "cli/run_outputs.h"
#include "cli/signal_thread.h"
#include "real/harness/real_run.h"
#include "reports/run_history.h"

namespace scaletwin::cli {

namespace po = boost::program_options;

namespace {

constexpr const char* kRealHelp = R"(usage: scaletwin real SCENARIO [options]

Runs SCENARIO against the real service and writes the same DIR/report.json and
DIR/report.html as `scaletwin run` (with "mode": "real"), records the run in
the history database and prints the summary with the scenario's expectations.

What runs: a redis-server started on a free loopback port with the scenario's
`redis` settings (crashed and restarted at its redis_kill / redis_restart
events), pods.replicas real shortener pods in this process (the code of
`scaletwin pod`) sharing one SQLite database, each with the scenario's
workers, queue, emulated service time, Redis pool, limiter, link cache and
clock skew; and the simulator's arrival trace (same generator, same seed)
replayed open-loop over HTTP, each request sent to the pod the scenario's
ingress policy picks. The limiter audit is computed by the same auditor from
every decision the pods took. The run takes the scenario's duration in wall
time (shorten it with --set duration=30s).

Not yet possible in the real world (exit 2, naming the key): hpa, database,
pod events, slow pods. A redis.network_delay set in the scenario is emulated:
the pods' Redis clients sleep a draw before each round trip and after its
replies, on top of loopback's own delay (report: real.emulated). Settings only
the simulator models (Redis service time, start-up stages, probes, ingress
retries) are listed in the report's real.not_applied.

Needs redis-server on PATH (or --redis-server) when the scenario uses Redis.

Ctrl-C (SIGINT) or SIGTERM stops the run within a moment: the pods and
redis-server are stopped, the temporary work directory is removed (unless
--keep-work-dir), no report or history row is written, and the exit code is
130 (143 for SIGTERM). A second signal exits at once and may leave the work
directory behind.

Exit codes: 0 all expectations passed, 1 an expectation failed, 2 bad input,
3 the real world could not be set up (redis-server, pods, work directory),
130/143 interrupted.

options)";

constexpr int kExitSetupFailed = 3;
constexpr int kExitSignalBase = 128;  // the shell's convention: 128 + signal number

}  // namespace

int RealCommand(const std::vector<std::string>& args) {
  RunFlags flags;
  RealRunOptions real;
  po::options_description opts(kRealHelp);
  AddRunFlags(opts, flags);
  opts.add_options()
      ("redis-server", po::value<std::string>(&real.redis_binary), "redis-server binary (default: redis-server on PATH)")
      ("work-dir", po::value<std::string>(&real.work_dir),
       "where the SQLite database, the pods' JSON logs (pods.log) and Redis's directory (scaletwin-redis-*: "
       "redis.log, AOF/RDB files; removed unless --keep-work-dir) go (default: a temporary directory, removed "
       "afterwards)")
      ("keep-work-dir", po::bool_switch(&real.keep_work_dir), "keep the temporary work directory (its path is in "
       "the report's real.work_dir)");
  int exit_code = kExitOk;
  std::optional<LoadedScenario> loaded = ParseRunFlags("real", args, opts, flags, exit_code);
  if (!loaded) return exit_code;
  const Scenario& scenario = loaded->scenario;
  if (Status s = CheckRealSupport(scenario); !s.ok()) {
    std::cerr << "scaletwin real: " << s.message() << "\n";
    return kExitBadInput;
  }

  // Before RunReal starts any thread, so the pods, the load generator and the
  // Redis events thread all leave SIGINT/SIGTERM to this one.
  std::atomic<bool> interrupt{false};
  std::atomic<int> interrupt_signal{0};
  SignalThread signals([&](int sig) {
    if (int first = 0; !interrupt_signal.compare_exchange_strong(first, sig)) {
      std::cerr << "\nscaletwin real: second " << strsignal(sig) << ": exiting now (the work directory may remain)\n";
      std::_Exit(kExitSignalBase + sig);
    }
    interrupt = true;  // after interrupt_signal: whoever sees this sees the signal too
    std::cerr << "\n[real] " << strsignal(sig) << ": stopping the pods and redis-server; nothing will be written\n";
  });
  real.interrupt = &interrupt;

  const std::string started = reports::FormatIso8601Utc(std::chrono::system_clock::now());
  const auto wall_start = std::chrono::steady_clock::now();
  ProgressLine progress("real", flags.quiet);
  real.progress = [&](Nanos now, Nanos end) { progress.Update(now, end); };
  if (!flags.quiet) real.note = [](const std::string& line) { std::cerr << "[real] " << line << "\n"; };
  Result<RunResult> result = RunReal(scenario, real);
  progress.Done();
  if (!result.ok()) {
    std::cerr << "scaletwin real: " << result.status().ToString() << "\n";
    if (result.status().code() == StatusCode::kCancelled) return kExitSignalBase + interrupt_signal.load();
    return kExitSetupFailed;
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  result->real["started_at"] = started;
  return FinishRun(*result, *loaded,
                   {.command = "real", .out_dir = flags.out_dir, .history_path = flags.history_path,
                    .no_history = flags.no_history, .quiet = flags.quiet, .started_utc = started, .wall_seconds = wall,
                    .machine = MachineLine()});
}

}  // namespace scaletwin::cli
