// The simulated cluster checked against what Kubernetes must do: the HPA's
// steady replica count against the closed form ceil(load / target), the
// termination sequence's grace period against in-flight work, crashes and
// restarts, determinism and conservation while pods come and go.
#include <algorithm>
#include <cmath>
#include <set>

#include <gtest/gtest.h>

#include "model/scenario.h"
#include "sim/run.h"
#include "sim/scenario_json_for_tests.h"

namespace scaletwin::sim {
namespace {

Scenario Parse(const nlohmann::json& doc) { return ParseForTest(doc); }

nlohmann::json PodsMetricHpa(int min, int max, double target_per_pod) {
  return {{"spec",
           {{"minReplicas", min},
            {"maxReplicas", max},
            {"metrics",
             {{{"type", "Pods"},
               {"pods",
                {{"metric", {{"name", "http_requests_per_second"}}},
                 {"target", {{"type", "AverageValue"}, {"averageValue", std::to_string(target_per_pod)}}}}}}}}}},
          {"metrics_pipeline", {{"scrape_interval", "15s"}, {"rate_window", "1m"}}}};
}

// Constant load on pods far from saturation, so the request rate the HPA sees
// is the offered rate and the only dynamics are the controller's.
nlohmann::json SteadyLoad(double qps, double target, uint64_t seed) {
  return {{"version", 1},
          {"name", "steady"},
          {"seed", seed},
          {"duration", "1200s"},
          {"traffic", {{"rate", {{{"at", "0s"}, {"qps", qps}}}}}},
          {"pods",
           {{"replicas", 2},
            {"workers", 32},
            {"service_time", {{"dist", "constant"}, {"value", "2ms"}}},
            {"readiness_probe", {{"periodSeconds", 1}}}}},
          {"hpa", PodsMetricHpa(1, 100, target)}};
}

TEST(ClusterOracle, SteadyReplicasEqualCeilOfLoadOverTargetWithinTheToleranceBand) {
  struct Case {
    double qps, target;
  };
  // Load/target kept away from whole numbers: Poisson noise in a 1 m rate
  // window (~0.4 %) must not decide which side of an integer the ratio falls.
  for (const Case c : {Case{950, 100}, Case{1450, 100}, Case{570, 50}, Case{2300, 200}}) {
    for (uint64_t seed : {1u, 2u}) {
      const Scenario s = Parse(SteadyLoad(c.qps, c.target, seed));
      const RunResult r = sim::Run(s);
      // Closed form: the controller stops at the first count r it reaches with
      // |load / (r x target) - 1| <= tolerance, i.e. r in [ceil(L/(T(1+tol))),
      // floor(L/(T(1-tol)))], an interval around ceil(L/T); where in it depends
      // on the path (new pods count as idle while they have no samples).
      const double per_pod = c.qps / c.target;
      const auto lo = static_cast<uint64_t>(std::ceil(per_pod / 1.1));
      const auto hi = static_cast<uint64_t>(std::floor(per_pod / 0.9));
      const auto closed_form = static_cast<uint64_t>(std::ceil(per_pod));
      ASSERT_LE(lo, closed_form);
      ASSERT_GE(hi, closed_form);
      const std::vector<uint64_t>& desired = r.series.replicas_desired;
      ASSERT_GT(desired.size(), 600u);
      // The last 5 minutes: settled on one count, inside the band.
      const std::set<uint64_t> tail(desired.end() - 300, desired.end());
      ASSERT_EQ(tail.size(), 1u) << c.qps << " / " << c.target << " seed " << seed;
      const uint64_t settled = *tail.begin();
      EXPECT_GE(settled, lo) << c.qps << " / " << c.target << " seed " << seed;
      EXPECT_LE(settled, hi) << c.qps << " / " << c.target << " seed " << seed;
      EXPECT_EQ(r.series.replicas_ready.back(), settled);
      // And the HPA's own last reading agrees with the offered load per pod.
      ASSERT_FALSE(r.cluster.decisions.empty());
      const HpaDecisionRow& last = r.cluster.decisions.back();
      ASSERT_EQ(last.proposals.size(), 1u);
      EXPECT_NEAR(static_cast<double>(last.proposals[0].usage_milli) / 1000.0, c.qps / static_cast<double>(settled),
                  0.03 * c.qps / static_cast<double>(settled));
    }
  }
}

TEST(ClusterOracle, WithinTheToleranceBandNothingChanges) {
  // 4 pods at 104 % of target: inside the 10 % band, so the HPA never rescales.
  nlohmann::json doc = SteadyLoad(416, 100, 3);
  doc["pods"]["replicas"] = 4;
  const RunResult r = sim::Run(Parse(doc));
  EXPECT_EQ(r.cluster.rescales_up + r.cluster.rescales_down, 0u);
  for (uint64_t d : r.series.replicas_desired) EXPECT_EQ(d, 4u);
}

nlohmann::json LongRequests(const std::string& grace) {
  return {{"version", 1},
          {"name", "drain"},
          {"seed", 4},
          {"duration", "120s"},
          {"drain", "120s"},
          {"traffic", {{"arrivals", "uniform"}, {"rate", {{{"at", "0s"}, {"qps", 0.5}}}}}},
          {"pods",
           {{"replicas", 1},
            {"workers", 100},
            {"service_time", {{"dist", "constant"}, {"value", "40s"}}},
            {"termination", {{"grace_period", grace}}}}},
          {"events", {{{"at", "60s"}, {"kind", "pod_delete"}, {"pod", 0}}}}};
}

TEST(ClusterTermination, TheGracePeriodKillsWhatHasNotDrained) {
  // 40 s requests at one every 2 s; deleted at 60 s, killed at 65 s: what
  // arrived in (25 s, 60 s] is still running then, 17 or 18 by the phase.
  const RunResult short_grace = sim::Run(Parse(LongRequests("5s")));
  const auto killed = [](const RunResult& r) {
    return r.summary.by_cause[static_cast<int>(FailureCause::kKilledInFlight)];
  };
  EXPECT_GE(killed(short_grace), 17u);
  EXPECT_LE(killed(short_grace), 18u);
  EXPECT_EQ(short_grace.cluster.pods_deleted, 1u);
  EXPECT_EQ(short_grace.cluster.pods_created, 1u);  // the ReplicaSet's replacement

  // A grace period longer than the longest request: everything drains.
  const RunResult long_grace = sim::Run(Parse(LongRequests("60s")));
  EXPECT_EQ(killed(long_grace), 0u);
  const OutcomeCounts& s = long_grace.summary;
  EXPECT_EQ(s.offered, s.completed + s.rejected + long_grace.in_flight_at_end);
}

TEST(ClusterTermination, AClosedListenerBeforeEndpointRemovalRefusesConnections) {
  // preStop 0 and a 2-3 s propagation delay: between SIGTERM and the ingress
  // update new requests hit a closed listener. tries 1: each one fails.
  nlohmann::json doc = {{"version", 1},
                        {"name", "race"},
                        {"seed", 8},
                        {"duration", "60s"},
                        {"traffic", {{"rate", {{{"at", "0s"}, {"qps", 200}}}}}},
                        {"ingress",
                         {{"endpoint_propagation", {{"dist", "uniform"}, {"min", "2s"}, {"max", "3s"}}},
                          {"retries", {{"tries", 1}}}}},
                        {"pods", {{"replicas", 4}, {"workers", 8}, {"service_time", {{"dist", "constant"}, {"value", "5ms"}}}}},
                        {"events", {{{"at", "30s"}, {"kind", "pod_delete"}, {"pod", "oldest"}}}}};
  const RunResult refused = sim::Run(Parse(doc));
  const uint64_t errors = refused.summary.by_cause[static_cast<int>(FailureCause::kUpstreamConnectError)];
  // ~1/4 of 200 req/s for 2-3 s.
  EXPECT_GT(errors, 60u);
  EXPECT_LT(errors, 200u);

  doc["pods"]["termination"] = {{"pre_stop_sleep", "5s"}};
  const RunResult covered = sim::Run(Parse(doc));
  EXPECT_EQ(covered.summary.by_cause[static_cast<int>(FailureCause::kUpstreamConnectError)], 0u);

  doc["pods"]["termination"] = nlohmann::json::object();
  doc["ingress"]["retries"] = {{"tries", 3}};
  const RunResult retried = sim::Run(Parse(doc));
  // With 3 of 4 endpoints still open, a retry almost always lands on one.
  EXPECT_LT(retried.summary.by_cause[static_cast<int>(FailureCause::kUpstreamConnectError)], errors / 10);
}

TEST(ClusterKubelet, ACrashKillsInFlightWorkAndTheKubeletRestartsWithBackOff) {
  nlohmann::json doc = {{"version", 1},
                        {"name", "crash"},
                        {"seed", 12},
                        {"duration", "200s"},
                        {"traffic", {{"arrivals", "uniform"}, {"rate", {{{"at", "0s"}, {"qps", 10}}}}}},
                        {"ingress", {{"endpoint_propagation", {{"dist", "constant"}, {"value", "1s"}}}}},
                        {"pods",
                         {{"replicas", 2},
                          {"workers", 10},
                          {"service_time", {{"dist", "constant"}, {"value", "1s"}}},
                          {"startup", {{"start", {{"dist", "constant"}, {"value", "1s"}}},
                                       {"boot", {{"dist", "constant"}, {"value", "2s"}}}}},
                          {"readiness_probe", {{"periodSeconds", 5}}}}},
                        {"events",
                         {{{"at", "50.5s"}, {"kind", "pod_crash"}, {"pod", 0}},
                          {{"at", "100.5s"}, {"kind", "pod_crash"}, {"pod", 0}}}}};
  const RunResult r = sim::Run(Parse(doc));
  EXPECT_EQ(r.cluster.container_crashes, 2u);
  EXPECT_EQ(r.cluster.container_restarts, 2u);
  // Round robin over 2 pods at 10 req/s with 1 s requests: 5 in flight on pod 0.
  EXPECT_EQ(r.summary.by_cause[static_cast<int>(FailureCause::kKilledInFlight)], 10u);
  // The first restart is immediate: the new container starts at 51.5 s (its
  // readiness starts failing), the app answers at 53.5 s and the 5 s probe
  // tick at 56.5 s makes it Ready. The second waits the 10 s back-off: the
  // container starts at 111.5 s and is Ready at 116.5 s. Until a restart the
  // crashed pod stays Ready (3 failed probes take 15 s) but refuses connections.
  const std::vector<uint64_t>& ready = r.series.replicas_ready;  // sampled at each second's end
  EXPECT_EQ(ready[50], 2u);
  EXPECT_EQ(ready[53], 1u);
  EXPECT_EQ(ready[57], 2u);
  EXPECT_EQ(ready[105], 2u);
  EXPECT_EQ(ready[113], 1u);
  EXPECT_EQ(ready[117], 2u);
}

TEST(ClusterDeterminism, SameScenarioAndSeedGiveAByteIdenticalReportWithPodsComingAndGoing) {
  nlohmann::json doc = SteadyLoad(950, 100, 5);
  doc["traffic"] = {{"spike",
                     {{"base_qps", 200}, {"peak_qps", 2000}, {"at", "100s"}, {"ramp_up", "5s"}, {"hold", "300s"},
                      {"ramp_down", "5s"}}}};
  doc["hpa"]["spec"]["behavior"] = {{"scaleDown", {{"stabilizationWindowSeconds", 0}}}};
  doc["events"] = {{{"at", "200s"}, {"kind", "pod_crash"}, {"pod", "newest"}},
                   {{"at", "250s"}, {"kind", "pod_delete"}, {"pod", "oldest"}}};
  const Scenario s = Parse(doc);
  RunResult a = sim::Run(s), b = sim::Run(s);
  const std::string ja = RenderReport(a, s.expect).dump(), jb = RenderReport(b, s.expect).dump();
  EXPECT_EQ(ja, jb);
  EXPECT_GT(a.cluster.rescales_up, 0u);
  EXPECT_GT(a.cluster.rescales_down, 0u);
  // Conservation over the window with pods created, crashed and deleted.
  const OutcomeCounts& o = a.summary;
  EXPECT_EQ(o.offered, o.completed + o.rejected + a.in_flight_at_end);
  for (size_t i = 0; i < a.series.size(); ++i) {
    EXPECT_LE(a.series.replicas_ready[i], a.series.replicas_total[i]);
  }
}

}  // namespace
}  // namespace scaletwin::sim

namespace scaletwin::sim {
namespace {

TEST(ClusterOracle, CpuUtilizationTargetSettlesAtBusyCoresOverTargetShare) {
  // Little's law: busy workers = load x service time = 800/s x 25 ms = 20, each
  // burning 1 core; request 1 core per pod, target 50 % => 20 / 0.5 = 40 pods,
  // within the 10 % band: [37, 44] (metrics-server's two-point CPU rate).
  nlohmann::json doc = {{"version", 1},
                        {"name", "cpu"},
                        {"seed", 17},
                        {"duration", "1500s"},
                        {"traffic", {{"rate", {{{"at", "0s"}, {"qps", 800}}}}}},
                        {"pods",
                         {{"replicas", 20},
                          {"workers", 8},
                          {"service_time", {{"dist", "constant"}, {"value", "25ms"}}},
                          {"cpu_request", "1"},
                          {"cpu_per_busy_worker", "1"},
                          {"readiness_probe", {{"periodSeconds", 1}}}}},
                        {"hpa",
                         {{"spec",
                           {{"minReplicas", 1},
                            {"maxReplicas", 100},
                            {"metrics",
                             {{{"type", "Resource"},
                               {"resource",
                                {{"name", "cpu"}, {"target", {{"type", "Utilization"}, {"averageUtilization", 50}}}}}}}}}},
                          {"controller", {{"cpu_initialization_period", "30s"}}}}}};
  const RunResult r = sim::Run(Parse(doc));
  const std::vector<uint64_t>& desired = r.series.replicas_desired;
  const std::set<uint64_t> tail(desired.end() - 300, desired.end());
  ASSERT_EQ(tail.size(), 1u);
  const uint64_t settled = *tail.begin();
  EXPECT_GE(settled, 37u);
  EXPECT_LE(settled, 44u);
  // The report's own CPU series agrees with the closed form at the end.
  const double pct = r.series.cpu_utilization_pct.back();
  EXPECT_NEAR(pct, 100.0 * 20.0 / static_cast<double>(settled), 5.0);
  ASSERT_FALSE(r.cluster.decisions.empty());
  EXPECT_TRUE(r.cluster.decisions.back().proposals.at(0).ok);
}

}  // namespace
}  // namespace scaletwin::sim
