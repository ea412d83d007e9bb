// The Kubernetes sections of a scenario: pod lifecycle keys in `pods`, the
// ingress's endpoint propagation and retries, the `hpa` section and `events`.
// Defaults and units are documented in scenarios/README.md; every Kubernetes
// field keeps Kubernetes' own name and quantity syntax so manifests paste in.
#include <algorithm>
#include <cmath>

#include "model/quantity.h"
#include "model/scenario_sections.h"

namespace scaletwin::scenario_internal {
namespace {

constexpr Nanos kHour = 3600 * kNanosPerSecond;

// A CPU amount: a Kubernetes quantity string ("500m", "2") or a number of cores.
std::optional<int64_t> ReadCpuMilli(ObjectReader& r, const char* key, ParseContext& ctx) {
  const nlohmann::json* v = r.Get(key);
  if (!v) return std::nullopt;
  const std::string path = JoinPath(r.path(), key);
  int64_t milli = -1;
  if (v->is_string()) {
    if (Result<Quantity> q = ParseQuantity(v->get<std::string>()); q.ok()) milli = q->milli;
  } else if (v->is_number()) {
    milli = static_cast<int64_t>(std::ceil(v->get<double>() * 1000));
  }
  if (milli < 1 || milli > 1'000'000'000) {
    ctx.errors.Add(path, "a CPU quantity between \"1m\" and \"1000000\" (e.g. \"500m\", \"2\")", DescribeJson(*v));
    return std::nullopt;
  }
  return milli;
}

void ReadDist(ObjectReader& r, const char* key, DurationDistribution* out, ParseContext& ctx) {
  if (const nlohmann::json* d = r.Get(key)) {
    if (auto parsed = ReadDistribution(*d, JoinPath(r.path(), key), ctx.read_file, ctx.errors)) *out = *parsed;
  }
}

}  // namespace

void ParsePodLifecycle(ObjectReader& pods, ParseContext& ctx) {
  PodSpec& p = ctx.s.pods;
  if (const nlohmann::json* v = pods.Get("startup")) {
    ObjectReader r(*v, JoinPath(pods.path(), "startup"), ctx.errors);
    ReadDist(r, "schedule", &p.startup.schedule, ctx);
    ReadDist(r, "pull", &p.startup.pull, ctx);
    ReadDist(r, "start", &p.startup.start, ctx);
    ReadDist(r, "boot", &p.startup.boot, ctx);
    r.Finish();
  }
  if (const nlohmann::json* v = pods.Get("readiness_probe")) {
    if (Result<ProbeSpec> probe = ParseProbe(*v, JoinPath(pods.path(), "readiness_probe"), ctx.errors); probe.ok()) {
      p.readiness_probe = *probe;
    }
  }
  if (const nlohmann::json* v = pods.Get("termination")) {
    ObjectReader r(*v, JoinPath(pods.path(), "termination"), ctx.errors);
    p.termination.grace_period = r.Duration("grace_period", 0, kHour).value_or(p.termination.grace_period);
    p.termination.pre_stop_sleep = r.Duration("pre_stop_sleep", 0, kHour).value_or(p.termination.pre_stop_sleep);
    r.Finish();
  }
  p.cpu_request_milli = ReadCpuMilli(pods, "cpu_request", ctx).value_or(p.cpu_request_milli);
  p.cpu_per_busy_worker_milli = ReadCpuMilli(pods, "cpu_per_busy_worker", ctx).value_or(p.cpu_per_busy_worker_milli);
  if (const nlohmann::json* v = pods.Get("slow_pods")) {
    ObjectReader r(*v, JoinPath(pods.path(), "slow_pods"), ctx.errors);
    p.slow_count = static_cast<int>(r.Int("count", 0, 100'000, true).value_or(0));
    p.slow_factor = r.Number("factor", 0.001, 1000, true).value_or(1);
    r.Finish();
  }
}

void ParseIngressKubernetes(ObjectReader& ingress, ParseContext& ctx) {
  IngressSpec& in = ctx.s.ingress;
  ReadDist(ingress, "endpoint_propagation", &in.endpoint_propagation, ctx);
  if (const nlohmann::json* v = ingress.Get("retries")) {
    ObjectReader r(*v, JoinPath(ingress.path(), "retries"), ctx.errors);
    in.retries.tries = static_cast<int>(r.Int("tries", 1, 8).value_or(in.retries.tries));
    if (const nlohmann::json* on = r.Get("on")) {
      const std::string path = JoinPath(r.path(), "on");
      RetrySpec& rs = in.retries;
      rs.on_error = rs.on_timeout = rs.on_http_503 = false;
      if (!on->is_array()) {
        ctx.errors.Add(path, "an array of \"error\", \"timeout\", \"http_503\"", DescribeJson(*on));
      } else {
        for (size_t i = 0; i < on->size(); ++i) {
          const nlohmann::json& c = (*on)[i];
          const std::string name = c.is_string() ? c.get<std::string>() : "";
          if (name == "error") {
            rs.on_error = true;
          } else if (name == "timeout") {
            rs.on_timeout = true;
          } else if (name == "http_503") {
            rs.on_http_503 = true;
          } else if (name != "off") {
            ctx.errors.Add(JoinPath(path, i), "\"error\", \"timeout\", \"http_503\" or \"off\"", DescribeJson(c));
          }
        }
      }
    }
    r.Finish();
  }
}

void ParseHpa(const nlohmann::json& v, const std::string& path, ParseContext& ctx) {
  ObjectReader r(v, path, ctx.errors);
  HpaScenario hpa;
  bool ok = r.valid();
  if (const nlohmann::json* spec = r.Get("spec")) {
    Result<HpaSpec> parsed = ParseHpaSpec(*spec, JoinPath(path, "spec"), ctx.errors);
    if (parsed.ok()) {
      hpa.spec = *parsed;
    } else {
      ok = false;
    }
  } else if (r.valid()) {
    ctx.errors.AddMessage(JoinPath(path, "spec"),
                          "required: the spec of an autoscaling/v2 HorizontalPodAutoscaler (minReplicas, maxReplicas, metrics, behavior)");
    ok = false;
  }
  if (const nlohmann::json* c = r.Get("controller")) {
    Result<HpaControllerOptions> parsed = ParseHpaControllerOptions(*c, JoinPath(path, "controller"), ctx.errors);
    if (parsed.ok()) hpa.controller = *parsed;
  }
  if (const nlohmann::json* m = r.Get("metrics_pipeline")) {
    Result<MetricsPipelineConfig> parsed = ParseMetricsPipeline(*m, JoinPath(path, "metrics_pipeline"), ctx.errors);
    if (parsed.ok()) hpa.metrics = *parsed;
  }
  r.Finish();
  if (!ok) return;
  // The simulated pods export a request counter (every Pods metric reads its
  // per-pod rate) and CPU time; other sources have nothing to read here.
  for (size_t i = 0; i < hpa.spec.metrics.size(); ++i) {
    const MetricSpec& m = hpa.spec.metrics[i];
    const std::string mpath = JoinPath(JoinPath(JoinPath(path, "spec"), "metrics"), i);
    const bool cpu = (m.type == MetricSourceType::kResource || m.type == MetricSourceType::kContainerResource) &&
                     m.resource_name == "cpu";
    if (!cpu && m.type != MetricSourceType::kPods) {
      ctx.errors.AddMessage(mpath, std::string("the simulator feeds Pods metrics (the pod's request rate) and ") +
                                       "Resource cpu (busy-worker CPU time); " + MetricSourceTypeName(m.type) +
                                       " " + m.DisplayName() + " has no source here");
    }
  }
  ctx.s.hpa = std::move(hpa);
}

void ParseEvents(const nlohmann::json& v, const std::string& path, ParseContext& ctx) {
  if (!v.is_array() || v.size() > 100'000) {
    ctx.errors.Add(path, "an array of {\"at\", \"kind\", ...}", DescribeJson(v));
    return;
  }
  for (size_t i = 0; i < v.size(); ++i) {
    // Redis events have their own shape (model/scenario_redis.h).
    if (v[i].is_object() && v[i].contains("kind") && v[i]["kind"].is_string() &&
        IsRedisEventKind(v[i]["kind"].get<std::string>())) {
      if (auto e = ParseRedisEvent(v[i], JoinPath(path, i), ctx.errors)) ctx.s.redis.events.push_back(*e);
      continue;
    }
    ObjectReader r(v[i], JoinPath(path, i), ctx.errors);
    PodEvent e;
    e.at = r.Duration("at", 0, 7 * 24 * kHour, true).value_or(0);
    if (auto kind = r.Enum("kind", {"pod_crash", "pod_delete", "redis_restart", "redis_kill"}, true)) {
      e.kind = *kind == "pod_crash" ? PodEventKind::kCrash : PodEventKind::kDelete;
    }
    if (const nlohmann::json* pod = r.Get("pod")) {
      if (pod->is_string() && pod->get<std::string>() == "oldest") {
        e.which = PodEvent::Which::kOldest;
      } else if (pod->is_string() && pod->get<std::string>() == "newest") {
        e.which = PodEvent::Which::kNewest;
      } else if (pod->is_number_integer() && pod->get<int64_t>() >= 0 && pod->get<int64_t>() < 100'000) {
        e.which = PodEvent::Which::kIndex;
        e.index = static_cast<int>(pod->get<int64_t>());
      } else {
        ctx.errors.Add(JoinPath(r.path(), "pod"), "\"oldest\", \"newest\" or a pod index (0 = the first pod created)",
                       DescribeJson(*pod));
      }
    }
    r.Finish();
    ctx.s.events.push_back(e);
  }
  std::stable_sort(ctx.s.events.begin(), ctx.s.events.end(),
                   [](const PodEvent& a, const PodEvent& b) { return a.at < b.at; });
  CheckRedisEvents(ctx.s.redis.events, path, ctx.errors);
}

void CheckKubernetes(ParseContext& ctx) {
  const Scenario& s = ctx.s;
  if (s.pods.termination.pre_stop_sleep > s.pods.termination.grace_period + 2 * kNanosPerSecond) {
    // Legal in Kubernetes (the kubelet cuts preStop at the grace period + 2 s), but never what was meant.
    ctx.errors.AddMessage("/pods/termination/pre_stop_sleep",
                          "longer than grace_period + 2 s: the kubelet would cut it short; raise grace_period");
  }
  if (s.pods.slow_count > 0 && s.pods.slow_factor == 1) {
    ctx.errors.AddMessage("/pods/slow_pods/factor", "1 makes no pod slower");
  }
}

}  // namespace scaletwin::scenario_internal
