// Reading one HPA reconcile from JSON: the `controller_reconcile` input of
// hpa.md §1 (snake_case, milli-units, ages in seconds), optionally with a
// Kubernetes autoscaling/v2 `spec` in place of min/max/metrics/behavior. The
// exact format is documented in hpa_controller.h. Used by `scaletwin hpa eval`
// and by the test-vector runner, so both feed ReconcileHpa() the same way.
//
//   ParseErrors errors;
//   std::optional<ReconcileInput> in = ParseReconcileInput(doc, "", errors);
//   if (!in) return errors.ToStatus("state file");
//   HpaReconcileResult r = ReconcileHpa(in->spec, in->options, in->observation, in->state, in->now);
//   nlohmann::json out = DecisionToJson(r.decision);
//
// Ages become timestamps with now = 0 (a record 60 s old is at -60 s).
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/hpa_controller.h"
#include "model/json_reader.h"

namespace scaletwin {

struct ReconcileInput {
  HpaSpec spec;
  HpaControllerOptions options;
  HpaObservation observation;
  HpaState state;
  Nanos now = 0;
};

// Reads a reconcile input at `path`. Problems go to `errors` (nullopt then).
std::optional<ReconcileInput> ParseReconcileInput(const nlohmann::json& value, const std::string& path,
                                                  ParseErrors& errors);

// Reads §1 scaling rules {select_policy, stabilization_window_s, policies[{type, value, period_s}], tolerance?}.
std::optional<ScalingRules> ParseSnakeScalingRules(const nlohmann::json& value, const std::string& path,
                                                   ParseErrors& errors);
nlohmann::json SnakeScalingRulesToJson(const ScalingRules& rules);

// A §1 simplified pod ({phase, ready, cpu_untrusted, deleting, request_milli,
// usage_milli}) as the controller sees it, with the fixture timestamps
// described in hpa_controller.h. `request_resources` get `request_milli` when
// it is a plain number. Samples from `usage_milli` are returned separately.
struct FixturePod {
  HpaPod pod;
  nlohmann::json usage;  // null, a number, or {metric: milli}
};
std::optional<FixturePod> ParseFixturePod(const nlohmann::json& value, const std::string& path, size_t index,
                                          const std::vector<std::string>& request_resources,
                                          const HpaControllerOptions& options, Nanos now, ParseErrors& errors);

// A sample taken `now` with a 60 s window (what the fixtures assume).
PodMetricSample FixtureSample(int64_t value_milli, Nanos now);

// Reads [{"change" | "replicas", "age_s", "outdated"?}] lists.
std::optional<std::vector<ScaleEvent>> ParseScaleEvents(const nlohmann::json& value, const std::string& path, Nanos now,
                                                        ParseErrors& errors);
std::optional<std::vector<TimestampedRecommendation>> ParseRecommendations(const nlohmann::json& value,
                                                                           const std::string& path, Nanos now,
                                                                           ParseErrors& errors);

// The decision and the state after it, for --format json and reports.
nlohmann::json DecisionToJson(const HpaDecision& decision);
nlohmann::json StateToJson(const HpaState& state, Nanos now);

}  // namespace scaletwin
