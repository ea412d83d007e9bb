#include "model/hpa_reconcile_input.h"

#include <cmath>
#include <set>

namespace scaletwin {
namespace {

constexpr double kMaxAgeSeconds = 1e9;
constexpr int64_t kInt32Max = 2147483647;

Nanos AgeToNanos(double age_s) { return static_cast<Nanos>(std::llround(age_s * 1e9)); }

double NanosToAge(Nanos t, Nanos now) { return static_cast<double>(now - t) / 1e9; }

std::optional<int64_t> ReadInt(const nlohmann::json& v, const std::string& path, int64_t min, int64_t max,
                               ParseErrors& errors) {
  if (v.is_number_integer() || (v.is_number_float() && std::nearbyint(v.get<double>()) == v.get<double>())) {
    const double d = v.get<double>();
    if (d >= static_cast<double>(min) && d <= static_cast<double>(max)) return v.get<int64_t>();
  }
  errors.Add(path, "an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "]", DescribeJson(v));
  return std::nullopt;
}

Quantity MilliQuantity(int64_t milli) { return Quantity{FormatMilli(milli), milli, static_cast<double>(milli) / 1000}; }

struct VectorMetric {
  MetricSpec spec;
  MetricReading reading;
  bool has_value = false;
};

// A §1 metric entry: {source, name, container?, target_type, target, value_milli?, values_milli?, fails?, fail_reason?}.
std::optional<VectorMetric> ParseVectorMetric(const nlohmann::json& v, const std::string& path, ParseErrors& errors) {
  ObjectReader r(v, path, errors);
  VectorMetric m;
  const auto source = r.Enum("source", {"Resource", "ContainerResource", "Pods", "Object", "External"}, true);
  const std::string name = r.String("name", true).value_or("");
  const bool fails = r.Bool("fails").value_or(false);
  r.String("fail_reason");  // informational: the controller derives the reason from the source type
  for (MetricSourceType t : {MetricSourceType::kResource, MetricSourceType::kContainerResource, MetricSourceType::kPods,
                             MetricSourceType::kObject, MetricSourceType::kExternal}) {
    if (source && *source == MetricSourceTypeName(t)) m.spec.type = t;
  }
  const bool resource =
      m.spec.type == MetricSourceType::kResource || m.spec.type == MetricSourceType::kContainerResource;
  if (resource) m.spec.resource_name = name;
  else m.spec.metric_name = name;
  if (m.spec.type == MetricSourceType::kContainerResource) m.spec.container = r.String("container", true).value_or("");
  const auto type = r.Enum("target_type", {"Utilization", "AverageValue", "Value"}, !fails);
  const auto target = r.Int("target", 1, INT64_MAX / 4, !fails);
  if (type && target) {
    if (*type == "Utilization") {
      m.spec.target.type = MetricTargetType::kUtilization;
      m.spec.target.average_utilization = static_cast<int32_t>(std::min<int64_t>(*target, kInt32Max));
    } else if (*type == "AverageValue") {
      m.spec.target.type = MetricTargetType::kAverageValue;
      m.spec.target.average_value = MilliQuantity(*target);
    } else {
      m.spec.target.type = MetricTargetType::kValue;
      m.spec.target.value = MilliQuantity(*target);
    }
  }
  if (auto value = r.Int("value_milli", INT64_MIN / 4, INT64_MAX / 4)) {
    m.reading.values_milli.push_back(*value);
    m.has_value = true;
  }
  if (const nlohmann::json* values = r.Get("values_milli")) {
    m.has_value = true;
    if (!values->is_array()) errors.Add(JoinPath(path, "values_milli"), "an array of integers", DescribeJson(*values));
    else {
      for (size_t i = 0; i < values->size(); ++i) {
        if (auto x = ReadInt((*values)[i], JoinPath(JoinPath(path, "values_milli"), i), INT64_MIN / 4, INT64_MAX / 4, errors)) {
          m.reading.values_milli.push_back(*x);
        }
      }
    }
  }
  if (fails) m.reading.error = "the metrics API returned an error";
  r.Finish();
  return m;
}

// metric_values entry for spec mode: {value_milli} | {values_milli} | {fails, error?}.
void ParseMetricValue(const nlohmann::json& v, const std::string& path, MetricReading& reading, ParseErrors& errors) {
  ObjectReader r(v, path, errors);
  if (auto value = r.Int("value_milli", INT64_MIN / 4, INT64_MAX / 4)) reading.values_milli.push_back(*value);
  if (const nlohmann::json* values = r.Get("values_milli")) {
    if (!values->is_array()) errors.Add(JoinPath(path, "values_milli"), "an array of integers", DescribeJson(*values));
    else {
      for (size_t i = 0; i < values->size(); ++i) {
        if (auto x = ReadInt((*values)[i], JoinPath(JoinPath(path, "values_milli"), i), INT64_MIN / 4, INT64_MAX / 4, errors)) {
          reading.values_milli.push_back(*x);
        }
      }
    }
  }
  if (r.Bool("fails").value_or(false)) {
    reading.error = r.String("error").value_or("the metrics API returned an error");
  } else {
    r.String("error");
  }
  r.Finish();
}

std::string SampleKey(const MetricSpec& m) {
  const bool resource = m.type == MetricSourceType::kResource || m.type == MetricSourceType::kContainerResource;
  return resource ? m.resource_name : m.metric_name;
}

}  // namespace

PodMetricSample FixtureSample(int64_t value_milli, Nanos now) { return {value_milli, now, 60 * kNanosPerSecond}; }

std::optional<ScalingRules> ParseSnakeScalingRules(const nlohmann::json& v, const std::string& path,
                                                   ParseErrors& errors) {
  const size_t before = errors.size();
  ObjectReader r(v, path, errors);
  ScalingRules rules;
  if (auto p = r.Enum("select_policy", {"Max", "Min", "Disabled"})) {
    rules.select_policy = *p == "Max" ? SelectPolicy::kMax : *p == "Min" ? SelectPolicy::kMin : SelectPolicy::kDisabled;
  }
  if (const nlohmann::json* w = r.Get("stabilization_window_s"); w && !w->is_null()) {
    if (auto x = ReadInt(*w, JoinPath(path, "stabilization_window_s"), 0, 3600, errors)) {
      rules.stabilization_window_seconds = static_cast<int32_t>(*x);
    }
  }
  if (const nlohmann::json* ps = r.Get("policies"); ps && !ps->is_null()) {
    if (!ps->is_array()) {
      errors.Add(JoinPath(path, "policies"), "an array of {type, value, period_s}", DescribeJson(*ps));
    } else {
      std::vector<ScalingPolicy> policies;
      for (size_t i = 0; i < ps->size(); ++i) {
        ObjectReader pr((*ps)[i], JoinPath(JoinPath(path, "policies"), i), errors);
        ScalingPolicy p;
        if (auto t = pr.Enum("type", {"Pods", "Percent"}, true)) {
          p.type = *t == "Pods" ? ScalingPolicyType::kPods : ScalingPolicyType::kPercent;
        }
        p.value = static_cast<int32_t>(pr.Int("value", 1, kInt32Max, true).value_or(1));
        p.period_seconds = static_cast<int32_t>(pr.Int("period_s", 1, 1800, true).value_or(15));
        pr.Finish();
        policies.push_back(p);
      }
      rules.policies = std::move(policies);
    }
  }
  if (const nlohmann::json* t = r.Get("tolerance"); t && !t->is_null()) {
    if (t->is_number() && t->get<double>() >= 0) rules.tolerance = t->get<double>();
    else errors.Add(JoinPath(path, "tolerance"), "a number >= 0", DescribeJson(*t));
  }
  r.Finish();
  if (errors.size() != before) return std::nullopt;
  return rules;
}

nlohmann::json SnakeScalingRulesToJson(const ScalingRules& rules) {
  nlohmann::json j;
  j["select_policy"] = rules.select_policy ? nlohmann::json(SelectPolicyName(*rules.select_policy)) : nlohmann::json();
  j["stabilization_window_s"] =
      rules.stabilization_window_seconds ? nlohmann::json(*rules.stabilization_window_seconds) : nlohmann::json();
  nlohmann::json ps = nlohmann::json::array();
  for (const ScalingPolicy& p : rules.policies.value_or(std::vector<ScalingPolicy>{})) {
    ps.push_back({{"type", ScalingPolicyTypeName(p.type)}, {"value", p.value}, {"period_s", p.period_seconds}});
  }
  j["policies"] = ps;
  if (rules.tolerance) j["tolerance"] = *rules.tolerance;
  return j;
}

std::optional<FixturePod> ParseFixturePod(const nlohmann::json& v, const std::string& path, size_t index,
                                          const std::vector<std::string>& request_resources,
                                          const HpaControllerOptions& options, Nanos now, ParseErrors& errors) {
  const size_t before = errors.size();
  ObjectReader r(v, path, errors);
  FixturePod f;
  HpaPod& p = f.pod;
  p.name = r.String("name").value_or("pod-" + std::to_string(index));
  if (auto phase = r.Enum("phase", {"Pending", "Running", "Succeeded", "Failed", "Unknown"}, true)) {
    p.phase = *PodPhaseFromName(*phase);
  }
  const bool ready = r.Bool("ready").value_or(true);
  const bool untrusted = r.Bool("cpu_untrusted").value_or(false);
  p.deleting = r.Bool("deleting").value_or(false);
  // Fixture timestamps (horizontal_test.go): a "hot" pod started now and its
  // sample straddles the Ready transition; a "cool" pod started well before
  // the CPU initialization period ended. Ready transitions happen at start,
  // so a pod that is not Ready has never been Ready.
  const Nanos start = untrusted ? now : now - options.cpu_initialization_period - 60 * kNanosPerSecond;
  p.start_time = start;
  p.ready = PodReadyCondition{ready ? ConditionStatus::kTrue : ConditionStatus::kFalse, start};
  ContainerRequests c{"app", {}};
  if (const nlohmann::json* req = r.Get("request_milli"); req && !req->is_null()) {
    const std::string rpath = JoinPath(path, "request_milli");
    if (req->is_object()) {
      for (const auto& [res, milli] : req->items()) {
        if (auto x = ReadInt(milli, JoinPath(rpath, res), 0, INT64_MAX / 1000, errors)) c.requests_milli[res] = *x;
      }
    } else if (auto x = ReadInt(*req, rpath, 0, INT64_MAX / 1000, errors)) {
      for (const std::string& res : request_resources) c.requests_milli[res] = *x;
    }
  }
  p.containers.push_back(c);
  if (const nlohmann::json* usage = r.Get("usage_milli")) {
    if (!usage->is_null() && !usage->is_number_integer() && !usage->is_object()) {
      errors.Add(JoinPath(path, "usage_milli"), "null, an integer or {metric: integer}", DescribeJson(*usage));
    } else if (usage->is_object()) {
      for (const auto& [k, x] : usage->items()) ReadInt(x, JoinPath(JoinPath(path, "usage_milli"), k), 0, INT64_MAX / 1000, errors);
    }
    f.usage = *usage;
  }
  r.Finish();
  if (errors.size() != before) return std::nullopt;
  return f;
}

std::optional<std::vector<ScaleEvent>> ParseScaleEvents(const nlohmann::json& v, const std::string& path, Nanos now,
                                                        ParseErrors& errors) {
  const size_t before = errors.size();
  std::vector<ScaleEvent> events;
  if (!v.is_array()) {
    errors.Add(path, "an array of {change, age_s}", DescribeJson(v));
    return std::nullopt;
  }
  for (size_t i = 0; i < v.size(); ++i) {
    ObjectReader r(v[i], JoinPath(path, i), errors);
    ScaleEvent e;
    e.change = static_cast<int32_t>(r.Int("change", 0, kInt32Max, true).value_or(0));
    e.time = now - AgeToNanos(r.Number("age_s", 0, kMaxAgeSeconds, true).value_or(0));
    e.outdated = r.Bool("outdated").value_or(false);
    r.Finish();
    events.push_back(e);
  }
  if (errors.size() != before) return std::nullopt;
  return events;
}

std::optional<std::vector<TimestampedRecommendation>> ParseRecommendations(const nlohmann::json& v,
                                                                           const std::string& path, Nanos now,
                                                                           ParseErrors& errors) {
  const size_t before = errors.size();
  std::vector<TimestampedRecommendation> recs;
  if (!v.is_array()) {
    errors.Add(path, "an array of {replicas, age_s}", DescribeJson(v));
    return std::nullopt;
  }
  for (size_t i = 0; i < v.size(); ++i) {
    ObjectReader r(v[i], JoinPath(path, i), errors);
    TimestampedRecommendation rec;
    rec.replicas = static_cast<int32_t>(r.Int("replicas", 0, kInt32Max, true).value_or(0));
    rec.time = now - AgeToNanos(r.Number("age_s", 0, kMaxAgeSeconds, true).value_or(0));
    r.Finish();
    recs.push_back(rec);
  }
  if (errors.size() != before) return std::nullopt;
  return recs;
}

std::optional<ReconcileInput> ParseReconcileInput(const nlohmann::json& v, const std::string& path,
                                                  ParseErrors& errors) {
  const size_t before = errors.size();
  ObjectReader r(v, path, errors);
  if (!r.valid()) return std::nullopt;
  ReconcileInput in;
  in.now = 0;
  HpaControllerOptions& o = in.options;
  o.tolerance = r.Number("tolerance", 0, 100).value_or(o.tolerance);
  const auto seconds = [&](const char* key, Nanos fallback) {
    auto s = r.Number(key, 0, 1e6);
    return s ? AgeToNanos(*s) : fallback;
  };
  o.cpu_initialization_period = seconds("cpu_initialization_period_s", o.cpu_initialization_period);
  o.initial_readiness_delay = seconds("initial_readiness_delay_s", o.initial_readiness_delay);
  o.downscale_stabilization = seconds("downscale_stabilization_window_s", o.downscale_stabilization);
  o.scale_up_limit_factor = r.Number("scale_up_limit_factor", 0, 1e6).value_or(o.scale_up_limit_factor);
  o.scale_up_limit_minimum = r.Number("scale_up_limit_minimum", 0, 1e9).value_or(o.scale_up_limit_minimum);

  // The spec: either Kubernetes' own, or the §1 fields.
  std::vector<MetricReading> readings;
  if (const nlohmann::json* spec = r.Get("spec")) {
    for (const char* k : {"min_replicas", "max_replicas", "metrics", "behavior"}) {
      if (r.Has(k)) errors.AddMessage(JoinPath(path, k), "not allowed together with \"spec\"");
    }
    Result<HpaSpec> parsed = ParseHpaSpec(*spec, JoinPath(path, "spec"), errors);
    if (parsed.ok()) in.spec = *parsed;
    readings.resize(in.spec.metrics.size());
    if (const nlohmann::json* values = r.Get("metric_values")) {
      ObjectReader vr(*values, JoinPath(path, "metric_values"), errors);
      for (size_t i = 0; i < in.spec.metrics.size(); ++i) {
        const std::string key = SampleKey(in.spec.metrics[i]);
        if (const nlohmann::json* mv = vr.Get(key)) ParseMetricValue(*mv, JoinPath(vr.path(), key), readings[i], errors);
      }
      vr.Finish();
    }
  } else {
    in.spec.min_replicas = static_cast<int32_t>(r.Int("min_replicas", 0, kInt32Max).value_or(1));
    in.spec.max_replicas = static_cast<int32_t>(r.Int("max_replicas", 0, kInt32Max, true).value_or(1));
    if (const nlohmann::json* ms = r.Get("metrics")) {
      if (!ms->is_array()) errors.Add(JoinPath(path, "metrics"), "an array of metrics", DescribeJson(*ms));
      else {
        for (size_t i = 0; i < ms->size(); ++i) {
          if (auto m = ParseVectorMetric((*ms)[i], JoinPath(JoinPath(path, "metrics"), i), errors)) {
            in.spec.metrics.push_back(m->spec);
            readings.push_back(m->reading);
          }
        }
      }
    } else {
      errors.AddMessage(JoinPath(path, "metrics"), "required array is missing (or give a Kubernetes \"spec\")");
    }
    if (const nlohmann::json* b = r.Get("behavior"); b && !b->is_null()) {
      ObjectReader br(*b, JoinPath(path, "behavior"), errors);
      HpaBehavior behavior;
      if (const nlohmann::json* up = br.Get("scale_up"); up && !up->is_null()) {
        behavior.scale_up = ParseSnakeScalingRules(*up, JoinPath(br.path(), "scale_up"), errors);
      }
      if (const nlohmann::json* down = br.Get("scale_down"); down && !down->is_null()) {
        behavior.scale_down = ParseSnakeScalingRules(*down, JoinPath(br.path(), "scale_down"), errors);
      }
      br.Finish();
      in.spec.behavior = behavior;
    }
    ApplyHpaDefaults(in.spec);
  }

  HpaObservation& obs = in.observation;
  obs.spec_replicas = static_cast<int32_t>(r.Int("spec_replicas", 0, kInt32Max, true).value_or(0));
  obs.status_replicas = static_cast<int32_t>(r.Int("status_replicas", 0, kInt32Max).value_or(obs.spec_replicas));

  // Pods, and the samples of pod-based metrics from their usage maps.
  std::vector<std::string> request_resources;
  for (const MetricSpec& m : in.spec.metrics) {
    if (m.type == MetricSourceType::kResource || m.type == MetricSourceType::kContainerResource) {
      request_resources.push_back(m.resource_name);
    }
  }
  if (request_resources.empty()) request_resources.push_back("cpu");
  if (const nlohmann::json* pods = r.Get("pods")) {
    if (!pods->is_array()) errors.Add(JoinPath(path, "pods"), "an array of pods", DescribeJson(*pods));
    else {
      std::set<std::string> names;
      for (size_t i = 0; i < pods->size(); ++i) {
        const std::string ppath = JoinPath(JoinPath(path, "pods"), i);
        auto f = ParseFixturePod((*pods)[i], ppath, i, request_resources, o, in.now, errors);
        if (!f) continue;
        if (!names.insert(f->pod.name).second) errors.Add(JoinPath(ppath, "name"), "a unique pod name", "a duplicate");
        for (size_t m = 0; m < in.spec.metrics.size(); ++m) {
          const MetricSpec& spec = in.spec.metrics[m];
          if (spec.type == MetricSourceType::kObject || spec.type == MetricSourceType::kExternal) continue;
          if (f->usage.is_number_integer() && in.spec.metrics.size() == 1) {
            readings[m].pod_samples[f->pod.name] = FixtureSample(f->usage.get<int64_t>(), in.now);
          } else if (f->usage.is_object() && f->usage.contains(SampleKey(spec))) {
            readings[m].pod_samples[f->pod.name] = FixtureSample(f->usage[SampleKey(spec)].get<int64_t>(), in.now);
          }
        }
        obs.pods.push_back(std::move(f->pod));
      }
    }
  }
  obs.readings = std::move(readings);

  // Controller memory.
  if (const nlohmann::json* recs = r.Get("recommendations"); recs && !recs->is_null()) {
    in.state.recommendations = ParseRecommendations(*recs, JoinPath(path, "recommendations"), in.now, errors);
  }
  if (const nlohmann::json* ev = r.Get("scale_up_events")) {
    in.state.scale_up_events = ParseScaleEvents(*ev, JoinPath(path, "scale_up_events"), in.now, errors).value_or(std::vector<ScaleEvent>{});
  }
  if (const nlohmann::json* ev = r.Get("scale_down_events")) {
    in.state.scale_down_events = ParseScaleEvents(*ev, JoinPath(path, "scale_down_events"), in.now, errors).value_or(std::vector<ScaleEvent>{});
  }
  r.Finish();
  if (errors.size() != before) return std::nullopt;
  return in;
}

nlohmann::json DecisionToJson(const HpaDecision& d) {
  nlohmann::json j;
  j["current_replicas"] = d.current_replicas;
  j["desired_replicas"] = d.desired_replicas;
  j["rescale"] = d.rescale;
  if (!d.rescale_reason.empty()) j["rescale_reason"] = d.rescale_reason;
  j["tolerance"] = {{"scale_down", d.tolerances.scale_down}, {"scale_up", d.tolerances.scale_up}};
  nlohmann::json metrics = nlohmann::json::array();
  for (const MetricProposal& p : d.proposals) {
    nlohmann::json m{{"metric", p.metric}, {"target", p.target}};
    if (p.ok) {
      m["replicas"] = p.proposal.replicas;
      if (p.proposal.utilization_percent) m["utilization_percent"] = *p.proposal.utilization_percent;
      if (p.proposal.average_value_milli) m["average_value_milli"] = *p.proposal.average_value_milli;
      if (p.proposal.value_milli) m["value_milli"] = *p.proposal.value_milli;
    } else {
      m["error"] = p.error;
      m["reason"] = p.failure_reason;
    }
    metrics.push_back(m);
  }
  j["metrics"] = metrics;
  j["metric_replicas"] = d.metric_replicas ? nlohmann::json(*d.metric_replicas) : nlohmann::json();
  j["stabilized_replicas"] = d.stabilized_replicas ? nlohmann::json(*d.stabilized_replicas) : nlohmann::json();
  j["limiting_reason"] = d.limiting_reason.empty() ? nlohmann::json() : nlohmann::json(d.limiting_reason);
  if (!d.error.empty()) j["error"] = d.error;
  nlohmann::json conditions = nlohmann::json::object();
  for (const HpaCondition& c : d.conditions) conditions[c.type] = {ConditionStatusName(c.status), c.reason};
  j["conditions"] = conditions;
  return j;
}

nlohmann::json StateToJson(const HpaState& s, Nanos now) {
  nlohmann::json j;
  if (!s.recommendations) {
    j["recommendations"] = nullptr;
  } else {
    j["recommendations"] = nlohmann::json::array();
    for (const TimestampedRecommendation& r : *s.recommendations) {
      j["recommendations"].push_back({{"replicas", r.replicas}, {"age_s", NanosToAge(r.time, now)}});
    }
  }
  for (const auto& [key, events] : {std::pair{"scale_up_events", &s.scale_up_events},
                                    std::pair{"scale_down_events", &s.scale_down_events}}) {
    j[key] = nlohmann::json::array();
    for (const ScaleEvent& e : *events) {
      j[key].push_back({{"change", e.change}, {"age_s", NanosToAge(e.time, now)}, {"outdated", e.outdated}});
    }
  }
  return j;
}

}  // namespace scaletwin
