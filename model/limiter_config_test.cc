// ParseLimit / ParseLimiter: defaults, strictness, errors naming the pointer.
#include "model/limiter_config.h"

#include <gtest/gtest.h>

namespace scaletwin {
namespace {

using nlohmann::json;

std::string AllErrors(const ParseErrors& e) {
  std::string s;
  for (const std::string& l : e.lines()) s += l + "\n";
  return s;
}

TEST(LimiterConfig, EmptySectionGivesDocumentedDefaults) {
  ParseErrors errors;
  LimiterConfig c = ParseLimiter(json::object(), "/limiter", errors);
  EXPECT_TRUE(errors.empty()) << AllErrors(errors);
  EXPECT_EQ(c, LimiterConfig{});
  EXPECT_EQ(c.algorithm, LimiterAlgorithm::kSlidingLog);
  EXPECT_EQ(c.strategy, SlidingLogStrategy::kLua);
  EXPECT_EQ(c.ttl_windows, 2);
  EXPECT_EQ(c.on_redis_error, OnRedisError::kFailOpen);
}

TEST(LimiterConfig, ParsesTheIssueExample) {
  ParseErrors errors;
  LimiterConfig c = ParseLimiter(json::parse(R"({"algorithm": "sliding_log", "strategy": "check_then_add",
      "ttl_windows": 2, "time_source": "pod_clock", "on_redis_error": "fail_open", "member": "timestamp",
      "scope": "tenant_route", "key_prefix": "lim"})"),
                                 "/limiter", errors);
  EXPECT_TRUE(errors.empty()) << AllErrors(errors);
  EXPECT_EQ(c.strategy, SlidingLogStrategy::kCheckThenAdd);
  EXPECT_EQ(c.member, LimiterMember::kTimestamp);
  EXPECT_EQ(LimiterKey(c, "acme", "redirect"), "lim:acme:redirect");
  ParseErrors again;
  EXPECT_EQ(ParseLimiter(LimiterToJson(c), "/limiter", again), c);
}

TEST(LimiterConfig, UnknownKeysAndBadValuesNameTheirPointer) {
  ParseErrors errors;
  ParseLimiter(json::parse(R"({"algoritm": "gcra", "ttl_windows": 0, "time_source": "ntp"})"), "/limiter", errors);
  const std::string all = AllErrors(errors);
  EXPECT_NE(all.find("/limiter/algoritm"), std::string::npos) << all;
  EXPECT_NE(all.find("/limiter/ttl_windows"), std::string::npos) << all;
  EXPECT_NE(all.find("/limiter/time_source"), std::string::npos) << all;
}

TEST(LimiterConfig, StrategyIsAnErrorForOtherAlgorithms) {
  ParseErrors errors;
  ParseLimiter(json::parse(R"({"algorithm": "gcra", "strategy": "lua"})"), "/limiter", errors);
  EXPECT_NE(AllErrors(errors).find("/limiter/strategy"), std::string::npos) << AllErrors(errors);
}

TEST(LimiterConfig, LimitNeedsRequestsAndWholeMillisecondWindow) {
  ParseErrors ok;
  auto l = ParseLimit(json::parse(R"({"requests": 1000, "window": "60s"})"), "/tenants/0/limit", ok);
  ASSERT_TRUE(l.has_value()) << AllErrors(ok);
  EXPECT_EQ(l->requests, 1000);
  EXPECT_EQ(l->window_ms(), 60'000);
  ParseErrors bad;
  EXPECT_FALSE(ParseLimit(json::parse(R"({"window": "1.5ms", "extra": 1})"), "/tenants/0/limit", bad));
  const std::string all = AllErrors(bad);
  EXPECT_NE(all.find("/tenants/0/limit/requests"), std::string::npos) << all;
  EXPECT_NE(all.find("/tenants/0/limit/window"), std::string::npos) << all;
  EXPECT_NE(all.find("/tenants/0/limit/extra"), std::string::npos) << all;
}

}  // namespace
}  // namespace scaletwin
