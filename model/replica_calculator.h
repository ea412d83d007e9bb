// Per-metric replica proposals of the Kubernetes HPA (replica_calculator.go),
// including the pod grouping rules, over plain inputs.
//
// One call answers "what replica count does this one metric ask for?" the way
// kube-controller-manager does: pods are grouped into ignored (deleting or
// Failed), unready (Pending; for cpu also the initialization-period and
// never-been-ready rules), missing (no sample) and ready; the ratio to the
// target is computed with Kubernetes' integer truncations; inside the
// tolerance band the proposal is the current count; missing pods are re-filled
// pessimistically (100 % / the target on scale-down, 0 on scale-up), unready
// pods count as 0 on scale-up, and a direction flip keeps the current count.
// The HPA controller (hpa_controller.h) takes the maximum over metrics.
//
//   ProposalContext ctx{.spec_replicas = 3, .status_replicas = 3, .pods = pods,
//                       .tolerances = {0.1, 0.1}, .timing = {now, 300s, 30s}};
//   MetricReading cpu{.pod_samples = samples};          // what metrics-server returned
//   MetricProposal p = ComputeMetricProposal(spec.metrics[0], cpu, ctx);
//   if (p.ok) use(p.replicas); else log(p.error);     // p.failure_reason: FailedGetResourceMetric
//
// Time is explicit: `timing.now` and every timestamp are in the caller's clock
// (virtual or steady nanoseconds); nothing here reads a clock.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "model/duration.h"
#include "model/hpa_spec.h"
#include "model/status.h"

namespace scaletwin {

enum class PodPhase { kPending, kRunning, kSucceeded, kFailed, kUnknown };
enum class ConditionStatus { kTrue, kFalse, kUnknown };

std::optional<PodPhase> PodPhaseFromName(std::string_view name);  // "Running", ...
std::optional<ConditionStatus> ConditionStatusFromName(std::string_view name);  // "True", ...
const char* ConditionStatusName(ConditionStatus s);

struct PodReadyCondition {
  ConditionStatus status = ConditionStatus::kTrue;
  Nanos last_transition_time = 0;
};

// A container's resource requests in milli-units; a resource absent from the
// map means the container has no request for it.
struct ContainerRequests {
  std::string name;
  std::map<std::string, int64_t> requests_milli;
};

// A pod as the HPA sees it through the pod lister (matched by the selector:
// surge and extra pods included).
struct HpaPod {
  std::string name;
  PodPhase phase = PodPhase::kRunning;
  bool deleting = false;                       // deletionTimestamp set
  std::optional<Nanos> start_time;             // status.startTime
  std::optional<PodReadyCondition> ready;      // the Ready condition, if any
  std::vector<ContainerRequests> containers;   // incl. restartable init containers
};

// One metric sample for one pod. `timestamp` nullopt is Go's zero time
// (older than anything); `window` is the sample's averaging window.
struct PodMetricSample {
  int64_t value_milli = 0;
  std::optional<Nanos> timestamp;
  Nanos window = 60 * kNanosPerSecond;
};

// Samples by pod name. May hold names that are not in the pod list.
using PodMetrics = std::map<std::string, PodMetricSample>;

// What the metrics API returned for one entry of spec.metrics.
struct MetricReading {
  // Set when the metrics API call failed (adapter down, no such metric).
  std::optional<std::string> error;
  PodMetrics pod_samples;             // Resource, ContainerResource, Pods
  std::vector<int64_t> values_milli;  // Object: exactly one value; External: every series (summed)
};

struct Tolerances {
  double scale_down = 0.1;
  double scale_up = 0.1;
  // True iff 1 - scale_down <= ratio <= 1 + scale_up (float64, as Kubernetes).
  bool IsWithin(double ratio) const { return 1.0 - scale_down <= ratio && ratio <= 1.0 + scale_up; }
};

struct ReadinessTiming {
  Nanos now = 0;
  Nanos cpu_initialization_period = 300 * kNanosPerSecond;
  Nanos initial_readiness_delay = 30 * kNanosPerSecond;
};

struct PodGroups {
  int ready_count = 0;
  std::set<std::string> unready;
  std::set<std::string> missing;
  std::set<std::string> ignored;
};

// groupPods(): classifies every pod (rules in the header comment; the cpu
// rules apply only when `resource` is "cpu", so pass "" for Pods metrics).
PodGroups GroupPods(const std::vector<HpaPod>& pods, const PodMetrics& metrics, const std::string& resource,
                    const ReadinessTiming& timing);

// The per-metric numbers, as Kubernetes reports them in status.currentMetrics.
struct ReplicaProposal {
  int32_t replicas = 0;
  std::optional<int32_t> utilization_percent;   // Utilization targets: floor(100·Σusage/Σrequest)
  std::optional<int64_t> average_value_milli;   // Resource/Pods: floor(Σ/n) before re-filling
  std::optional<int64_t> value_milli;           // Object/External: value, or ceil(value/statusReplicas) per pod
};

// GetResourceReplicas: Utilization target in percent of the request summed
// over the pod's containers (only `container` when non-empty).
Result<ReplicaProposal> ResourceUtilizationReplicas(int32_t current_replicas, int32_t target_percent,
                                                    const std::string& resource, const std::string& container,
                                                    const std::vector<HpaPod>& pods, PodMetrics metrics,
                                                    const Tolerances& tolerances, const ReadinessTiming& timing);

// calcPlainMetricReplicas: AverageValue of a Pods metric (resource "") or of a
// Resource/ContainerResource metric (resource "cpu", "memory", ...).
Result<ReplicaProposal> PlainMetricReplicas(int32_t current_replicas, int64_t target_milli, const std::string& resource,
                                            const std::vector<HpaPod>& pods, PodMetrics metrics,
                                            const Tolerances& tolerances, const ReadinessTiming& timing);

// Object/External with a Value target (External: `value_milli` is the sum).
// Ready pods here are Running with Ready=True; from zero replicas the
// proposal is ceil(ratio) and the tolerance is ignored.
Result<ReplicaProposal> ValueMetricReplicas(int32_t current_replicas, int64_t value_milli, int64_t target_milli,
                                            const std::vector<HpaPod>& pods, const Tolerances& tolerances);

// Object/External with an AverageValue target: uses status.replicas.
Result<ReplicaProposal> PerPodValueMetricReplicas(int32_t status_replicas, int64_t value_milli,
                                                  int64_t target_per_pod_milli, const Tolerances& tolerances);

struct ProposalContext {
  int32_t spec_replicas = 0;    // scale.spec.replicas: the current count
  int32_t status_replicas = 0;  // scale.status.replicas: only for Object/External AverageValue
  std::vector<HpaPod> pods;
  Tolerances tolerances;
  ReadinessTiming timing;
};

// The outcome for one metric, success or failure, for the controller and reports.
struct MetricProposal {
  std::string metric;  // MetricSpec::DisplayName()
  std::string target;  // "30%", "15 (AverageValue)", ...
  bool ok = false;
  ReplicaProposal proposal;
  std::string error;           // when !ok
  std::string failure_reason;  // when !ok: FailedGetResourceMetric, FailedGetPodsMetric, ...
};

// computeReplicasForMetric for one spec entry and what its metrics API call returned.
MetricProposal ComputeMetricProposal(const MetricSpec& spec, const MetricReading& reading, const ProposalContext& ctx);

}  // namespace scaletwin
