// The Redis limiter inside the simulated world: requests of a limited tenant
// pass through each pod's Redis pool and the simulated server before a worker
// does anything else, refusals answer 429 (rate_limited), Redis failures
// decide per on_redis_error, and the auditor's verdict reaches report.json.
// The race itself is checked against the auditor (an independent rule applied
// to the admitted history), not against the limiter's own counts.
#include <gtest/gtest.h>

#include "model/scenario.h"
#include "sim/run.h"
#include "sim/scenario_json_for_tests.h"

namespace scaletwin::sim {
namespace {

Scenario Parse(const nlohmann::json& doc) { return ParseForTest(doc); }

// One tenant offered twice its limit from `pods` pods.
nlohmann::json Limited(const std::string& strategy, int pods, const std::string& delay = "500us") {
  return {{"version", 1},
          {"name", "limited"},
          {"seed", 21},
          {"duration", "30s"},
          {"tenants", {{{"id", "acme"}, {"limit", {{"requests", 100}, {"window", "1s"}}}}}},
          {"traffic", {{"rate", {{{"at", "0s"}, {"qps", 200}}}}}},
          {"pods", {{"replicas", pods}, {"workers", 16}, {"service_time", {{"dist", "constant"}, {"value", "2ms"}}}}},
          {"redis", {{"network_delay", {{"dist", "constant"}, {"value", delay}}}}},
          {"limiter", {{"algorithm", "sliding_log"}, {"strategy", strategy}}}};
}

uint64_t Cause(const RunResult& r, FailureCause c) { return r.summary.by_cause[static_cast<int>(c)]; }

TEST(WorldLimiter, CheckThenAddOverAdmitsUnderConcurrencyAndLuaDoesNot) {
  const RunResult racy = sim::Run(Parse(Limited("check_then_add", 16)));
  ASSERT_TRUE(racy.has_limiter);
  EXPECT_GT(racy.limiter_summary.at("excess_admits").get<int64_t>(), 0);
  const RunResult lua = sim::Run(Parse(Limited("lua", 16)));
  EXPECT_EQ(lua.limiter_summary.at("excess_admits").get<int64_t>(), 0);
  EXPECT_EQ(lua.limiter_summary.at("strict_excess").get<int64_t>(), 0);
  // Half of 200 req/s is over the limit: ~100 req/s refused with 429.
  const double refused = static_cast<double>(Cause(lua, FailureCause::kRateLimited));
  EXPECT_NEAR(refused / static_cast<double>(lua.summary.offered), 0.5, 0.05);
  const RunResult multi = sim::Run(Parse(Limited("multi_add_then_count", 16)));
  EXPECT_EQ(multi.limiter_summary.at("excess_admits").get<int64_t>(), 0);
}

TEST(WorldLimiter, TheAuditReachesTheReportWithItsPinnedFields) {
  const Scenario s = Parse(Limited("lua", 2));
  RunResult r = sim::Run(s);
  const nlohmann::json report = RenderReport(r, s.expect);
  ASSERT_TRUE(report.contains("limiter"));
  const nlohmann::json& audit = report["limiter"]["audit"];
  ASSERT_EQ(audit.size(), 1u);
  for (const char* key : {"key", "tenant", "limit", "window_ms", "admitted", "refused", "peak_in_window", "excess_admits",
                          "false_refusals", "strict_excess"}) {
    EXPECT_TRUE(audit[0].contains(key)) << key;
  }
  EXPECT_EQ(audit[0]["tenant"], "acme");
  EXPECT_EQ(audit[0]["peak_in_window"].get<int64_t>(), 100);
  for (const char* key : {"excess_admits", "false_refusals", "strict_excess"}) {
    EXPECT_TRUE(report["summary"]["limiter"].contains(key)) << key;
  }
  // Over time: one value per series interval, summing to the per-key figures.
  const nlohmann::json& series = report["limiter"]["series"];
  ASSERT_EQ(series["admitted"].size(), r.series.size());
  int64_t admitted = 0, refused = 0;
  for (size_t i = 0; i < r.series.size(); ++i) {
    admitted += series["admitted"][i].get<int64_t>();
    refused += series["refused"][i].get<int64_t>();
  }
  EXPECT_EQ(admitted, audit[0]["admitted"].get<int64_t>());
  EXPECT_EQ(refused, audit[0]["refused"].get<int64_t>());
  // Every refused decision is a 429 in the request counts.
  EXPECT_EQ(audit[0]["refused"].get<uint64_t>(), Cause(r, FailureCause::kRateLimited));
}

TEST(WorldLimiter, ARedisOutageDecidesByOnRedisError) {
  nlohmann::json doc = Limited("lua", 2);
  doc["events"] = {{{"kind", "redis_kill"}, {"at", "10s"}}};
  doc["limiter"]["on_redis_error"] = "fail_closed";
  const RunResult closed = sim::Run(Parse(doc));
  // 20 s of 200 req/s with no Redis: all refused as redis_error.
  EXPECT_GT(Cause(closed, FailureCause::kRedisError), 3800u);
  EXPECT_LT(Cause(closed, FailureCause::kRedisError), 4200u);

  doc["limiter"]["on_redis_error"] = "fail_open";
  const RunResult open = sim::Run(Parse(doc));
  EXPECT_EQ(Cause(open, FailureCause::kRedisError), 0u);
  // Admitted with nobody counting: the strict window check sees the overrun.
  EXPECT_GT(open.limiter_summary.at("strict_excess").get<int64_t>(), 1000);
}

TEST(WorldLimiter, UnlimitedTenantsNeverTouchRedis) {
  nlohmann::json doc = Limited("lua", 2);
  doc["tenants"].push_back({{"id", "free"}, {"weight", 1}});
  const RunResult r = sim::Run(Parse(doc));
  EXPECT_EQ(r.by_tenant.at("free").by_cause[static_cast<int>(FailureCause::kRateLimited)], 0u);
  EXPECT_GT(r.by_tenant.at("acme").by_cause[static_cast<int>(FailureCause::kRateLimited)], 0u);
  EXPECT_EQ(r.limiter_audit.size(), 1u);  // one key: acme's
}

TEST(WorldLimiter, SameSeedSameReport) {
  const Scenario s = Parse(Limited("check_then_add", 8));
  RunResult a = sim::Run(s), b = sim::Run(s);
  EXPECT_EQ(RenderReport(a, s.expect).dump(), RenderReport(b, s.expect).dump());
}

}  // namespace
}  // namespace scaletwin::sim

namespace scaletwin::sim {
namespace {

TEST(WorldLimiter, CheckThenAddExcessGrowsWithPodsAndRedisRoundTripTime) {
  auto excess = [](int pods, int workers, const std::string& delay) {
    nlohmann::json doc = Limited("check_then_add", pods, delay);
    doc["pods"]["workers"] = workers;
    return sim::Run(Parse(doc)).limiter_summary.at("excess_admits").get<int64_t>();
  };
  // Concurrency is what races: one worker serialises every decision; more
  // workers (here on one pod or spread over 16) let decisions overlap, up to
  // what the offered load brings at once.
  const int64_t one = excess(1, 1, "500us");
  const int64_t two = excess(1, 2, "500us");
  const int64_t sixteen = excess(16, 16, "500us");
  EXPECT_EQ(one, 0);
  EXPECT_GT(two, 0);
  EXPECT_GE(sixteen, two);
  EXPECT_GT(excess(16, 16, "3ms"), sixteen);
}

}  // namespace
}  // namespace scaletwin::sim

namespace scaletwin::sim {
namespace {

// Found by property-tests/limiter_sim_props.cc: the sliding counter's
// previous-window key must live until the end of the next window by the
// slowest pod's clock, but its TTL runs from the writer's clock. With pods
// 34 ms apart and a 200 ms window, two windows of TTL expire it early; three
// do not.
TEST(WorldLimiter, SlidingCounterTwoWindowTtlLosesStateUnderSkew) {
  nlohmann::json doc = {
      {"version", 1},
      {"name", "counter-skew"},
      {"seed", 0},
      {"duration", "20s"},
      {"tenants", {{{"id", "a"}, {"limit", {{"requests", 1}, {"window", "200ms"}}}}}},
      {"traffic",
       {{"arrivals", "uniform"},
        {"rate", {{{"at", "0s"}, {"qps", 2}}, {{"at", "10s"}, {"qps", 12}}, {{"at", "15s"}, {"qps", 1}}}}}},
      {"pods",
       {{"replicas", 2},
        {"workers", 4},
        {"service_time", {{"dist", "constant"}, {"value", "1ms"}}},
        {"clock_skew", nlohmann::json::array({"-17ms", "17ms"})}}},
      {"limiter", {{"algorithm", "sliding_counter"}, {"time_source", "pod_clock"}, {"ttl_windows", 2}}}};
  const RunResult two = sim::Run(Parse(doc));
  EXPECT_GT(two.limiter_summary.at("excess_admits").get<int64_t>(), 0);
  doc["limiter"]["ttl_windows"] = 3;
  const RunResult three = sim::Run(Parse(doc));
  EXPECT_EQ(three.limiter_summary.at("excess_admits").get<int64_t>(), 0);
  doc["pods"]["clock_skew"] = "0ms";
  doc["limiter"]["ttl_windows"] = 2;
  const RunResult no_skew = sim::Run(Parse(doc));
  EXPECT_EQ(no_skew.limiter_summary.at("excess_admits").get<int64_t>(), 0);
}

}  // namespace
}  // namespace scaletwin::sim
