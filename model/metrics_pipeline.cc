#include "model/metrics_pipeline.h"

#include <cmath>
#include <cstdint>

namespace scaletwin {
namespace {

uint64_t Fnv1a64(const std::string& s) {
  uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

// First time >= at that is congruent to `phase` modulo `period`.
Nanos NextAligned(Nanos at, Nanos period, Nanos phase) {
  Nanos k = (at - phase) / period;
  if ((at - phase) % period != 0 && at - phase < 0) --k;  // floor
  Nanos t = phase + k * period;
  if (t < at) t += period;
  return t;
}

}  // namespace

MetricsPipeline::MetricsPipeline(const MetricsPipelineConfig& config) : config_(config) {}

Nanos MetricsPipeline::ScrapeOffset(const std::string& pod) const {
  if (!config_.hash_scrape_offset) return 0;
  return static_cast<Nanos>(Fnv1a64(pod) % static_cast<uint64_t>(config_.scrape_interval));
}

Nanos MetricsPipeline::NextScrapeAt(const std::string& pod, Nanos at) const {
  return NextAligned(at, config_.scrape_interval, ScrapeOffset(pod));
}

void MetricsPipeline::RecordScrape(const std::string& pod, Nanos time, double counter) {
  std::deque<CounterSample>& s = series_[pod];
  if (!s.empty() && time <= s.back().time) return;  // Prometheus drops out-of-order/duplicate samples
  s.push_back({time, counter});
  // Keep what any query at or after `time` can still select.
  const Nanos keep_after = time - config_.rate_window - config_.scrape_interval;
  while (!s.empty() && s.front().time <= keep_after) s.pop_front();
}

const std::deque<CounterSample>* MetricsPipeline::Series(const std::string& pod) const {
  auto it = series_.find(pod);
  return it == series_.end() ? nullptr : &it->second;
}

Nanos MetricsPipeline::NextResourceScrapeAt(Nanos at) const {
  return NextAligned(at, config_.metric_resolution, 0);
}

void MetricsPipeline::StoreResourceBatch(Nanos time, const std::vector<ResourcePoint>& batch) {
  std::map<std::string, CpuPoints> next;
  for (const ResourcePoint& p : batch) {
    if (next.count(p.pod)) continue;  // duplicate pod point: metrics-server keeps the first
    CpuPoints points{.last = {time, p.container_start, p.cumulative_cpu_ns}, .prev = std::nullopt};
    const Nanos age = time - p.container_start;
    if (p.container_start < time && age < config_.metric_resolution && age >= kFreshContainerMinResolution) {
      // A young container: its start is a known zero point.
      points.prev = CpuPoint{p.container_start, p.container_start, 0};
    } else if (auto old = cpu_.find(p.pod); old != cpu_.end() && p.container_start < old->second.last.timestamp) {
      // Same container as before (it started before the stored point).
      if (time > old->second.last.timestamp) {
        points.prev = old->second.last;
      } else if (old->second.prev && old->second.prev->timestamp < time) {
        points.prev = old->second.prev;
      }
    }
    next.emplace(p.pod, points);
  }
  cpu_ = std::move(next);
}

std::optional<PodMetricSample> MetricsPipeline::PodsMetricSample(const std::string& pod, Nanos query_time) const {
  auto it = series_.find(pod);
  if (it == series_.end()) return std::nullopt;
  const std::deque<CounterSample>& d = it->second;
  const std::vector<CounterSample> samples(d.begin(), d.end());
  const std::optional<double> rate = PromRate(samples, query_time, config_.rate_window);
  if (!rate) return std::nullopt;
  // prometheus-adapter: NaN becomes 0, otherwise int64(value*1000.0).
  const int64_t milli = std::isnan(*rate) ? 0 : static_cast<int64_t>(*rate * 1000.0);
  return PodMetricSample{.value_milli = milli, .timestamp = query_time, .window = kDefaultCustomMetricWindow};
}

std::optional<PodMetricSample> MetricsPipeline::CpuSample(const std::string& pod) const {
  auto it = cpu_.find(pod);
  if (it == cpu_.end() || !it->second.prev) return std::nullopt;
  const CpuPoint& last = it->second.last;
  const CpuPoint& prev = *it->second.prev;
  // resourceUsage() refuses decreasing start times or CPU totals.
  if (last.container_start < prev.container_start || last.cumulative_cpu_ns < prev.cumulative_cpu_ns) {
    return std::nullopt;
  }
  const Nanos window = last.timestamp - prev.timestamp;
  if (window <= 0) return std::nullopt;
  const double nanocores =
      static_cast<double>(last.cumulative_cpu_ns - prev.cumulative_cpu_ns) / ToSeconds(window);
  const uint64_t whole_nanocores = static_cast<uint64_t>(nanocores);
  const int64_t milli = static_cast<int64_t>((whole_nanocores + 999'999) / 1'000'000);
  return PodMetricSample{.value_milli = milli, .timestamp = last.timestamp, .window = window};
}

MetricReading MetricsPipeline::PodsMetricReading(const std::vector<std::string>& pods, Nanos query_time) const {
  MetricReading reading;
  for (const std::string& pod : pods) {
    if (auto s = PodsMetricSample(pod, query_time)) reading.pod_samples[pod] = *s;
  }
  return reading;
}

MetricReading MetricsPipeline::CpuReading(const std::vector<std::string>& pods) const {
  MetricReading reading;
  for (const std::string& pod : pods) {
    if (auto s = CpuSample(pod)) reading.pod_samples[pod] = *s;
  }
  return reading;
}

void MetricsPipeline::RemovePod(const std::string& pod) {
  series_.erase(pod);
  cpu_.erase(pod);
}

Result<MetricsPipelineConfig> ParseMetricsPipeline(const nlohmann::json& value, const std::string& path,
                                                   ParseErrors& errors) {
  const size_t before = errors.size();
  ObjectReader r(value, path, errors);
  MetricsPipelineConfig c;
  constexpr Nanos kHour = 3600 * kNanosPerSecond;
  c.scrape_interval = r.Duration("scrape_interval", kNanosPerSecond, kHour).value_or(c.scrape_interval);
  c.rate_window = r.Duration("rate_window", kNanosPerSecond, 24 * kHour).value_or(c.rate_window);
  if (auto o = r.Enum("scrape_offset", {"hash", "none"})) c.hash_scrape_offset = *o == "hash";
  c.metric_resolution =
      r.Duration("metric_resolution", kFreshContainerMinResolution, kHour).value_or(c.metric_resolution);
  r.Finish();
  if (r.valid() && c.rate_window <= c.scrape_interval) {
    errors.Add(JoinPath(path, "rate_window"),
               "a window longer than scrape_interval (" + FormatDuration(c.scrape_interval) +
                   "), so that rate() sees two samples",
               FormatDuration(c.rate_window));
  }
  if (errors.size() > before) return Status::InvalidArgument("invalid metrics pipeline at " + path);
  return c;
}

}  // namespace scaletwin
