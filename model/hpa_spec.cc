#include "model/hpa_spec.h"

#include <limits>

namespace scaletwin {

const char* MetricSourceTypeName(MetricSourceType t) {
  switch (t) {
    case MetricSourceType::kResource: return "Resource";
    case MetricSourceType::kContainerResource: return "ContainerResource";
    case MetricSourceType::kPods: return "Pods";
    case MetricSourceType::kObject: return "Object";
    case MetricSourceType::kExternal: return "External";
  }
  return "?";
}

const char* MetricTargetTypeName(MetricTargetType t) {
  switch (t) {
    case MetricTargetType::kUtilization: return "Utilization";
    case MetricTargetType::kValue: return "Value";
    case MetricTargetType::kAverageValue: return "AverageValue";
  }
  return "?";
}

const char* ScalingPolicyTypeName(ScalingPolicyType t) {
  return t == ScalingPolicyType::kPods ? "Pods" : "Percent";
}

const char* SelectPolicyName(SelectPolicy p) {
  switch (p) {
    case SelectPolicy::kMax: return "Max";
    case SelectPolicy::kMin: return "Min";
    case SelectPolicy::kDisabled: return "Disabled";
  }
  return "?";
}

std::string MetricSpec::DisplayName() const {
  switch (type) {
    case MetricSourceType::kResource: return resource_name;
    case MetricSourceType::kContainerResource: return "container " + container + "/" + resource_name;
    case MetricSourceType::kPods: return "pods/" + metric_name;
    case MetricSourceType::kObject: return "object/" + metric_name;
    case MetricSourceType::kExternal: return "external/" + metric_name;
  }
  return metric_name;
}

ScalingRules DefaultScaleUpRules(const std::optional<ScalingRules>& given) {
  ScalingRules r;
  r.stabilization_window_seconds = 0;
  r.select_policy = SelectPolicy::kMax;
  r.policies = std::vector<ScalingPolicy>{{ScalingPolicyType::kPods, 4, 15}, {ScalingPolicyType::kPercent, 100, 15}};
  if (!given) return r;
  if (given->stabilization_window_seconds) r.stabilization_window_seconds = given->stabilization_window_seconds;
  if (given->select_policy) r.select_policy = given->select_policy;
  if (given->policies) r.policies = given->policies;
  if (given->tolerance) r.tolerance = given->tolerance;
  return r;
}

ScalingRules DefaultScaleDownRules(const std::optional<ScalingRules>& given) {
  ScalingRules r;
  // The stabilization window stays unset: the controller's
  // --horizontal-pod-autoscaler-downscale-stabilization fills it.
  r.select_policy = SelectPolicy::kMax;
  r.policies = std::vector<ScalingPolicy>{{ScalingPolicyType::kPercent, 100, 15}};
  if (!given) return r;
  if (given->stabilization_window_seconds) r.stabilization_window_seconds = given->stabilization_window_seconds;
  if (given->select_policy) r.select_policy = given->select_policy;
  if (given->policies) r.policies = given->policies;
  if (given->tolerance) r.tolerance = given->tolerance;
  return r;
}

void ApplyHpaDefaults(HpaSpec& spec) {
  if (spec.metrics.empty()) {
    MetricSpec cpu;
    cpu.type = MetricSourceType::kResource;
    cpu.resource_name = "cpu";
    cpu.target.type = MetricTargetType::kUtilization;
    cpu.target.average_utilization = 80;  // autoscaling.DefaultCPUUtilization
    spec.metrics.push_back(cpu);
  }
  if (spec.behavior) {
    spec.behavior->scale_up = DefaultScaleUpRules(spec.behavior->scale_up);
    spec.behavior->scale_down = DefaultScaleDownRules(spec.behavior->scale_down);
  }
}

namespace {

constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();

// A quantity may be a manifest string ("500m") or, as the apimachinery also
// accepts, a bare JSON number.
std::optional<Quantity> ReadQuantity(ObjectReader& r, std::string_view key, bool positive) {
  const nlohmann::json* v = r.Get(key);
  if (!v) return std::nullopt;
  const std::string path = JoinPath(r.path(), key);
  std::string text;
  if (v->is_string()) {
    text = v->get<std::string>();
  } else if (v->is_number()) {
    text = v->dump();
  } else {
    r.errors().Add(path, "a quantity string such as \"100\", \"500m\" or \"1k\"", DescribeJson(*v));
    return std::nullopt;
  }
  Result<Quantity> q = ParseQuantity(text);
  if (!q.ok()) {
    r.errors().AddMessage(path, q.status().message());
    return std::nullopt;
  }
  if (positive ? q->milli <= 0 : q->milli < 0) {
    r.errors().Add(path, positive ? "a quantity greater than 0" : "a quantity of at least 0", DescribeJson(*v));
    return std::nullopt;
  }
  return *q;
}

// MetricIdentifier {name, selector}.
void ReadMetricIdentifier(ObjectReader& parent, MetricSpec& m) {
  const nlohmann::json* v = parent.Get("metric");
  const std::string path = JoinPath(parent.path(), "metric");
  if (!v) {
    parent.errors().AddMessage(path, "required object {\"name\", \"selector\"?} is missing");
    return;
  }
  ObjectReader r(*v, path, parent.errors());
  m.metric_name = r.String("name", true).value_or("");
  if (r.valid() && r.Has("name") && m.metric_name.empty()) r.errors().Add(JoinPath(path, "name"), "a metric name", "\"\"");
  if (const nlohmann::json* sel = r.Get("selector")) {
    if (!sel->is_object() && !sel->is_null()) r.errors().Add(JoinPath(path, "selector"), "a label selector object", DescribeJson(*sel));
    else m.metric_selector = *sel;
  }
  r.Finish();
}

// MetricTarget, with the target types a source allows.
void ReadTarget(ObjectReader& parent, MetricSpec& m, const std::vector<std::string>& allowed) {
  const nlohmann::json* v = parent.Get("target");
  const std::string path = JoinPath(parent.path(), "target");
  if (!v) {
    parent.errors().AddMessage(path, "required object {\"type\", ...} is missing");
    return;
  }
  ObjectReader r(*v, path, parent.errors());
  std::optional<std::string> type = r.Enum("type", allowed, true);
  if (auto u = r.Int("averageUtilization", 1, kInt32Max)) m.target.average_utilization = static_cast<int32_t>(*u);
  m.target.average_value = ReadQuantity(r, "averageValue", true);
  m.target.value = ReadQuantity(r, "value", true);
  r.Finish();
  if (!type) return;
  // Exactly the field of the chosen type: the controller dispatches on which
  // field is set, so an extra one would silently change the meaning.
  struct Field { const char* key; MetricTargetType type; bool set; };
  const Field fields[] = {
      {"averageUtilization", MetricTargetType::kUtilization, r.Has("averageUtilization")},
      {"averageValue", MetricTargetType::kAverageValue, r.Has("averageValue")},
      {"value", MetricTargetType::kValue, r.Has("value")},
  };
  for (const Field& f : fields) {
    if (*type == MetricTargetTypeName(f.type)) {
      m.target.type = f.type;
      if (!f.set) r.errors().AddMessage(JoinPath(path, f.key), std::string("required when type is ") + *type);
    } else if (f.set) {
      r.errors().AddMessage(JoinPath(path, f.key), std::string("not allowed when type is ") + *type);
    }
  }
}

void ReadMetric(const nlohmann::json& v, const std::string& path, HpaSpec& spec, ParseErrors& errors) {
  ObjectReader r(v, path, errors);
  MetricSpec m;
  static const std::vector<std::pair<std::string, MetricSourceType>> kSources = {
      {"resource", MetricSourceType::kResource},   {"containerResource", MetricSourceType::kContainerResource},
      {"pods", MetricSourceType::kPods},           {"object", MetricSourceType::kObject},
      {"external", MetricSourceType::kExternal},
  };
  std::optional<std::string> type =
      r.Enum("type", {"Resource", "ContainerResource", "Pods", "Object", "External"}, true);
  for (const auto& [key, source] : kSources) {
    const nlohmann::json* body = r.Get(key);
    const bool chosen = type && *type == MetricSourceTypeName(source);
    const std::string bpath = JoinPath(path, key);
    if (!chosen) {
      if (body && type) errors.AddMessage(bpath, "not allowed when type is " + *type);
      continue;
    }
    m.type = source;
    if (!body) {
      errors.AddMessage(bpath, "required when type is " + *type);
      continue;
    }
    ObjectReader b(*body, bpath, errors);
    switch (source) {
      case MetricSourceType::kResource:
      case MetricSourceType::kContainerResource:
        m.resource_name = b.String("name", true).value_or("");
        if (source == MetricSourceType::kContainerResource) m.container = b.String("container", true).value_or("");
        ReadTarget(b, m, {"Utilization", "AverageValue"});
        break;
      case MetricSourceType::kPods:
        ReadMetricIdentifier(b, m);
        ReadTarget(b, m, {"AverageValue"});
        break;
      case MetricSourceType::kObject: {
        ReadMetricIdentifier(b, m);
        if (const nlohmann::json* d = b.Get("describedObject")) {
          ObjectReader dr(*d, JoinPath(bpath, "describedObject"), errors);
          dr.String("kind", true);
          dr.String("name", true);
          dr.String("apiVersion");
          dr.Finish();
          m.described_object = *d;
        } else {
          errors.AddMessage(JoinPath(bpath, "describedObject"), "required object {\"kind\", \"name\"} is missing");
        }
        ReadTarget(b, m, {"Value", "AverageValue"});
        break;
      }
      case MetricSourceType::kExternal:
        ReadMetricIdentifier(b, m);
        ReadTarget(b, m, {"Value", "AverageValue"});
        break;
    }
    b.Finish();
  }
  r.Finish();
  spec.metrics.push_back(std::move(m));
}

}  // namespace

std::optional<ScalingRules> ParseScalingRules(const nlohmann::json& v, const std::string& path, ParseErrors& errors) {
  const size_t before = errors.size();
  ObjectReader r(v, path, errors);
  ScalingRules rules;
  if (auto w = r.Int("stabilizationWindowSeconds", 0, 3600)) rules.stabilization_window_seconds = static_cast<int32_t>(*w);
  if (auto p = r.Enum("selectPolicy", {"Max", "Min", "Disabled"})) {
    rules.select_policy = *p == "Max" ? SelectPolicy::kMax : *p == "Min" ? SelectPolicy::kMin : SelectPolicy::kDisabled;
  }
  if (const nlohmann::json* ps = r.Get("policies")) {
    const std::string ppath = JoinPath(path, "policies");
    if (!ps->is_array() || ps->empty()) {
      errors.Add(ppath, "a non-empty array of {\"type\", \"value\", \"periodSeconds\"}", DescribeJson(*ps));
    } else {
      std::vector<ScalingPolicy> policies;
      for (size_t i = 0; i < ps->size(); ++i) {
        ObjectReader pr((*ps)[i], JoinPath(ppath, i), errors);
        ScalingPolicy p;
        if (auto t = pr.Enum("type", {"Pods", "Percent"}, true)) {
          p.type = *t == "Pods" ? ScalingPolicyType::kPods : ScalingPolicyType::kPercent;
        }
        p.value = static_cast<int32_t>(pr.Int("value", 1, kInt32Max, true).value_or(1));
        p.period_seconds = static_cast<int32_t>(pr.Int("periodSeconds", 1, 1800, true).value_or(15));
        pr.Finish();
        policies.push_back(p);
      }
      rules.policies = std::move(policies);
    }
  }
  if (r.Has("tolerance")) {
    if (auto t = ReadQuantity(r, "tolerance", false)) rules.tolerance = t->value;
  }
  r.Finish();
  if (errors.size() != before) return std::nullopt;
  return rules;
}

Result<HpaSpec> ParseHpaSpec(const nlohmann::json& v, const std::string& path, ParseErrors& errors) {
  const size_t before = errors.size();
  ObjectReader r(v, path, errors);
  HpaSpec spec;
  if (const nlohmann::json* ref = r.Get("scaleTargetRef")) {
    ObjectReader rr(*ref, JoinPath(path, "scaleTargetRef"), errors);
    rr.String("apiVersion");
    rr.String("kind");
    rr.String("name");
    rr.Finish();
    spec.scale_target_ref = *ref;
  }
  // minReplicas 0 needs the alpha gate HPAScaleToZero; accepted so that
  // scale-from-zero with Object/External metrics can be modelled.
  spec.min_replicas = static_cast<int32_t>(r.Int("minReplicas", 0, kInt32Max).value_or(1));
  if (auto max = r.Int("maxReplicas", 1, kInt32Max, true)) {
    spec.max_replicas = static_cast<int32_t>(*max);
    if (*max < spec.min_replicas) {
      errors.Add(JoinPath(path, "maxReplicas"), "at least minReplicas (" + std::to_string(spec.min_replicas) + ")",
                 DescribeJson(v["maxReplicas"]));
    }
  }
  if (const nlohmann::json* ms = r.Get("metrics")) {
    if (!ms->is_array()) {
      errors.Add(JoinPath(path, "metrics"), "an array of metric specs", DescribeJson(*ms));
    } else {
      for (size_t i = 0; i < ms->size(); ++i) ReadMetric((*ms)[i], JoinPath(JoinPath(path, "metrics"), i), spec, errors);
    }
  }
  if (const nlohmann::json* b = r.Get("behavior")) {
    ObjectReader br(*b, JoinPath(path, "behavior"), errors);
    HpaBehavior behavior;
    if (const nlohmann::json* up = br.Get("scaleUp")) behavior.scale_up = ParseScalingRules(*up, JoinPath(br.path(), "scaleUp"), errors);
    if (const nlohmann::json* down = br.Get("scaleDown")) {
      behavior.scale_down = ParseScalingRules(*down, JoinPath(br.path(), "scaleDown"), errors);
    }
    br.Finish();
    spec.behavior = behavior;
  }
  r.Finish();
  if (errors.size() != before) {
    return Status::InvalidArgument("HorizontalPodAutoscaler spec at " + (path.empty() ? std::string("/") : path) +
                                   " has " + std::to_string(errors.size() - before) + " error(s)");
  }
  ApplyHpaDefaults(spec);
  return spec;
}

Result<HpaControllerOptions> ParseHpaControllerOptions(const nlohmann::json& v, const std::string& path,
                                                       ParseErrors& errors) {
  const size_t before = errors.size();
  ObjectReader r(v, path, errors);
  HpaControllerOptions o;
  const Nanos hour = 3600 * kNanosPerSecond;
  o.sync_period = r.Duration("sync_period", kNanosPerMilli, hour).value_or(o.sync_period);
  o.tolerance = r.Number("tolerance", 0, 10).value_or(o.tolerance);
  o.cpu_initialization_period = r.Duration("cpu_initialization_period", 0, hour).value_or(o.cpu_initialization_period);
  o.initial_readiness_delay = r.Duration("initial_readiness_delay", 0, hour).value_or(o.initial_readiness_delay);
  o.downscale_stabilization = r.Duration("downscale_stabilization", 0, hour).value_or(o.downscale_stabilization);
  r.Finish();
  if (errors.size() != before) {
    return Status::InvalidArgument("HPA controller options at " + (path.empty() ? std::string("/") : path) + " have " +
                                   std::to_string(errors.size() - before) + " error(s)");
  }
  return o;
}

}  // namespace scaletwin
