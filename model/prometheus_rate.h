// Prometheus rate(), increase() and irate() over one counter series, with
// Prometheus' own extrapolation rules, so that the "requests per second" the
// HPA sees through prometheus-adapter is the number Prometheus would compute.
//
// Semantics followed: Prometheus 3.x promql/functions.go extrapolatedRate and
// instantValue (float samples), including the ordering fix of PR #13725 (the
// counter's zero point is applied after the 1.1× threshold):
// - The range selector [W] evaluated at T selects samples with timestamps in
//   (T − W, T] (left-open since Prometheus 3.0; 2.x included T − W).
//   Timestamps are milliseconds: sample and evaluation times are floored to ms.
// - Fewer than 2 samples in the range: no value.
// - increase = last − first, plus the value before each drop (counter reset).
// - Extrapolation: with d = the average interval between the samples, each
//   end of the sampled interval is extended to the range boundary if the gap
//   is < 1.1·d, otherwise by d/2 only; at the start, never past the point where
//   the counter would have been 0 (when first value >= 0 and increase > 0).
// - rate = extrapolated increase / W (seconds); irate = the last two samples'
//   difference (or the last value after a reset) / their time difference.
//
//   std::vector<CounterSample> s = {{0, 0}, {15s, 30}, {30s, 60}};
//   std::optional<double> r = PromRate(s, /*eval=*/30s, /*range=*/60s);   // 1.5 req/s
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <span>
#include <vector>

#include "model/duration.h"

namespace scaletwin {

// One scraped sample of a counter. `time` in the caller's clock (ns).
struct CounterSample {
  Nanos time = 0;
  double value = 0;
};

// The samples the range selector [range] sees at `eval_time`.
// REQUIRES: `samples` sorted by time.
std::vector<CounterSample> SelectRange(std::span<const CounterSample> samples, Nanos eval_time, Nanos range);

// increase(x[range]) at eval_time; nullopt when Prometheus returns no value.
std::optional<double> PromIncrease(std::span<const CounterSample> samples, Nanos eval_time, Nanos range);

// rate(x[range]) at eval_time, per second.
std::optional<double> PromRate(std::span<const CounterSample> samples, Nanos eval_time, Nanos range);

// irate(x[range]) at eval_time, per second.
std::optional<double> PromIrate(std::span<const CounterSample> samples, Nanos eval_time, Nanos range);

}  // namespace scaletwin
