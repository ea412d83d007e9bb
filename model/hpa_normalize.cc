#include "model/hpa_normalize.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace scaletwin {
namespace {

bool Inside(Nanos t, Nanos window, Nanos now) { return now - t < window; }

Nanos Seconds(int32_t s) { return static_cast<Nanos>(s) * kNanosPerSecond; }

int32_t SaturatingInt32(double x) {
  if (!(x < static_cast<double>(std::numeric_limits<int32_t>::max()))) return std::numeric_limits<int32_t>::max();
  if (x < static_cast<double>(std::numeric_limits<int32_t>::min())) return std::numeric_limits<int32_t>::min();
  return static_cast<int32_t>(x);
}

}  // namespace

Stabilized StabilizeLegacy(std::vector<TimestampedRecommendation>& recs, int32_t raw, Nanos window, Nanos now) {
  int32_t max_rec = raw;
  std::optional<size_t> old;
  for (size_t i = 0; i < recs.size(); ++i) {
    if (!Inside(recs[i].time, window, now)) old = i;
    else max_rec = std::max(max_rec, recs[i].replicas);
  }
  if (old) recs[*old] = {raw, now};
  else recs.push_back({raw, now});
  return {max_rec, max_rec != raw ? "ScaleDownStabilized" : "ReadyForNewScale"};
}

Stabilized StabilizeWithBehavior(std::vector<TimestampedRecommendation>& recs, int32_t current, int32_t raw,
                                 Nanos up_window, Nanos down_window, Nanos now) {
  int32_t up_bound = raw, down_bound = raw;
  std::optional<size_t> old;
  for (size_t i = 0; i < recs.size(); ++i) {
    const bool in_up = Inside(recs[i].time, up_window, now);
    const bool in_down = Inside(recs[i].time, down_window, now);
    if (in_up) up_bound = std::min(up_bound, recs[i].replicas);
    if (in_down) down_bound = std::max(down_bound, recs[i].replicas);
    if (!in_up && !in_down) old = i;
  }
  int32_t result = current;
  if (result < up_bound) result = up_bound;
  if (result > down_bound) result = down_bound;
  if (old) recs[*old] = {raw, now};
  else recs.push_back({raw, now});
  if (result == raw) return {result, "ReadyForNewScale"};
  return {result, raw >= current ? "ScaleUpStabilized" : "ScaleDownStabilized"};
}

Limited LegacyClamp(const ClampInput& in, double factor, double minimum) {
  const int32_t scale_up_limit = SaturatingInt32(std::max(factor * static_cast<double>(in.current), minimum));
  int32_t max_allowed;
  std::string reason;
  if (in.max > scale_up_limit) {
    max_allowed = scale_up_limit;
    reason = "ScaleUpLimit";
  } else {
    max_allowed = in.max;
    reason = "TooManyReplicas";
  }
  if (in.desired < in.min) return {in.min, "TooFewReplicas"};
  if (in.desired > max_allowed) return {max_allowed, reason};
  return {in.desired, "DesiredWithinRange"};
}

int32_t ReplicasChangePerPeriod(int32_t period_seconds, const std::vector<ScaleEvent>& events, Nanos now) {
  int32_t sum = 0;
  for (const ScaleEvent& e : events) {
    if (Inside(e.time, Seconds(period_seconds), now)) sum += e.change;
  }
  return sum;
}

int32_t ScaleUpLimit(int32_t current, const std::vector<ScaleEvent>& up_events,
                     const std::vector<ScaleEvent>& down_events, const ScalingRules& rules, Nanos now) {
  const SelectPolicy select = rules.select_policy.value_or(SelectPolicy::kMax);
  if (select == SelectPolicy::kDisabled) return current;
  // Max picks the largest change (the highest limit), Min the smallest.
  int32_t result = select == SelectPolicy::kMin ? std::numeric_limits<int32_t>::max()
                                                : std::numeric_limits<int32_t>::min();
  for (const ScalingPolicy& p : rules.policies.value_or(std::vector<ScalingPolicy>{})) {
    // The replica count at the start of the period, from both histories.
    const int32_t start = current - ReplicasChangePerPeriod(p.period_seconds, up_events, now) +
                          ReplicasChangePerPeriod(p.period_seconds, down_events, now);
    const int32_t proposed =
        p.type == ScalingPolicyType::kPods
            ? start + p.value
            : SaturatingInt32(std::ceil(static_cast<double>(start) * (1.0 + static_cast<double>(p.value) / 100.0)));
    result = select == SelectPolicy::kMin ? std::min(result, proposed) : std::max(result, proposed);
  }
  return result;
}

int32_t ScaleDownLimit(int32_t current, const std::vector<ScaleEvent>& up_events,
                       const std::vector<ScaleEvent>& down_events, const ScalingRules& rules, Nanos now) {
  const SelectPolicy select = rules.select_policy.value_or(SelectPolicy::kMax);
  if (select == SelectPolicy::kDisabled) return current;
  // Max picks the largest change (the lowest limit), Min the smallest.
  int32_t result = select == SelectPolicy::kMin ? std::numeric_limits<int32_t>::min()
                                                : std::numeric_limits<int32_t>::max();
  for (const ScalingPolicy& p : rules.policies.value_or(std::vector<ScalingPolicy>{})) {
    const int32_t start = current - ReplicasChangePerPeriod(p.period_seconds, up_events, now) +
                          ReplicasChangePerPeriod(p.period_seconds, down_events, now);
    // Percent truncates toward zero (Go's float→int32 conversion).
    const int32_t proposed =
        p.type == ScalingPolicyType::kPods
            ? start - p.value
            : SaturatingInt32(std::trunc(static_cast<double>(start) * (1.0 - static_cast<double>(p.value) / 100.0)));
    result = select == SelectPolicy::kMin ? std::max(result, proposed) : std::min(result, proposed);
  }
  return result;
}

Limited LimitWithBehavior(const ClampInput& in, const ScalingRules& up_rules, const ScalingRules& down_rules,
                          const std::vector<ScaleEvent>& up_events, const std::vector<ScaleEvent>& down_events,
                          Nanos now) {
  if (in.desired > in.current) {
    // Never below current: a limit under it only means "no further scale-up yet".
    const int32_t limit = std::max(ScaleUpLimit(in.current, up_events, down_events, up_rules, now), in.current);
    int32_t max_allowed = in.max;
    std::string reason = "TooManyReplicas";
    if (max_allowed > limit) {
      max_allowed = limit;
      reason = "ScaleUpLimit";
    }
    if (in.desired > max_allowed) return {max_allowed, reason};
  } else if (in.desired < in.current) {
    const int32_t limit = std::min(ScaleDownLimit(in.current, up_events, down_events, down_rules, now), in.current);
    int32_t min_allowed = in.min;
    std::string reason = "TooFewReplicas";
    if (min_allowed < limit) {
      min_allowed = limit;
      reason = "ScaleDownLimit";
    }
    if (in.desired < min_allowed) return {min_allowed, reason};
  }
  return {in.desired, "DesiredWithinRange"};
}

void StoreScaleEvent(std::vector<ScaleEvent>& events, const ScalingRules& rules, int32_t change, Nanos now) {
  int32_t longest = 0;
  for (const ScalingPolicy& p : rules.policies.value_or(std::vector<ScalingPolicy>{})) {
    longest = std::max(longest, p.period_seconds);
  }
  std::optional<size_t> reuse;
  for (size_t i = 0; i < events.size(); ++i) {
    if (!Inside(events[i].time, Seconds(longest), now)) events[i].outdated = true;
    if (events[i].outdated) reuse = i;
  }
  if (reuse) events[*reuse] = {change, now, false};
  else events.push_back({change, now, false});
}

}  // namespace scaletwin
