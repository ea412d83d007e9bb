#include "model/duration.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace scaletwin {

Result<Nanos> ParseDuration(std::string_view text) {
  auto fail = [&](const char* why) {
    return Status::InvalidArgument(std::string(why) + " in duration \"" + std::string(text) +
                                   "\" (expected e.g. \"250ms\", \"15s\", \"10m\")");
  };
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
  if (i == 0) {
    if (!text.empty() && text[0] == '-') return fail("negative value");
    return fail("no number");
  }
  std::string number(text.substr(0, i));
  std::string_view unit = text.substr(i);
  char* end = nullptr;
  double value = std::strtod(number.c_str(), &end);
  if (end != number.c_str() + number.size() || !std::isfinite(value)) return fail("malformed number");
  double scale = 0;
  if (unit == "ns") scale = 1;
  else if (unit == "us" || unit == "µs") scale = kNanosPerMicro;
  else if (unit == "ms") scale = kNanosPerMilli;
  else if (unit == "s") scale = kNanosPerSecond;
  else if (unit == "m") scale = 60.0 * kNanosPerSecond;
  else if (unit == "h") scale = 3600.0 * kNanosPerSecond;
  else if (unit.empty()) return fail("missing unit");
  else return fail("unknown unit");
  double ns = std::round(value * scale);
  if (ns > static_cast<double>(kMaxDuration)) return fail("value above 30 days");
  return static_cast<Nanos>(ns);
}

std::string FormatDuration(Nanos d) {
  struct Unit { Nanos size; const char* name; };
  static constexpr Unit kUnits[] = {{3600 * kNanosPerSecond, "h"}, {60 * kNanosPerSecond, "m"},
                                    {kNanosPerSecond, "s"}, {kNanosPerMilli, "ms"},
                                    {kNanosPerMicro, "us"}, {1, "ns"}};
  if (d == 0) return "0s";
  for (const Unit& u : kUnits) {
    if (d % u.size == 0 || (d >= u.size && u.size <= kNanosPerSecond)) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.9g%s", static_cast<double>(d) / u.size, u.name);
      return buf;
    }
  }
  return std::to_string(d) + "ns";
}

}  // namespace scaletwin
