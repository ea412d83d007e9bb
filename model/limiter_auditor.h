// LimiterAuditor: judges a limiter from outside, from the times of admitted
// and refused requests per key alone — never from the limiter's own state.
//
// Per key:
// - peak_in_window: the most admitted requests in any window (t-W, t];
// - strict_excess: admitted requests that found >= L earlier admitted ones in
//   (t-W, t] — admissions beyond `requests` per sliding `window`, whatever the
//   algorithm promised (fixed windows, counters and buckets do score here);
// - excess_admits: admitted requests that the algorithm's OWN rule, applied
//   atomically to the same admitted history, would have refused — a correct
//   atomic implementation scores 0, a race or lost state does not;
// - false_refusals: refused requests the same rule would have admitted.
//
// The reference rules (the plans' conventions, limiter_plan.h), evaluated in
// time order (stable for equal times, so record order breaks ties) over the
// admitted history only; t in ms = floor(time / 1 ms), GCRA in µs:
// - sliding_log: admit iff #admitted in (t-W, t] < L;
// - fixed_window: admit iff #admitted in [idx*W, (idx+1)*W) so far < L, idx = floor(t/W);
// - sliding_counter: admit iff prev*(W-e) + (curr+1)*W <= L*W with curr/prev
//   the admitted counts of windows idx and idx-1 so far, e = t - idx*W;
// - token_bucket: the script's arithmetic replayed over admitted requests
//   (every admitted request takes a token, so a wrongly admitted one leaves
//   the bucket in debt);
// - gcra: the script's TAT replayed over admitted requests.
// Which time to record is the caller's choice: Decision::rule_time judges the
// implementation (races, lost state); the true arrival time also charges
// clock skew to the limiter. The atomic plans score 0 excess with times
// monotone in Redis's execution order (redis_time); fixed_window with any
// times. With pod clocks whose stamps reach Redis out of order, even the
// atomic sliding log can score: a later stamp's trim removes entries an
// earlier stamp's window still holds (rare, and the audit is right to count it).
//
//   LimiterAuditor auditor(LimiterAlgorithm::kSlidingLog);
//   auditor.Record("rl:acme", "acme", {1000, 60 * kNanosPerSecond}, d.rule_time, d.allowed);
//   LimiterAuditReport report = auditor.Report();
//   json["limiter"]["audit"] = report.AuditJson();
//   json["summary"]["limiter"] = report.SummaryJson();
//
// Thread-safety: none.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/duration.h"
#include "model/limiter_config.h"

namespace scaletwin {

struct LimiterKeyAudit {
  std::string key;
  std::string tenant;
  int64_t limit = 0;
  int64_t window_ms = 0;
  int64_t admitted = 0;
  int64_t refused = 0;
  int64_t peak_in_window = 0;
  int64_t excess_admits = 0;
  int64_t false_refusals = 0;
  int64_t strict_excess = 0;
  bool operator==(const LimiterKeyAudit&) const = default;
};

// The same verdicts over time, summed over keys: decision i falls in interval
// floor((time - origin) / interval) (times outside [origin, origin + n x
// interval) are left out).
struct LimiterAuditSeries {
  Nanos origin = 0, interval = 0;
  std::vector<int64_t> admitted, refused, excess_admits, false_refusals, strict_excess;
  bool operator==(const LimiterAuditSeries&) const = default;
};

struct LimiterAuditReport {
  std::vector<LimiterKeyAudit> keys;  // sorted by key
  LimiterAuditSeries series;          // empty unless asked for
  int64_t excess_admits = 0;
  int64_t false_refusals = 0;
  int64_t strict_excess = 0;
  // [{key, tenant, limit, window_ms, admitted, refused, peak_in_window,
  //   excess_admits, false_refusals, strict_excess}, ...] for report.json's limiter.audit.
  nlohmann::json AuditJson() const;
  // {excess_admits, false_refusals, strict_excess} for summary.limiter.
  nlohmann::json SummaryJson() const;
  // {"audit": AuditJson(), "summary": SummaryJson()}.
  nlohmann::json ToJson() const;
  // {interval_s, admitted, refused, excess_admits, false_refusals, strict_excess}
  // (arrays, one value per interval) for report.json's limiter.series.
  nlohmann::json SeriesJson() const;
};

class LimiterAuditor {
 public:
  explicit LimiterAuditor(LimiterAlgorithm algorithm) : algorithm_(algorithm) {}

  // One decision. The first record of a key fixes its tenant and limit.
  void Record(const std::string& key, const std::string& tenant, const LimitSpec& limit, Nanos time, bool admitted);
  LimiterAuditReport Report() const;
  // Report() plus the series over `intervals` intervals from `origin`.
  LimiterAuditReport Report(Nanos origin, Nanos interval, size_t intervals) const;

 private:
  struct Event {
    Nanos time;
    bool admitted;
  };
  struct KeyLog {
    std::string tenant;
    LimitSpec limit;
    std::vector<Event> events;
  };
  LimiterKeyAudit AuditKey(const std::string& key, const KeyLog& log, LimiterAuditSeries* series) const;

  LimiterAlgorithm algorithm_;
  std::map<std::string, KeyLog> keys_;
};

}  // namespace scaletwin
