// maxmemory: sizes, and how each policy picks its victims.
#include "model/redis_memory.h"

#include <gtest/gtest.h>

#include <string>

#include "model/redis_store.h"

namespace scaletwin {
namespace {

constexpr Nanos kT0 = 1'700'000'000LL * kNanosPerSecond;  // a Unix time

RedisConfig WithMemory(int64_t maxmemory, MaxmemoryPolicy policy, int samples = 5) {
  RedisConfig c;
  c.memory.maxmemory = maxmemory;
  c.memory.policy = policy;
  c.memory.samples = samples;
  return c;
}

std::string Key(int i) { return "key:" + std::to_string(100000 + i); }

TEST(RedisMemory, JemallocSizeClasses) {
  EXPECT_EQ(JemallocSize(1), 8);
  EXPECT_EQ(JemallocSize(17), 32);
  EXPECT_EQ(JemallocSize(129), 160);
  EXPECT_EQ(JemallocSize(2567), 3072);
  EXPECT_EQ(JemallocSize(4103), 5120);
}

TEST(RedisMemory, CounterKeyCostsAbout77BytesAnd52MoreWithATtl) {
  // Measured: 20k `SET <short key> <small int>` cost 77 B/key of used_memory.
  EXPECT_NEAR(StringEntryBytes(std::string("key:000001").size(), "17"), 77, 10);
  RedisStore store;
  (void)store.Execute({"SET", "counter:12345", "17"}, kT0);
  const int64_t before = store.used_memory();
  (void)store.Execute({"PEXPIRE", "counter:12345", "1000"}, kT0);
  EXPECT_EQ(store.used_memory() - before, kExpireEntryBytes);
  (void)store.Execute({"DEL", "counter:12345"}, kT0);
  EXPECT_EQ(store.used_memory(), 0);
}

TEST(RedisMemory, PolicyNamesRoundTrip) {
  for (const char* name : {"noeviction", "allkeys-lru", "allkeys-lfu", "allkeys-random", "volatile-lru",
                           "volatile-lfu", "volatile-random", "volatile-ttl"}) {
    auto p = ParseMaxmemoryPolicy(name);
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(MaxmemoryPolicyName(*p), name);
  }
  EXPECT_FALSE(ParseMaxmemoryPolicy("lru").ok());
}

TEST(RedisMemory, NoevictionRefusesGrowingWritesButServesReadsAndDeletes) {
  RedisStore store(WithMemory(2000, MaxmemoryPolicy::kNoEviction));
  int i = 0;
  while (store.Execute({"SET", Key(i), "v"}, kT0) == Reply::Ok()) ++i;
  EXPECT_EQ(store.Execute({"SET", Key(i), "v"}, kT0), Reply::Error(std::string(kErrOom)));
  EXPECT_EQ(store.Execute({"ZADD", "z", "1", "a"}, kT0), Reply::Error(std::string(kErrOom)));
  EXPECT_EQ(store.Execute({"INCR", Key(0)}, kT0), Reply::Error(std::string(kErrOom)));
  EXPECT_EQ(store.Execute({"GET", Key(0)}, kT0), Reply::Bulk("v"));
  EXPECT_EQ(store.Execute({"PEXPIRE", Key(0), "100"}, kT0), Reply::Integer(1));
  EXPECT_EQ(store.Execute({"DEL", Key(0), Key(1)}, kT0), Reply::Integer(2));
  EXPECT_EQ(store.evicted_keys(), 0);
}

TEST(RedisMemory, OomInsideMultiAbortsTheTransaction) {
  RedisStore store(WithMemory(1000, MaxmemoryPolicy::kNoEviction));
  for (int i = 0; i < 30; ++i) (void)store.Execute({"SET", Key(i), "v"}, kT0);
  RedisSession s;
  EXPECT_EQ(s.Execute(store, {"MULTI"}, kT0), Reply::Ok());
  EXPECT_EQ(s.Execute(store, {"GET", Key(0)}, kT0), Reply::Error(std::string(kErrOom)));  // even reads
  EXPECT_EQ(s.Execute(store, {"EXEC"}, kT0), Reply::Error(std::string(kErrExecAbort)));
}

TEST(RedisMemory, AllkeysLruPrefersTheIdlestKeyWithinASample) {
  // 1000 keys; half touched at t0+100s. Fill past the limit at t0+100s:
  // victims must come overwhelmingly from the untouched half.
  RedisStore probe;
  for (int i = 0; i < 1000; ++i) (void)probe.Execute({"SET", Key(i), "v"}, kT0);
  const Nanos later = kT0 + 100 * kNanosPerSecond;
  RedisStore s2(WithMemory(probe.used_memory(), MaxmemoryPolicy::kAllKeysLru, 5));
  for (int i = 0; i < 1000; ++i) (void)s2.Execute({"SET", Key(i), "v"}, kT0);
  for (int i = 0; i < 500; ++i) (void)s2.Execute({"GET", Key(i)}, later);
  for (int i = 1000; i < 1200; ++i) (void)s2.Execute({"SET", Key(i), "v"}, later);
  int touched_evicted = 0, untouched_evicted = 0;
  for (int i = 0; i < 500; ++i) touched_evicted += !s2.HoldsKey(Key(i));
  for (int i = 500; i < 1000; ++i) untouched_evicted += !s2.HoldsKey(Key(i));
  EXPECT_GT(untouched_evicted, 5 * std::max(touched_evicted, 1));
}

TEST(RedisMemory, VolatileLruNeverEvictsKeysWithoutTtlAndThenOoms) {
  RedisStore store(WithMemory(3000, MaxmemoryPolicy::kVolatileLru));
  for (int i = 0; i < 10; ++i) (void)store.Execute({"SET", "cache:" + std::to_string(i), "v"}, kT0);
  for (int i = 0; i < 10; ++i) (void)store.Execute({"SET", Key(i), "v", "PX", "60000"}, kT0);
  int i = 10;
  Reply r;
  while ((r = store.Execute({"SET", "cache:" + std::to_string(i), "v"}, kT0)) == Reply::Ok()) ++i;
  EXPECT_EQ(r, Reply::Error(std::string(kErrOom)));
  for (int k = 0; k < 10; ++k) EXPECT_TRUE(store.HoldsKey("cache:" + std::to_string(k)));
  EXPECT_EQ(store.volatile_key_count(), 0u);  // every TTL key went first
  EXPECT_EQ(store.evicted_keys(), 10);
}

TEST(RedisMemory, VolatileTtlEvictsKeysThatExpireSoonest) {
  RedisStore probe;
  for (int i = 0; i < 40; ++i) (void)probe.Execute({"SET", Key(i), "v", "PX", std::to_string(1000 * (i + 1))}, kT0);
  const int64_t per_key = probe.used_memory() / 40;
  RedisStore store(WithMemory(probe.used_memory() - 5 * per_key, MaxmemoryPolicy::kVolatileTtl, 10));
  for (int i = 0; i < 40; ++i) (void)store.Execute({"SET", Key(i), "v", "PX", std::to_string(1000 * (i + 1))}, kT0);
  (void)store.Execute({"PING"}, kT0);
  EXPECT_EQ(store.evicted_keys(), 5);
  for (int i = 20; i < 40; ++i) EXPECT_TRUE(store.HoldsKey(Key(i))) << i;  // the late half is never chosen
}

TEST(RedisMemory, AllkeysLfuKeepsFrequentlyUsedKeys) {
  RedisConfig cfg = WithMemory(0, MaxmemoryPolicy::kAllKeysLfu, 10);
  RedisStore probe(cfg);
  for (int i = 0; i < 400; ++i) (void)probe.Execute({"SET", Key(i), "v"}, kT0);
  cfg.memory.maxmemory = probe.used_memory();
  RedisStore store(cfg);
  for (int i = 0; i < 400; ++i) (void)store.Execute({"SET", Key(i), "v"}, kT0);
  for (int round = 0; round < 50; ++round) {
    for (int i = 0; i < 40; ++i) (void)store.Execute({"GET", Key(i)}, kT0);
  }
  for (int i = 400; i < 600; ++i) (void)store.Execute({"SET", Key(i), "v"}, kT0);
  int hot_alive = 0;
  for (int i = 0; i < 40; ++i) hot_alive += store.HoldsKey(Key(i));
  EXPECT_GE(hot_alive, 38);
  EXPECT_GE(store.evicted_keys(), 190);
}

TEST(RedisMemory, LfuCounterGrowsLogarithmicallyAndDecaysPerMinute) {
  uint8_t c = kLfuInitVal;
  Rng rng(7, "lfu");
  for (int i = 0; i < 1000; ++i) c = LfuLogIncr(c, rng.Uniform01(), 10);
  EXPECT_GT(c, 15);  // ~1000 hits at factor 10 give a counter near 20, not 1000
  EXPECT_LT(c, 30);
  const LfuState s{LfuTimeInMinutes(kT0), 20};
  EXPECT_EQ(LfuDecayedCounter(s, kT0 + 5 * 60 * kNanosPerSecond, 1), 15);
  EXPECT_EQ(LfuDecayedCounter(s, kT0 + 5 * 60 * kNanosPerSecond, 0), 20);
}

TEST(RedisMemory, EvictionPoolKeepsTheSixteenIdlest) {
  EvictionPool pool;
  for (int i = 0; i < 40; ++i) pool.Offer("k" + std::to_string(i), static_cast<uint64_t>(i));
  EXPECT_EQ(pool.size(), kEvictionPoolSize);
  std::string k;
  ASSERT_TRUE(pool.PopBest(&k));
  EXPECT_EQ(k, "k39");
}

}  // namespace
}  // namespace scaletwin
