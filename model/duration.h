// Durations and virtual time: integer nanoseconds, parsed from strings with a unit.
//
// Virtual time in scaletwin is an int64 count of nanoseconds from run start,
// never a floating accumulator, so that equal scenarios give equal event orders.
//
//   Result<Nanos> t = ParseDuration("250ms");   // 250'000'000
//   FormatDuration(1'500'000'000) == "1.5s"
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "model/status.h"

namespace scaletwin {

using Nanos = int64_t;

inline constexpr Nanos kNanosPerMicro = 1'000;
inline constexpr Nanos kNanosPerMilli = 1'000'000;
inline constexpr Nanos kNanosPerSecond = 1'000'000'000;
// Longest duration a scenario may name: 30 days. Beyond that int64 ns arithmetic
// on sums of durations is still safe, and no simulated scenario is that long.
inline constexpr Nanos kMaxDuration = 30LL * 24 * 3600 * kNanosPerSecond;

// Parses "<number><unit>" with unit ns, us, ms, s, m, h (e.g. "250ms", "1.5s",
// "10m"). The number may have a fraction; the result is rounded to whole ns.
// Fails on a missing or unknown unit, a negative value, or a value above kMaxDuration.
Result<Nanos> ParseDuration(std::string_view text);

// Shortest exact-ish rendering with the largest unit that keeps it readable.
std::string FormatDuration(Nanos d);

inline double ToSeconds(Nanos d) { return static_cast<double>(d) / kNanosPerSecond; }
inline double ToMillis(Nanos d) { return static_cast<double>(d) / kNanosPerMilli; }

}  // namespace scaletwin
