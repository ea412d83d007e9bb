// PrintSummary: the short text summary `scaletwin run` prints — headline
// figures and the expectations table — read from a rendered report.json.
#pragma once

#include <ostream>

#include <nlohmann/json.hpp>

namespace scaletwin::cli {

void PrintSummary(std::ostream& out, const nlohmann::json& report, double wall_seconds);

}  // namespace scaletwin::cli
