#include "model/limiter_auditor.h"

#include <algorithm>
#include <deque>
#include <optional>
#include <unordered_map>

#include "model/limiter_plan.h"

namespace scaletwin {

void LimiterAuditor::Record(const std::string& key, const std::string& tenant, const LimitSpec& limit, Nanos time,
                            bool admitted) {
  auto [it, inserted] = keys_.try_emplace(key);
  if (inserted) {
    it->second.tenant = tenant;
    it->second.limit = limit;
  }
  it->second.events.push_back({time, admitted});
}

LimiterAuditReport LimiterAuditor::Report() const { return Report(0, 0, 0); }

LimiterAuditReport LimiterAuditor::Report(Nanos origin, Nanos interval, size_t intervals) const {
  LimiterAuditReport report;
  LimiterAuditSeries* series = nullptr;
  if (interval > 0 && intervals > 0) {
    series = &report.series;
    series->origin = origin;
    series->interval = interval;
    for (auto* v : {&series->admitted, &series->refused, &series->excess_admits, &series->false_refusals,
                    &series->strict_excess}) {
      v->assign(intervals, 0);
    }
  }
  for (const auto& [key, log] : keys_) {
    report.keys.push_back(AuditKey(key, log, series));
    report.excess_admits += report.keys.back().excess_admits;
    report.false_refusals += report.keys.back().false_refusals;
    report.strict_excess += report.keys.back().strict_excess;
  }
  return report;
}

namespace {

// The algorithm's rule, fed events in time order: Admits(t) asks, Take(t)
// records an admitted request (whether or not the rule agreed).
class ReferenceRule {
 public:
  ReferenceRule(LimiterAlgorithm algorithm, const LimitSpec& limit)
      : algorithm_(algorithm), l_(limit.requests), w_(limit.window_ms()), interval_(GcraIntervalMicros(limit)) {}

  bool Admits(Nanos time) {
    const int64_t t = FloorDivInt(time, kNanosPerMilli);
    switch (algorithm_) {
      case LimiterAlgorithm::kSlidingLog: {
        Trim(t);
        return static_cast<int64_t>(log_.size()) < l_;
      }
      case LimiterAlgorithm::kFixedWindow: return windows_[FloorDivInt(t, w_)] < l_;
      case LimiterAlgorithm::kSlidingCounter: {
        const int64_t idx = FloorDivInt(t, w_);
        const int64_t curr = windows_[idx], prev = windows_[idx - 1];
        return prev * (w_ - (t - idx * w_)) + (curr + 1) * w_ <= l_ * w_;
      }
      case LimiterAlgorithm::kTokenBucket: return Refilled(t) >= w_;
      case LimiterAlgorithm::kGcra: {
        const int64_t now = FloorDivInt(time, kNanosPerMicro);
        const int64_t new_tat = std::max(tat_.value_or(now), now) + interval_;
        return now - (new_tat - l_ * interval_) >= 0;
      }
    }
    return true;
  }

  void Take(Nanos time) {
    const int64_t t = FloorDivInt(time, kNanosPerMilli);
    switch (algorithm_) {
      case LimiterAlgorithm::kSlidingLog: log_.push_back(t); break;
      case LimiterAlgorithm::kFixedWindow:
      case LimiterAlgorithm::kSlidingCounter: ++windows_[FloorDivInt(t, w_)]; break;
      case LimiterAlgorithm::kTokenBucket:
        tokens_ = Refilled(t) - w_;  // may go negative: debt from a wrong admission
        last_ = t;
        break;
      case LimiterAlgorithm::kGcra: {
        const int64_t now = FloorDivInt(time, kNanosPerMicro);
        tat_ = std::max(tat_.value_or(now), now) + interval_;
        break;
      }
    }
  }

 private:
  void Trim(int64_t t) {
    while (!log_.empty() && log_.front() <= t - w_) log_.pop_front();
  }
  int64_t Refilled(int64_t t) const {
    if (!last_) return l_ * w_;
    const int64_t elapsed = std::clamp<int64_t>(t - *last_, 0, w_);
    return std::min(l_ * w_, tokens_ + elapsed * l_);
  }

  LimiterAlgorithm algorithm_;
  int64_t l_, w_, interval_;
  std::deque<int64_t> log_;
  std::unordered_map<int64_t, int64_t> windows_;
  int64_t tokens_ = 0;
  std::optional<int64_t> last_;
  std::optional<int64_t> tat_;
};

}  // namespace

LimiterKeyAudit LimiterAuditor::AuditKey(const std::string& key, const KeyLog& log, LimiterAuditSeries* series) const {
  LimiterKeyAudit a;
  a.key = key;
  a.tenant = log.tenant;
  a.limit = log.limit.requests;
  a.window_ms = log.limit.window_ms();
  std::vector<Event> events = log.events;
  std::stable_sort(events.begin(), events.end(), [](const Event& x, const Event& y) { return x.time < y.time; });
  ReferenceRule own(algorithm_, log.limit);
  ReferenceRule strict(LimiterAlgorithm::kSlidingLog, log.limit);
  std::deque<int64_t> window;  // admitted ms times in (t-W, t], for the peak
  // The interval a decision falls in, or nullopt outside the series.
  auto bin = [series](Nanos time) -> std::optional<size_t> {
    if (!series || time < series->origin) return std::nullopt;
    const auto i = static_cast<size_t>((time - series->origin) / series->interval);
    if (i >= series->admitted.size()) return std::nullopt;
    return i;
  };
  for (const Event& e : events) {
    const bool own_admits = own.Admits(e.time);
    const std::optional<size_t> i = bin(e.time);
    if (e.admitted) {
      ++a.admitted;
      const bool strict_admits = strict.Admits(e.time);
      if (!own_admits) ++a.excess_admits;
      if (!strict_admits) ++a.strict_excess;
      if (i) {
        ++series->admitted[*i];
        if (!own_admits) ++series->excess_admits[*i];
        if (!strict_admits) ++series->strict_excess[*i];
      }
      own.Take(e.time);
      strict.Take(e.time);
      const int64_t t = FloorDivInt(e.time, kNanosPerMilli);
      while (!window.empty() && window.front() <= t - a.window_ms) window.pop_front();
      window.push_back(t);
      a.peak_in_window = std::max<int64_t>(a.peak_in_window, static_cast<int64_t>(window.size()));
    } else {
      ++a.refused;
      if (own_admits) ++a.false_refusals;
      if (i) {
        ++series->refused[*i];
        if (own_admits) ++series->false_refusals[*i];
      }
    }
  }
  return a;
}

nlohmann::json LimiterAuditReport::SeriesJson() const {
  return {{"interval_s", ToSeconds(series.interval)},
          {"admitted", series.admitted},
          {"refused", series.refused},
          {"excess_admits", series.excess_admits},
          {"false_refusals", series.false_refusals},
          {"strict_excess", series.strict_excess}};
}

nlohmann::json LimiterAuditReport::AuditJson() const {
  nlohmann::json out = nlohmann::json::array();
  for (const LimiterKeyAudit& k : keys) {
    out.push_back({{"key", k.key},
                   {"tenant", k.tenant},
                   {"limit", k.limit},
                   {"window_ms", k.window_ms},
                   {"admitted", k.admitted},
                   {"refused", k.refused},
                   {"peak_in_window", k.peak_in_window},
                   {"excess_admits", k.excess_admits},
                   {"false_refusals", k.false_refusals},
                   {"strict_excess", k.strict_excess}});
  }
  return out;
}

nlohmann::json LimiterAuditReport::SummaryJson() const {
  return {{"excess_admits", excess_admits}, {"false_refusals", false_refusals}, {"strict_excess", strict_excess}};
}

nlohmann::json LimiterAuditReport::ToJson() const { return {{"audit", AuditJson()}, {"summary", SummaryJson()}}; }

}  // namespace scaletwin
