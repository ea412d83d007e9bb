// What survives a restart under each persistence mode.
#include "model/redis_persistence.h"

#include <gtest/gtest.h>

#include <string>

namespace scaletwin {
namespace {

constexpr Nanos kS = kNanosPerSecond;
constexpr Nanos kT0 = 1'700'000'000LL * kS;

TEST(RedisPersistence, NoneRestartsEmpty) {
  RedisStore store;
  RedisPersistence p({.mode = PersistenceMode::kNone}, store, kT0);
  p.Attach(store);
  (void)store.Execute({"SET", "k", "v"}, kT0);
  EXPECT_EQ(p.Recover(kT0 + kS, kT0 + 2 * kS).key_count(), 0u);
}

TEST(RedisPersistence, AofEverysecKeepsWritesBeforeTheLastFsync) {
  RedisStore store;
  RedisPersistence p({.mode = PersistenceMode::kAofEverysec}, store, kT0);
  p.Attach(store);
  (void)store.Execute({"ZADD", "lim", "1", "a"}, kT0 + 100 * kNanosPerMilli);
  (void)store.Execute({"PEXPIRE", "lim", "60000"}, kT0 + 100 * kNanosPerMilli);
  (void)store.Execute({"ZADD", "lim", "2", "b"}, kT0 + 1500 * kNanosPerMilli);  // after the fsync at kT0+1s
  RedisStore after = p.Recover(kT0 + 1900 * kNanosPerMilli, kT0 + 5 * kS);
  EXPECT_EQ(after.Execute({"ZCARD", "lim"}, kT0 + 5 * kS), Reply::Integer(1));
  // The TTL came back as the original absolute time, and kept running while down.
  EXPECT_EQ(after.Execute({"PTTL", "lim"}, kT0 + 5 * kS), Reply::Integer(60000 + 100 - 5000));
  RedisStore later = p.Recover(kT0 + 2 * kS, kT0 + 5 * kS);
  EXPECT_EQ(later.Execute({"ZCARD", "lim"}, kT0 + 5 * kS), Reply::Integer(2));
}

TEST(RedisPersistence, RestartDropsKeysThatExpiredWhileDown) {
  RedisStore store;
  RedisPersistence p({.mode = PersistenceMode::kAofEverysec}, store, kT0);
  p.Attach(store);
  (void)store.Execute({"SET", "short", "v", "PX", "2000"}, kT0);
  (void)store.Execute({"SET", "long", "v", "PX", "20000"}, kT0);
  RedisStore after = p.Recover(kT0 + 3 * kS, kT0 + 10 * kS);
  EXPECT_FALSE(after.HoldsKey("short"));
  EXPECT_TRUE(after.HoldsKey("long"));
}

TEST(RedisPersistence, AofRewriteKeepsTheSameSurvivors) {
  RedisStore store;
  RedisPersistence p({.mode = PersistenceMode::kAofEverysec}, store, kT0);
  p.Attach(store);
  for (int i = 0; i < 500; ++i) {
    (void)store.Execute({"INCR", "counter"}, kT0 + i * 10 * kNanosPerMilli);
    p.Tick(store, kT0 + i * 10 * kNanosPerMilli);
  }
  EXPECT_LT(p.log_size(), 500u);  // compacted at least once
  RedisStore after = p.Recover(kT0 + 10 * kS, kT0 + 10 * kS);
  EXPECT_EQ(after.Execute({"GET", "counter"}, kT0 + 10 * kS), Reply::Bulk("500"));
}

TEST(RedisPersistence, RdbKeepsTheLastSnapshotOnly) {
  RedisStore store;
  RedisPersistence p({.mode = PersistenceMode::kRdb, .save_points = {{60 * kS, 2}}}, store, kT0);
  p.Attach(store);
  (void)store.Execute({"SET", "a", "1"}, kT0 + kS);
  (void)store.Execute({"SET", "b", "1"}, kT0 + 2 * kS);
  p.Tick(store, kT0 + 30 * kS);  // 2 changes but only 30 s: no save
  EXPECT_EQ(p.Recover(kT0 + 31 * kS, kT0 + 32 * kS).key_count(), 0u);
  p.Tick(store, kT0 + 61 * kS);  // save point met
  (void)store.Execute({"SET", "c", "1"}, kT0 + 62 * kS);
  RedisStore after = p.Recover(kT0 + 70 * kS, kT0 + 71 * kS);
  EXPECT_TRUE(after.HoldsKey("a"));
  EXPECT_TRUE(after.HoldsKey("b"));
  EXPECT_FALSE(after.HoldsKey("c"));
}

TEST(RedisPersistence, ModeNamesParse) {
  EXPECT_EQ(*ParsePersistenceMode("aof_everysec"), PersistenceMode::kAofEverysec);
  EXPECT_FALSE(ParsePersistenceMode("aof").ok());
}

}  // namespace
}  // namespace scaletwin
