#include "real/telemetry/metrics_registry.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <type_traits>

namespace scaletwin {
namespace {

// Registration and arity errors are bugs in the pod's code: say which metric,
// then abort (even with NDEBUG, like SCALETWIN_CHECK).
[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "scaletwin: metrics: %s\n", message.c_str());
  std::abort();
}

bool IsNameStart(char c, bool colon_ok) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon_ok && c == ':');
}

bool IsNameChar(char c, bool colon_ok) { return IsNameStart(c, colon_ok) || (c >= '0' && c <= '9'); }

bool MatchesName(std::string_view name, bool colon_ok) {
  if (name.empty() || !IsNameStart(name[0], colon_ok)) return false;
  return std::all_of(name.begin() + 1, name.end(), [colon_ok](char c) { return IsNameChar(c, colon_ok); });
}

void AppendEscapedHelp(std::string& out, std::string_view text) {
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

void AppendEscapedLabelValue(std::string& out, std::string_view text) {
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

// `name<suffix>{l1="v1",...[,le="<le>"]} <value>\n`; no braces when there is no label at all.
void AppendSample(std::string& out, std::string_view name, std::string_view suffix,
                  const std::vector<std::string>& label_names, const std::vector<std::string>& label_values,
                  const std::string* le, double value) {
  out += name;
  out += suffix;
  if (!label_names.empty() || le != nullptr) {
    out += '{';
    for (size_t i = 0; i < label_names.size(); ++i) {
      if (i > 0) out += ',';
      out += label_names[i];
      out += "=\"";
      AppendEscapedLabelValue(out, label_values[i]);
      out += '"';
    }
    if (le != nullptr) {
      if (!label_names.empty()) out += ',';
      out += "le=\"";
      out += *le;
      out += '"';
    }
    out += '}';
  }
  out += ' ';
  out += FormatMetricValue(value);
  out += '\n';
}

void AppendHeader(std::string& out, const metrics_internal::RenderableFamily& family) {
  out += "# HELP ";
  out += family.name();
  out += ' ';
  AppendEscapedHelp(out, family.help());
  out += "\n# TYPE ";
  out += family.name();
  out += ' ';
  out += MetricTypeName(family.type());
  out += '\n';
}

void CheckArity(const metrics_internal::RenderableFamily& family, const std::vector<std::string>& values) {
  if (values.size() != family.label_names().size()) {
    Die(family.name() + ": " + std::to_string(values.size()) + " label values given, the family has " +
        std::to_string(family.label_names().size()) + " label names");
  }
}

// Samples computed by someone else's code at scrape time.
class CallbackFamily final : public metrics_internal::RenderableFamily {
 public:
  CallbackFamily(MetricType type, std::string name, std::string help, std::vector<std::string> label_names,
                 MetricSamplesCallback callback)
      : RenderableFamily(type, std::move(name), std::move(help), std::move(label_names)),
        callback_(std::move(callback)) {}

  void RenderTo(std::string& out) const override {
    MetricSamples samples = callback_();
    for (const auto& [values, value] : samples) CheckArity(*this, values);
    std::sort(samples.begin(), samples.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    // Two samples of one series in a scrape make Prometheus drop the whole scrape.
    auto dup = std::adjacent_find(samples.begin(), samples.end(),
                                  [](const auto& a, const auto& b) { return a.first == b.first; });
    if (dup != samples.end()) Die(name() + ": the callback returned the same label values twice");
    AppendHeader(out, *this);
    for (const auto& [values, value] : samples) AppendSample(out, name(), "", label_names(), values, nullptr, value);
  }

 private:
  MetricSamplesCallback callback_;
};

}  // namespace

const char* MetricTypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

Status ValidateMetricName(std::string_view name) {
  if (!MatchesName(name, /*colon_ok=*/true)) {
    return Status::InvalidArgument("metric name \"" + std::string(name) + "\" does not match [a-zA-Z_:][a-zA-Z0-9_:]*");
  }
  return Status::Ok();
}

Status ValidateLabelName(std::string_view name) {
  if (!MatchesName(name, /*colon_ok=*/false)) {
    return Status::InvalidArgument("label name \"" + std::string(name) + "\" does not match [a-zA-Z_][a-zA-Z0-9_]*");
  }
  if (name.starts_with("__")) {
    return Status::InvalidArgument("label name \"" + std::string(name) + "\" starts with __, reserved by Prometheus");
  }
  return Status::Ok();
}

Status ValidateFamily(MetricType type, std::string_view name, const std::vector<std::string>& label_names,
                      const std::vector<double>& upper_bounds) {
  if (Status s = ValidateMetricName(name); !s.ok()) return s;
  const std::string where = std::string(name) + ": ";
  for (size_t i = 0; i < label_names.size(); ++i) {
    if (Status s = ValidateLabelName(label_names[i]); !s.ok()) return Status::InvalidArgument(where + s.message());
    if (std::find(label_names.begin(), label_names.begin() + i, label_names[i]) != label_names.begin() + i) {
      return Status::InvalidArgument(where + "label \"" + label_names[i] + "\" named twice");
    }
    // The bucket samples carry their own "le"; a second one would be ambiguous.
    if (type == MetricType::kHistogram && label_names[i] == "le") {
      return Status::InvalidArgument(where + "a histogram may not have a label named le");
    }
  }
  if (type != MetricType::kHistogram) {
    if (!upper_bounds.empty()) return Status::InvalidArgument(where + "only histograms have bucket bounds");
    return Status::Ok();
  }
  for (size_t i = 0; i < upper_bounds.size(); ++i) {
    const double b = upper_bounds[i];
    if (std::isnan(b)) return Status::InvalidArgument(where + "a bucket bound is NaN");
    if (std::isinf(b) && (b < 0 || i + 1 != upper_bounds.size())) {
      return Status::InvalidArgument(where + "only the last bucket bound may be infinite, and only +Inf");
    }
    if (i > 0 && !(b > upper_bounds[i - 1])) {
      return Status::InvalidArgument(where + "bucket bounds must be strictly increasing");
    }
  }
  return Status::Ok();
}

std::string FormatMetricValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (value == 0) return "0";  // also -0
  // Fixed notation of an integral double has at most 309 digits and a sign.
  char buf[400];
  std::to_chars_result r = std::trunc(value) == value
                               ? std::to_chars(buf, buf + sizeof(buf), value, std::chars_format::fixed)
                               : std::to_chars(buf, buf + sizeof(buf), value);
  return std::string(buf, r.ptr);
}

void Counter::Inc(double by) {
  if (!(by >= 0)) Die("Counter::Inc(" + FormatMetricValue(by) + "): a counter only goes up");
  value_.fetch_add(by, std::memory_order_relaxed);
}

Histogram::Histogram(const std::vector<double>& upper_bounds)
    : upper_bounds_(upper_bounds), buckets_(new std::atomic<uint64_t>[upper_bounds.size() + 1]) {
  for (size_t i = 0; i <= upper_bounds_.size(); ++i) buckets_[i].store(0, std::memory_order_relaxed);
}

void Histogram::Observe(double value) {
  // First bound >= value ("le" is inclusive); NaN compares false everywhere, so it lands in +Inf.
  size_t i = upper_bounds_.size();
  if (!std::isnan(value)) {
    i = std::lower_bound(upper_bounds_.begin(), upper_bounds_.end(), value) - upper_bounds_.begin();
  }
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

uint64_t Histogram::Count() const {
  uint64_t n = 0;
  for (size_t i = 0; i <= upper_bounds_.size(); ++i) n += buckets_[i].load(std::memory_order_relaxed);
  return n;
}

std::vector<uint64_t> Histogram::CumulativeCounts() const {
  std::vector<uint64_t> counts(upper_bounds_.size() + 1);
  uint64_t running = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    counts[i] = running;
  }
  return counts;
}

namespace metrics_internal {

RenderableFamily::RenderableFamily(MetricType type, std::string name, std::string help,
                                   std::vector<std::string> label_names)
    : type_(type), name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)) {}

}  // namespace metrics_internal

template <typename Metric>
MetricFamily<Metric>::MetricFamily(MetricType type, std::string name, std::string help,
                                   std::vector<std::string> label_names, std::vector<double> upper_bounds)
    : RenderableFamily(type, std::move(name), std::move(help), std::move(label_names)),
      upper_bounds_(std::move(upper_bounds)) {
  if (this->label_names().empty()) WithLabels({});
}

template <typename Metric>
Metric& MetricFamily<Metric>::WithLabels(std::vector<std::string> values) {
  CheckArity(*this, values);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = series_.find(values);
  if (it == series_.end()) {
    std::unique_ptr<Metric> metric;
    if constexpr (std::is_same_v<Metric, Histogram>) {
      metric = std::make_unique<Histogram>(upper_bounds_);
    } else {
      metric = std::make_unique<Metric>();
    }
    it = series_.emplace(std::move(values), std::move(metric)).first;
  }
  return *it->second;
}

template <typename Metric>
void MetricFamily<Metric>::RenderTo(std::string& out) const {
  // Keys and metrics never move or die while the registry lives, so only the
  // walk over the map needs the lock; formatting happens outside it.
  std::vector<std::pair<const std::vector<std::string>*, const Metric*>> series;
  {
    std::lock_guard<std::mutex> lock(mu_);
    series.reserve(series_.size());
    for (const auto& [values, metric] : series_) series.emplace_back(&values, metric.get());
  }
  AppendHeader(out, *this);
  for (const auto& [values, metric] : series) {
    if constexpr (std::is_same_v<Metric, Histogram>) {
      const std::vector<uint64_t> counts = metric->CumulativeCounts();
      for (size_t i = 0; i < upper_bounds_.size(); ++i) {
        const std::string le = FormatMetricValue(upper_bounds_[i]);
        AppendSample(out, name(), "_bucket", label_names(), *values, &le, static_cast<double>(counts[i]));
      }
      const std::string inf = "+Inf";
      AppendSample(out, name(), "_bucket", label_names(), *values, &inf, static_cast<double>(counts.back()));
      AppendSample(out, name(), "_sum", label_names(), *values, nullptr, metric->Sum());
      AppendSample(out, name(), "_count", label_names(), *values, nullptr, static_cast<double>(counts.back()));
    } else {
      AppendSample(out, name(), "", label_names(), *values, nullptr, metric->Value());
    }
  }
}

template class MetricFamily<Counter>;
template class MetricFamily<Gauge>;
template class MetricFamily<Histogram>;

void MetricsRegistry::ClaimNamesLocked(MetricType type, const std::string& name,
                                       const std::vector<std::string>& label_names,
                                       const std::vector<double>& upper_bounds) {
  if (Status s = ValidateFamily(type, name, label_names, upper_bounds); !s.ok()) {
    Die("cannot register a metric family: " + s.ToString());
  }
  std::vector<std::string> names = {name};
  if (type == MetricType::kHistogram) {
    for (const char* suffix : {"_bucket", "_sum", "_count"}) names.push_back(name + suffix);
  }
  for (const std::string& n : names) {
    if (sample_names_.contains(n)) Die("cannot register " + name + ": the name " + n + " is already in use");
  }
  sample_names_.insert(names.begin(), names.end());
}

template <typename Family>
Family& MetricsRegistry::AddOwned(MetricType type, std::string name, std::string help,
                                  std::vector<std::string> label_names, std::vector<double> upper_bounds) {
  std::lock_guard<std::mutex> lock(mu_);
  ClaimNamesLocked(type, name, label_names, upper_bounds);
  if (!upper_bounds.empty() && std::isinf(upper_bounds.back())) upper_bounds.pop_back();  // implicit
  // MetricFamily's constructor is private to this class: no make_unique.
  std::unique_ptr<Family> family(
      new Family(type, std::move(name), std::move(help), std::move(label_names), std::move(upper_bounds)));
  Family& result = *family;
  families_.push_back(std::move(family));
  return result;
}

CounterFamily& MetricsRegistry::AddCounter(std::string name, std::string help, std::vector<std::string> label_names) {
  return AddOwned<CounterFamily>(MetricType::kCounter, std::move(name), std::move(help), std::move(label_names), {});
}

GaugeFamily& MetricsRegistry::AddGauge(std::string name, std::string help, std::vector<std::string> label_names) {
  return AddOwned<GaugeFamily>(MetricType::kGauge, std::move(name), std::move(help), std::move(label_names), {});
}

HistogramFamily& MetricsRegistry::AddHistogram(std::string name, std::string help, std::vector<std::string> label_names,
                                               std::vector<double> upper_bounds) {
  return AddOwned<HistogramFamily>(MetricType::kHistogram, std::move(name), std::move(help), std::move(label_names),
                                   std::move(upper_bounds));
}

void MetricsRegistry::AddCallback(MetricType type, std::string name, std::string help,
                                  std::vector<std::string> label_names, MetricSamplesCallback callback) {
  if (!callback) Die("cannot register " + name + ": empty callback");
  std::lock_guard<std::mutex> lock(mu_);
  ClaimNamesLocked(type, name, label_names, {});
  families_.push_back(std::make_unique<CallbackFamily>(type, std::move(name), std::move(help), std::move(label_names),
                                                       std::move(callback)));
}

void MetricsRegistry::AddGaugeCallback(std::string name, std::string help, std::vector<std::string> label_names,
                                       MetricSamplesCallback callback) {
  AddCallback(MetricType::kGauge, std::move(name), std::move(help), std::move(label_names), std::move(callback));
}

void MetricsRegistry::AddCounterCallback(std::string name, std::string help, std::vector<std::string> label_names,
                                         MetricSamplesCallback callback) {
  AddCallback(MetricType::kCounter, std::move(name), std::move(help), std::move(label_names), std::move(callback));
}

std::string MetricsRegistry::Render() const {
  // Families are never removed, so the pointers outlive the lock; rendering
  // (and the callbacks) then run with no registry lock held.
  std::vector<const metrics_internal::RenderableFamily*> families;
  {
    std::lock_guard<std::mutex> lock(mu_);
    families.reserve(families_.size());
    for (const auto& f : families_) families.push_back(f.get());
  }
  std::string out;
  for (const auto* f : families) f->RenderTo(out);
  return out;
}

}  // namespace scaletwin
