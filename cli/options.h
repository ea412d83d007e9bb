// Shared plumbing of the subcommands: option parsing with uniform errors and
// --help, and the progress line for long runs.
#pragma once

#include <boost/program_options.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "model/duration.h"

namespace scaletwin::cli {

// Parses `args`. Returns -1 to continue, or an exit code: 0 after printing
// --help, 2 after printing a usage error.
int ParseOptions(const std::vector<std::string>& args, const boost::program_options::options_description& visible,
                 const boost::program_options::options_description& hidden,
                 const boost::program_options::positional_options_description& positional,
                 boost::program_options::variables_map& vm);

// "\r[sim] 123s / 600s simulated (20%), 4.1 s wall" on stderr, only when
// stderr is a terminal and the run has taken more than a second.
class ProgressLine {
 public:
  ProgressLine(std::string label, bool quiet);
  void Update(Nanos now, Nanos end);
  void Done();

 private:
  std::string label_;
  bool enabled_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace scaletwin::cli
