// The scaletwin subcommands. Each takes the arguments after its name and
// returns the process exit code: 0 ok, 1 an expectation (or comparison)
// failed, 2 bad input (flags, scenario, files).
#pragma once

#include <string>
#include <vector>

namespace scaletwin::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitBadInput = 2;

int RunCommand(const std::vector<std::string>& args);
int RealCommand(const std::vector<std::string>& args);
int ValidateCommand(const std::vector<std::string>& args);
int HistoryCommand(const std::vector<std::string>& args);
int HpaCommand(const std::vector<std::string>& args);
int PodCommand(const std::vector<std::string>& args);
int ApiKeyCommand(const std::vector<std::string>& args);
int JwtCommand(const std::vector<std::string>& args);

}  // namespace scaletwin::cli
