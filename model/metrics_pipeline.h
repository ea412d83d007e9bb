// MetricsPipeline: what the HPA can know about the pods, and when.
//
// Between a pod serving a request and the HPA reacting sit two pipelines
// (shared/reference/hpa.md §6). Both worlds feed this unit with the scrapes
// they perform and ask it for the MetricReading that ReconcileHpa() consumes,
// so staleness and the "no value yet" rules are the same in both:
//
// (a) Pods metrics via Prometheus + prometheus-adapter. Prometheus scrapes each
//     pod's request counter every `scrape_interval`, each target at its own
//     fixed phase (ScrapeOffset: Prometheus spreads targets by a hash of the
//     target; here FNV-1a of the pod name stands in for it). At each HPA sync
//     the adapter runs a live query, `sum(rate(counter[rate_window])) by (pod)`
//     at the query time (prometheus_rate.h): a pod whose series has < 2
//     samples in the window has no value and is left out (the HPA counts it as
//     missing). The adapter sends value·1000 truncated to an integer
//     (int64(value*1000.0)), timestamp = the query time, and no windowSeconds,
//     so the HPA assumes a 1 min window.
// (b) Resource cpu via metrics-server. Every `metric_resolution` it scrapes all
//     kubelets and keeps only the last two points per container. CPU usage is
//     Δcumulative CPU / Δtime of those two points, published with timestamp =
//     the last point and window = their distance. A new container has no value
//     until its second scrape, except that a container started between 10 s
//     and one resolution before its first point gets a synthetic zero point at
//     its start time. A restarted container (new start time) starts over. A pod
//     missing from a scrape loses its points. The HPA sees ceil(nanocores/1e6)
//     milli-cores (Quantity.MilliValue rounds up).
//
//   MetricsPipeline pipeline(config);
//   at pipeline.NextScrapeAt(pod, now):   pipeline.RecordScrape(pod, t, requests_total);
//   at pipeline.NextResourceScrapeAt(now): pipeline.StoreResourceBatch(t, {{pod, start, cpu_ns}, ...});
//   every HPA sync:
//     obs.readings = {pipeline.PodsMetricReading(pod_names, now),   // spec.metrics[0]: Pods
//                     pipeline.CpuReading(pod_names)};              // spec.metrics[1]: Resource cpu
//
// Simplifications: one container per pod; the sample timestamp is the scrape
// time (kubelet/cAdvisor stats may lag it); query and scrape latency are zero
// unless the caller shifts times; the metrics APIs never fail (the caller
// sets MetricReading::error to model an outage).
// Thread-safety: none; the real harness serialises calls.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/duration.h"
#include "model/json_reader.h"
#include "model/prometheus_rate.h"
#include "model/replica_calculator.h"
#include "model/status.h"

namespace scaletwin {

// metrics-server's freshContainerMinMetricsResolution.
inline constexpr Nanos kFreshContainerMinResolution = 10 * kNanosPerSecond;
// The window the HPA assumes when a custom metric carries no windowSeconds.
inline constexpr Nanos kDefaultCustomMetricWindow = 60 * kNanosPerSecond;

struct MetricsPipelineConfig {
  // Prometheus scrape_interval. 15 s: the common setting (hpa.md §6: "commonly
  // 15–30 s"); Prometheus' own default is 1 m.
  Nanos scrape_interval = 15 * kNanosPerSecond;
  // The adapter rule's rate() window. 2 m: prometheus-adapter's per-pod
  // requests walkthrough (hpa.md §6: "typically 1–5 m").
  Nanos rate_window = 2 * 60 * kNanosPerSecond;
  // true: each pod is scraped at its own phase (ScrapeOffset); false: all at
  // multiples of scrape_interval.
  bool hash_scrape_offset = true;
  // metrics-server --metric-resolution: 15 s as in its release manifest
  // (binary default 60 s; values below 10 s are rejected).
  Nanos metric_resolution = 15 * kNanosPerSecond;
};

// What one metrics-server scrape returns for one pod.
struct ResourcePoint {
  std::string pod;
  Nanos container_start = 0;       // the container's start time
  int64_t cumulative_cpu_ns = 0;   // CPU time used since the container started
};

class MetricsPipeline {
 public:
  explicit MetricsPipeline(const MetricsPipelineConfig& config);

  const MetricsPipelineConfig& config() const { return config_; }

  // --- Prometheus -----------------------------------------------------------
  // The pod's scrape phase in [0, scrape_interval).
  Nanos ScrapeOffset(const std::string& pod) const;
  // The first scrape time of `pod` at or after `at`.
  Nanos NextScrapeAt(const std::string& pod, Nanos at) const;
  // A successful scrape of `pod` at `time` that read `counter`. Scrapes of one
  // pod must come in increasing time order (later duplicates are ignored).
  void RecordScrape(const std::string& pod, Nanos time, double counter);
  // The samples kept for `pod`: those a query at or after its newest scrape can
  // select (older ones are dropped, so queries must not go back in time).
  const std::deque<CounterSample>* Series(const std::string& pod) const;

  // --- metrics-server -------------------------------------------------------
  // The first metrics-server scrape time at or after `at` (multiples of the resolution).
  Nanos NextResourceScrapeAt(Nanos at) const;
  // One metrics-server scrape at `time` of every pod it found (podStorage.Store).
  void StoreResourceBatch(Nanos time, const std::vector<ResourcePoint>& batch);

  // --- What the HPA reads ---------------------------------------------------
  // A Pods metric through prometheus-adapter, queried at `query_time` for the
  // pods the HPA's selector matches.
  MetricReading PodsMetricReading(const std::vector<std::string>& pods, Nanos query_time) const;
  // Resource cpu through metrics-server for the pods the selector matches.
  MetricReading CpuReading(const std::vector<std::string>& pods) const;
  // One pod's Pods-metric sample, if the adapter would return one.
  std::optional<PodMetricSample> PodsMetricSample(const std::string& pod, Nanos query_time) const;
  // One pod's cpu sample, if metrics-server would return one.
  std::optional<PodMetricSample> CpuSample(const std::string& pod) const;

  // The pod object is gone: forget its series and points.
  void RemovePod(const std::string& pod);

 private:
  struct CpuPoint {
    Nanos timestamp = 0;
    Nanos container_start = 0;
    int64_t cumulative_cpu_ns = 0;
  };
  struct CpuPoints {
    CpuPoint last;
    std::optional<CpuPoint> prev;
  };

  MetricsPipelineConfig config_;
  std::map<std::string, std::deque<CounterSample>> series_;
  std::map<std::string, CpuPoints> cpu_;
};

// Reads a metrics-pipeline section at `path`:
//   {"scrape_interval": "15s", "rate_window": "2m", "scrape_offset": "hash" | "none",
//    "metric_resolution": "15s"}
// Every key is optional (defaults above). scrape_interval in [1s, 1h];
// rate_window in [1s, 24h] and longer than scrape_interval (else rate() never
// has two samples); metric_resolution in [10s, 1h] (metrics-server's minimum).
// Problems are appended to `errors`; the Result fails iff this call added any.
Result<MetricsPipelineConfig> ParseMetricsPipeline(const nlohmann::json& value, const std::string& path,
                                                   ParseErrors& errors);

}  // namespace scaletwin
