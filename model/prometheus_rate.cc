#include "model/prometheus_rate.h"

namespace scaletwin {
namespace {

// Prometheus keeps int64 milliseconds.
int64_t ToMs(Nanos t) {
  int64_t q = t / kNanosPerMilli;
  if (t % kNanosPerMilli != 0 && t < 0) --q;
  return q;
}

struct MsSample {
  int64_t t;
  double v;
};

std::vector<MsSample> Select(std::span<const CounterSample> samples, Nanos eval_time, Nanos range) {
  const int64_t end = ToMs(eval_time);
  const int64_t start = end - range / kNanosPerMilli;
  std::vector<MsSample> out;
  for (const CounterSample& s : samples) {
    const int64_t t = ToMs(s.time);
    if (t > start && t <= end) out.push_back({t, s.value});
  }
  return out;
}

// extrapolatedRate(isCounter = true).
std::optional<double> Extrapolated(std::span<const CounterSample> samples, Nanos eval_time, Nanos range,
                                   bool is_rate) {
  const std::vector<MsSample> s = Select(samples, eval_time, range);
  if (s.size() < 2) return std::nullopt;
  const int64_t range_end = ToMs(eval_time);
  const int64_t range_start = range_end - range / kNanosPerMilli;

  double result = s.back().v - s.front().v;
  double prev = s.front().v;
  for (size_t i = 1; i < s.size(); ++i) {
    if (s[i].v < prev) result += prev;  // counter reset
    prev = s[i].v;
  }

  const double sampled_interval = static_cast<double>(s.back().t - s.front().t) / 1000;
  if (sampled_interval <= 0) return std::nullopt;  // unreachable for a valid series
  double duration_to_start = static_cast<double>(s.front().t - range_start) / 1000;
  double duration_to_end = static_cast<double>(range_end - s.back().t) / 1000;
  const double average_between = sampled_interval / static_cast<double>(s.size() - 1);
  // A sample gap up to 10 % longer than average still counts as "the series
  // covers the boundary"; beyond it the series is taken to start/end half an
  // interval outside the samples.
  const double threshold = average_between * 1.1;
  if (duration_to_start >= threshold) duration_to_start = average_between / 2;
  if (result > 0 && s.front().v >= 0) {
    // Never extrapolate below zero: a counter starts at 0.
    const double duration_to_zero = sampled_interval * (s.front().v / result);
    if (duration_to_zero < duration_to_start) duration_to_start = duration_to_zero;
  }
  if (duration_to_end >= threshold) duration_to_end = average_between / 2;
  double factor = (sampled_interval + duration_to_start + duration_to_end) / sampled_interval;
  if (is_rate) factor /= ToSeconds(range);
  return result * factor;
}

}  // namespace

std::vector<CounterSample> SelectRange(std::span<const CounterSample> samples, Nanos eval_time, Nanos range) {
  const int64_t end = ToMs(eval_time);
  const int64_t start = end - range / kNanosPerMilli;
  std::vector<CounterSample> out;
  for (const CounterSample& s : samples) {
    const int64_t t = ToMs(s.time);
    if (t > start && t <= end) out.push_back(s);
  }
  return out;
}

std::optional<double> PromIncrease(std::span<const CounterSample> samples, Nanos eval_time, Nanos range) {
  return Extrapolated(samples, eval_time, range, /*is_rate=*/false);
}

std::optional<double> PromRate(std::span<const CounterSample> samples, Nanos eval_time, Nanos range) {
  return Extrapolated(samples, eval_time, range, /*is_rate=*/true);
}

std::optional<double> PromIrate(std::span<const CounterSample> samples, Nanos eval_time, Nanos range) {
  const std::vector<MsSample> s = Select(samples, eval_time, range);
  if (s.size() < 2) return std::nullopt;
  const MsSample& last = s[s.size() - 1];
  const MsSample& previous = s[s.size() - 2];
  // instantValue: after a reset the new value is the whole increase.
  const double delta = last.v < previous.v ? last.v : last.v - previous.v;
  const int64_t interval_ms = last.t - previous.t;
  if (interval_ms == 0) return std::nullopt;
  return delta / (static_cast<double>(interval_ms) / 1000);
}

}  // namespace scaletwin
