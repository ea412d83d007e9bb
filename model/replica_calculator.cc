#include "model/replica_calculator.h"

#include <cmath>
#include <limits>

namespace scaletwin {

std::optional<PodPhase> PodPhaseFromName(std::string_view name) {
  if (name == "Pending") return PodPhase::kPending;
  if (name == "Running") return PodPhase::kRunning;
  if (name == "Succeeded") return PodPhase::kSucceeded;
  if (name == "Failed") return PodPhase::kFailed;
  if (name == "Unknown") return PodPhase::kUnknown;
  return std::nullopt;
}

std::optional<ConditionStatus> ConditionStatusFromName(std::string_view name) {
  if (name == "True") return ConditionStatus::kTrue;
  if (name == "False") return ConditionStatus::kFalse;
  if (name == "Unknown") return ConditionStatus::kUnknown;
  return std::nullopt;
}

const char* ConditionStatusName(ConditionStatus s) {
  switch (s) {
    case ConditionStatus::kTrue: return "True";
    case ConditionStatus::kFalse: return "False";
    case ConditionStatus::kUnknown: return "Unknown";
  }
  return "?";
}

namespace {

// int32(math.Ceil(x)), saturated instead of Go's implementation-defined wrap.
int32_t CeilToInt32(double x) {
  const double c = std::ceil(x);
  if (!(c < static_cast<double>(std::numeric_limits<int32_t>::max()))) return std::numeric_limits<int32_t>::max();
  if (c < static_cast<double>(std::numeric_limits<int32_t>::min())) return std::numeric_limits<int32_t>::min();
  return static_cast<int32_t>(c);
}

bool DirectionFlipped(double ratio, double new_ratio) {
  return (ratio < 1.0 && new_ratio > 1.0) || (ratio > 1.0 && new_ratio < 1.0);
}

// The last step of the Kubernetes replica calculation once missing and unready
// pods have been filled in: no change inside the tolerance or when the fill-in
// flipped the direction, and never a change against the direction of the
// original ratio.
int32_t ReplicasAfterFillIn(int32_t current_replicas, double ratio, double new_ratio, size_t pod_count,
                            const Tolerances& tolerances) {
  if (tolerances.IsWithin(new_ratio) || DirectionFlipped(ratio, new_ratio)) return current_replicas;
  const int32_t new_replicas = CeilToInt32(new_ratio * static_cast<double>(pod_count));
  if ((new_ratio < 1.0 && new_replicas > current_replicas) || (new_ratio > 1.0 && new_replicas < current_replicas)) {
    return current_replicas;
  }
  return new_replicas;
}

// calculateRequests: per pod, the sum over containers (or the named one). A
// container without a request fails the whole metric, ignored pods included.
Result<std::map<std::string, int64_t>> CalculateRequests(const std::vector<HpaPod>& pods, const std::string& container,
                                                        const std::string& resource) {
  std::map<std::string, int64_t> requests;
  for (const HpaPod& pod : pods) {
    int64_t sum = 0;
    for (const ContainerRequests& c : pod.containers) {
      if (!container.empty() && container != c.name) continue;
      auto it = c.requests_milli.find(resource);
      if (it == c.requests_milli.end()) {
        return Status::InvalidArgument("missing request for " + resource + " in container " + c.name + " of Pod " +
                                       pod.name);
      }
      sum += it->second;
    }
    requests[pod.name] = sum;
  }
  return requests;
}

struct UtilizationRatio {
  double ratio = 0;
  int32_t utilization = 0;
  int64_t raw_average = 0;
};

// metricsclient.GetResourceUtilizationRatio: samples without a request
// (superfluous pod names) are skipped; the percent is truncated to an integer.
Result<UtilizationRatio> GetResourceUtilizationRatio(const PodMetrics& metrics,
                                                     const std::map<std::string, int64_t>& requests,
                                                     int32_t target_percent) {
  int64_t metrics_total = 0, requests_total = 0, entries = 0;
  for (const auto& [name, sample] : metrics) {
    auto it = requests.find(name);
    if (it == requests.end()) continue;
    metrics_total += sample.value_milli;
    requests_total += it->second;
    ++entries;
  }
  if (requests_total == 0) return Status::InvalidArgument("no metrics returned matched known pods");
  UtilizationRatio r;
  r.utilization = static_cast<int32_t>(metrics_total * 100 / requests_total);
  r.ratio = static_cast<double>(r.utilization) / static_cast<double>(target_percent);
  r.raw_average = metrics_total / entries;
  return r;
}

// metricsclient.GetMetricUsageRatio: every sample counts, superfluous ones too.
std::pair<double, int64_t> GetMetricUsageRatio(const PodMetrics& metrics, int64_t target_milli) {
  int64_t total = 0;
  for (const auto& [name, sample] : metrics) total += sample.value_milli;
  const int64_t usage = total / static_cast<int64_t>(metrics.size());
  return {static_cast<double>(usage) / static_cast<double>(target_milli), usage};
}

void RemoveMetricsForPods(PodMetrics& metrics, const std::set<std::string>& names) {
  for (const std::string& n : names) metrics.erase(n);
}

}  // namespace

PodGroups GroupPods(const std::vector<HpaPod>& pods, const PodMetrics& metrics, const std::string& resource,
                    const ReadinessTiming& timing) {
  PodGroups g;
  for (const HpaPod& pod : pods) {
    if (pod.deleting || pod.phase == PodPhase::kFailed) {
      g.ignored.insert(pod.name);
      continue;
    }
    if (pod.phase == PodPhase::kPending) {
      g.unready.insert(pod.name);
      continue;
    }
    auto sample = metrics.find(pod.name);
    if (sample == metrics.end()) {
      g.missing.insert(pod.name);
      continue;
    }
    if (resource == "cpu") {
      bool unready;
      if (!pod.ready || !pod.start_time) {
        unready = true;
      } else if (*pod.start_time + timing.cpu_initialization_period > timing.now) {
        // Inside the initialization period the sample must lie wholly after
        // the Ready transition, or it still carries start-up CPU.
        const bool sample_before_ready =
            !sample->second.timestamp ||
            *sample->second.timestamp < pod.ready->last_transition_time + sample->second.window;
        unready = pod.ready->status == ConditionStatus::kFalse || sample_before_ready;
      } else {
        // Past it, only a pod that has never been ready is excluded.
        unready = pod.ready->status == ConditionStatus::kFalse &&
                  *pod.start_time + timing.initial_readiness_delay > pod.ready->last_transition_time;
      }
      if (unready) {
        g.unready.insert(pod.name);
        continue;
      }
    }
    ++g.ready_count;
  }
  return g;
}

Result<ReplicaProposal> ResourceUtilizationReplicas(int32_t current_replicas, int32_t target_percent,
                                                    const std::string& resource, const std::string& container,
                                                    const std::vector<HpaPod>& pods, PodMetrics metrics,
                                                    const Tolerances& tolerances, const ReadinessTiming& timing) {
  if (pods.empty()) return Status::InvalidArgument("no pods returned by selector while calculating replica count");
  const PodGroups g = GroupPods(pods, metrics, resource, timing);
  RemoveMetricsForPods(metrics, g.ignored);
  RemoveMetricsForPods(metrics, g.unready);
  if (metrics.empty()) {
    return Status::InvalidArgument("did not receive metrics for targeted pods (pods might be unready)");
  }
  Result<std::map<std::string, int64_t>> requests = CalculateRequests(pods, container, resource);
  if (!requests.ok()) return requests.status();
  Result<UtilizationRatio> first = GetResourceUtilizationRatio(metrics, *requests, target_percent);
  if (!first.ok()) return first.status();

  ReplicaProposal out;
  out.utilization_percent = first->utilization;
  out.average_value_milli = first->raw_average;
  const double ratio = first->ratio;
  const bool scale_up_with_unready = !g.unready.empty() && ratio > 1.0;
  if (!scale_up_with_unready && g.missing.empty()) {
    // Multiplied by the ready pods with samples, not by current_replicas.
    out.replicas = tolerances.IsWithin(ratio) ? current_replicas : CeilToInt32(ratio * g.ready_count);
    return out;
  }
  if (!g.missing.empty()) {
    if (ratio < 1.0) {
      // Scale-down: a pod without a sample is assumed busy (100 %, or the target when above 100 %).
      const int64_t fallback = std::max<int64_t>(100, target_percent);
      for (const std::string& n : g.missing) metrics[n] = {requests->at(n) * fallback / 100, std::nullopt, 0};
    } else if (ratio > 1.0) {
      for (const std::string& n : g.missing) metrics[n] = {0, std::nullopt, 0};
    }
  }
  if (scale_up_with_unready) {
    for (const std::string& n : g.unready) metrics[n] = {0, std::nullopt, 0};
  }
  Result<UtilizationRatio> second = GetResourceUtilizationRatio(metrics, *requests, target_percent);
  if (!second.ok()) return second.status();
  out.replicas = ReplicasAfterFillIn(current_replicas, ratio, second->ratio, metrics.size(), tolerances);
  return out;
}

Result<ReplicaProposal> PlainMetricReplicas(int32_t current_replicas, int64_t target_milli, const std::string& resource,
                                            const std::vector<HpaPod>& pods, PodMetrics metrics,
                                            const Tolerances& tolerances, const ReadinessTiming& timing) {
  if (pods.empty()) return Status::InvalidArgument("no pods returned by selector while calculating replica count");
  const PodGroups g = GroupPods(pods, metrics, resource, timing);
  RemoveMetricsForPods(metrics, g.ignored);
  RemoveMetricsForPods(metrics, g.unready);
  if (metrics.empty()) {
    return Status::InvalidArgument("did not receive metrics for targeted pods (pods might be unready)");
  }
  const auto [ratio, usage] = GetMetricUsageRatio(metrics, target_milli);
  ReplicaProposal out;
  out.average_value_milli = usage;
  const bool scale_up_with_unready = !g.unready.empty() && ratio > 1.0;
  if (!scale_up_with_unready && g.missing.empty()) {
    out.replicas = tolerances.IsWithin(ratio) ? current_replicas : CeilToInt32(ratio * g.ready_count);
    return out;
  }
  if (!g.missing.empty()) {
    // Scale-down: a missing pod is assumed to be exactly at the target; scale-up: idle.
    // At a ratio of exactly 1 they stay out (replica_calc-021).
    if (ratio < 1.0) {
      for (const std::string& n : g.missing) metrics[n] = {target_milli, std::nullopt, 0};
    } else if (ratio > 1.0) {
      for (const std::string& n : g.missing) metrics[n] = {0, std::nullopt, 0};
    }
  }
  if (scale_up_with_unready) {
    for (const std::string& n : g.unready) metrics[n] = {0, std::nullopt, 0};
  }
  out.replicas = ReplicasAfterFillIn(current_replicas, ratio,
                                     GetMetricUsageRatio(metrics, target_milli).first, metrics.size(), tolerances);
  return out;
}

Result<ReplicaProposal> ValueMetricReplicas(int32_t current_replicas, int64_t value_milli, int64_t target_milli,
                                            const std::vector<HpaPod>& pods, const Tolerances& tolerances) {
  ReplicaProposal out;
  out.value_milli = value_milli;
  const double ratio = static_cast<double>(value_milli) / static_cast<double>(target_milli);
  if (current_replicas == 0) {
    // Scale from zero (HPAScaleToZero): no pods to count, no tolerance.
    out.replicas = CeilToInt32(ratio);
    return out;
  }
  if (tolerances.IsWithin(ratio)) {
    out.replicas = current_replicas;
    return out;
  }
  if (pods.empty()) {
    return Status::InvalidArgument(
        "unable to calculate ready pods: no pods returned by selector while calculating replica count");
  }
  int64_t ready = 0;
  for (const HpaPod& p : pods) {
    if (p.phase == PodPhase::kRunning && p.ready && p.ready->status == ConditionStatus::kTrue) ++ready;
  }
  out.replicas = CeilToInt32(ratio * static_cast<double>(ready));
  return out;
}

Result<ReplicaProposal> PerPodValueMetricReplicas(int32_t status_replicas, int64_t value_milli,
                                                  int64_t target_per_pod_milli, const Tolerances& tolerances) {
  ReplicaProposal out;
  out.replicas = status_replicas;
  const double value = static_cast<double>(value_milli);
  const double target = static_cast<double>(target_per_pod_milli);
  // With status.replicas 0 Go divides by zero (ratio NaN or +Inf, so never
  // within tolerance); the proposal below is the same either way.
  const bool within = status_replicas > 0 && tolerances.IsWithin(value / (target * status_replicas));
  if (!within) out.replicas = CeilToInt32(value / target);
  out.value_milli = status_replicas > 0 ? static_cast<int64_t>(std::ceil(value / status_replicas)) : value_milli;
  return out;
}

namespace {

std::string DescribeTarget(const MetricSpec& spec) {
  const MetricTarget& t = spec.target;
  switch (t.type) {
    case MetricTargetType::kUtilization:
      return t.average_utilization ? std::to_string(*t.average_utilization) + "% (Utilization)" : "unset";
    case MetricTargetType::kAverageValue:
      return t.average_value ? t.average_value->text + " (AverageValue)" : "unset";
    case MetricTargetType::kValue:
      return t.value ? t.value->text + " (Value)" : "unset";
  }
  return "?";
}

const char* FailureReason(MetricSourceType t) {
  switch (t) {
    case MetricSourceType::kResource: return "FailedGetResourceMetric";
    case MetricSourceType::kContainerResource: return "FailedGetContainerResourceMetric";
    case MetricSourceType::kPods: return "FailedGetPodsMetric";
    case MetricSourceType::kObject: return "FailedGetObjectMetric";
    case MetricSourceType::kExternal: return "FailedGetExternalMetric";
  }
  return "InvalidMetricSourceType";
}

Result<ReplicaProposal> Compute(const MetricSpec& spec, const MetricReading& reading, const ProposalContext& ctx) {
  const MetricTarget& t = spec.target;
  switch (spec.type) {
    case MetricSourceType::kResource:
    case MetricSourceType::kContainerResource: {
      if (reading.error) return Status::InvalidArgument("unable to get metrics for resource " + spec.resource_name + ": " + *reading.error);
      if (reading.pod_samples.empty()) {
        return Status::InvalidArgument("unable to get metrics for resource " + spec.resource_name +
                                       ": no metrics returned from resource metrics API");
      }
      if (t.average_value) {
        return PlainMetricReplicas(ctx.spec_replicas, t.average_value->milli, spec.resource_name, ctx.pods,
                                   reading.pod_samples, ctx.tolerances, ctx.timing);
      }
      if (!t.average_utilization) {
        return Status::InvalidArgument(
            "invalid resource metric source: neither an average utilization target nor an average value (usage) "
            "target was set");
      }
      const std::string container = spec.type == MetricSourceType::kContainerResource ? spec.container : "";
      return ResourceUtilizationReplicas(ctx.spec_replicas, *t.average_utilization, spec.resource_name, container,
                                         ctx.pods, reading.pod_samples, ctx.tolerances, ctx.timing);
    }
    case MetricSourceType::kPods: {
      if (reading.error) return Status::InvalidArgument("unable to get metric " + spec.metric_name + ": " + *reading.error);
      if (reading.pod_samples.empty()) {
        return Status::InvalidArgument("unable to get metric " + spec.metric_name +
                                       ": no metrics returned from custom metrics API");
      }
      if (!t.average_value) return Status::InvalidArgument("invalid pods metric source: no average value target");
      // Pods metrics are grouped without a resource name: no readiness rules.
      return PlainMetricReplicas(ctx.spec_replicas, t.average_value->milli, "", ctx.pods, reading.pod_samples,
                                 ctx.tolerances, ctx.timing);
    }
    case MetricSourceType::kObject:
    case MetricSourceType::kExternal: {
      const bool external = spec.type == MetricSourceType::kExternal;
      if (reading.error) return Status::InvalidArgument("unable to get metric " + spec.metric_name + ": " + *reading.error);
      if (reading.values_milli.empty()) {
        return Status::InvalidArgument("unable to get metric " + spec.metric_name + ": no metrics returned from " +
                                       (external ? "external" : "custom") + " metrics API");
      }
      int64_t value = 0;
      for (int64_t v : reading.values_milli) value += v;
      if (t.average_value) {
        return PerPodValueMetricReplicas(ctx.status_replicas, value, t.average_value->milli, ctx.tolerances);
      }
      if (t.value) return ValueMetricReplicas(ctx.spec_replicas, value, t.value->milli, ctx.pods, ctx.tolerances);
      return Status::InvalidArgument(std::string("invalid ") + (external ? "external" : "object") +
                                     " metric source: neither a value target nor an average value target was set");
    }
  }
  return Status::InvalidArgument("invalid metric source type");
}

}  // namespace

MetricProposal ComputeMetricProposal(const MetricSpec& spec, const MetricReading& reading, const ProposalContext& ctx) {
  MetricProposal p;
  p.metric = spec.DisplayName();
  p.target = DescribeTarget(spec);
  Result<ReplicaProposal> r = Compute(spec, reading, ctx);
  if (r.ok()) {
    p.ok = true;
    p.proposal = *r;
  } else {
    p.error = r.status().message();
    p.failure_reason = FailureReason(spec.type);
  }
  return p;
}

}  // namespace scaletwin
