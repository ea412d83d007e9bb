// MetricsRegistry: the real shortener pod's Prometheus metrics, rendered for
// GET /metrics in the text exposition format 0.0.4.
//
// A registry owns metric families (counter, gauge, histogram), each a name,
// a HELP text, a TYPE and fixed label names; a family owns one series per
// distinct tuple of label values. Values owned elsewhere (a connection pool's
// in-use count, a cache's size) are exposed by callback families, read at
// scrape time, so the owner needs no link to this registry.
//
//   MetricsRegistry registry;
//   CounterFamily& requests =
//       registry.AddCounter("shortener_requests_total", "HTTP requests answered.", {"route", "code"});
//   Counter& redirects = requests.WithLabels({"/:code", "302"});  // cache the handle on hot paths
//   redirects.Inc();
//   HistogramFamily& latency = registry.AddHistogram("shortener_request_duration_seconds",
//                                                    "Time to answer a request.", {"route"}, {0.005, 0.05, 0.5});
//   latency.WithLabels({"/:code"}).Observe(0.0042);
//   registry.AddGaugeCallback("shortener_db_pool_in_use", "Leased database connections.", {},
//                             [&pool] { return MetricSamples{{{}, double(pool.InUse())}}; });
//   std::string body = registry.Render();  // Content-Type: kPrometheusTextContentType
//
// Output contract (what a scrape and the tests may rely on):
// - Families appear in registration order; each starts with `# HELP name help`
//   and `# TYPE name counter|gauge|histogram`, even while it has no series.
// - Series of a family appear sorted by their label values (lexicographically,
//   as a tuple), so two renders of equal state are byte-identical.
// - A sample is `name{l1="v1",l2="v2"} value` (no braces without labels).
//   Label values escape `\`, `"` and newline; HELP escapes `\` and newline.
// - A histogram series renders cumulative `name_bucket{...,le="b"}` for every
//   bound and `le="+Inf"`, then `name_sum` and `name_count`.
// - Values: integer-valued numbers in plain digits ("1000000", never "1e+06"),
//   others in the shortest form that reads back exactly, and "+Inf", "-Inf",
//   "NaN" (FormatMetricValue).
// - A family without labels has its single series from registration on, so
//   it renders 0 before first use (rate() then sees the first increment).
//
// Programming errors abort (SCALETWIN_CHECK, on in optimised builds too),
// because they are fixed in code, never at run time: an invalid or duplicate
// family name, invalid label names or histogram bounds (ValidateFamily says
// which — call it first to get a Status instead), a label-value count that
// differs from the family's label names, a negative Counter::Inc, and a
// callback returning a wrong label count or the same label values twice.
//
// Thread-safety: every method may be called from any thread. Counter::Inc,
// Gauge::Set/Add and Histogram::Observe are lock-free (relaxed atomics).
// WithLabels takes the family's mutex for one map lookup. Render takes the
// registry's mutex only to list the families, then each family's mutex while
// it reads that family's series; callbacks run with no lock of this registry
// held, so a callback may use the registry (WithLabels, even Add*), though
// not Render. A render is not one atomic snapshot: a histogram's _count is
// computed from its buckets (so `le="+Inf"` == _count always), but an
// Observe racing the render may be in the buckets and not yet in _sum.
// Handles (families and series) live as long as the registry.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "model/status.h"

namespace scaletwin {

inline constexpr std::string_view kPrometheusTextContentType = "text/plain; version=0.0.4; charset=utf-8";

enum class MetricType { kCounter, kGauge, kHistogram };

// "counter", "gauge", "histogram": the word on the # TYPE line.
const char* MetricTypeName(MetricType type);

// OK iff `name` matches [a-zA-Z_:][a-zA-Z0-9_:]*.
Status ValidateMetricName(std::string_view name);
// OK iff `name` matches [a-zA-Z_][a-zA-Z0-9_]* and does not start with "__"
// (reserved by Prometheus for its own labels).
Status ValidateLabelName(std::string_view name);
// Everything Add* checks except uniqueness in a registry: valid metric and
// label names, no label named twice, and for histograms no label "le" and
// bounds that are strictly increasing and not NaN (a final +Inf is allowed
// and ignored: the +Inf bucket is always there). Bounds must be empty for
// counters and gauges.
Status ValidateFamily(MetricType type, std::string_view name, const std::vector<std::string>& label_names,
                      const std::vector<double>& upper_bounds = {});

// A value as the text format writes it (see the output contract above).
std::string FormatMetricValue(double value);

// A monotonic count. Lock-free.
class Counter {
 public:
  Counter() = default;
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;

  // REQUIRES: by >= 0 (not NaN); aborts otherwise, since a counter that goes
  // down reads as a process restart to rate().
  void Inc(double by = 1);
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// A value that goes up and down. Lock-free.
class Gauge {
 public:
  Gauge() = default;
  Gauge(const Gauge&) = delete;
  Gauge& operator=(const Gauge&) = delete;

  void Set(double value) { value_.store(value, std::memory_order_relaxed); }
  void Add(double delta) { value_.fetch_add(delta, std::memory_order_relaxed); }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Observations counted into fixed buckets (upper bounds inclusive: a value
// equal to a bound counts in that bound's bucket; NaN counts only in +Inf,
// as in the Go client). Observe is lock-free: one atomic add per bucket hit
// and one on the sum; the bucket search is a binary search over the bounds.
class Histogram {
 public:
  // `upper_bounds` is the family's (validated, without +Inf) and outlives this.
  explicit Histogram(const std::vector<double>& upper_bounds);
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  void Observe(double value);
  // Sum of all buckets: the number of observations.
  uint64_t Count() const;
  double Sum() const { return sum_.load(std::memory_order_relaxed); }
  // Cumulative counts, one per bound and a last one for +Inf (== Count()
  // when nothing is observed concurrently).
  std::vector<uint64_t> CumulativeCounts() const;
  const std::vector<double>& upper_bounds() const { return upper_bounds_; }

 private:
  const std::vector<double>& upper_bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // not cumulative; last is +Inf
  std::atomic<double> sum_{0};
};

namespace metrics_internal {

// What Render needs from every family, owned or callback.
class RenderableFamily {
 public:
  RenderableFamily(MetricType type, std::string name, std::string help, std::vector<std::string> label_names);
  virtual ~RenderableFamily() = default;
  RenderableFamily(const RenderableFamily&) = delete;
  RenderableFamily& operator=(const RenderableFamily&) = delete;

  // Appends HELP, TYPE and every sample. Called without the registry's lock.
  virtual void RenderTo(std::string& out) const = 0;

  MetricType type() const { return type_; }
  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  const std::vector<std::string>& label_names() const { return label_names_; }

 private:
  MetricType type_;
  std::string name_;
  std::string help_;
  std::vector<std::string> label_names_;
};

}  // namespace metrics_internal

// One family of series with the same name and label names. Created by
// MetricsRegistry::Add*; lives as long as the registry.
template <typename Metric>
class MetricFamily final : public metrics_internal::RenderableFamily {
 public:
  // The series with these label values (in label-name order), created at
  // zero on first use. The reference stays valid for the registry's life.
  // Costs a mutex and a map lookup: hot paths keep the reference.
  // REQUIRES: values.size() == label_names().size(); aborts otherwise.
  Metric& WithLabels(std::vector<std::string> values);

  void RenderTo(std::string& out) const override;

 private:
  friend class MetricsRegistry;
  MetricFamily(MetricType type, std::string name, std::string help, std::vector<std::string> label_names,
               std::vector<double> upper_bounds);

  const std::vector<double> upper_bounds_;  // histograms only; without +Inf
  mutable std::mutex mu_;
  // std::map: sorted by label values for rendering, and nodes never move, so
  // references handed out stay valid. Series are never removed.
  std::map<std::vector<std::string>, std::unique_ptr<Metric>> series_;
};

using CounterFamily = MetricFamily<Counter>;
using GaugeFamily = MetricFamily<Gauge>;
using HistogramFamily = MetricFamily<Histogram>;

extern template class MetricFamily<Counter>;
extern template class MetricFamily<Gauge>;
extern template class MetricFamily<Histogram>;

// A callback family's samples: (label values in label-name order, value).
// Any order; Render sorts them.
using MetricSamples = std::vector<std::pair<std::vector<std::string>, double>>;
using MetricSamplesCallback = std::function<MetricSamples()>;

class MetricsRegistry {
 public:
  MetricsRegistry() = default;
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  // Each Add* registers a new family and returns it. REQUIRES: ValidateFamily
  // is OK and no family of this registry has the name (nor, for histograms,
  // collides with name_bucket/_sum/_count); aborts otherwise.
  CounterFamily& AddCounter(std::string name, std::string help, std::vector<std::string> label_names);
  GaugeFamily& AddGauge(std::string name, std::string help, std::vector<std::string> label_names);
  // `upper_bounds`: bucket bounds, strictly increasing; +Inf is implicit.
  HistogramFamily& AddHistogram(std::string name, std::string help, std::vector<std::string> label_names,
                                std::vector<double> upper_bounds);

  // Families whose samples `callback` returns at each Render. The callback
  // runs on the rendering thread with no registry lock held; it must be
  // thread-safe against whatever it reads, and must not throw (Render would).
  // A counter callback must return values that never decrease.
  void AddGaugeCallback(std::string name, std::string help, std::vector<std::string> label_names,
                        MetricSamplesCallback callback);
  void AddCounterCallback(std::string name, std::string help, std::vector<std::string> label_names,
                          MetricSamplesCallback callback);

  // The exposition text of every family (the output contract above).
  std::string Render() const;

 private:
  // Checks the family and claims its names. Caller holds mu_.
  void ClaimNamesLocked(MetricType type, const std::string& name, const std::vector<std::string>& label_names,
                        const std::vector<double>& upper_bounds);
  template <typename Family>
  Family& AddOwned(MetricType type, std::string name, std::string help, std::vector<std::string> label_names,
                   std::vector<double> upper_bounds);
  void AddCallback(MetricType type, std::string name, std::string help, std::vector<std::string> label_names,
                   MetricSamplesCallback callback);

  mutable std::mutex mu_;
  std::vector<std::unique_ptr<metrics_internal::RenderableFamily>> families_;  // registration order
  std::set<std::string, std::less<>> sample_names_;  // every name a sample or HELP line of this registry uses
};

}  // namespace scaletwin
