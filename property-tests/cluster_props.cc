// RapidCheck properties of the simulated cluster over generated HPA
// scenarios: replicas stay within [minReplicas, maxReplicas]; a scale-up never
// exceeds what the Pods policy allows over its period; with a scale-down
// window W the count never drops below the highest recommendation of the
// last W; conservation holds while pods start, crash and terminate; the
// report is deterministic. The rules are Kubernetes' (hpa.md §4-§5),
// restated here from the decision table, not from the controller's code.
#include <algorithm>
#include <string>

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "model/scenario.h"
#include "sim/run.h"

namespace scaletwin {
namespace {

struct Generated {
  nlohmann::json doc;
  int min = 1, max = 1;
  int up_pods = 0, up_period_s = 0;  // the single scale-up Pods policy
  int down_window_s = 0;
};

std::string Seconds(int s) { return std::to_string(s) + "s"; }

rc::Gen<Generated> ClusterScenario() {
  return rc::gen::exec([] {
    Generated g;
    g.min = *rc::gen::inRange(1, 4);
    g.max = g.min + *rc::gen::inRange(0, 12);
    g.up_pods = *rc::gen::inRange(1, 6);
    g.up_period_s = *rc::gen::element(15, 30, 60);
    g.down_window_s = *rc::gen::element(0, 30, 60, 300);
    const double target = *rc::gen::element(20.0, 50.0, 100.0);
    nlohmann::json points = nlohmann::json::array();
    for (int k = 0; k < 6; ++k) {
      points.push_back({{"at", Seconds(k * 100)}, {"qps", *rc::gen::inRange(5, 400)}, {"ramp", Seconds(*rc::gen::inRange(0, 60))}});
    }
    nlohmann::json events = nlohmann::json::array();
    for (int k = *rc::gen::inRange(0, 3); k > 0; --k) {
      events.push_back({{"at", Seconds(*rc::gen::inRange(1, 600))},
                        {"kind", *rc::gen::element<std::string>("pod_crash", "pod_delete")},
                        {"pod", *rc::gen::element<std::string>("oldest", "newest")}});
    }
    const int grace = *rc::gen::inRange(1, 30);  // preStop may overrun it by the kubelet's 2 s, not more
    nlohmann::json behavior = {
        {"scaleUp",
         {{"stabilizationWindowSeconds", 0},
          {"selectPolicy", "Max"},
          {"policies", {{{"type", "Pods"}, {"value", g.up_pods}, {"periodSeconds", g.up_period_s}}}}}},
        {"scaleDown", {{"stabilizationWindowSeconds", g.down_window_s}}}};
    g.doc = {{"version", 1},
             {"name", "cluster-prop"},
             {"seed", *rc::gen::arbitrary<uint32_t>()},
             {"duration", "600s"},
             {"drain", *rc::gen::element<std::string>("0s", "120s")},
             {"traffic", {{"arrivals", *rc::gen::element<std::string>("poisson", "uniform")}, {"rate", points}}},
             {"ingress",
              {{"policy", *rc::gen::element<std::string>("round_robin", "random", "least_request", "ewma")},
               {"retries", {{"tries", *rc::gen::inRange(1, 4)}}}}},
             {"pods",
              {{"replicas", *rc::gen::inRange(1, 8)},
               {"workers", *rc::gen::inRange(1, 8)},
               {"queue", *rc::gen::element(0, 10, 100)},
               {"service_time", {{"dist", "exponential"}, {"mean", *rc::gen::element<std::string>("2ms", "10ms", "40ms")}}},
               {"startup",
                {{"pull", {{"dist", "uniform"}, {"min", "0s"}, {"max", Seconds(*rc::gen::inRange(1, 20))}}},
                 {"boot", {{"dist", "constant"}, {"value", Seconds(*rc::gen::inRange(1, 10))}}}}},
               {"termination", {{"grace_period", Seconds(grace)}, {"pre_stop_sleep", Seconds(*rc::gen::inRange(0, grace + 3))}}}}},
             {"hpa",
              {{"spec",
                {{"minReplicas", g.min},
                 {"maxReplicas", g.max},
                 {"metrics",
                  {{{"type", "Pods"},
                    {"pods",
                     {{"metric", {{"name", "http_requests_per_second"}}},
                      {"target", {{"type", "AverageValue"}, {"averageValue", std::to_string(static_cast<int>(target))}}}}}}}},
                 {"behavior", behavior}}},
               {"metrics_pipeline", {{"scrape_interval", Seconds(*rc::gen::element(5, 15))}, {"rate_window", "1m"}}}}},
             {"events", events}};
    if (*rc::gen::arbitrary<bool>()) {  // pools against a small database
      g.doc["database"] = {{"max_connections", *rc::gen::inRange(5, 60)}, {"superuser_reserved_connections", 3}};
      g.doc["pools"] = {{"postgres", {{"size", *rc::gen::inRange(1, 8)}, {"acquire_timeout", "100ms"}}}};
    }
    return g;
  });
}

Scenario Load(const nlohmann::json& doc) {
  Result<Scenario> s = ParseScenario(doc, [](const std::string& p) -> Result<std::string> {
    return Status::NotFound(p);
  });
  RC_ASSERT(s.ok());
  return *s;
}

// The desired count in effect at `t` (after every decision at or before t).
int32_t DesiredAt(const std::vector<HpaDecisionRow>& rows, int32_t initial, Nanos t) {
  int32_t r = initial;
  for (const HpaDecisionRow& row : rows) {
    if (row.time > t) break;
    r = row.desired;
  }
  return r;
}

RC_GTEST_PROP(Cluster, HpaRulesHoldOverTheDecisionTable, ()) {
  const Generated g = *ClusterScenario();
  const Scenario s = Load(g.doc);
  const RunResult r = sim::Run(s);
  const std::vector<HpaDecisionRow>& rows = r.cluster.decisions;
  RC_ASSERT(!rows.empty());
  int32_t previous = s.pods.replicas;
  for (size_t j = 0; j < rows.size(); ++j) {
    const HpaDecisionRow& row = rows[j];
    RC_ASSERT(row.current == previous);  // the controller saw what it last set
    // Replicas within [min, max] (a start outside is moved to the bound).
    RC_ASSERT(row.desired >= g.min);
    RC_ASSERT(row.desired <= g.max);
    // A count outside [min, max] goes straight to the bound, past every policy.
    const bool in_range = row.current >= g.min && row.current <= g.max;
    if (in_range && row.desired > row.current) {
      // Scale-up limit: the count at the period's start plus the Pods policy.
      const int32_t base = DesiredAt(rows, s.pods.replicas, row.time - g.up_period_s * kNanosPerSecond);
      RC_ASSERT(row.desired <= std::max(base + g.up_pods, row.current));
    }
    if (in_range && row.desired < row.current) {
      // Scale-down stabilization: never below the highest recommendation of the window.
      int32_t highest = 0;
      for (size_t i = 0; i <= j; ++i) {
        if (rows[i].time > row.time - g.down_window_s * kNanosPerSecond && rows[i].metric_replicas) {
          highest = std::max(highest, *rows[i].metric_replicas);
        }
      }
      RC_ASSERT(row.desired >= std::min<int32_t>(row.current, std::max(g.min, highest)));
    }
    previous = row.desired;
  }
  for (uint64_t d : r.series.replicas_desired) {
    RC_ASSERT(d <= static_cast<uint64_t>(std::max(g.max, s.pods.replicas)));
  }
}

RC_GTEST_PROP(Cluster, ConservationAndPoolBoundsHoldWhilePodsComeAndGo, ()) {
  const Generated g = *ClusterScenario();
  const Scenario s = Load(g.doc);
  const RunResult r = sim::Run(s);
  RC_ASSERT(r.summary.offered == r.summary.completed + r.summary.rejected + r.in_flight_at_end);
  uint64_t so = 0, sc = 0, sr = 0;
  for (size_t i = 0; i < r.series.size(); ++i) {
    so += r.series.offered[i];
    sc += r.series.completed[i];
    sr += r.series.rejected[i];
    RC_ASSERT(so == sc + sr + r.series.in_flight[i]);
    RC_ASSERT(r.series.replicas_ready[i] <= r.series.replicas_total[i]);
    RC_ASSERT(r.series.busy_workers_mean[i] <= static_cast<double>(s.pods.workers * r.cluster.replicas_max) + 1e-9);
    if (s.database) {
      RC_ASSERT(r.series.pool_in_use[i] <= static_cast<uint64_t>(s.postgres_pool.size) * r.cluster.replicas_max);
      RC_ASSERT(r.series.db_connections[i] <= static_cast<uint64_t>(s.database->usable_connections()));
    }
  }
}

RC_GTEST_PROP(Cluster, SameSeedGivesTheSameReport, ()) {
  const Generated g = *ClusterScenario();
  const Scenario s = Load(g.doc);
  RunResult a = sim::Run(s), b = sim::Run(s);
  RC_ASSERT(RenderReport(a, s.expect).dump() == RenderReport(b, s.expect).dump());
}

}  // namespace
}  // namespace scaletwin
