// scaletwin: command-line entry point; dispatches to one subcommand.
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "model/run_result.h"

namespace {

constexpr const char* kUsage = R"(scaletwin — simulate and verify a rate-limited service on Kubernetes

usage: scaletwin <command> [options]

commands:
  run SCENARIO        run a scenario in the discrete-event simulator and write
                      report.json and report.html
  real SCENARIO       run the same scenario against the real service (real
                      redis-server, real pods, the same arrival trace) and
                      write the same reports, mode "real"
  validate SCENARIO   check a scenario file and print what it describes
  history             list recorded runs
  hpa eval|check      the Kubernetes HPA algorithm: one reconcile from a state
                      file, or a run of HPA test vectors
  pod --config FILE   run one real shortener pod (HTTP, SQLite or PostgreSQL,
                      Redis limiter and cache, hot reload, JSON logs)
  apikey new|hash     make an API key and the SHA-256 a pod config stores
  jwt sign            mint an HS256 token for a pod configured with auth.jwt

Run `scaletwin <command> --help` for the options of one command.
Exit codes: 0 ok, 1 an expectation failed, 2 bad input (real: 3 when the real
world could not be set up, 130 when interrupted with Ctrl-C).
)";

}  // namespace

int main(int argc, char** argv) {
  using namespace scaletwin::cli;
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "help")) {
    std::cout << kUsage;
    return argc < 2 ? kExitBadInput : kExitOk;
  }
  if (!std::strcmp(argv[1], "--version")) {
    std::cout << "scaletwin " << scaletwin::kToolVersion << "\n";
    return kExitOk;
  }
  const std::string command = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  if (command == "run") return RunCommand(args);
  if (command == "real") return RealCommand(args);
  if (command == "validate") return ValidateCommand(args);
  if (command == "history") return HistoryCommand(args);
  if (command == "hpa") return HpaCommand(args);
  if (command == "pod") return PodCommand(args);
  if (command == "apikey") return ApiKeyCommand(args);
  if (command == "jwt") return JwtCommand(args);
  std::cerr << "scaletwin: unknown command \"" << command << "\"\n\n" << kUsage;
  return kExitBadInput;
}
