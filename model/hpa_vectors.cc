#include "model/hpa_vectors.h"

#include <cmath>

#include "model/hpa_controller.h"
#include "model/hpa_normalize.h"
#include "model/hpa_reconcile_input.h"
#include "model/json_reader.h"

namespace scaletwin {
namespace {

constexpr Nanos kNow = 0;
constexpr int64_t kInt32Max = 2147483647;
// The replica_calculator_test.go controller settings.
constexpr Nanos kTestCpuInitPeriod = 120 * kNanosPerSecond;
constexpr Nanos kTestReadinessDelay = 10 * kNanosPerSecond;

Nanos Age(double age_s) { return kNow - static_cast<Nanos>(std::llround(age_s * 1e9)); }
Nanos Secs(int64_t s) { return s * kNanosPerSecond; }

int32_t Int32(ObjectReader& r, const char* key, int64_t min = 0) {
  return static_cast<int32_t>(r.Int(key, min, kInt32Max, true).value_or(0));
}

// An age in seconds that may be null (Go's zero time / no start time).
std::optional<Nanos> OptionalAge(ObjectReader& r, const char* key) {
  const nlohmann::json* v = r.Get(key);
  if (!v || v->is_null()) return std::nullopt;
  if (!v->is_number() || v->get<double>() < 0 || v->get<double>() > 1e9) {
    r.errors().Add(JoinPath(r.path(), key), "null or an age in seconds in [0, 1e9]", DescribeJson(*v));
    return std::nullopt;
  }
  return Age(v->get<double>());
}

// An array of integer milli values at r[key]; absent is empty.
std::vector<int64_t> MilliList(ObjectReader& r, const char* key) {
  std::vector<int64_t> out;
  const nlohmann::json* v = r.Get(key);
  if (!v) return out;
  const std::string path = JoinPath(r.path(), key);
  if (!v->is_array()) {
    r.errors().Add(path, "an array of integers", DescribeJson(*v));
    return out;
  }
  for (size_t i = 0; i < v->size(); ++i) {
    const nlohmann::json& x = (*v)[i];
    if (x.is_number_integer() && std::llabs(x.get<int64_t>()) < INT64_MAX / 4) out.push_back(x.get<int64_t>());
    else r.errors().Add(JoinPath(path, i), "an integer", DescribeJson(x));
  }
  return out;
}

std::vector<ScaleEvent> Events(ObjectReader& r, const char* key) {
  const nlohmann::json* v = r.Get(key);
  if (!v) return {};
  return ParseScaleEvents(*v, JoinPath(r.path(), key), kNow, r.errors()).value_or(std::vector<ScaleEvent>{});
}

std::vector<TimestampedRecommendation> Recs(ObjectReader& r, const char* key) {
  const nlohmann::json* v = r.Get(key);
  if (!v) {
    r.errors().AddMessage(JoinPath(r.path(), key), "required array is missing");
    return {};
  }
  return ParseRecommendations(*v, JoinPath(r.path(), key), kNow, r.errors())
      .value_or(std::vector<TimestampedRecommendation>{});
}

ScalingRules Rules(ObjectReader& r, const char* key) {
  const nlohmann::json* v = r.Get(key);
  if (!v) {
    r.errors().AddMessage(JoinPath(r.path(), key), "required rules object is missing");
    return {};
  }
  return ParseSnakeScalingRules(*v, JoinPath(r.path(), key), r.errors()).value_or(ScalingRules{});
}

nlohmann::json RunReplicaCalc(ObjectReader& r) {
  const auto source = r.Enum("metric_source", {"Resource", "ContainerResource", "Pods", "Object", "External"}, true);
  MetricSpec spec;
  for (MetricSourceType t : {MetricSourceType::kResource, MetricSourceType::kContainerResource, MetricSourceType::kPods,
                             MetricSourceType::kObject, MetricSourceType::kExternal}) {
    if (source && *source == MetricSourceTypeName(t)) spec.type = t;
  }
  const bool resource = spec.type == MetricSourceType::kResource || spec.type == MetricSourceType::kContainerResource;
  spec.resource_name = r.String("resource", resource).value_or("");
  spec.container = r.String("container").value_or("");
  spec.metric_name = resource ? "" : "metric";
  const auto type = r.Enum("target_type", {"Utilization", "AverageValue", "Value"}, true).value_or("Value");
  const int64_t target = r.Int("target", 1, INT64_MAX / 4, true).value_or(1);
  const Quantity q{FormatMilli(target), target, static_cast<double>(target) / 1000};
  if (type == "Utilization") {
    spec.target.type = MetricTargetType::kUtilization;
    spec.target.average_utilization = static_cast<int32_t>(std::min<int64_t>(target, kInt32Max));
  } else if (type == "AverageValue") {
    spec.target.type = MetricTargetType::kAverageValue;
    spec.target.average_value = q;
  } else {
    spec.target.type = MetricTargetType::kValue;
    spec.target.value = q;
  }
  ProposalContext ctx;
  ctx.spec_replicas = ctx.status_replicas = Int32(r, "current_replicas");
  ctx.timing = {kNow, kTestCpuInitPeriod, kTestReadinessDelay};
  if (const nlohmann::json* tol = r.Get("tolerance")) {
    ObjectReader tr(*tol, JoinPath(r.path(), "tolerance"), r.errors());
    ctx.tolerances.scale_down = tr.Number("scale_down", 0, 100, true).value_or(0.1);
    ctx.tolerances.scale_up = tr.Number("scale_up", 0, 100, true).value_or(0.1);
    tr.Finish();
  }
  HpaControllerOptions fixture;
  fixture.cpu_initialization_period = kTestCpuInitPeriod;
  MetricReading reading;
  if (const nlohmann::json* pods = r.Get("pods")) {
    if (!pods->is_array()) r.errors().Add(JoinPath(r.path(), "pods"), "an array of pods", DescribeJson(*pods));
    for (size_t i = 0; pods->is_array() && i < pods->size(); ++i) {
      auto f = ParseFixturePod((*pods)[i], JoinPath(JoinPath(r.path(), "pods"), i), i, {spec.resource_name}, fixture,
                               kNow, r.errors());
      if (!f) continue;
      if (f->usage.is_number_integer()) reading.pod_samples[f->pod.name] = FixtureSample(f->usage.get<int64_t>(), kNow);
      ctx.pods.push_back(std::move(f->pod));
    }
  }
  const std::vector<int64_t> unmatched = MilliList(r, "unmatched_metric_values_milli");
  for (size_t i = 0; i < unmatched.size(); ++i) {
    reading.pod_samples["unmatched-" + std::to_string(i)] = FixtureSample(unmatched[i], kNow);
  }
  if (auto v = r.Int("object_value_milli", INT64_MIN / 4, INT64_MAX / 4)) reading.values_milli.push_back(*v);
  for (int64_t v : MilliList(r, "external_values_milli")) reading.values_milli.push_back(v);
  const MetricProposal p = ComputeMetricProposal(spec, reading, ctx);
  if (!p.ok) return {{"error", p.error}};
  nlohmann::json out{{"replicas", p.proposal.replicas}};
  if (p.proposal.utilization_percent) out["utilization_percent"] = *p.proposal.utilization_percent;
  if (p.proposal.average_value_milli) out["average_usage_milli"] = *p.proposal.average_value_milli;
  if (p.proposal.value_milli) out["usage_milli"] = *p.proposal.value_milli;
  return out;
}

nlohmann::json RunGroupPods(ObjectReader& r) {
  const std::string resource = r.String("resource", true).value_or("");
  ReadinessTiming timing{kNow, Secs(r.Int("cpu_initialization_period_s", 0, 1'000'000, true).value_or(0)),
                         Secs(r.Int("initial_readiness_delay_s", 0, 1'000'000, true).value_or(0))};
  std::vector<HpaPod> pods;
  PodMetrics metrics;
  const nlohmann::json* list = r.Get("pods");
  if (!list || !list->is_array()) r.errors().Add(JoinPath(r.path(), "pods"), "an array of pods", list ? DescribeJson(*list) : "nothing");
  for (size_t i = 0; list && list->is_array() && i < list->size(); ++i) {
    ObjectReader pr((*list)[i], JoinPath(JoinPath(r.path(), "pods"), i), r.errors());
    HpaPod p;
    p.name = pr.String("name", true).value_or("");
    if (auto phase = pr.Enum("phase", {"Pending", "Running", "Succeeded", "Failed", "Unknown"}, true)) {
      p.phase = *PodPhaseFromName(*phase);
    }
    p.deleting = pr.Bool("deleting").value_or(false);
    p.start_time = OptionalAge(pr, "start_age_s");
    if (const nlohmann::json* c = pr.Get("ready_condition"); c && !c->is_null()) {
      ObjectReader cr(*c, JoinPath(pr.path(), "ready_condition"), r.errors());
      PodReadyCondition cond;
      if (auto st = cr.Enum("status", {"True", "False", "Unknown"}, true)) cond.status = *ConditionStatusFromName(*st);
      cond.last_transition_time = Age(cr.Number("last_transition_age_s", 0, 1e9, true).value_or(0));
      cr.Finish();
      p.ready = cond;
    }
    if (const nlohmann::json* m = pr.Get("metric"); m && !m->is_null()) {
      ObjectReader mr(*m, JoinPath(pr.path(), "metric"), r.errors());
      PodMetricSample sample;
      sample.timestamp = OptionalAge(mr, "timestamp_age_s");
      sample.window = Secs(mr.Int("window_s", 0, 1'000'000, true).value_or(0));
      mr.Finish();
      metrics[p.name] = sample;
    }
    pr.Finish();
    pods.push_back(std::move(p));
  }
  const PodGroups g = GroupPods(pods, metrics, resource, timing);
  return {{"ready_count", g.ready_count}, {"unready", g.unready}, {"missing", g.missing}, {"ignored", g.ignored}};
}

nlohmann::json RunStabilizeLegacy(ObjectReader& r) {
  const Nanos window = Secs(r.Int("downscale_stabilization_window_s", 0, 1'000'000, true).value_or(0));
  std::vector<TimestampedRecommendation> recs = Recs(r, "recommendations");
  const Stabilized s = StabilizeLegacy(recs, Int32(r, "desired_replicas"), window, kNow);
  nlohmann::json after = nlohmann::json::array();
  for (const auto& rec : recs) after.push_back(rec.replicas);
  return {{"replicas", s.replicas}, {"recommendations_after_len", recs.size()}, {"recommendations_after", after}};
}

nlohmann::json RunStabilizeBehavior(ObjectReader& r) {
  const int32_t current = Int32(r, "current_replicas");
  const int32_t desired = Int32(r, "desired_replicas");
  const Nanos up = Secs(r.Int("scale_up_window_s", 0, 1'000'000, true).value_or(0));
  const Nanos down = Secs(r.Int("scale_down_window_s", 0, 1'000'000, true).value_or(0));
  std::vector<TimestampedRecommendation> recs = Recs(r, "recommendations");
  const Stabilized s = StabilizeWithBehavior(recs, current, desired, up, down, kNow);
  nlohmann::json after = nlohmann::json::array();
  for (const auto& rec : recs) after.push_back(rec.replicas);
  return {{"replicas", s.replicas}, {"recommendations_after", after}, {"reason", s.reason}};
}

nlohmann::json RunLegacyClamp(ObjectReader& r) {
  ClampInput in{Int32(r, "current_replicas"), Int32(r, "desired_replicas"), Int32(r, "min_replicas"),
                Int32(r, "max_replicas")};
  const double factor = r.Number("scale_up_limit_factor", 0, 1e6, true).value_or(2);
  const double minimum = r.Number("scale_up_limit_minimum", 0, 1e9, true).value_or(4);
  const Limited l = LegacyClamp(in, factor, minimum);
  return {{"replicas", l.replicas}, {"reason", l.reason}};
}

nlohmann::json RunPolicyLimit(ObjectReader& r) {
  const std::string direction = r.Enum("direction", {"up", "down"}, true).value_or("up");
  const int32_t current = Int32(r, "current_replicas");
  const ScalingRules rules = Rules(r, "rules");
  const auto up = Events(r, "scale_up_events");
  const auto down = Events(r, "scale_down_events");
  const int32_t limit = direction == "up" ? ScaleUpLimit(current, up, down, rules, kNow)
                                          : ScaleDownLimit(current, up, down, rules, kNow);
  return {{"limit", limit}};
}

nlohmann::json RunRateLimitBehavior(ObjectReader& r) {
  ClampInput in{Int32(r, "current_replicas"), Int32(r, "desired_replicas"), Int32(r, "min_replicas"),
                Int32(r, "max_replicas")};
  const ScalingRules up = Rules(r, "scale_up_rules");
  const ScalingRules down = Rules(r, "scale_down_rules");
  const Limited l = LimitWithBehavior(in, up, down, Events(r, "scale_up_events"), Events(r, "scale_down_events"), kNow);
  return {{"replicas", l.replicas}, {"reason", l.reason}};
}

nlohmann::json RunStoreScaleEvents(ObjectReader& r) {
  std::optional<ScalingRules> rules;
  if (const nlohmann::json* v = r.Get("rules"); v && !v->is_null()) {
    rules = ParseSnakeScalingRules(*v, JoinPath(r.path(), "rules"), r.errors());
  } else if (!v) {
    r.errors().AddMessage(JoinPath(r.path(), "rules"), "required (null for no behavior)");
  }
  std::vector<ScaleEvent> events = Events(r, "events_before");
  const int32_t change = Int32(r, "new_change");
  const int32_t before = ReplicasChangePerPeriod(60, events, kNow);
  // Without behavior the controller keeps no events at all.
  if (rules) StoreScaleEvent(events, *rules, change, kNow);
  nlohmann::json after = nlohmann::json::array();
  for (const ScaleEvent& e : events) after.push_back({{"change", e.change}, {"outdated", e.outdated}});
  return {{"change_in_last_60s_before_store", before}, {"events_after", after}};
}

nlohmann::json RunBehaviorDefaults(ObjectReader& r) {
  const std::string direction = r.Enum("direction", {"up", "down"}, true).value_or("up");
  std::optional<ScalingRules> given;
  if (const nlohmann::json* v = r.Get("spec"); v && !v->is_null()) {
    given = ParseSnakeScalingRules(*v, JoinPath(r.path(), "spec"), r.errors());
  }
  const ScalingRules rules = direction == "up" ? DefaultScaleUpRules(given) : DefaultScaleDownRules(given);
  return {{"rules", SnakeScalingRulesToJson(rules)}};
}

nlohmann::json RunControllerReconcile(const nlohmann::json& input, const std::string& path, ParseErrors& errors) {
  std::optional<ReconcileInput> in = ParseReconcileInput(input, path, errors);
  if (!in) return nullptr;
  const HpaReconcileResult r = ReconcileHpa(in->spec, in->options, in->observation, in->state, in->now);
  nlohmann::json conditions = nlohmann::json::object();
  for (const HpaCondition& c : r.decision.conditions) conditions[c.type] = {ConditionStatusName(c.status), c.reason};
  return {{"desired_replicas", r.decision.desired_replicas}, {"conditions", conditions}};
}

bool Agrees(const nlohmann::json& expected, const nlohmann::json& actual) {
  if (!expected.is_object() || !actual.is_object()) return false;
  if (actual.contains("error") != expected.contains("error")) return false;
  for (const auto& [key, want] : expected.items()) {
    if (!actual.contains(key)) return false;
    const nlohmann::json& got = actual[key];
    if (key == "error" && want.is_string() && got.is_string()) {
      std::string w = want.get<std::string>();
      const std::string g = got.get<std::string>();
      if (w.size() >= 3 && w.compare(w.size() - 3, 3, "...") == 0) {
        w.resize(w.size() - 3);
        if (g.compare(0, w.size(), w) != 0) return false;
      } else if (g != w) {
        return false;
      }
      continue;
    }
    if (got != want) return false;
  }
  return true;
}

}  // namespace

Result<VectorOutcome> RunHpaVector(const nlohmann::json& vector, const std::string& path) {
  ParseErrors errors;
  ObjectReader r(vector, path, errors);
  VectorOutcome out;
  out.id = r.String("id", true).value_or("");
  out.kind = r.Enum("kind", {"replica_calc", "group_pods", "stabilize_legacy", "stabilize_behavior", "legacy_clamp",
                             "policy_limit", "rate_limit_behavior", "store_scale_events", "behavior_defaults",
                             "controller_reconcile"},
                    true)
                 .value_or("");
  r.Get("source");
  r.String("notes");
  const nlohmann::json* input = r.Get("input");
  const nlohmann::json* expected = r.Get("expected");
  if (!input) errors.AddMessage(JoinPath(path, "input"), "required object is missing");
  if (!expected || !expected->is_object()) {
    errors.Add(JoinPath(path, "expected"), "an object", expected ? DescribeJson(*expected) : "nothing");
  }
  r.Finish();
  if (!errors.empty()) return errors.ToStatus("test vector");
  out.expected = *expected;
  const std::string ipath = JoinPath(path, "input");
  if (out.kind == "controller_reconcile") {
    out.actual = RunControllerReconcile(*input, ipath, errors);
  } else {
    ObjectReader in(*input, ipath, errors);
    if (out.kind == "replica_calc") out.actual = RunReplicaCalc(in);
    else if (out.kind == "group_pods") out.actual = RunGroupPods(in);
    else if (out.kind == "stabilize_legacy") out.actual = RunStabilizeLegacy(in);
    else if (out.kind == "stabilize_behavior") out.actual = RunStabilizeBehavior(in);
    else if (out.kind == "legacy_clamp") out.actual = RunLegacyClamp(in);
    else if (out.kind == "policy_limit") out.actual = RunPolicyLimit(in);
    else if (out.kind == "rate_limit_behavior") out.actual = RunRateLimitBehavior(in);
    else if (out.kind == "store_scale_events") out.actual = RunStoreScaleEvents(in);
    else if (out.kind == "behavior_defaults") out.actual = RunBehaviorDefaults(in);
    in.Finish();
  }
  if (!errors.empty()) return errors.ToStatus("test vector " + out.id);
  out.agree = Agrees(out.expected, out.actual);
  return out;
}

Result<std::vector<VectorOutcome>> RunHpaVectors(const nlohmann::json& vectors) {
  if (!vectors.is_array()) {
    return Status::InvalidArgument("/: expected an array of test vectors, found " + DescribeJson(vectors));
  }
  std::vector<VectorOutcome> out;
  for (size_t i = 0; i < vectors.size(); ++i) {
    Result<VectorOutcome> o = RunHpaVector(vectors[i], JoinPath("", i));
    if (!o.ok()) return o.status();
    out.push_back(std::move(*o));
  }
  return out;
}

}  // namespace scaletwin
