#include "real/pod/pod_config.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace scaletwin {
namespace {

const std::string kHash(64, 'a');

nlohmann::json Minimal() {
  return nlohmann::json::parse(R"({
    "listen": "127.0.0.1:8080",
    "storage": { "backend": "sqlite", "path": "links.db" },
    "redis": { "url": "redis://127.0.0.1:6379" },
    "tenants": [ { "id": "acme", "api_key_sha256": [")" +
                               kHash + R"("],
                   "limit": { "requests": 100, "window": "1s" } } ]
  })");
}

TEST(PodConfig, TheIssuesMinimalConfigRunsWithDefaults) {
  Result<PodConfig> c = ParsePodConfig(Minimal(), "/etc/shortener");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->listen_host, "127.0.0.1");
  EXPECT_EQ(c->listen_port, 8080);
  EXPECT_EQ(c->storage.backend, "sqlite");
  EXPECT_EQ(c->storage.path, "/etc/shortener/links.db");  // relative to the config file
  EXPECT_EQ(c->redis.host, "127.0.0.1");
  EXPECT_EQ(c->redis.port, 6379);
  ASSERT_EQ(c->tenants.size(), 1u);
  EXPECT_EQ(c->tenants[0].id, "acme");
  ASSERT_TRUE(c->tenants[0].limit.has_value());
  EXPECT_EQ(c->tenants[0].limit->requests, 100);
  EXPECT_EQ(c->tenants[0].limit->window, kNanosPerSecond);
  EXPECT_EQ(c->public_base_url, "");       // the pod fills it in from the bound port
  EXPECT_EQ(c->limiter, LimiterConfig{});  // the model's defaults: sliding_log, lua, ttl 2 windows
  EXPECT_FALSE(c->jwt.has_value());
  EXPECT_EQ(c->workers, 4);
}

TEST(PodConfig, EveryErrorNamesItsJsonPointer) {
  nlohmann::json doc = Minimal();
  doc["listen"] = "nowhere";
  doc["storage"]["backend"] = "mysql";
  doc["tenants"][0]["api_key_sha256"][0] = "xyz";
  doc["tenants"][0]["limit"]["requests"] = 0;
  doc["workers"] = 0;
  doc["limitr"] = {};
  Result<PodConfig> c = ParsePodConfig(doc, ".");
  ASSERT_FALSE(c.ok());
  const std::string m = c.status().message();
  for (const char* pointer : {"/listen", "/storage/backend", "/tenants/0/api_key_sha256/0", "/tenants/0/limit/requests",
                              "/workers", "/limitr"}) {
    EXPECT_NE(m.find(pointer), std::string::npos) << pointer << " missing in: " << m;
  }
}

TEST(PodConfig, PostgresNeedsAUrl) {
  nlohmann::json doc = Minimal();
  doc["storage"] = {{"backend", "postgres"}};
  Result<PodConfig> c = ParsePodConfig(doc, ".");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("/storage/url"), std::string::npos);
}

TEST(PodConfig, OneKeyHashUnderTwoTenantsIsRefused) {
  nlohmann::json doc = Minimal();
  doc["tenants"].push_back({{"id", "globex"}, {"api_key_sha256", {kHash}}});
  Result<PodConfig> c = ParsePodConfig(doc, ".");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("/tenants/1/api_key_sha256/0"), std::string::npos);
}

TEST(PodConfig, ScenarioSectionsParseWithTheScenarioParsers) {
  nlohmann::json doc = Minimal();
  doc["limiter"] = {{"algorithm", "sliding_log"}, {"strategy", "check_then_add"}, {"ttl_windows", 3}};
  doc["work"] = {{"mode", "spin"},
                 {"service_time", {{"dist", "exponential"}, {"mean", "5ms"}}},
                 {"routes", {{"create", {{"dist", "constant"}, {"value", "20ms"}}}}}};
  Result<PodConfig> c = ParsePodConfig(doc, ".");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->limiter.strategy, SlidingLogStrategy::kCheckThenAdd);
  EXPECT_EQ(c->limiter.ttl_windows, 3);
  EXPECT_EQ(c->work.mode, PodWorkConfig::Mode::kSpin);
  EXPECT_DOUBLE_EQ(c->work.For(Route::kRedirect).MeanSeconds(), 0.005);
  EXPECT_DOUBLE_EQ(c->work.For(Route::kCreate).MeanSeconds(), 0.020);
}

TEST(PodConfig, DrainDelayLongerThanTheGracePeriodIsRefused) {
  nlohmann::json doc = Minimal();
  doc["shutdown"] = {{"grace_period", "2s"}, {"drain_delay", "5s"}};
  EXPECT_FALSE(ParsePodConfig(doc, ".").ok());
}

TEST(PodConfig, RestartOnlyChangesListsExactlyTheKeysAReloadCannotApply) {
  PodConfig a = *ParsePodConfig(Minimal(), ".");
  PodConfig b = a;
  b.tenants[0].limit->requests = 5;  // reloadable
  b.log_level = "debug";             // reloadable
  b.limiter.strategy = SlidingLogStrategy::kCheckThenAdd;
  EXPECT_TRUE(RestartOnlyChanges(a, b).empty());
  b.workers = 9;
  b.storage.pool_size = 99;
  EXPECT_EQ(RestartOnlyChanges(a, b), (std::vector<std::string>{"workers", "storage"}));
}

TEST(PodConfig, RedisUrls) {
  std::string host;
  int port = 0;
  EXPECT_TRUE(ParseRedisUrl("redis://10.0.0.5:6380", host, port).ok());
  EXPECT_EQ(host, "10.0.0.5");
  EXPECT_EQ(port, 6380);
  EXPECT_TRUE(ParseRedisUrl("redis://cache/0", host, port).ok());
  EXPECT_EQ(host, "cache");
  EXPECT_EQ(port, 6379);
  EXPECT_FALSE(ParseRedisUrl("http://cache:6379", host, port).ok());
  EXPECT_FALSE(ParseRedisUrl("redis://cache:6379/3", host, port).ok());
  EXPECT_FALSE(ParseRedisUrl("redis://cache:99999", host, port).ok());
}

}  // namespace
}  // namespace scaletwin

namespace scaletwin {
namespace {

TEST(PodConfig, TheShippedExampleConfigParses) {
  const char* src = std::getenv("SCALETWIN_SOURCE_DIR");
  ASSERT_NE(src, nullptr) << "ctest sets SCALETWIN_SOURCE_DIR";
  Result<PodConfig> c = LoadPodConfig(std::string(src) + "/real/pod/pod.example.json");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->tenants.size(), 1u);
  EXPECT_EQ(c->limiter.strategy, SlidingLogStrategy::kLua);
}

}  // namespace
}  // namespace scaletwin
