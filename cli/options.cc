#include "cli/options.h"

#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "cli/commands.h"

namespace scaletwin::cli {

namespace po = boost::program_options;

int ParseOptions(const std::vector<std::string>& args, const po::options_description& visible,
                 const po::options_description& hidden, const po::positional_options_description& positional,
                 po::variables_map& vm) {
  po::options_description all;
  all.add(visible).add(hidden);
  try {
    po::store(po::command_line_parser(args).options(all).positional(positional).run(), vm);
    if (vm.count("help")) {
      std::cout << visible << "\n";
      return kExitOk;
    }
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "scaletwin: " << e.what() << "\n\n" << visible << "\n";
    return kExitBadInput;
  }
  return -1;
}

ProgressLine::ProgressLine(std::string label, bool quiet)
    : label_(std::move(label)), enabled_(!quiet && isatty(STDERR_FILENO)) {
  start_ = last_ = std::chrono::steady_clock::now();
}

void ProgressLine::Update(Nanos now, Nanos end) {
  if (!enabled_) return;
  const auto t = std::chrono::steady_clock::now();
  if (t - start_ < std::chrono::seconds(1) || t - last_ < std::chrono::milliseconds(200)) return;
  last_ = t;
  shown_ = true;
  const double wall = std::chrono::duration<double>(t - start_).count();
  const double frac = end > 0 ? std::min(1.0, static_cast<double>(now) / end) : 1.0;
  // The simulator's clock is virtual; the real world's is the trace's own.
  std::fprintf(stderr, "\r[%s] %s / %s %s (%3.0f%%), %.1f s wall  ", label_.c_str(),
               FormatDuration(now / kNanosPerSecond * kNanosPerSecond).c_str(), FormatDuration(end).c_str(),
               label_ == "sim" ? "simulated" : "replayed", frac * 100, wall);
  std::fflush(stderr);
}

void ProgressLine::Done() {
  if (shown_) std::fprintf(stderr, "\r\033[K");
}

}  // namespace scaletwin::cli
