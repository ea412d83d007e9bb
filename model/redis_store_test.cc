// RedisStore command semantics without a server (the real-server comparison
// lives in property-tests/redis_store_vs_real_props.cc).
#include "model/redis_store.h"

#include <gtest/gtest.h>

#include <string>

namespace scaletwin {
namespace {

constexpr Nanos kT0 = 1'700'000'000LL * kNanosPerSecond;
constexpr Nanos kMs = kNanosPerMilli;

Reply Int(int64_t v) { return Reply::Integer(v); }

TEST(RedisStore, EmptiedSortedSetIsDeletedWithItsTtl) {
  RedisStore s;
  EXPECT_EQ(s.Execute({"ZADD", "k", "1", "a", "2", "b"}, kT0), Int(2));
  EXPECT_EQ(s.Execute({"PEXPIRE", "k", "60000"}, kT0), Int(1));
  EXPECT_EQ(s.Execute({"ZREMRANGEBYSCORE", "k", "-inf", "(2"}, kT0), Int(1));
  EXPECT_EQ(s.Execute({"PTTL", "k"}, kT0), Int(60000));  // ZREM* keeps the TTL...
  EXPECT_EQ(s.Execute({"ZREM", "k", "b"}, kT0), Int(1));
  EXPECT_EQ(s.Execute({"PTTL", "k"}, kT0), Int(-2));  // ...until the set is empty
  EXPECT_EQ(s.Execute({"ZADD", "k", "1", "a"}, kT0), Int(1));
  EXPECT_EQ(s.Execute({"PTTL", "k"}, kT0), Int(-1));
  EXPECT_EQ(s.volatile_key_count(), 0u);
}

TEST(RedisStore, PttlIsMinusTwoForMissingAndMinusOneWithoutTtl) {
  RedisStore s;
  EXPECT_EQ(s.Execute({"PTTL", "nope"}, kT0), Int(-2));
  EXPECT_EQ(s.Execute({"TTL", "nope"}, kT0), Int(-2));
  (void)s.Execute({"SET", "k", "v"}, kT0);
  EXPECT_EQ(s.Execute({"PTTL", "k"}, kT0), Int(-1));
  (void)s.Execute({"PEXPIRE", "k", "1500"}, kT0);
  EXPECT_EQ(s.Execute({"PTTL", "k"}, kT0 + 1 * kMs), Int(1499));
  EXPECT_EQ(s.Execute({"TTL", "k"}, kT0 + 1 * kMs), Int(1));   // (1499 + 500) / 1000
  EXPECT_EQ(s.Execute({"TTL", "k"}, kT0 + 999 * kMs), Int(1));  // 501 ms rounds up
}

TEST(RedisStore, KeysExpireLazilyOneMillisecondAfterTheirExpireTime) {
  RedisStore s;
  (void)s.Execute({"SET", "k", "v", "PX", "100"}, kT0);
  EXPECT_EQ(s.Execute({"GET", "k"}, kT0 + 100 * kMs), Reply::Bulk("v"));  // now == T: still there
  EXPECT_TRUE(s.HoldsKey("k"));
  EXPECT_EQ(s.Execute({"PTTL", "k"}, kT0 + 100 * kMs), Int(0));
  EXPECT_EQ(s.Execute({"GET", "k"}, kT0 + 101 * kMs), Reply::Nil());
  EXPECT_FALSE(s.HoldsKey("k"));
  EXPECT_EQ(s.expired_keys(), 1);
}

TEST(RedisStore, SetClearsTheTtlUnlessKeepttlAndIncrKeepsIt) {
  RedisStore s;
  (void)s.Execute({"SET", "k", "1", "PX", "5000"}, kT0);
  EXPECT_EQ(s.Execute({"INCR", "k"}, kT0), Int(2));
  EXPECT_EQ(s.Execute({"PTTL", "k"}, kT0), Int(5000));
  EXPECT_EQ(s.Execute({"SET", "k", "7", "KEEPTTL"}, kT0), Reply::Ok());
  EXPECT_EQ(s.Execute({"PTTL", "k"}, kT0), Int(5000));
  EXPECT_EQ(s.Execute({"SET", "k", "8"}, kT0), Reply::Ok());
  EXPECT_EQ(s.Execute({"PTTL", "k"}, kT0), Int(-1));
}

TEST(RedisStore, SetNxXxAndGetOptions) {
  RedisStore s;
  EXPECT_EQ(s.Execute({"SET", "k", "a", "XX"}, kT0), Reply::Nil());
  EXPECT_EQ(s.Execute({"SET", "k", "a", "NX"}, kT0), Reply::Ok());
  EXPECT_EQ(s.Execute({"SET", "k", "b", "NX", "GET"}, kT0), Reply::Bulk("a"));
  EXPECT_EQ(s.Execute({"SET", "k", "c", "GET"}, kT0), Reply::Bulk("a"));
  EXPECT_EQ(s.Execute({"SET", "k", "v", "NX", "XX"}, kT0), Reply::Error("ERR syntax error"));
  EXPECT_EQ(s.Execute({"SET", "k", "v", "PX", "0"}, kT0), Reply::Error("ERR invalid expire time in 'set' command"));
  (void)s.Execute({"ZADD", "z", "1", "a"}, kT0);
  EXPECT_EQ(s.Execute({"SET", "z", "v", "GET"}, kT0), Reply::Error(std::string(kErrWrongType)));
  EXPECT_EQ(s.Execute({"SET", "z", "v"}, kT0), Reply::Ok());  // plain SET overwrites any type
}

TEST(RedisStore, IncrRejectsNonIntegersAndOverflow) {
  RedisStore s;
  (void)s.Execute({"SET", "k", "01"}, kT0);
  EXPECT_EQ(s.Execute({"INCR", "k"}, kT0), Reply::Error(std::string(kErrNotInteger)));
  (void)s.Execute({"SET", "k", "9223372036854775807"}, kT0);
  EXPECT_EQ(s.Execute({"INCR", "k"}, kT0), Reply::Error("ERR increment or decrement would overflow"));
  EXPECT_EQ(s.Execute({"DECRBY", "n", "-9223372036854775808"}, kT0), Reply::Error("ERR decrement would overflow"));
  EXPECT_EQ(s.Execute({"INCRBY", "n", "+1"}, kT0), Reply::Error(std::string(kErrNotInteger)));
  EXPECT_EQ(s.Execute({"INCRBY", "n", "-5"}, kT0), Int(-5));
  (void)s.Execute({"ZADD", "z", "1", "a"}, kT0);
  EXPECT_EQ(s.Execute({"INCR", "z"}, kT0), Reply::Error(std::string(kErrWrongType)));
}

TEST(RedisStore, ZaddRepliesAndScoreFormatting) {
  RedisStore s;
  EXPECT_EQ(s.Execute({"ZADD", "z", "1.5", "a", "0.1", "b", "inf", "c"}, kT0), Int(3));
  EXPECT_EQ(s.Execute({"ZADD", "z", "CH", "2", "a", "1", "new"}, kT0), Int(2));
  EXPECT_EQ(s.Execute({"ZADD", "z", "2", "a"}, kT0), Int(0));
  EXPECT_EQ(s.Execute({"ZSCORE", "z", "b"}, kT0), Reply::Bulk("0.10000000000000001"));
  EXPECT_EQ(s.Execute({"ZADD", "z", "INCR", "1", "a"}, kT0), Reply::Bulk("3"));
  EXPECT_EQ(s.Execute({"ZADD", "z", "XX", "INCR", "1", "nope"}, kT0), Reply::Nil());
  EXPECT_EQ(s.Execute({"ZADD", "z", "INCR", "-inf", "c"}, kT0),
            Reply::Error("ERR resulting score is not a number (NaN)"));
  EXPECT_EQ(s.Execute({"ZADD", "z", "nan", "x"}, kT0), Reply::Error(std::string(kErrNotFloat)));
  EXPECT_EQ(s.Execute({"ZADD", "z", "1"}, kT0), Reply::Error("ERR wrong number of arguments for 'zadd' command"));
  EXPECT_EQ(s.Execute({"ZADD", "z", "GT", "LT", "1", "a"}, kT0),
            Reply::Error("ERR GT, LT, and/or NX options at the same time are not compatible"));
  EXPECT_EQ(s.Execute({"ZADD", "missing", "XX", "1", "a"}, kT0), Int(0));
  EXPECT_EQ(s.Execute({"EXISTS", "missing"}, kT0), Int(0));
}

TEST(RedisStore, ZrangeVariants) {
  RedisStore s;
  (void)s.Execute({"ZADD", "z", "1", "a", "2", "b", "3", "c"}, kT0);
  auto bulks = [](std::initializer_list<const char*> xs) {
    std::vector<Reply> v;
    for (const char* x : xs) v.push_back(Reply::Bulk(x));
    return Reply::Array(v);
  };
  EXPECT_EQ(s.Execute({"ZRANGE", "z", "0", "-1"}, kT0), bulks({"a", "b", "c"}));
  EXPECT_EQ(s.Execute({"ZRANGE", "z", "0", "0", "WITHSCORES"}, kT0), bulks({"a", "1"}));
  EXPECT_EQ(s.Execute({"ZRANGE", "z", "(3", "1", "BYSCORE", "REV"}, kT0), bulks({"b", "a"}));
  EXPECT_EQ(s.Execute({"ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "1", "1"}, kT0), bulks({"b"}));
  EXPECT_EQ(s.Execute({"ZRANGEBYSCORE", "z", "2", "+inf"}, kT0), bulks({"b", "c"}));
  EXPECT_EQ(s.Execute({"ZRANGE", "z", "0", "1", "LIMIT", "0", "1"}, kT0),
            Reply::Error("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"));
  EXPECT_EQ(s.Execute({"ZRANGE", "nokey", "0", "-1"}, kT0), Reply::Array({}));
  EXPECT_EQ(s.Execute({"ZCOUNT", "z", "(1", "x"}, kT0), Reply::Error(std::string(kErrMinMaxNotFloat)));
}

TEST(RedisStore, PexpireWithPastTimeDeletesAndOptionsGate) {
  RedisStore s;
  (void)s.Execute({"SET", "k", "v"}, kT0);
  EXPECT_EQ(s.Execute({"PEXPIRE", "k", "100", "XX"}, kT0), Int(0));
  EXPECT_EQ(s.Execute({"PEXPIRE", "k", "100", "GT"}, kT0), Int(0));  // no TTL = infinite
  EXPECT_EQ(s.Execute({"PEXPIRE", "k", "100", "LT"}, kT0), Int(1));
  EXPECT_EQ(s.Execute({"PEXPIRE", "k", "100", "NX"}, kT0), Int(0));
  EXPECT_EQ(s.Execute({"PEXPIRE", "k", "200", "GT"}, kT0), Int(1));
  EXPECT_EQ(s.Execute({"PERSIST", "k"}, kT0), Int(1));
  EXPECT_EQ(s.Execute({"PEXPIREAT", "k", std::to_string(kT0 / kMs)}, kT0), Int(1));
  EXPECT_FALSE(s.HoldsKey("k"));
  EXPECT_EQ(s.Execute({"PEXPIRE", "k", "10"}, kT0), Int(0));
  EXPECT_EQ(s.Execute({"PEXPIRE", "k", "1", "FOO"}, kT0), Reply::Error("ERR Unsupported option FOO"));
}

TEST(RedisStore, MultiQueuesAndExecRunsAtomicallyWithoutRollback) {
  RedisStore s;
  RedisSession c;
  (void)s.Execute({"SET", "str", "x"}, kT0);
  EXPECT_EQ(c.Execute(s, {"MULTI"}, kT0), Reply::Ok());
  EXPECT_EQ(c.Execute(s, {"ZADD", "z", "1", "a"}, kT0), Reply::Simple("QUEUED"));
  EXPECT_EQ(c.Execute(s, {"ZADD", "str", "1", "a"}, kT0), Reply::Simple("QUEUED"));
  EXPECT_EQ(c.Execute(s, {"ZCARD", "z"}, kT0), Reply::Simple("QUEUED"));
  EXPECT_EQ(c.Execute(s, {"EXEC"}, kT0),
            Reply::Array({Int(1), Reply::Error(std::string(kErrWrongType)), Int(1)}));
  EXPECT_FALSE(c.in_multi());
}

TEST(RedisStore, QueueTimeErrorMakesExecAbort) {
  RedisStore s;
  RedisSession c;
  (void)c.Execute(s, {"MULTI"}, kT0);
  (void)c.Execute(s, {"INCR", "n"}, kT0);
  EXPECT_EQ(c.Execute(s, {"GET"}, kT0), Reply::Error("ERR wrong number of arguments for 'get' command"));
  EXPECT_EQ(c.Execute(s, {"EXEC"}, kT0), Reply::Error(std::string(kErrExecAbort)));
  EXPECT_FALSE(s.HoldsKey("n"));
  EXPECT_EQ(c.Execute(s, {"EXEC"}, kT0), Reply::Error("ERR EXEC without MULTI"));
}

TEST(RedisStore, EvalshaRunsTheRegisteredNativeScriptOnceLoaded) {
  auto reg = std::make_shared<RedisScriptRegistry>();
  const std::string sha(40, 'a');
  ASSERT_TRUE(reg->Register({sha, "return redis.call('INCR', KEYS[1])",
                             [](RedisScriptContext& ctx, const std::vector<std::string>& keys,
                                const std::vector<std::string>&) { return ctx.Call({"INCR", keys[0]}); }})
                  .ok());
  RedisConfig cfg;
  cfg.scripts = reg;
  RedisStore s(cfg);
  EXPECT_EQ(s.Execute({"EVALSHA", sha, "1", "n"}, kT0), Reply::Error(std::string(kErrNoScript)));
  EXPECT_EQ(s.Execute({"SCRIPT", "LOAD", "return redis.call('INCR', KEYS[1])"}, kT0), Reply::Bulk(sha));
  EXPECT_EQ(s.Execute({"EVALSHA", sha, "1", "n"}, kT0), Int(1));
  EXPECT_EQ(s.Execute({"EVALSHA", sha, "2", "n"}, kT0),
            Reply::Error("ERR Number of keys can't be greater than number of args"));
  s.FlushScriptCache();
  EXPECT_EQ(s.Execute({"EVALSHA", sha, "1", "n"}, kT0), Reply::Error(std::string(kErrNoScript)));
}

TEST(RedisStore, WriteObserverSeesWritesAndExpiryDeletesButNotReads) {
  RedisStore s;
  std::vector<std::string> seen;
  s.SetWriteObserver([&](const Command& c, Nanos) { seen.push_back(c.ToString()); });
  (void)s.Execute({"SET", "k", "v", "PX", "10"}, kT0);
  (void)s.Execute({"GET", "k"}, kT0);
  (void)s.Execute({"SET", "k2", "v", "NX"}, kT0);
  (void)s.Execute({"SET", "k2", "v", "NX"}, kT0);  // no change: not propagated
  (void)s.Execute({"GET", "k"}, kT0 + 11 * kMs);
  EXPECT_EQ(seen, (std::vector<std::string>{"SET k v PX 10", "SET k2 v NX", "DEL k"}));
}

TEST(RedisStore, ActiveExpireCycleRepeatsWhileMoreThanTenPercentExpired) {
  RedisStore s;
  for (int i = 0; i < 1000; ++i) (void)s.Execute({"SET", "k" + std::to_string(i), "v", "PX", "10"}, kT0);
  const ExpireCycleStats all = s.ActiveExpireCycle(kT0 + 20 * kMs);
  EXPECT_EQ(all.expired, 1000);  // every sample is 100 % stale: loop until none left
  EXPECT_EQ(s.key_count(), 0u);
  EXPECT_FALSE(all.hit_time_limit);

  for (int i = 0; i < 1000; ++i) {
    (void)s.Execute({"SET", "k" + std::to_string(i), "v", "PX", i < 10 ? "10" : "100000"}, kT0);
  }
  const ExpireCycleStats few = s.ActiveExpireCycle(kT0 + 20 * kMs);
  EXPECT_LE(few.iterations, 2);  // 1 % stale: one sample of 20 is usually enough to stop
  EXPECT_EQ(few.sampled, 20 * few.iterations);
}

TEST(RedisStore, ActiveExpireCycleStopsAtItsTimeBudget) {
  RedisStore s;  // hz 10: 25 ms budget at 2.5 us per key = 10k keys per cycle
  for (int i = 0; i < 50000; ++i) (void)s.Execute({"SET", "k" + std::to_string(i), "v", "PX", "10"}, kT0);
  const ExpireCycleStats st = s.ActiveExpireCycle(kT0 + 20 * kMs);
  EXPECT_TRUE(st.hit_time_limit);
  EXPECT_NEAR(static_cast<double>(st.expired), 10000, 50);
  EXPECT_EQ(s.key_count(), 50000u - static_cast<size_t>(st.expired));
}

TEST(RedisStore, TimeAnswersUnixSecondsAndMicroseconds) {
  RedisConfig cfg;
  cfg.unix_time_at_zero = kT0;
  RedisStore s(cfg);
  EXPECT_EQ(s.Execute({"TIME"}, 1'500'250'000),
            Reply::Array({Reply::Bulk("1700000001"), Reply::Bulk("500250")}));
}

TEST(RedisStore, UnknownCommandsAndArityErrorsUseRedisTexts) {
  RedisStore s;
  EXPECT_EQ(s.Execute({"FOO", "a", "b"}, kT0),
            Reply::Error("ERR unknown command 'FOO', with args beginning with: 'a' 'b' "));
  EXPECT_EQ(s.Execute({"zcard"}, kT0), Reply::Error("ERR wrong number of arguments for 'zcard' command"));
}

}  // namespace
}  // namespace scaletwin
