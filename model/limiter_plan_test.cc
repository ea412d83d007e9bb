// Limiter plans executed against the model's RedisStore: hand-computed
// decision sequences per algorithm, TTLs, Retry-After, races, errors.
#include "model/limiter_plan.h"

#include <gtest/gtest.h>

#include "model/limiter_auditor.h"
#include "model/redis_store.h"

namespace scaletwin {
namespace {

constexpr Nanos kT0 = 1'700'000'000'000LL * kNanosPerMilli;  // a whole second, Unix time
constexpr Nanos kMs = kNanosPerMilli;

RedisStore NewStore() {
  RedisConfig cfg;
  cfg.scripts = LimiterScriptRegistry();
  return RedisStore(cfg);
}

LimiterConfig Config(LimiterAlgorithm a, SlidingLogStrategy s = SlidingLogStrategy::kLua) {
  LimiterConfig c;
  c.algorithm = a;
  c.strategy = s;
  return c;
}

// Runs a whole plan on one connection at one instant.
Decision RunPlan(const LimiterConfig& c, RedisStore& store, const std::string& key, LimitSpec limit, Nanos now,
             const std::string& member = "m") {
  static int seq = 0;
  auto plan = MakeLimiterPlan(c, {key, limit, now, member + "-" + std::to_string(++seq), 0});
  RedisSession session;
  std::optional<RoundTrip> rt = plan->Start();
  while (rt) rt = plan->OnReplies(ExecutePipeline(store, session, rt->commands, now));
  return plan->decision();
}

class SlidingLogStrategies : public ::testing::TestWithParam<SlidingLogStrategy> {};

TEST_P(SlidingLogStrategies, AdmitsLimitPerWindowThenRefusesUntilOldestLeaves) {
  RedisStore store = NewStore();
  const LimiterConfig c = Config(LimiterAlgorithm::kSlidingLog, GetParam());
  const LimitSpec limit{3, 1000 * kMs};
  for (int i = 0; i < 3; ++i) {
    Decision d = RunPlan(c, store, "k", limit, kT0 + i * kMs);
    EXPECT_TRUE(d.allowed) << i;
    EXPECT_EQ(d.count, i);
    EXPECT_EQ(d.remaining, 2 - i);
    EXPECT_EQ(d.reset, 1000 * kMs);
    EXPECT_FALSE(d.redis_error) << d.error;
  }
  EXPECT_EQ(store.Execute({"PTTL", "k"}, kT0 + 2 * kMs), Reply::Integer(2000));  // ttl_windows x window
  Decision refused = RunPlan(c, store, "k", limit, kT0 + 3 * kMs);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.count, 3);
  EXPECT_EQ(refused.retry_after, 997 * kMs);  // the entry at kT0 leaves at kT0 + 1000
  EXPECT_EQ(store.Execute({"ZCARD", "k"}, kT0 + 3 * kMs), Reply::Integer(3));  // multi undid its add
  // (t-W, t]: at kT0 + 999 the first entry still counts; at kT0 + 1000 it is gone.
  EXPECT_FALSE(RunPlan(c, store, "k", limit, kT0 + 999 * kMs).allowed);
  EXPECT_TRUE(RunPlan(c, store, "k", limit, kT0 + 1000 * kMs).allowed);
}

INSTANTIATE_TEST_SUITE_P(AllStrategies, SlidingLogStrategies,
                         ::testing::Values(SlidingLogStrategy::kCheckThenAdd, SlidingLogStrategy::kMultiAddThenCount,
                                           SlidingLogStrategy::kLua),
                         [](const auto& info) { return std::string(SlidingLogStrategyName(info.param)); });

TEST(LimiterPlan, CheckThenAddOverAdmitsWhenTwoPodsRace) {
  RedisStore store = NewStore();
  const LimiterConfig c = Config(LimiterAlgorithm::kSlidingLog, SlidingLogStrategy::kCheckThenAdd);
  const LimitSpec limit{2, 1000 * kMs};
  EXPECT_TRUE(RunPlan(c, store, "k", limit, kT0).allowed);
  auto a = MakeLimiterPlan(c, {"k", limit, kT0 + 1 * kMs, "pod1-1", 1});
  auto b = MakeLimiterPlan(c, {"k", limit, kT0 + 1 * kMs, "pod2-1", 2});
  RedisSession sa, sb;
  RoundTrip ra = a->Start(), rb = b->Start();
  // Both read 1 < 2 before either writes.
  auto ra2 = a->OnReplies(ExecutePipeline(store, sa, ra.commands, kT0 + 1 * kMs));
  auto rb2 = b->OnReplies(ExecutePipeline(store, sb, rb.commands, kT0 + 1 * kMs));
  ASSERT_TRUE(ra2 && rb2);
  EXPECT_FALSE(a->OnReplies(ExecutePipeline(store, sa, ra2->commands, kT0 + 2 * kMs)));
  EXPECT_FALSE(b->OnReplies(ExecutePipeline(store, sb, rb2->commands, kT0 + 2 * kMs)));
  EXPECT_TRUE(a->decision().allowed);
  EXPECT_TRUE(b->decision().allowed);
  EXPECT_EQ(store.Execute({"ZCARD", "k"}, kT0 + 2 * kMs), Reply::Integer(3));  // the "1001"
  LimiterAuditor auditor(LimiterAlgorithm::kSlidingLog);
  auditor.Record("k", "t", limit, kT0, true);
  auditor.Record("k", "t", limit, a->decision().rule_time, true);
  auditor.Record("k", "t", limit, b->decision().rule_time, true);
  EXPECT_EQ(auditor.Report().excess_admits, 1);
  EXPECT_EQ(auditor.Report().keys[0].peak_in_window, 3);
}

TEST(LimiterPlan, MultiAddThenCountFalselyRefusesWhileAnUndoIsPending) {
  RedisStore store = NewStore();
  const LimiterConfig c = Config(LimiterAlgorithm::kSlidingLog, SlidingLogStrategy::kMultiAddThenCount);
  const LimitSpec limit{2, 1000 * kMs};
  EXPECT_TRUE(RunPlan(c, store, "k", limit, kT0).allowed);
  EXPECT_TRUE(RunPlan(c, store, "k", limit, kT0 + 500 * kMs).allowed);
  // A is over the limit; its ZREM has not run yet when the oldest entry leaves and B asks.
  auto a = MakeLimiterPlan(c, {"k", limit, kT0 + 600 * kMs, "pod1-1", 1});
  RedisSession sa, sb;
  auto undo = a->OnReplies(ExecutePipeline(store, sa, a->Start().commands, kT0 + 600 * kMs));
  ASSERT_TRUE(undo.has_value());
  EXPECT_EQ(undo->commands[0].Name(), "ZREM");
  Decision b = RunPlan(c, store, "k", limit, kT0 + 1000 * kMs);
  EXPECT_FALSE(b.allowed);  // counts A's pending entry
  EXPECT_FALSE(a->OnReplies(ExecutePipeline(store, sa, undo->commands, kT0 + 1001 * kMs)));
  EXPECT_FALSE(a->decision().allowed);
  LimiterAuditor auditor(LimiterAlgorithm::kSlidingLog);
  for (Nanos t : {kT0, kT0 + 500 * kMs}) auditor.Record("k", "t", limit, t, true);
  auditor.Record("k", "t", limit, kT0 + 600 * kMs, false);
  auditor.Record("k", "t", limit, b.rule_time, false);
  const LimiterAuditReport r = auditor.Report();
  EXPECT_EQ(r.excess_admits, 0);
  EXPECT_EQ(r.false_refusals, 1);  // B: only one admitted entry in (kT0, kT0 + 1000]
}

TEST(LimiterPlan, LuaReloadsItsScriptOnNoscript) {
  RedisStore store = NewStore();  // nothing loaded: first EVALSHA answers NOSCRIPT
  const LimiterConfig c = Config(LimiterAlgorithm::kSlidingLog);
  Decision d = RunPlan(c, store, "k", {1, 1000 * kMs}, kT0);
  EXPECT_TRUE(d.allowed);
  EXPECT_FALSE(d.redis_error) << d.error;
  EXPECT_EQ(d.round_trips, 2);
  EXPECT_EQ(RunPlan(c, store, "k", {1, 1000 * kMs}, kT0).round_trips, 1);
}

TEST(LimiterPlan, TimestampMembersCollapseRequestsOfOneMillisecond) {
  RedisStore store = NewStore();
  LimiterConfig c = Config(LimiterAlgorithm::kSlidingLog);
  c.member = LimiterMember::kTimestamp;
  int admitted = 0;
  for (int i = 0; i < 10; ++i) admitted += RunPlan(c, store, "k", {3, 1000 * kMs}, kT0).allowed;
  EXPECT_EQ(admitted, 10);
  EXPECT_EQ(store.Execute({"ZCARD", "k"}, kT0), Reply::Integer(1));
}

TEST(LimiterPlan, RedisTimeCostsCheckThenAddAnExtraRoundTrip) {
  RedisStore store = NewStore();
  LimiterConfig c = Config(LimiterAlgorithm::kSlidingLog, SlidingLogStrategy::kCheckThenAdd);
  c.time_source = LimiterTimeSource::kRedisTime;
  Decision d = RunPlan(c, store, "k", {5, 1000 * kMs}, kT0 + 123 * kMs + 456 * kNanosPerMicro);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.round_trips, 3);
  EXPECT_EQ(d.rule_time, kT0 + 123 * kMs + 456 * kNanosPerMicro);  // TIME has µs resolution
  c.strategy = SlidingLogStrategy::kLua;
  Decision lua = RunPlan(c, store, "k", {5, 1000 * kMs}, kT0 + 124 * kMs);
  EXPECT_EQ(lua.rule_time, kT0 + 124 * kMs);
  EXPECT_EQ(lua.count, 1);
}

TEST(LimiterPlan, RedisErrorsDecideByOnRedisError) {
  RedisStore store = NewStore();
  (void)store.Execute({"SET", "k", "not a zset"}, kT0);
  LimiterConfig c = Config(LimiterAlgorithm::kSlidingLog, SlidingLogStrategy::kCheckThenAdd);
  Decision open = RunPlan(c, store, "k", {5, 1000 * kMs}, kT0);
  EXPECT_TRUE(open.allowed);
  EXPECT_TRUE(open.redis_error);
  EXPECT_NE(open.error.find("WRONGTYPE"), std::string::npos) << open.error;
  c.on_redis_error = OnRedisError::kFailClosed;
  for (SlidingLogStrategy s : {SlidingLogStrategy::kCheckThenAdd, SlidingLogStrategy::kMultiAddThenCount,
                               SlidingLogStrategy::kLua}) {
    c.strategy = s;
    Decision closed = RunPlan(c, store, "k", {5, 1000 * kMs}, kT0);
    EXPECT_FALSE(closed.allowed) << SlidingLogStrategyName(s);
    EXPECT_TRUE(closed.redis_error) << SlidingLogStrategyName(s);
  }
  auto plan = MakeLimiterPlan(c, {"k", {5, 1000 * kMs}, kT0, "m", 0});
  (void)plan->Start();
  EXPECT_FALSE(plan->OnTransportError("timeout"));
  EXPECT_FALSE(plan->decision().allowed);
  EXPECT_EQ(plan->decision().error, "transport: timeout");
}

TEST(LimiterPlan, FixedWindowCountsRefusedRequestsAndExpiresAfterTtlWindows) {
  RedisStore store = NewStore();
  const LimiterConfig c = Config(LimiterAlgorithm::kFixedWindow);
  const LimitSpec limit{2, 1000 * kMs};
  EXPECT_TRUE(RunPlan(c, store, "k", limit, kT0 + 100 * kMs).allowed);
  EXPECT_EQ(store.Execute({"PTTL", "k:1700000000"}, kT0 + 100 * kMs), Reply::Integer(2000));
  Decision second = RunPlan(c, store, "k", limit, kT0 + 200 * kMs);
  EXPECT_TRUE(second.allowed);
  EXPECT_EQ(second.remaining, 0);
  EXPECT_EQ(store.Execute({"PTTL", "k:1700000000"}, kT0 + 200 * kMs), Reply::Integer(1900));  // NX: set once
  Decision third = RunPlan(c, store, "k", limit, kT0 + 300 * kMs);
  EXPECT_FALSE(third.allowed);
  EXPECT_EQ(third.retry_after, 700 * kMs);  // to the window's end
  EXPECT_TRUE(RunPlan(c, store, "k", limit, kT0 + 1000 * kMs).allowed);  // next aligned window
}

TEST(LimiterPlan, SlidingCounterWeighsThePreviousWindowLikeCloudflare) {
  // Cloudflare's example: 42 in the previous minute, 18 now, 15 s in: 42 x 45/60 + 18 = 49.5.
  RedisStore store = NewStore();
  const LimiterConfig c = Config(LimiterAlgorithm::kSlidingCounter);
  const Nanos minute = 60'000 * kMs;
  const Nanos t = 28'333'333 * minute + 15'000 * kMs;  // idx 28333333, 15 s in
  (void)store.Execute({"SET", "k:28333332", "42"}, t);
  (void)store.Execute({"SET", "k:28333333", "18"}, t);
  Decision refused = RunPlan(c, store, "k", {50, minute}, t);
  EXPECT_FALSE(refused.allowed);  // 49.5 + 1 > 50
  EXPECT_EQ(refused.count, 49);
  // prev x (60000 - e) <= (50 - 18 - 1) x 60000 => e >= 60000 - 44285 = 15715 ms.
  EXPECT_EQ(refused.retry_after, 715 * kMs);
  Decision admitted = RunPlan(c, store, "k", {51, minute}, t);
  EXPECT_TRUE(admitted.allowed);
  EXPECT_EQ(store.Execute({"GET", "k:28333333"}, t), Reply::Bulk("19"));
  EXPECT_EQ(store.Execute({"PTTL", "k:28333333"}, t), Reply::Integer(120'000));
}

TEST(LimiterPlan, TokenBucketBurstsToCapacityThenRefillsAtRate) {
  RedisStore store = NewStore();
  const LimiterConfig c = Config(LimiterAlgorithm::kTokenBucket);
  const LimitSpec limit{2, 1000 * kMs};
  EXPECT_TRUE(RunPlan(c, store, "k", limit, kT0).allowed);
  Decision second = RunPlan(c, store, "k", limit, kT0);
  EXPECT_TRUE(second.allowed);
  EXPECT_EQ(second.remaining, 0);
  Decision third = RunPlan(c, store, "k", limit, kT0 + 100 * kMs);
  EXPECT_FALSE(third.allowed);
  EXPECT_EQ(third.retry_after, 400 * kMs);  // one token per 500 ms
  EXPECT_TRUE(RunPlan(c, store, "k", limit, kT0 + 500 * kMs).allowed);
  EXPECT_EQ(store.Execute({"PTTL", "k"}, kT0 + 500 * kMs), Reply::Integer(2000));
}

TEST(LimiterPlan, GcraAdmitsBurstThenOnePerEmissionInterval) {
  RedisStore store = NewStore();
  const LimiterConfig c = Config(LimiterAlgorithm::kGcra);
  const LimitSpec limit{2, 1000 * kMs};  // T = 500 ms, burst 2
  Decision first = RunPlan(c, store, "k", limit, kT0);
  EXPECT_TRUE(first.allowed);
  EXPECT_EQ(first.remaining, 1);
  EXPECT_EQ(first.reset, 500 * kMs);
  EXPECT_TRUE(RunPlan(c, store, "k", limit, kT0).allowed);
  Decision third = RunPlan(c, store, "k", limit, kT0 + 100 * kMs);
  EXPECT_FALSE(third.allowed);
  EXPECT_EQ(third.retry_after, 400 * kMs);
  EXPECT_EQ(store.Execute({"PTTL", "k"}, kT0), Reply::Integer(2000));  // TAT 1000 ms + 1 window margin
  EXPECT_TRUE(RunPlan(c, store, "k", limit, kT0 + 500 * kMs).allowed);
}

TEST(LimiterPlan, ScriptsAreNamedByTheSha1OfTheirText) {
  for (const LimiterScript& s : LimiterScripts()) {
    EXPECT_EQ(s.sha1.size(), 40u);
    ASSERT_NE(LimiterScriptRegistry()->FindBySha(s.sha1), nullptr) << s.name;
    EXPECT_EQ(LimiterScriptRegistry()->FindBySha(s.sha1)->body, s.body);
  }
}

}  // namespace
}  // namespace scaletwin
