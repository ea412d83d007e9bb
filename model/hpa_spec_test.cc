#include "model/hpa_spec.h"

#include <gtest/gtest.h>

namespace scaletwin {
namespace {

Result<HpaSpec> Parse(const char* text, ParseErrors& errors) {
  return ParseHpaSpec(nlohmann::json::parse(text), "/hpa/spec", errors);
}

std::string Joined(const ParseErrors& e) {
  std::string s;
  for (const auto& l : e.lines()) s += l + "\n";
  return s;
}

TEST(HpaSpecTest, ReadsAManifestSpecWithKubernetesFieldNames) {
  ParseErrors errors;
  Result<HpaSpec> spec = Parse(R"({
    "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
    "minReplicas": 2, "maxReplicas": 10,
    "metrics": [
      {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}},
      {"type": "Pods", "pods": {"metric": {"name": "rps"}, "target": {"type": "AverageValue", "averageValue": "100"}}},
      {"type": "Object", "object": {"describedObject": {"kind": "Ingress", "name": "main"},
        "metric": {"name": "hits"}, "target": {"type": "Value", "value": "1k"}}},
      {"type": "External", "external": {"metric": {"name": "queue", "selector": {"matchLabels": {"q": "a"}}},
        "target": {"type": "AverageValue", "averageValue": "500m"}}},
      {"type": "ContainerResource", "containerResource": {"name": "memory", "container": "app",
        "target": {"type": "AverageValue", "averageValue": "1Ki"}}}],
    "behavior": {"scaleUp": {"stabilizationWindowSeconds": 30, "selectPolicy": "Min", "tolerance": "50m",
                             "policies": [{"type": "Pods", "value": 2, "periodSeconds": 60}]}}})",
                               errors);
  ASSERT_TRUE(spec.ok()) << Joined(errors);
  EXPECT_EQ(spec->min_replicas, 2);
  EXPECT_EQ(spec->max_replicas, 10);
  ASSERT_EQ(spec->metrics.size(), 5u);
  EXPECT_EQ(spec->metrics[0].target.average_utilization, 70);
  EXPECT_EQ(spec->metrics[1].target.average_value->milli, 100'000);
  EXPECT_EQ(spec->metrics[2].target.value->milli, 1'000'000);
  EXPECT_EQ(spec->metrics[3].target.average_value->milli, 500);
  EXPECT_EQ(spec->metrics[4].container, "app");
  EXPECT_EQ(spec->metrics[4].target.average_value->milli, 1'024'000);
  ASSERT_TRUE(spec->behavior);
  EXPECT_EQ(spec->behavior->scale_up->stabilization_window_seconds, 30);
  EXPECT_EQ(spec->behavior->scale_up->select_policy, SelectPolicy::kMin);
  EXPECT_DOUBLE_EQ(*spec->behavior->scale_up->tolerance, 0.05);
}

TEST(HpaSpecTest, ApiDefaultsFillMinReplicasMetricsAndBothDirections) {
  ParseErrors errors;
  Result<HpaSpec> spec = Parse(R"({"maxReplicas": 5, "behavior": {"scaleDown": {"selectPolicy": "Disabled"}}})", errors);
  ASSERT_TRUE(spec.ok()) << Joined(errors);
  EXPECT_EQ(spec->min_replicas, 1);
  ASSERT_EQ(spec->metrics.size(), 1u);
  EXPECT_EQ(spec->metrics[0].resource_name, "cpu");
  EXPECT_EQ(spec->metrics[0].target.average_utilization, 80);
  const ScalingRules& up = *spec->behavior->scale_up;
  EXPECT_EQ(up.stabilization_window_seconds, 0);
  EXPECT_EQ(up.select_policy, SelectPolicy::kMax);
  ASSERT_EQ(up.policies->size(), 2u);
  EXPECT_EQ((*up.policies)[0].type, ScalingPolicyType::kPods);
  EXPECT_EQ((*up.policies)[0].value, 4);
  EXPECT_EQ((*up.policies)[1].value, 100);
  const ScalingRules& down = *spec->behavior->scale_down;
  EXPECT_FALSE(down.stabilization_window_seconds) << "filled by the controller flag, not the API";
  EXPECT_EQ(down.select_policy, SelectPolicy::kDisabled);
  ASSERT_EQ(down.policies->size(), 1u);
  EXPECT_EQ((*down.policies)[0].type, ScalingPolicyType::kPercent);
}

TEST(HpaSpecTest, GivenPoliciesReplaceTheDefaultListAsAWhole) {
  ScalingRules given;
  given.policies = std::vector<ScalingPolicy>{{ScalingPolicyType::kPercent, 10, 60}};
  const ScalingRules up = DefaultScaleUpRules(given);
  ASSERT_EQ(up.policies->size(), 1u);
  EXPECT_EQ((*up.policies)[0].value, 10);
  EXPECT_EQ(up.select_policy, SelectPolicy::kMax);
}

TEST(HpaSpecTest, WithoutBehaviorTheSpecKeepsTheLegacyPath) {
  ParseErrors errors;
  Result<HpaSpec> spec = Parse(R"({"maxReplicas": 5})", errors);
  ASSERT_TRUE(spec.ok());
  EXPECT_FALSE(spec->behavior);
}

TEST(HpaSpecTest, ErrorsNameTheirJsonPointer) {
  ParseErrors errors;
  Result<HpaSpec> spec = Parse(R"({"minReplicas": 3, "maxReplicas": 2, "metricz": [],
    "metrics": [{"type": "Resource", "resource": {"name": "cpu",
      "target": {"type": "Utilization", "averageValue": "100m"}}}],
    "behavior": {"scaleUp": {"policies": [{"type": "Pods", "value": 0, "periodSeconds": 4000}]}}})",
                               errors);
  ASSERT_FALSE(spec.ok());
  const std::string all = Joined(errors);
  EXPECT_NE(all.find("/hpa/spec/maxReplicas"), std::string::npos) << all;
  EXPECT_NE(all.find("/hpa/spec/metricz: unknown key"), std::string::npos) << all;
  EXPECT_NE(all.find("/hpa/spec/metrics/0/resource/target/averageUtilization: required when type is Utilization"),
            std::string::npos) << all;
  EXPECT_NE(all.find("/hpa/spec/metrics/0/resource/target/averageValue: not allowed"), std::string::npos) << all;
  EXPECT_NE(all.find("/hpa/spec/behavior/scaleUp/policies/0/value"), std::string::npos) << all;
  EXPECT_NE(all.find("/hpa/spec/behavior/scaleUp/policies/0/periodSeconds"), std::string::npos) << all;
}

TEST(HpaSpecTest, ATargetTypeTheSourceDoesNotAllowIsAnError) {
  ParseErrors errors;
  EXPECT_FALSE(Parse(R"({"maxReplicas": 2, "metrics": [{"type": "Pods", "pods": {"metric": {"name": "x"},
                        "target": {"type": "Value", "value": "1"}}}]})", errors).ok());
  EXPECT_NE(Joined(errors).find("/hpa/spec/metrics/0/pods/target/type"), std::string::npos) << Joined(errors);
}

TEST(HpaSpecTest, ControllerOptionsHaveKubernetesDefaults) {
  ParseErrors errors;
  Result<HpaControllerOptions> o = ParseHpaControllerOptions(nlohmann::json::object(), "/hpa/controller", errors);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->sync_period, 15 * kNanosPerSecond);
  EXPECT_DOUBLE_EQ(o->tolerance, 0.1);
  EXPECT_EQ(o->cpu_initialization_period, 300 * kNanosPerSecond);
  EXPECT_EQ(o->initial_readiness_delay, 30 * kNanosPerSecond);
  EXPECT_EQ(o->downscale_stabilization, 300 * kNanosPerSecond);

  Result<HpaControllerOptions> custom = ParseHpaControllerOptions(
      nlohmann::json::parse(R"({"sync_period": "5s", "downscale_stabilization": "0s", "tolerance": 0.05})"), "/c", errors);
  ASSERT_TRUE(custom.ok());
  EXPECT_EQ(custom->sync_period, 5 * kNanosPerSecond);
  EXPECT_EQ(custom->downscale_stabilization, 0);
  EXPECT_FALSE(ParseHpaControllerOptions(nlohmann::json::parse(R"({"sync": "5s"})"), "/c", errors).ok());
}

}  // namespace
}  // namespace scaletwin
