// One reconcile of one HorizontalPodAutoscaler, exactly as Kubernetes'
// controller does it (pkg/controller/podautoscaler/horizontal.go), over plain
// inputs. The simulator and the real harness call ReconcileHpa() every sync
// period (HpaControllerOptions::sync_period) with their own clock; the state
// the real controller keeps in memory between reconciles is an explicit value
// (HpaState) that goes in and comes back.
//
//   HpaState state;                                   // fresh: no history yet
//   every options.sync_period:
//     HpaObservation obs{.spec_replicas = deployment.replicas, .status_replicas = pods_total,
//                        .pods = LiveHpaPods(), .readings = ReadMetrics(spec)};
//     HpaReconcileResult r = ReconcileHpa(spec, options, obs, std::move(state), now);
//     state = std::move(r.state);
//     if (r.decision.rescale) deployment.SetReplicas(r.decision.desired_replicas);
//
// The steps (hpa.md §3–§5): on first sight the current count is recorded as a
// recommendation (holding scale-down for the downscale window); current 0 with
// minReplicas > 0 disables scaling; current outside [min, max] goes straight to
// the bound; otherwise each metric proposes a count (replica_calculator.h), the
// maximum wins, a failed metric blocks a scale-down (and all failing blocks any
// change), and the result is normalised (hpa_normalize.h): the legacy path when
// spec.behavior is unset, else both stabilisation windows and the policies.
// Scale events are recorded only when behavior is set. The rescale is assumed
// to succeed (the caller applies it).
//
// ---------------------------------------------------------------------------
// `scaletwin hpa eval STATE.json` reads this state-file format: the
// `controller_reconcile` input of hpa.md §1, and optionally a real HPA spec.
//   {
//     // Either the §1 fields ...
//     "min_replicas": 2, "max_replicas": 6,
//     "metrics": [{"source": "Resource"|"ContainerResource"|"Pods"|"Object"|"External",
//                  "name": "cpu",            // resource name, or metric name
//                  "container": "app",       // ContainerResource only
//                  "target_type": "Utilization"|"AverageValue"|"Value",
//                  "target": 30,             // percent for Utilization, else milli-units
//                  "value_milli": 20000,     // Object reading
//                  "values_milli": [8600],   // External readings (summed)
//                  "fails": true, "fail_reason": "..."}],   // metrics API error
//     "behavior": null | {"scale_up": RULES, "scale_down": RULES},
//         RULES = {"select_policy": "Max"|"Min"|"Disabled", "stabilization_window_s": n|null,
//                  "policies": [{"type": "Pods"|"Percent", "value": n, "period_s": n}], "tolerance": x}
//     // ... or, in their place, a Kubernetes autoscaling/v2 spec (hpa_spec.h):
//     "spec": {"minReplicas": 2, "maxReplicas": 6, "metrics": [...], "behavior": {...}},
//     "metric_values": {"<metric name>": {"value_milli": n} | {"values_milli": [n]} | {"fails": true}},
//         // Object/External readings and failures for spec metrics, by metric (or resource) name
//
//     "spec_replicas": 3, "status_replicas": 3,       // status defaults to spec
//     "pods": [{"name"?: "p0", "phase": "Running", "ready": true, "cpu_untrusted": false,
//               "deleting": false, "request_milli": 1000 | {"cpu": 1000} | null,
//               "usage_milli": {"cpu": 300, "qps": 20000} }],  // missing key: no sample
//     "recommendations": null | [{"replicas": 5, "age_s": 60}],   // null: no history yet
//     "scale_up_events": [{"change": 2, "age_s": 30}], "scale_down_events": [...],
//     // Controller options; defaults are Kubernetes' production values:
//     "tolerance": 0.1, "cpu_initialization_period_s": 300, "initial_readiness_delay_s": 30,
//     "downscale_stabilization_window_s": 300, "scale_up_limit_factor": 2.0,
//     "scale_up_limit_minimum": 4.0
//   }
// A pod's readiness flags map onto timestamps as in the Kubernetes test
// fixtures: cpu_untrusted pods started now (inside the CPU initialization
// period, sample taken before Ready), other pods started 3 minutes ago plus
// the initialization period; ready:false pods have never been Ready.
// ---------------------------------------------------------------------------
//
// Thread-safety: pure function over values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/duration.h"
#include "model/hpa_normalize.h"
#include "model/hpa_spec.h"
#include "model/replica_calculator.h"

namespace scaletwin {

// What kube-controller-manager keeps in memory per HPA between reconciles.
// Lost on a controller restart: pass a default-constructed HpaState to model one.
struct HpaState {
  // nullopt: no history yet; the next reconcile records {current, now} first.
  std::optional<std::vector<TimestampedRecommendation>> recommendations;
  std::vector<ScaleEvent> scale_up_events;
  std::vector<ScaleEvent> scale_down_events;
};

// What the controller reads in one sync.
struct HpaObservation {
  int32_t spec_replicas = 0;    // scale.spec.replicas
  int32_t status_replicas = 0;  // scale.status.replicas (pods that exist, surge included)
  std::vector<HpaPod> pods;     // pods matching the selector
  // readings[i] answers spec.metrics[i]; a missing entry counts as a failed call.
  std::vector<MetricReading> readings;
};

struct HpaCondition {
  std::string type;  // AbleToScale, ScalingActive, ScalingLimited
  ConditionStatus status = ConditionStatus::kTrue;
  std::string reason;
};

struct HpaDecision {
  int32_t current_replicas = 0;
  int32_t desired_replicas = 0;  // what scale.spec.replicas becomes (== current when nothing happens)
  bool rescale = false;
  std::string rescale_reason;    // the SuccessfulRescale event's reason
  Tolerances tolerances;         // as resolved for this HPA
  std::vector<MetricProposal> proposals;     // one per spec metric; empty when metrics were not read
  std::optional<int32_t> metric_replicas;    // max over the metrics that succeeded
  std::optional<int32_t> stabilized_replicas;
  std::string limiting_reason;   // ScalingLimited reason, "" when not evaluated
  std::string error;             // the FailedComputeMetricsReplicas message, if any
  // Conditions set by this reconcile, in the order AbleToScale, ScalingActive, ScalingLimited.
  std::vector<HpaCondition> conditions;

  const HpaCondition* Condition(const std::string& type) const;
};

struct HpaReconcileResult {
  HpaDecision decision;
  HpaState state;
};

// One reconcile at time `now`. REQUIRES: ApplyHpaDefaults(spec) has run
// (ParseHpaSpec does it).
HpaReconcileResult ReconcileHpa(const HpaSpec& spec, const HpaControllerOptions& options,
                                const HpaObservation& observation, HpaState state, Nanos now);

// The per-direction tolerances the controller uses for `spec`.
Tolerances TolerancesFor(const HpaSpec& spec, const HpaControllerOptions& options);

}  // namespace scaletwin
