// The scenario's Redis sections: defaults, redis.conf memory units, every
// maxmemory policy, persistence options, pool, events and clock skew, and the
// error paths (each names the JSON pointer).
#include "model/scenario_redis.h"

#include <gtest/gtest.h>

#include <set>

namespace scaletwin {
namespace {

using nlohmann::json;

FileReader NoFiles() {
  return [](const std::string& name) -> Result<std::string> { return Status::NotFound("no such file: " + name); };
}

// Joined error lines, for EXPECT_NE(..find(..)) checks.
std::string Joined(const ParseErrors& e) {
  std::string out;
  for (const std::string& l : e.lines()) out += l + "\n";
  return out;
}

TEST(ParseRedisMemory, FollowsRedisConfUnits) {
  EXPECT_EQ(*ParseRedisMemory("64mb"), 64LL << 20);
  EXPECT_EQ(*ParseRedisMemory("64MB"), 64LL << 20);
  EXPECT_EQ(*ParseRedisMemory("64m"), 64'000'000);
  EXPECT_EQ(*ParseRedisMemory("1k"), 1000);
  EXPECT_EQ(*ParseRedisMemory("1kb"), 1024);
  EXPECT_EQ(*ParseRedisMemory("2gb"), 2LL << 30);
  EXPECT_EQ(*ParseRedisMemory("3g"), 3'000'000'000);
  EXPECT_EQ(*ParseRedisMemory("500"), 500);
  EXPECT_EQ(*ParseRedisMemory("500b"), 500);
  EXPECT_EQ(*ParseRedisMemory("0"), 0);
  for (const char* bad : {"", "mb", "-1mb", "1.5mb", "64 mb", "64tb", "99999999999999999999", "9999999999gb"}) {
    EXPECT_FALSE(ParseRedisMemory(bad).ok()) << bad;
  }
}

TEST(ParseRedisSection, EmptySectionGetsRedisDefaults) {
  ParseErrors errors;
  RedisScenarioSpec s = ParseRedisSection(json::object(), "/redis", NoFiles(), errors);
  ASSERT_TRUE(errors.empty()) << Joined(errors);
  EXPECT_EQ(s.memory.maxmemory, 0);
  EXPECT_EQ(s.memory.policy, MaxmemoryPolicy::kNoEviction);
  EXPECT_EQ(s.memory.samples, 5);
  EXPECT_EQ(s.memory.baseline_bytes, kDefaultRedisBaselineBytes);
  EXPECT_EQ(s.persistence.mode, PersistenceMode::kNone);
  EXPECT_EQ(s.persistence.fsync_period, kNanosPerSecond);
  EXPECT_EQ(s.hz, 10);
  Rng rng(1, "t");
  EXPECT_EQ(s.service_time.round_trip.Sample(rng), 7'500);
  EXPECT_EQ(s.client.pool.size, 10);
  EXPECT_EQ(s.client.pool.acquire_timeout, kNanosPerSecond);
  EXPECT_EQ(s.client.command_timeout, kNanosPerSecond);
  EXPECT_TRUE(s.events.empty());
  // The default one-way delay puts a round trip near the measured 55 µs p50.
  EXPECT_NEAR(s.network_delay.MeanSeconds() * 2e6, 61, 2);
}

TEST(ParseRedisSection, TheIssueExampleParses) {
  ParseErrors errors;
  RedisScenarioSpec s = ParseRedisSection(
      json::parse(R"({ "maxmemory": "64mb", "maxmemory_policy": "allkeys-lru", "persistence": "none" })"), "/redis",
      NoFiles(), errors);
  ASSERT_TRUE(errors.empty()) << Joined(errors);
  EXPECT_EQ(s.memory.maxmemory, 64LL << 20);
  EXPECT_EQ(s.memory.policy, MaxmemoryPolicy::kAllKeysLru);
}

TEST(ParseRedisSection, AcceptsEveryRedisEvictionPolicy) {
  std::set<MaxmemoryPolicy> seen;
  for (const char* name : {"noeviction", "allkeys-lru", "allkeys-lfu", "allkeys-random", "volatile-lru",
                           "volatile-lfu", "volatile-random", "volatile-ttl"}) {
    ParseErrors errors;
    RedisScenarioSpec s = ParseRedisSection(json{{"maxmemory_policy", name}}, "/redis", NoFiles(), errors);
    EXPECT_TRUE(errors.empty()) << name << ": " << Joined(errors);
    EXPECT_EQ(MaxmemoryPolicyName(s.memory.policy), name);
    seen.insert(s.memory.policy);
  }
  EXPECT_EQ(seen.size(), 8u);
}

TEST(ParseRedisSection, ReadsPersistenceServiceTimesAndNetwork) {
  ParseErrors errors;
  RedisScenarioSpec s = ParseRedisSection(json::parse(R"({
      "maxmemory": 1048576, "maxmemory_samples": 10, "baseline_memory": "0",
      "persistence": "rdb", "save": [ { "after": "60s", "changes": 1 } ],
      "hz": 100, "active_expire_effort": 3,
      "service_time": { "command": { "dist": "constant", "value": "2us" },
                        "script": { "dist": "exponential", "mean": "20us" } },
      "network_delay": { "dist": "constant", "value": "500us" } })"),
                                          "/redis", NoFiles(), errors);
  ASSERT_TRUE(errors.empty()) << Joined(errors);
  EXPECT_EQ(s.memory.maxmemory, 1 << 20);
  EXPECT_EQ(s.memory.samples, 10);
  EXPECT_EQ(s.memory.baseline_bytes, 0);
  EXPECT_EQ(s.persistence.mode, PersistenceMode::kRdb);
  ASSERT_EQ(s.persistence.save_points.size(), 1u);
  EXPECT_EQ(s.persistence.save_points[0].after, 60 * kNanosPerSecond);
  EXPECT_EQ(s.persistence.save_points[0].changes, 1);
  EXPECT_EQ(s.hz, 100);
  EXPECT_EQ(s.active_expire_effort, 3);
  Rng rng(1, "t");
  EXPECT_EQ(s.service_time.command.Sample(rng), 2'000);
  EXPECT_EQ(s.service_time.script.kind(), DurationDistribution::Kind::kExponential);
  EXPECT_EQ(s.service_time.round_trip.Sample(rng), 7'500);  // untouched default
  EXPECT_EQ(s.network_delay.Sample(rng), 500'000);

  ParseErrors aof_errors;
  RedisScenarioSpec aof = ParseRedisSection(json{{"persistence", "aof_everysec"}, {"fsync_period", "500ms"}}, "/redis",
                                            NoFiles(), aof_errors);
  ASSERT_TRUE(aof_errors.empty()) << Joined(aof_errors);
  EXPECT_EQ(aof.persistence.mode, PersistenceMode::kAofEverysec);
  EXPECT_EQ(aof.persistence.fsync_period, 500 * kNanosPerMilli);
}

TEST(ParseRedisSection, ErrorsNameThePointer) {
  ParseErrors errors;
  (void)ParseRedisSection(json::parse(R"({
      "maxmemory": "64 megabytes", "maxmemory_policy": "lru", "persistence": "aof",
      "save": [], "hz": 0, "service_time": { "cmd": {} }, "network_delay": { "dist": "normal" },
      "maxmemroy": "1mb" })"),
                          "/redis", NoFiles(), errors);
  const std::string all = Joined(errors);
  for (const char* path : {"/redis/maxmemory:", "/redis/maxmemory_policy:", "/redis/persistence:", "/redis/save:",
                           "/redis/hz:", "/redis/service_time/cmd", "/redis/network_delay/dist:", "/redis/maxmemroy"}) {
    EXPECT_NE(all.find(path), std::string::npos) << path << " missing in\n" << all;
  }
}

TEST(ParseRedisSection, PersistenceOptionsMustMatchTheMode) {
  ParseErrors errors;
  (void)ParseRedisSection(json::parse(R"({ "save": [ { "after": "60s", "changes": 1 } ], "fsync_period": "1s" })"),
                          "/redis", NoFiles(), errors);
  const std::string all = Joined(errors);
  EXPECT_NE(all.find("/redis/save: save points apply to persistence \"rdb\" only"), std::string::npos) << all;
  EXPECT_NE(all.find("/redis/fsync_period: fsync_period applies"), std::string::npos) << all;
}

TEST(ParseRedisSection, MaxmemoryMustLeaveRoomAboveTheBaseline) {
  ParseErrors errors;
  (void)ParseRedisSection(json{{"maxmemory", "100kb"}}, "/redis", NoFiles(), errors);
  EXPECT_NE(Joined(errors).find("/redis/maxmemory: must exceed baseline_memory"), std::string::npos) << Joined(errors);
}

TEST(ParseRedisPool, ReadsEveryKeyAndChecksMinIdle) {
  ParseErrors errors;
  RedisPoolSpec p = ParseRedisPool(json::parse(R"({ "size": 4, "min_idle": 2, "acquire_timeout": "50ms",
                                                    "connect_time": "1ms", "command_timeout": "0s" })"),
                                   "/pools/redis", errors);
  ASSERT_TRUE(errors.empty()) << Joined(errors);
  EXPECT_EQ(p.pool.size, 4);
  EXPECT_EQ(p.pool.min_idle, 2);
  EXPECT_EQ(p.pool.acquire_timeout, 50 * kNanosPerMilli);
  EXPECT_EQ(p.pool.connect_time, kNanosPerMilli);
  EXPECT_EQ(p.command_timeout, 0);
  ParseErrors bad;
  (void)ParseRedisPool(json{{"size", 2}, {"min_idle", 3}}, "/pools/redis", bad);
  EXPECT_NE(Joined(bad).find("/pools/redis/min_idle: must not exceed size (2)"), std::string::npos) << Joined(bad);
}

TEST(ParseRedisEvent, RestartAndKill) {
  ParseErrors errors;
  auto restart = ParseRedisEvent(json::parse(R"({"kind": "redis_restart", "at": "30s", "down_for": "5s"})"),
                                 "/events/0", errors);
  auto kill = ParseRedisEvent(json::parse(R"({"kind": "redis_kill", "at": "50s"})"), "/events/1", errors);
  ASSERT_TRUE(errors.empty()) << Joined(errors);
  EXPECT_EQ(*restart, (RedisEvent{RedisEventKind::kRestart, 30 * kNanosPerSecond, 5 * kNanosPerSecond}));
  EXPECT_EQ(*kill, (RedisEvent{RedisEventKind::kKill, 50 * kNanosPerSecond, 0}));
  EXPECT_TRUE(IsRedisEventKind("redis_kill"));
  EXPECT_FALSE(IsRedisEventKind("pod_kill"));

  ParseErrors bad;
  EXPECT_FALSE(ParseRedisEvent(json::parse(R"({"kind": "redis_restart", "at": "30s"})"), "/events/2", bad));
  EXPECT_FALSE(ParseRedisEvent(json::parse(R"({"kind": "redis_kill", "at": "1s", "down_for": "1s"})"), "/events/3", bad));
  const std::string all = Joined(bad);
  EXPECT_NE(all.find("/events/2/down_for: required duration is missing"), std::string::npos) << all;
  EXPECT_NE(all.find("/events/3/down_for"), std::string::npos) << all;
}

TEST(CheckRedisEvents, SortsAndRejectsEventsWhileDownOrAfterAKill) {
  const Nanos s = kNanosPerSecond;
  std::vector<RedisEvent> ok = {{RedisEventKind::kKill, 90 * s, 0}, {RedisEventKind::kRestart, 10 * s, 5 * s}};
  ParseErrors errors;
  CheckRedisEvents(ok, "/events", errors);
  EXPECT_TRUE(errors.empty()) << Joined(errors);
  EXPECT_EQ(ok[0].at, 10 * s);

  std::vector<RedisEvent> overlapping = {{RedisEventKind::kRestart, 10 * s, 5 * s},
                                         {RedisEventKind::kRestart, 12 * s, 1 * s}};
  CheckRedisEvents(overlapping, "/events", errors);
  EXPECT_NE(Joined(errors).find("redis_restart at 12s falls while Redis is down (until 15s)"), std::string::npos)
      << Joined(errors);
  ParseErrors after_kill;
  std::vector<RedisEvent> dead = {{RedisEventKind::kKill, 1 * s, 0}, {RedisEventKind::kRestart, 2 * s, 1 * s}};
  CheckRedisEvents(dead, "/events", after_kill);
  EXPECT_EQ(after_kill.size(), 1u);
}

TEST(ParseClockSkew, StringListAndUniformForms) {
  ParseErrors errors;
  ClockSkewSpec one = ParseClockSkew(json("-50ms"), "/pods/clock_skew", errors);
  ClockSkewSpec list = ParseClockSkew(json::parse(R"(["0ms", "+120ms", "-1.5s"])"), "/pods/clock_skew", errors);
  ClockSkewSpec uniform = ParseClockSkew(json::parse(R"({"max": "100ms"})"), "/pods/clock_skew", errors);
  ASSERT_TRUE(errors.empty()) << Joined(errors);
  EXPECT_EQ(ClockSkewForPod(one, 1, 7), -50 * kNanosPerMilli);
  EXPECT_EQ(ClockSkewForPod(list, 1, 0), 0);
  EXPECT_EQ(ClockSkewForPod(list, 1, 1), 120 * kNanosPerMilli);
  EXPECT_EQ(ClockSkewForPod(list, 1, 5), -1500 * kNanosPerMilli);
  EXPECT_EQ(ClockSkewForPod(ClockSkewSpec{}, 1, 3), 0);
  bool saw_negative = false, saw_positive = false;
  for (uint32_t pod = 0; pod < 64; ++pod) {
    const Nanos d = ClockSkewForPod(uniform, 42, pod);
    EXPECT_LE(std::abs(d), 100 * kNanosPerMilli);
    EXPECT_EQ(d, ClockSkewForPod(uniform, 42, pod));  // deterministic per pod
    saw_negative |= d < 0;
    saw_positive |= d > 0;
  }
  EXPECT_TRUE(saw_negative && saw_positive);

  ParseErrors bad;
  (void)ParseClockSkew(json::parse(R"(["1ms", "soon", 5])"), "/pods/clock_skew", bad);
  (void)ParseClockSkew(json("-2h"), "/x", bad);
  EXPECT_EQ(bad.size(), 3u) << Joined(bad);
  EXPECT_NE(Joined(bad).find("/pods/clock_skew/1: expected a signed duration"), std::string::npos) << Joined(bad);
}

}  // namespace
}  // namespace scaletwin
