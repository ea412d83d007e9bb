// The autoscaling/v2 HorizontalPodAutoscaler spec, as users paste it from a
// manifest, and the controller options (kube-controller-manager flags).
//
// Field names are Kubernetes' own (minReplicas, metrics[].resource.target.
// averageUtilization, behavior.scaleDown.policies[].periodSeconds, ...) and
// quantities are manifest strings ("100", "500m", "1k"). Parsing is strict:
// unknown keys are errors, every error names its JSON pointer. Parsing also
// applies the API server's defaulting (pkg/apis/autoscaling/v2/defaults.go):
// minReplicas 1, an empty metric list becomes CPU Utilization 80 %, and when
// `behavior` is present each direction is filled rule by rule from the
// defaults (a given `policies` list replaces the default list as a whole).
// behavior.scaleDown.stabilizationWindowSeconds stays unset: the controller
// fills it from HpaControllerOptions::downscale_stabilization, as Kubernetes does.
//
//   ParseErrors errors;
//   Result<HpaSpec> spec = ParseHpaSpec(doc["hpa"]["spec"], "/hpa/spec", errors);
//   Result<HpaControllerOptions> opts = ParseHpaControllerOptions(doc["hpa"]["controller"],
//                                                                "/hpa/controller", errors);
//   if (!errors.empty()) return errors.ToStatus("scenario");
//
// Controller options JSON (all optional, Kubernetes' defaults shown):
//   {"sync_period": "15s", "tolerance": 0.1, "cpu_initialization_period": "5m",
//    "initial_readiness_delay": "30s", "downscale_stabilization": "5m"}
//
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/duration.h"
#include "model/json_reader.h"
#include "model/quantity.h"
#include "model/status.h"

namespace scaletwin {

enum class MetricSourceType { kResource, kContainerResource, kPods, kObject, kExternal };
enum class MetricTargetType { kUtilization, kValue, kAverageValue };
enum class ScalingPolicyType { kPods, kPercent };
enum class SelectPolicy { kMax, kMin, kDisabled };

const char* MetricSourceTypeName(MetricSourceType t);  // "Resource", ...
const char* MetricTargetTypeName(MetricTargetType t);  // "Utilization", ...
const char* ScalingPolicyTypeName(ScalingPolicyType t);
const char* SelectPolicyName(SelectPolicy p);

struct MetricTarget {
  MetricTargetType type = MetricTargetType::kUtilization;
  std::optional<int32_t> average_utilization;  // percent of request
  std::optional<Quantity> average_value;
  std::optional<Quantity> value;
};

// One entry of spec.metrics. Which fields matter depends on `type`:
// Resource: resource_name; ContainerResource: resource_name + container;
// Pods/External: metric_name; Object: metric_name + described_object.
// Label selectors are kept as JSON: the model does not select series.
struct MetricSpec {
  MetricSourceType type = MetricSourceType::kResource;
  std::string resource_name;  // "cpu", "memory"
  std::string container;
  std::string metric_name;
  nlohmann::json metric_selector;  // null when absent
  nlohmann::json described_object;  // {apiVersion, kind, name}; null unless Object
  MetricTarget target;

  // A short name for reports: "cpu", "container app/cpu", "pods/qps", "object/qps", "external/qps".
  std::string DisplayName() const;
};

struct ScalingPolicy {
  ScalingPolicyType type = ScalingPolicyType::kPods;
  int32_t value = 0;
  int32_t period_seconds = 0;
};

// HPAScalingRules. Optional fields are unset when the manifest leaves them
// out; DefaultScaleUpRules/DefaultScaleDownRules fill them.
struct ScalingRules {
  std::optional<int32_t> stabilization_window_seconds;
  std::optional<SelectPolicy> select_policy;
  std::optional<std::vector<ScalingPolicy>> policies;
  std::optional<double> tolerance;  // per-direction tolerance (HPAConfigurableTolerance)
};

struct HpaBehavior {
  std::optional<ScalingRules> scale_up;
  std::optional<ScalingRules> scale_down;
};

struct HpaSpec {
  nlohmann::json scale_target_ref;  // kept for reports, otherwise ignored
  int32_t min_replicas = 1;
  int32_t max_replicas = 1;
  std::vector<MetricSpec> metrics;
  // nullopt: the legacy path (no rate limits, legacy scale-up limit).
  std::optional<HpaBehavior> behavior;
};

// kube-controller-manager flags that shape the HPA, with Kubernetes' defaults.
struct HpaControllerOptions {
  Nanos sync_period = 15 * kNanosPerSecond;
  double tolerance = 0.1;
  Nanos cpu_initialization_period = 300 * kNanosPerSecond;
  Nanos initial_readiness_delay = 30 * kNanosPerSecond;
  Nanos downscale_stabilization = 300 * kNanosPerSecond;
  // Package variables of horizontal.go, not flags: the legacy scale-up limit
  // max(factor × current, minimum). horizontal_test.go sets the factor to 8.
  double scale_up_limit_factor = 2.0;
  double scale_up_limit_minimum = 4.0;
  // Feature gate HPAConfigurableTolerance (beta, on by default in 1.35).
  bool configurable_tolerance = true;
};

// API defaulting of one direction (GenerateHPAScaleUpRules): stabilization 0 s,
// selectPolicy Max, policies Pods 4 / 15 s and Percent 100 / 15 s; fields set in
// `given` replace their default.
ScalingRules DefaultScaleUpRules(const std::optional<ScalingRules>& given);
// GenerateHPAScaleDownRules: stabilization unset, Max, Percent 100 / 15 s.
ScalingRules DefaultScaleDownRules(const std::optional<ScalingRules>& given);
// Applies every API default to a spec (idempotent). ParseHpaSpec calls it.
void ApplyHpaDefaults(HpaSpec& spec);

// Reads the `spec` of an autoscaling/v2 HorizontalPodAutoscaler at `path`,
// validates it like the API server (ranges, one target field per target type,
// non-empty policy lists) and applies the API defaults. Problems are appended
// to `errors`; the Result fails iff this call added any.
Result<HpaSpec> ParseHpaSpec(const nlohmann::json& value, const std::string& path, ParseErrors& errors);

// Reads controller options at `path` (see the header comment for the keys).
Result<HpaControllerOptions> ParseHpaControllerOptions(const nlohmann::json& value, const std::string& path,
                                                       ParseErrors& errors);

// Reads one HPAScalingRules object (Kubernetes field names) without defaulting.
std::optional<ScalingRules> ParseScalingRules(const nlohmann::json& value, const std::string& path,
                                              ParseErrors& errors);

}  // namespace scaletwin
