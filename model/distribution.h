// DurationDistribution: a random duration (service time, start-up delay, query
// time) as a scenario describes it, and its sampler.
//
// The spec is plain data read from a scenario; sampling draws from a caller's
// Rng so each component keeps its own stream. Both worlds sample the same
// spec: the simulator for modelled service, the real pod for emulated work.
//
//   DurationDistribution d = DurationDistribution::Exponential(10 * kNanosPerMilli);
//   Nanos s = d.Sample(rng);
//
// Parameters are validated by the scenario loader; Sample() assumes they are sane.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "model/duration.h"
#include "model/json_reader.h"
#include "model/rng.h"

namespace scaletwin {

class DurationDistribution {
 public:
  enum class Kind { kConstant, kExponential, kUniform, kLognormal, kEmpirical };

  static DurationDistribution Constant(Nanos value);
  static DurationDistribution Exponential(Nanos mean);
  static DurationDistribution Uniform(Nanos min, Nanos max);
  // Lognormal fixed by its median and 99th percentile. REQUIRES: 0 < p50 < p99.
  static DurationDistribution Lognormal(Nanos p50, Nanos p99);
  // Uniform pick among samples. REQUIRES: !samples.empty().
  static DurationDistribution Empirical(std::vector<Nanos> samples);

  DurationDistribution() = default;  // constant 0

  Nanos Sample(Rng& rng) const;
  Kind kind() const { return kind_; }
  // Exact mean and second moment E[S^2] in seconds (the M/G/1 oracle needs both).
  double MeanSeconds() const;
  double SecondMomentSeconds() const;
  // {"dist": ..., parameters as duration strings}: the scenario form.
  nlohmann::json ToJson() const;

 private:
  Kind kind_ = Kind::kConstant;
  Nanos a_ = 0, b_ = 0;             // constant: a; exponential: a = mean; uniform: [a, b]
  double mu_ = 0, sigma_ = 0;       // lognormal, of ln(seconds)
  std::vector<Nanos> samples_;      // empirical
};

// Reads a distribution object at `path`: {"dist": "constant", "value": "5ms"},
// {"dist": "exponential", "mean": ...}, {"dist": "uniform", "min", "max"},
// {"dist": "lognormal", "p50", "p99"}, {"dist": "empirical", "samples": [...]}
// or {"dist": "empirical", "file": "..."} (one duration per line, or a bare
// number meaning milliseconds; '#' starts a comment). `read_file` loads a file
// named in the scenario, relative to it.
using FileReader = std::function<Result<std::string>(const std::string& path)>;
std::optional<DurationDistribution> ReadDistribution(const nlohmann::json& value, const std::string& path,
                                                     const FileReader& read_file, ParseErrors& errors);

}  // namespace scaletwin
