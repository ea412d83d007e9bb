// Normalisation of the HPA's raw proposal (horizontal.go): stabilisation over
// stored recommendations, min/max, the legacy scale-up limit, and — when
// spec.behavior is set — the Pods/Percent policies over the scale-event
// history. Also the bookkeeping of both histories.
//
// Window rules (hpa.md §1): with `now` and a stored time t, an item is inside
// a window of W iff now - t < W, and "old" for it iff now - t >= W.
//
//   std::vector<TimestampedRecommendation> recs = state.recommendations;
//   Stabilized s = StabilizeWithBehavior(recs, /*current=*/4, /*raw=*/2, up, down, now);
//   Limited l = LimitWithBehavior({.current = 4, .desired = s.replicas, .min = 1, .max = 10},
//                                 up_rules, down_rules, state.scale_up_events, state.scale_down_events, now);
//
// Thread-safety: pure functions; histories are values the caller owns.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/duration.h"
#include "model/hpa_spec.h"

namespace scaletwin {

struct TimestampedRecommendation {
  int32_t replicas = 0;
  Nanos time = 0;
};

// A rescale, by direction; `change` is the absolute replica difference.
struct ScaleEvent {
  int32_t change = 0;
  Nanos time = 0;
  bool outdated = false;  // older than the direction's longest policy period; reusable slot
};

struct Stabilized {
  int32_t replicas = 0;
  // AbleToScale reason: ReadyForNewScale when the stabilised value equals the
  // raw proposal, else ScaleUpStabilized / ScaleDownStabilized.
  std::string reason;
};

struct Limited {
  int32_t replicas = 0;
  // ScalingLimited reason: DesiredWithinRange, TooManyReplicas, TooFewReplicas,
  // ScaleUpLimit or ScaleDownLimit. The condition is True iff replicas differ
  // from the value that went in.
  std::string reason;
};

// Legacy (behavior nil): the maximum of `raw` and every recommendation younger
// than `window`; then stores `raw` over the last old record, or appends it.
Stabilized StabilizeLegacy(std::vector<TimestampedRecommendation>& recommendations, int32_t raw, Nanos window,
                           Nanos now);

// Behavior: current clamped into [min over the up window ∪ {raw}, max over the
// down window ∪ {raw}]; stores `raw` over the last record old for both
// windows, or appends it.
Stabilized StabilizeWithBehavior(std::vector<TimestampedRecommendation>& recommendations, int32_t current,
                                 int32_t raw, Nanos up_window, Nanos down_window, Nanos now);

struct ClampInput {
  int32_t current = 0;
  int32_t desired = 0;  // already stabilised
  int32_t min = 1;
  int32_t max = 1;
};

// convertDesiredReplicasWithRules: [min, min(max, max(factor·current, minimum))].
Limited LegacyClamp(const ClampInput& in, double scale_up_limit_factor, double scale_up_limit_minimum);

// Sum of `change` over events younger than `period_seconds`.
int32_t ReplicasChangePerPeriod(int32_t period_seconds, const std::vector<ScaleEvent>& events, Nanos now);

// calculateScaleUpLimitWithScalingRules / calculateScaleDownLimitWithBehaviors.
// REQUIRES: rules fully defaulted (select_policy and policies set).
int32_t ScaleUpLimit(int32_t current, const std::vector<ScaleEvent>& up_events,
                     const std::vector<ScaleEvent>& down_events, const ScalingRules& rules, Nanos now);
int32_t ScaleDownLimit(int32_t current, const std::vector<ScaleEvent>& up_events,
                       const std::vector<ScaleEvent>& down_events, const ScalingRules& rules, Nanos now);

// convertDesiredReplicasWithBehaviorRate: rate limits from the policies, then min/max.
Limited LimitWithBehavior(const ClampInput& in, const ScalingRules& up_rules, const ScalingRules& down_rules,
                          const std::vector<ScaleEvent>& up_events, const std::vector<ScaleEvent>& down_events,
                          Nanos now);

// storeScaleEvent for one direction: marks events older than the rules'
// longest policy period outdated, then overwrites the last outdated one with
// {change, now} or appends.
void StoreScaleEvent(std::vector<ScaleEvent>& events, const ScalingRules& rules, int32_t change, Nanos now);

}  // namespace scaletwin
