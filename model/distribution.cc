#include "model/distribution.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include <nlohmann/json.hpp>

namespace scaletwin {
namespace {
constexpr double kZ99 = 2.3263478740408408;  // standard normal 99th percentile
}

DurationDistribution DurationDistribution::Constant(Nanos value) {
  DurationDistribution d;
  d.kind_ = Kind::kConstant;
  d.a_ = value;
  return d;
}

DurationDistribution DurationDistribution::Exponential(Nanos mean) {
  DurationDistribution d = Constant(mean);
  d.kind_ = Kind::kExponential;
  return d;
}

DurationDistribution DurationDistribution::Uniform(Nanos min, Nanos max) {
  DurationDistribution d = Constant(min);
  d.kind_ = Kind::kUniform;
  d.b_ = max;
  return d;
}

DurationDistribution DurationDistribution::Lognormal(Nanos p50, Nanos p99) {
  DurationDistribution d = Constant(p50);
  d.kind_ = Kind::kLognormal;
  d.b_ = p99;
  d.mu_ = std::log(ToSeconds(p50));
  d.sigma_ = (std::log(ToSeconds(p99)) - d.mu_) / kZ99;
  return d;
}

DurationDistribution DurationDistribution::Empirical(std::vector<Nanos> samples) {
  DurationDistribution d;
  d.kind_ = Kind::kEmpirical;
  d.samples_ = std::move(samples);
  return d;
}

Nanos DurationDistribution::Sample(Rng& rng) const {
  switch (kind_) {
    case Kind::kConstant: return a_;
    case Kind::kExponential: return static_cast<Nanos>(std::llround(rng.Exp1() * static_cast<double>(a_)));
    case Kind::kUniform:
      return a_ + static_cast<Nanos>(rng.UniformInt(static_cast<uint64_t>(b_ - a_) + 1));
    case Kind::kLognormal: {
      double seconds = std::exp(mu_ + sigma_ * rng.StdNormal());
      return static_cast<Nanos>(std::llround(std::min(seconds, ToSeconds(kMaxDuration)) * kNanosPerSecond));
    }
    case Kind::kEmpirical: return samples_[rng.UniformInt(samples_.size())];
  }
  return 0;
}

double DurationDistribution::MeanSeconds() const {
  switch (kind_) {
    case Kind::kConstant:
    case Kind::kExponential: return ToSeconds(a_);
    case Kind::kUniform: return (ToSeconds(a_) + ToSeconds(b_)) / 2;
    case Kind::kLognormal: return std::exp(mu_ + sigma_ * sigma_ / 2);
    case Kind::kEmpirical: {
      double sum = 0;
      for (Nanos s : samples_) sum += ToSeconds(s);
      return sum / static_cast<double>(samples_.size());
    }
  }
  return 0;
}

double DurationDistribution::SecondMomentSeconds() const {
  switch (kind_) {
    case Kind::kConstant: return ToSeconds(a_) * ToSeconds(a_);
    case Kind::kExponential: return 2 * ToSeconds(a_) * ToSeconds(a_);
    case Kind::kUniform: {
      double lo = ToSeconds(a_), hi = ToSeconds(b_);
      return (lo * lo + lo * hi + hi * hi) / 3;
    }
    case Kind::kLognormal: return std::exp(2 * mu_ + 2 * sigma_ * sigma_);
    case Kind::kEmpirical: {
      double sum = 0;
      for (Nanos s : samples_) sum += ToSeconds(s) * ToSeconds(s);
      return sum / static_cast<double>(samples_.size());
    }
  }
  return 0;
}

nlohmann::json DurationDistribution::ToJson() const {
  switch (kind_) {
    case Kind::kConstant: return {{"dist", "constant"}, {"value", FormatDuration(a_)}};
    case Kind::kExponential: return {{"dist", "exponential"}, {"mean", FormatDuration(a_)}};
    case Kind::kUniform:
      return {{"dist", "uniform"}, {"min", FormatDuration(a_)}, {"max", FormatDuration(b_)}};
    case Kind::kLognormal:
      return {{"dist", "lognormal"}, {"p50", FormatDuration(a_)}, {"p99", FormatDuration(b_)}};
    case Kind::kEmpirical: {
      nlohmann::json s = nlohmann::json::array();
      for (Nanos v : samples_) s.push_back(FormatDuration(v));
      return {{"dist", "empirical"}, {"samples", std::move(s)}};
    }
  }
  return nullptr;
}

namespace {

// One sample per line: a duration ("12ms") or a bare number of milliseconds.
bool ParseSampleFile(const std::string& text, const std::string& path, Nanos max, std::vector<Nanos>& out,
                     ParseErrors& errors) {
  std::istringstream in(text);
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    line.erase(0, line.find_first_not_of(" \t\r,"));
    line.erase(line.find_last_not_of(" \t\r,") + 1);
    if (line.empty()) continue;
    Result<Nanos> d = ParseDuration(line);
    if (!d.ok()) {
      char* end = nullptr;
      double ms = std::strtod(line.c_str(), &end);
      if (end != line.c_str() + line.size() || !(ms >= 0) || ms > 1e9) {
        errors.AddMessage(path, "line " + std::to_string(line_no) +
                                    ": expected a duration (\"12ms\") or milliseconds, found \"" + line + "\"");
        return false;
      }
      d = static_cast<Nanos>(std::llround(ms * kNanosPerMilli));
    }
    if (*d > max) {
      errors.AddMessage(path, "line " + std::to_string(line_no) + ": sample " + FormatDuration(*d) +
                                  " is longer than " + FormatDuration(max));
      return false;
    }
    out.push_back(*d);
  }
  return true;
}

}  // namespace

std::optional<DurationDistribution> ReadDistribution(const nlohmann::json& value, const std::string& path,
                                                     const FileReader& read_file, ParseErrors& errors) {
  const size_t before = errors.size();
  ObjectReader r(value, path, errors);
  if (!r.valid()) return std::nullopt;
  std::optional<std::string> kind =
      r.Enum("dist", {"constant", "exponential", "uniform", "lognormal", "empirical"}, /*required=*/true);
  std::optional<DurationDistribution> result;
  constexpr Nanos kMax = 3600 * kNanosPerSecond;
  if (kind == "constant") {
    if (auto v = r.Duration("value", 0, kMax, true)) result = DurationDistribution::Constant(*v);
  } else if (kind == "exponential") {
    if (auto m = r.Duration("mean", 1, kMax, true)) result = DurationDistribution::Exponential(*m);
  } else if (kind == "uniform") {
    auto lo = r.Duration("min", 0, kMax, true);
    auto hi = r.Duration("max", 0, kMax, true);
    if (lo && hi) {
      if (*lo > *hi) errors.Add(JoinPath(path, "max"), "max >= min (" + FormatDuration(*lo) + ")", FormatDuration(*hi));
      else result = DurationDistribution::Uniform(*lo, *hi);
    }
  } else if (kind == "lognormal") {
    auto p50 = r.Duration("p50", 1, kMax, true);
    auto p99 = r.Duration("p99", 1, kMax, true);
    if (p50 && p99) {
      if (*p99 <= *p50) errors.Add(JoinPath(path, "p99"), "p99 > p50 (" + FormatDuration(*p50) + ")", FormatDuration(*p99));
      else result = DurationDistribution::Lognormal(*p50, *p99);
    }
  } else if (kind == "empirical") {
    std::vector<Nanos> samples;
    const nlohmann::json* list = r.Get("samples");
    std::optional<std::string> file = r.String("file");
    if ((list != nullptr) == file.has_value()) {
      errors.AddMessage(path, "an empirical distribution needs exactly one of \"samples\" or \"file\"");
    } else if (list) {
      if (!list->is_array() || list->empty() || list->size() > 1'000'000) {
        errors.Add(JoinPath(path, "samples"), "a non-empty array of durations", DescribeJson(*list));
      } else {
        for (size_t i = 0; i < list->size(); ++i) {
          if (auto d = ReadDuration((*list)[i], JoinPath(JoinPath(path, "samples"), i), 0, kMax, errors))
            samples.push_back(*d);
        }
      }
    } else {
      Result<std::string> text = read_file(*file);
      if (!text.ok()) {
        errors.AddMessage(JoinPath(path, "file"), text.status().message());
      } else if (ParseSampleFile(*text, JoinPath(path, "file"), kMax, samples, errors) && samples.empty()) {
        errors.AddMessage(JoinPath(path, "file"), "the sample file \"" + *file + "\" holds no samples");
      }
    }
    if (!samples.empty() && errors.size() == before) result = DurationDistribution::Empirical(std::move(samples));
  }
  r.Finish();
  if (errors.size() != before) return std::nullopt;
  return result;
}

}  // namespace scaletwin
