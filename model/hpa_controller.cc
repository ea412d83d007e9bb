#include "model/hpa_controller.h"

#include <algorithm>

namespace scaletwin {
namespace {

constexpr const char* kConditionOrder[] = {"AbleToScale", "ScalingActive", "ScalingLimited"};

void SetCondition(HpaDecision& d, const std::string& type, ConditionStatus status, const std::string& reason) {
  for (HpaCondition& c : d.conditions) {
    if (c.type == type) {
      c.status = status;
      c.reason = reason;
      return;
    }
  }
  d.conditions.push_back({type, status, reason});
  std::sort(d.conditions.begin(), d.conditions.end(), [](const HpaCondition& a, const HpaCondition& b) {
    auto rank = [](const std::string& t) {
      for (size_t i = 0; i < std::size(kConditionOrder); ++i) {
        if (t == kConditionOrder[i]) return i;
      }
      return std::size(kConditionOrder);
    };
    return rank(a.type) < rank(b.type);
  });
}

}  // namespace

const HpaCondition* HpaDecision::Condition(const std::string& type) const {
  for (const HpaCondition& c : conditions) {
    if (c.type == type) return &c;
  }
  return nullptr;
}

Tolerances TolerancesFor(const HpaSpec& spec, const HpaControllerOptions& options) {
  Tolerances t{options.tolerance, options.tolerance};
  if (!spec.behavior || !options.configurable_tolerance) return t;
  if (spec.behavior->scale_down && spec.behavior->scale_down->tolerance) t.scale_down = *spec.behavior->scale_down->tolerance;
  if (spec.behavior->scale_up && spec.behavior->scale_up->tolerance) t.scale_up = *spec.behavior->scale_up->tolerance;
  return t;
}

HpaReconcileResult ReconcileHpa(const HpaSpec& spec, const HpaControllerOptions& options,
                                const HpaObservation& obs, HpaState state, Nanos now) {
  HpaDecision d;
  const int32_t current = obs.spec_replicas;
  d.current_replicas = current;
  d.desired_replicas = current;
  d.tolerances = TolerancesFor(spec, options);
  SetCondition(d, "AbleToScale", ConditionStatus::kTrue, "SucceededGetScale");
  // First sight (or after a controller restart): the current size counts as a
  // recent recommendation, so no scale-down happens for one downscale window.
  if (!state.recommendations) state.recommendations = std::vector<TimestampedRecommendation>{{current, now}};

  const int32_t min_replicas = spec.min_replicas;
  int32_t desired = 0;
  if (current == 0 && min_replicas != 0) {
    SetCondition(d, "ScalingActive", ConditionStatus::kFalse, "ScalingDisabled");
    return {std::move(d), std::move(state)};
  } else if (current > spec.max_replicas) {
    d.rescale_reason = "Current number of replicas above Spec.MaxReplicas";
    desired = spec.max_replicas;
  } else if (current < min_replicas) {
    d.rescale_reason = "Current number of replicas below Spec.MinReplicas";
    desired = min_replicas;
  } else {
    ProposalContext ctx{current, obs.status_replicas, obs.pods, d.tolerances,
                        {now, options.cpu_initialization_period, options.initial_readiness_delay}};
    int32_t replicas = 0;
    std::string metric;
    int invalid = 0;
    const MetricProposal* first_invalid = nullptr;
    static const MetricReading kNoReading{std::string("no reading was supplied for this metric"), {}, {}};
    for (size_t i = 0; i < spec.metrics.size(); ++i) {
      const MetricReading& reading = i < obs.readings.size() ? obs.readings[i] : kNoReading;
      d.proposals.push_back(ComputeMetricProposal(spec.metrics[i], reading, ctx));
    }
    for (const MetricProposal& p : d.proposals) {
      if (!p.ok) {
        if (!first_invalid) first_invalid = &p;
        ++invalid;
        continue;
      }
      // The first success is always taken, even a 0; then the maximum.
      if (replicas == 0 || p.proposal.replicas > replicas) {
        replicas = p.proposal.replicas;
        metric = p.metric;
      }
    }
    if (first_invalid) {
      d.error = "invalid metrics (" + std::to_string(invalid) + " invalid out of " +
                std::to_string(spec.metrics.size()) + "), first error is: " + first_invalid->error;
    }
    // All metrics failing, or some failing while the rest would scale down:
    // no change, since the failed metric might have asked for more.
    if (invalid >= static_cast<int>(spec.metrics.size()) || (invalid > 0 && replicas < current)) {
      SetCondition(d, "ScalingActive", ConditionStatus::kFalse,
                   first_invalid ? first_invalid->failure_reason : "InvalidMetricSourceType");
      return {std::move(d), std::move(state)};
    }
    SetCondition(d, "ScalingActive", ConditionStatus::kTrue, "ValidMetricFound");
    d.metric_replicas = replicas;
    desired = replicas;
    if (desired > current) d.rescale_reason = metric + " above target";
    if (desired < current) d.rescale_reason = "All metrics below target";

    const ClampInput clamp_base{current, 0, min_replicas, spec.max_replicas};
    if (!spec.behavior) {
      Stabilized s = StabilizeLegacy(*state.recommendations, desired, options.downscale_stabilization, now);
      SetCondition(d, "AbleToScale", ConditionStatus::kTrue, s.reason);
      ClampInput in = clamp_base;
      in.desired = s.replicas;
      Limited l = LegacyClamp(in, options.scale_up_limit_factor, options.scale_up_limit_minimum);
      SetCondition(d, "ScalingLimited", l.replicas == s.replicas ? ConditionStatus::kFalse : ConditionStatus::kTrue,
                   l.reason);
      d.stabilized_replicas = s.replicas;
      d.limiting_reason = l.reason;
      desired = l.replicas;
    } else {
      const ScalingRules up = DefaultScaleUpRules(spec.behavior->scale_up);
      ScalingRules down = DefaultScaleDownRules(spec.behavior->scale_down);
      const Nanos up_window = static_cast<Nanos>(up.stabilization_window_seconds.value_or(0)) * kNanosPerSecond;
      const Nanos down_window = down.stabilization_window_seconds
                                    ? static_cast<Nanos>(*down.stabilization_window_seconds) * kNanosPerSecond
                                    : options.downscale_stabilization;
      Stabilized s = StabilizeWithBehavior(*state.recommendations, current, desired, up_window, down_window, now);
      SetCondition(d, "AbleToScale", ConditionStatus::kTrue, s.reason);
      ClampInput in = clamp_base;
      in.desired = s.replicas;
      Limited l = LimitWithBehavior(in, up, down, state.scale_up_events, state.scale_down_events, now);
      SetCondition(d, "ScalingLimited", l.replicas == s.replicas ? ConditionStatus::kFalse : ConditionStatus::kTrue,
                   l.reason);
      d.stabilized_replicas = s.replicas;
      d.limiting_reason = l.reason;
      desired = l.replicas;
    }
  }

  d.desired_replicas = desired;
  d.rescale = desired != current;
  if (d.rescale) {
    SetCondition(d, "AbleToScale", ConditionStatus::kTrue, "SucceededRescale");
    if (spec.behavior) {
      if (desired > current) {
        StoreScaleEvent(state.scale_up_events, DefaultScaleUpRules(spec.behavior->scale_up), desired - current, now);
      } else {
        StoreScaleEvent(state.scale_down_events, DefaultScaleDownRules(spec.behavior->scale_down), current - desired,
                        now);
      }
    }
  }
  return {std::move(d), std::move(state)};
}

}  // namespace scaletwin
