#include "model/run_result.h"

#include <gtest/gtest.h>

namespace scaletwin {
namespace {

TEST(RunResult, ReportHasTheKeysTheIssuePins) {
  RunResult r;
  r.duration = 10 * kNanosPerSecond;
  r.summary.offered = 10;
  r.summary.completed = 7;
  r.summary.rejected = 3;
  r.summary.by_cause[static_cast<int>(FailureCause::kQueueFull)] = 3;
  r.latency.Record(5 * kNanosPerMilli);
  nlohmann::json j = RenderReport(r, {});
  for (const char* path : {"summary.requests.offered", "summary.requests.completed", "summary.requests.rejected",
                           "summary.rejected_by_cause.queue_full", "summary.latency_ms.mean", "summary.latency_ms.p50",
                           "summary.latency_ms.p90", "summary.latency_ms.p99", "summary.latency_ms.max",
                           "summary.queue_wait_ms.mean", "summary.queue_wait_ms.p99", "series.offered", "passed"}) {
    EXPECT_NE(FindMetric(j, path), nullptr) << path;
  }
  EXPECT_EQ(j["summary"]["rejected_by_cause"]["queue_full"], 3);
  EXPECT_EQ(j["summary"]["rejected_by_cause"]["pool_timeout"], 0);
  EXPECT_DOUBLE_EQ(j["summary"]["latency_ms"]["p50"].get<double>(), 5.0);
}

TEST(Expectations, MinMaxAndMissingMetrics) {
  nlohmann::json report = {{"summary", {{"latency_ms", {{"p99", 120.0}}}}}, {"list", {1, 2, 3}},
                            {"tenants", {{"acme.com", {{"rejected", 4}}}}}};
  Expectation ok{"summary.latency_ms.p99", std::nullopt, 250.0, ""};
  Expectation low{"summary.latency_ms.p99", 200.0, std::nullopt, ""};
  Expectation missing{"summary.nope", std::nullopt, 1.0, ""};
  Expectation index{"list.2", 3.0, 3.0, ""};
  Expectation dotted_id{"tenants.acme.com.rejected", 4.0, 4.0, ""};
  auto r = EvaluateExpectations({ok, low, missing, index, dotted_id}, report);
  EXPECT_TRUE(r[4].passed) << "keys containing dots resolve";
  EXPECT_TRUE(r[0].passed);
  EXPECT_FALSE(r[1].passed);
  EXPECT_FALSE(r[2].passed);
  EXPECT_FALSE(r[2].found);
  EXPECT_TRUE(r[3].passed);
  nlohmann::json j = ExpectationsToJson(r);
  EXPECT_EQ(j[2]["error"], "metric not found in the report (or not a number)");
  EXPECT_DOUBLE_EQ(j[0]["actual"].get<double>(), 120.0);
}

}  // namespace
}  // namespace scaletwin
