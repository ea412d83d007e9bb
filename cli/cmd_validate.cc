// `scaletwin validate`: checks a scenario file without running it.
#include <iostream>

#include "cli/commands.h"
#include "cli/options.h"
#include "cli/scenario_file.h"

namespace scaletwin::cli {

namespace po = boost::program_options;

int ValidateCommand(const std::vector<std::string>& args) {
  std::string path;
  std::vector<std::string> sets;
  po::options_description opts(R"(usage: scaletwin validate SCENARIO [--set path=value ...]

Checks SCENARIO against format v1 (scenarios/README.md): JSON syntax, unknown
keys, types, ranges, files it names. Prints every error with its JSON pointer
and exits 2, or prints what the scenario describes and exits 0.

options)");
  opts.add_options()("help,h", "show this help")(
      "set", po::value<std::vector<std::string>>(&sets)->composing(), "override a field as `scaletwin run` does");
  po::options_description hidden;
  hidden.add_options()("scenario", po::value<std::string>(&path));
  po::positional_options_description pos;
  pos.add("scenario", 1);
  po::variables_map vm;
  if (int code = ParseOptions(args, opts, hidden, pos, vm); code >= 0) return code;
  if (path.empty()) {
    std::cerr << "scaletwin validate: a scenario file is required\n\n" << opts;
    return kExitBadInput;
  }
  Result<LoadedScenario> loaded = LoadScenarioFile(path, sets);
  if (!loaded.ok()) {
    std::cerr << "scaletwin validate: " << loaded.status().message() << "\n";
    return kExitBadInput;
  }
  const Scenario& s = loaded->scenario;
  const double expected = s.traffic.arrivals == ArrivalProcess::kTrace
                              ? static_cast<double>(s.traffic.trace.size())
                              : s.traffic.profile.Integral(0, ToSeconds(s.duration));
  std::cout << "ok: " << s.name << " — " << FormatDuration(s.duration) << " (warmup " << FormatDuration(s.warmup)
            << "), seed " << s.seed << ", " << s.tenants.size() << " tenant(s), " << s.pods.replicas << " pod(s) × "
            << s.pods.workers << " worker(s), ~" << static_cast<uint64_t>(expected) << " arrivals, "
            << s.expect.size() << " expectation(s)\n"
            << "hash " << loaded->hash << "\n";
  return kExitOk;
}

}  // namespace scaletwin::cli
