#include "model/hpa_controller.h"

#include <gtest/gtest.h>

namespace scaletwin {
namespace {

constexpr Nanos kSec = kNanosPerSecond;

HpaPod Pod(const std::string& name, Nanos now) {
  HpaPod p;
  p.name = name;
  p.start_time = now - 3600 * kSec;
  p.ready = PodReadyCondition{ConditionStatus::kTrue, now - 3600 * kSec};
  p.containers.push_back({"app", {{"cpu", 1000}}});
  return p;
}

MetricSpec CpuUtilization(int32_t percent) {
  MetricSpec m;
  m.type = MetricSourceType::kResource;
  m.resource_name = "cpu";
  m.target.type = MetricTargetType::kUtilization;
  m.target.average_utilization = percent;
  return m;
}

MetricSpec ExternalValue(const std::string& name, int64_t milli) {
  MetricSpec m;
  m.type = MetricSourceType::kExternal;
  m.metric_name = name;
  m.target.type = MetricTargetType::kValue;
  m.target.value = Quantity{FormatMilli(milli), milli, milli / 1000.0};
  return m;
}

// n ready pods, each using `cpu_milli` of a 1-core request.
HpaObservation Observe(int32_t n, int64_t cpu_milli, Nanos now) {
  HpaObservation obs;
  obs.spec_replicas = obs.status_replicas = n;
  MetricReading cpu;
  for (int32_t i = 0; i < n; ++i) {
    obs.pods.push_back(Pod("p" + std::to_string(i), now));
    cpu.pod_samples["p" + std::to_string(i)] = {cpu_milli, now, 15 * kSec};
  }
  obs.readings.push_back(cpu);
  return obs;
}

HpaSpec Spec(int32_t min, int32_t max, std::vector<MetricSpec> metrics) {
  HpaSpec s;
  s.min_replicas = min;
  s.max_replicas = max;
  s.metrics = std::move(metrics);
  return s;
}

std::string Reason(const HpaDecision& d, const std::string& type) {
  const HpaCondition* c = d.Condition(type);
  return c ? std::string(ConditionStatusName(c->status)) + "/" + c->reason : "unset";
}

TEST(ReconcileHpaTest, FirstSightRecordsTheCurrentSizeWhichHoldsAScaleDown) {
  const HpaSpec spec = Spec(1, 10, {CpuUtilization(50)});
  const HpaReconcileResult r = ReconcileHpa(spec, {}, Observe(5, 100, 0), HpaState{}, 0);
  EXPECT_EQ(r.decision.desired_replicas, 5);
  EXPECT_EQ(Reason(r.decision, "AbleToScale"), "True/ScaleDownStabilized");
  ASSERT_TRUE(r.state.recommendations);
  EXPECT_EQ(r.state.recommendations->size(), 2u);
  // With an empty (not absent) history the scale-down happens at once.
  HpaState empty;
  empty.recommendations.emplace();
  EXPECT_EQ(ReconcileHpa(spec, {}, Observe(5, 100, 0), empty, 0).decision.desired_replicas, 1);
}

TEST(ReconcileHpaTest, ScaleDownIsBlockedWhenAMetricFails) {
  const HpaSpec spec = Spec(1, 10, {CpuUtilization(50), ExternalValue("queue", 1000)});
  HpaObservation obs = Observe(5, 100, 0);
  MetricReading failed;
  failed.error = "adapter unavailable";
  obs.readings.push_back(failed);
  HpaState state;
  state.recommendations.emplace();
  const HpaReconcileResult r = ReconcileHpa(spec, {}, obs, state, 0);
  EXPECT_EQ(r.decision.desired_replicas, 5);
  EXPECT_FALSE(r.decision.rescale);
  EXPECT_EQ(Reason(r.decision, "ScalingActive"), "False/FailedGetExternalMetric");
  EXPECT_EQ(r.state.recommendations->size(), 0u) << "no recommendation is stored during a metrics outage";
}

TEST(ReconcileHpaTest, ScaleUpProceedsWhenAnotherMetricFails) {
  const HpaSpec spec = Spec(1, 10, {CpuUtilization(50), ExternalValue("queue", 1000)});
  HpaObservation obs = Observe(2, 1000, 0);
  obs.readings.push_back(MetricReading{std::string("down"), {}, {}});
  const HpaReconcileResult r = ReconcileHpa(spec, {}, obs, HpaState{}, 0);
  EXPECT_EQ(r.decision.desired_replicas, 4);
  EXPECT_EQ(Reason(r.decision, "ScalingActive"), "True/ValidMetricFound");
  EXPECT_NE(r.decision.error.find("1 invalid out of 2"), std::string::npos) << r.decision.error;
}

TEST(ReconcileHpaTest, TheMaximumOverMetricsWins) {
  const HpaSpec spec = Spec(1, 100, {CpuUtilization(50), ExternalValue("queue", 1000)});
  HpaObservation obs = Observe(2, 500, 0);         // cpu at target: proposes 2
  obs.readings.push_back(MetricReading{std::nullopt, {}, {7000}});  // 7 × the target on 2 ready pods: 14
  const HpaReconcileResult r = ReconcileHpa(spec, {}, obs, HpaState{}, 0);
  EXPECT_EQ(r.decision.metric_replicas, 14);
  EXPECT_EQ(r.decision.desired_replicas, 4) << "legacy limit max(2 × 2, 4)";
  EXPECT_EQ(r.decision.rescale_reason, "external/queue above target");
  ASSERT_EQ(r.decision.proposals.size(), 2u);
  EXPECT_EQ(r.decision.proposals[0].proposal.replicas, 2);
}

TEST(ReconcileHpaTest, ZeroReplicasWithAPositiveMinimumDisablesScaling) {
  const HpaReconcileResult r = ReconcileHpa(Spec(1, 10, {CpuUtilization(50)}), {}, Observe(0, 0, 0), HpaState{}, 0);
  EXPECT_EQ(r.decision.desired_replicas, 0);
  EXPECT_EQ(Reason(r.decision, "ScalingActive"), "False/ScalingDisabled");
  EXPECT_EQ(Reason(r.decision, "ScalingLimited"), "unset");
}

TEST(ReconcileHpaTest, OutsideMinMaxGoesStraightToTheBoundWithoutReadingMetrics) {
  const HpaReconcileResult over = ReconcileHpa(Spec(1, 5, {CpuUtilization(50)}), {}, Observe(10, 0, 0), HpaState{}, 0);
  EXPECT_EQ(over.decision.desired_replicas, 5);
  EXPECT_TRUE(over.decision.proposals.empty());
  const HpaReconcileResult under = ReconcileHpa(Spec(3, 5, {CpuUtilization(50)}), {}, Observe(1, 0, 0), HpaState{}, 0);
  EXPECT_EQ(under.decision.desired_replicas, 3);
  EXPECT_EQ(Reason(under.decision, "AbleToScale"), "True/SucceededRescale");
}

TEST(ReconcileHpaTest, LegacyPathCapsScaleUpAtTwiceCurrentOrFour) {
  const HpaReconcileResult r = ReconcileHpa(Spec(1, 100, {CpuUtilization(10)}), {}, Observe(3, 1000, 0), HpaState{}, 0);
  EXPECT_EQ(r.decision.metric_replicas, 30);
  EXPECT_EQ(r.decision.desired_replicas, 6);
  EXPECT_EQ(Reason(r.decision, "ScalingLimited"), "True/ScaleUpLimit");
  EXPECT_TRUE(r.state.scale_up_events.empty()) << "no scale events without behavior";
}

TEST(ReconcileHpaTest, DefaultBehaviorDoublesEverySyncPeriodAndRecordsEvents) {
  HpaSpec spec = Spec(1, 1000, {CpuUtilization(10)});
  spec.behavior = HpaBehavior{};
  ApplyHpaDefaults(spec);
  const HpaControllerOptions options;
  HpaState state;
  int32_t replicas = 3;
  std::vector<int32_t> seen;
  for (int sync = 0; sync < 4; ++sync) {
    const Nanos now = sync * options.sync_period;
    HpaReconcileResult r = ReconcileHpa(spec, options, Observe(replicas, 1000, now), std::move(state), now);
    state = std::move(r.state);
    replicas = r.decision.desired_replicas;
    seen.push_back(replicas);
  }
  // max(+4, ×2) per 15 s: the previous event is exactly one period old, so outside it.
  EXPECT_EQ(seen, (std::vector<int32_t>{7, 14, 28, 56}));
  EXPECT_EQ(state.scale_up_events.size(), 1u) << "outdated events are reused";
}

TEST(ReconcileHpaTest, ScaleDownWindowKeepsTheHighestRecommendationAcrossSyncs) {
  HpaSpec spec = Spec(1, 20, {CpuUtilization(50)});
  HpaControllerOptions options;
  HpaState state;
  state.recommendations.emplace();
  // Load drops just after t=0: the proposal falls from 8 to 2, but for 300 s the 8 recorded at t=0 holds.
  state.recommendations->push_back({8, 0});
  Nanos now = 0;
  int32_t replicas = 8;
  for (; now < 300 * kSec; now += options.sync_period) {
    HpaReconcileResult r = ReconcileHpa(spec, options, Observe(replicas, 100, now), std::move(state), now);
    state = std::move(r.state);
    ASSERT_EQ(r.decision.desired_replicas, 8) << "at " << now / kSec << " s";
  }
  HpaReconcileResult r = ReconcileHpa(spec, options, Observe(replicas, 100, now), std::move(state), now);
  EXPECT_EQ(r.decision.desired_replicas, 2);
}

TEST(ReconcileHpaTest, PerDirectionToleranceComesFromBehavior) {
  HpaSpec spec = Spec(1, 20, {CpuUtilization(100)});
  ScalingRules up;
  up.tolerance = 0.5;
  spec.behavior = HpaBehavior{up, std::nullopt};
  ApplyHpaDefaults(spec);
  const HpaReconcileResult r = ReconcileHpa(spec, {}, Observe(4, 1400, 0), HpaState{}, 0);  // 140 % < 150 %
  EXPECT_EQ(r.decision.desired_replicas, 4);
  EXPECT_DOUBLE_EQ(r.decision.tolerances.scale_up, 0.5);
  EXPECT_DOUBLE_EQ(r.decision.tolerances.scale_down, 0.1);
  HpaControllerOptions gate_off;
  gate_off.configurable_tolerance = false;
  EXPECT_EQ(ReconcileHpa(spec, gate_off, Observe(4, 1400, 0), HpaState{}, 0).decision.desired_replicas, 6);
}

TEST(ReconcileHpaTest, DisabledScaleDownNeverRemovesPods) {
  HpaSpec spec = Spec(1, 20, {CpuUtilization(50)});
  ScalingRules down;
  down.select_policy = SelectPolicy::kDisabled;
  down.stabilization_window_seconds = 0;
  spec.behavior = HpaBehavior{std::nullopt, down};
  ApplyHpaDefaults(spec);
  HpaState state;
  state.recommendations.emplace();
  const HpaReconcileResult r = ReconcileHpa(spec, {}, Observe(6, 50, 0), state, 0);
  EXPECT_EQ(r.decision.desired_replicas, 6);
  EXPECT_EQ(Reason(r.decision, "ScalingLimited"), "True/ScaleDownLimit");
}

}  // namespace
}  // namespace scaletwin
