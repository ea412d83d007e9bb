// RedisLimiter against a throwaway redis-server: for every algorithm and
// sliding-log strategy, limit L admits exactly L requests of one instant and
// refuses the next, deciding field for field as the model does with the same
// plan on RedisStore; NOSCRIPT recovery after SCRIPT FLUSH; fail_open /
// fail_closed when Redis is down, when the pool is exhausted and when a
// command times out; invalid requests; hot config swap.
#include "real/redis/redis_limiter.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "model/redis_store.h"
#include "testsupport/redis_client.h"
#include "testsupport/redis_server.h"

namespace scaletwin {
namespace {

using std::chrono::milliseconds;

Nanos WallNow() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class RedisLimiterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RedisServerOptions o;
    o.config_args = {"--enable-debug-command", "local"};
    auto server = RedisServer::Start(o);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(*server);
    auto admin = RedisClient::Connect(server_->host(), server_->port());
    ASSERT_TRUE(admin.ok()) << admin.status().ToString();
    admin_ = std::move(*admin);
    pool_ = MakePool(4, kNanosPerSecond, kNanosPerSecond);
  }

  std::unique_ptr<RedisConnectionPool> MakePool(int size, Nanos acquire_timeout, Nanos command_timeout) {
    RedisPoolOptions o;
    o.endpoint = {server_->host(), server_->port(), kNanosPerSecond, command_timeout};
    o.size = size;
    o.acquire_timeout = acquire_timeout;
    auto pool = RedisConnectionPool::Create(o);
    EXPECT_TRUE(pool.ok()) << pool.status().ToString();
    return pool.ok() ? std::move(*pool) : nullptr;
  }

  Reply Admin(const Command& c) {
    Result<Reply> r = admin_->Run(c);
    EXPECT_TRUE(r.ok()) << c.ToString() << ": " << r.status().ToString();
    return r.ok() ? *r : Reply::Error("transport");
  }

  std::unique_ptr<RedisServer> server_;
  std::unique_ptr<RedisClient> admin_;
  std::unique_ptr<RedisConnectionPool> pool_;
};

std::string Show(const Decision& d) {
  return std::string(d.allowed ? "allowed" : "refused") + " count=" + std::to_string(d.count) +
         " remaining=" + std::to_string(d.remaining) + " retry_after=" + FormatDuration(d.retry_after) +
         " reset=" + FormatDuration(d.reset) + " rts=" + std::to_string(d.round_trips) +
         (d.redis_error ? " error=" + d.error : "");
}

struct Case {
  const char* name;
  LimiterAlgorithm algorithm;
  SlidingLogStrategy strategy;
};

class EveryAlgorithm : public RedisLimiterTest, public ::testing::WithParamInterface<Case> {};

// All requests at one pod-clock instant, so nothing slides or refills and the
// model's decisions are exact: L admitted, then refusals with a Retry-After.
TEST_P(EveryAlgorithm, AdmitsExactlyTheLimitAtOneInstantAndDecidesAsTheModel) {
  LimiterConfig config;
  config.algorithm = GetParam().algorithm;
  config.strategy = GetParam().strategy;
  config.on_redis_error = OnRedisError::kFailClosed;
  RedisLimiter limiter(*pool_, config, {.member_prefix = "pod1", .clock = {}});
  const LimitSpec limit{5, 10 * kNanosPerSecond};
  // Mid-way through a 10 s fixed window, so fixed and counter windows hold.
  const Nanos now = (WallNow() / (10 * kNanosPerSecond)) * 10 * kNanosPerSecond + 5 * kNanosPerSecond;

  RedisConfig model_config;
  model_config.scripts = LimiterScriptRegistry();
  RedisStore model(model_config);
  int admitted = 0;
  for (int i = 0; i < 8; ++i) {
    const LimiterRequest request{"rl:acme", limit, now, "pod1-" + std::to_string(i), static_cast<uint64_t>(i)};
    Result<Decision> d = limiter.Decide(request);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    EXPECT_FALSE(d->redis_error) << d->error;
    EXPECT_EQ(d->allowed, i < 5) << "request " << i << ": " << Show(*d);
    if (!d->allowed) {
      EXPECT_GT(d->retry_after, 0) << Show(*d);
    }
    admitted += d->allowed;

    auto plan = MakeLimiterPlan(config, request);
    RedisSession session;
    std::optional<RoundTrip> rt = plan->Start();
    while (rt) rt = plan->OnReplies(ExecutePipeline(model, session, rt->commands, now));
    const Decision& m = plan->decision();
    EXPECT_EQ(Show(*d), Show(m)) << "request " << i << " (real | model)";
    EXPECT_EQ(d->rule_time, m.rule_time);
  }
  EXPECT_EQ(admitted, 5);
  const RedisLimiterStats s = limiter.stats();
  EXPECT_EQ(s.decisions, 8);
  EXPECT_EQ(s.allowed, 5);
  EXPECT_EQ(s.refused, 3);
  EXPECT_EQ(s.redis_errors, 0);
  EXPECT_GE(s.round_trips, 8);
}

INSTANTIATE_TEST_SUITE_P(
    RealRedis, EveryAlgorithm,
    ::testing::Values(
        Case{"sliding_log_lua", LimiterAlgorithm::kSlidingLog, SlidingLogStrategy::kLua},
        Case{"sliding_log_multi_add_then_count", LimiterAlgorithm::kSlidingLog, SlidingLogStrategy::kMultiAddThenCount},
        Case{"sliding_log_check_then_add", LimiterAlgorithm::kSlidingLog, SlidingLogStrategy::kCheckThenAdd},
        Case{"sliding_counter", LimiterAlgorithm::kSlidingCounter, SlidingLogStrategy::kLua},
        Case{"fixed_window", LimiterAlgorithm::kFixedWindow, SlidingLogStrategy::kLua},
        Case{"token_bucket", LimiterAlgorithm::kTokenBucket, SlidingLogStrategy::kLua},
        Case{"gcra", LimiterAlgorithm::kGcra, SlidingLogStrategy::kLua}),
    [](const ::testing::TestParamInfo<Case>& info) { return std::string(info.param.name); });

TEST_F(RedisLimiterTest, RedisTimeLuaAdmitsTheLimitAndStampsTheServerClock) {
  LimiterConfig config;
  config.time_source = LimiterTimeSource::kRedisTime;
  RedisLimiter limiter(*pool_, config);
  const Nanos before = WallNow();
  int admitted = 0;
  for (int i = 0; i < 7; ++i) {
    Result<Decision> d = limiter.Decide("rl:clock", {4, 60 * kNanosPerSecond});
    ASSERT_TRUE(d.ok());
    EXPECT_FALSE(d->redis_error) << d->error;
    admitted += d->allowed;
    // Redis TIME on the same host, µs resolution.
    EXPECT_GE(d->rule_time, before / 1000 * 1000);
    EXPECT_LE(d->rule_time, WallNow());
  }
  EXPECT_EQ(admitted, 4);
  EXPECT_EQ(Admin({"ZCARD", "rl:clock"}), Reply::Integer(4));
  const Reply pttl = Admin({"PTTL", "rl:clock"});
  EXPECT_GT(pttl.integer(), 119'000);  // ttl_windows 2 x 60 s
  EXPECT_LE(pttl.integer(), 120'000);
}

TEST_F(RedisLimiterTest, MembersAreUniquePerRequestAndCarryThePrefix) {
  LimiterConfig config;
  RedisLimiter limiter(*pool_, config, {.member_prefix = "pod-7", .clock = {}});
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(limiter.Decide("rl:m", {10, 60 * kNanosPerSecond})->allowed);
  const Reply members = Admin({"ZRANGE", "rl:m", "0", "-1"});
  ASSERT_EQ(members.elements().size(), 3u) << members.ToString();
  for (const Reply& m : members.elements()) EXPECT_EQ(m.text().rfind("pod-7-", 0), 0u) << m.ToString();
  // The default prefix differs between limiters (two pods must never collide).
  RedisLimiter a(*pool_, config), b(*pool_, config);
  EXPECT_NE(a.member_prefix(), b.member_prefix());
}

TEST_F(RedisLimiterTest, MultiAddThenCountTakesBackTheEntryOfARefusedRequest) {
  LimiterConfig config;
  config.strategy = SlidingLogStrategy::kMultiAddThenCount;
  RedisLimiter limiter(*pool_, config);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.Decide("rl:undo", {3, 60 * kNanosPerSecond})->allowed);
  Result<Decision> refused = limiter.Decide("rl:undo", {3, 60 * kNanosPerSecond});
  ASSERT_TRUE(refused.ok());
  EXPECT_FALSE(refused->allowed);
  EXPECT_EQ(refused->round_trips, 2);  // MULTI block, then ZREM
  EXPECT_EQ(Admin({"ZCARD", "rl:undo"}), Reply::Integer(3));
}

TEST_F(RedisLimiterTest, ScriptFlushIsRecoveredByReloadingTheScript) {
  LimiterConfig config;  // sliding_log / lua
  RedisLimiter limiter(*pool_, config);
  Admin({"SCRIPT", "FLUSH"});
  Result<Decision> first = limiter.Decide("rl:ns", {10, 60 * kNanosPerSecond});
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(first->allowed);
  EXPECT_FALSE(first->redis_error) << first->error;
  EXPECT_EQ(first->round_trips, 2);  // EVALSHA -> NOSCRIPT, then [SCRIPT LOAD, EVALSHA]
  Result<Decision> second = limiter.Decide("rl:ns", {10, 60 * kNanosPerSecond});
  EXPECT_EQ(second->round_trips, 1);
  Admin({"SCRIPT", "FLUSH"});
  Result<Decision> third = limiter.Decide("rl:ns", {10, 60 * kNanosPerSecond});
  EXPECT_TRUE(third->allowed);
  EXPECT_FALSE(third->redis_error) << third->error;
  EXPECT_EQ(third->round_trips, 2);
  EXPECT_EQ(third->count, 2);  // the reload did not lose or double an entry
  EXPECT_EQ(limiter.stats().script_reloads, 2);
  EXPECT_EQ(limiter.stats().redis_errors, 0);
}

TEST_F(RedisLimiterTest, StoppedServerIsDecidedByOnRedisError) {
  LimiterConfig open_config;
  open_config.on_redis_error = OnRedisError::kFailOpen;
  LimiterConfig closed_config = open_config;
  closed_config.on_redis_error = OnRedisError::kFailClosed;
  RedisLimiter fail_open(*pool_, open_config);
  RedisLimiter fail_closed(*pool_, closed_config);
  // Leave idle connections behind, so the dead-server path includes them.
  ASSERT_TRUE(fail_open.Decide("rl:down", {10, 60 * kNanosPerSecond})->allowed);
  ASSERT_TRUE(fail_closed.Decide("rl:down", {10, 60 * kNanosPerSecond})->allowed);
  server_->Stop();
  std::this_thread::sleep_for(milliseconds(20));

  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 3; ++i) {
    Result<Decision> open = fail_open.Decide("rl:down", {10, 60 * kNanosPerSecond});
    ASSERT_TRUE(open.ok());
    EXPECT_TRUE(open->allowed);
    EXPECT_TRUE(open->redis_error);
    EXPECT_FALSE(open->error.empty());
    Result<Decision> closed = fail_closed.Decide("rl:down", {10, 60 * kNanosPerSecond});
    ASSERT_TRUE(closed.ok());
    EXPECT_FALSE(closed->allowed);
    EXPECT_TRUE(closed->redis_error);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(1000)) << "a refused connect must not wait";
  EXPECT_EQ(fail_open.stats().redis_errors, 3);
  EXPECT_EQ(fail_open.stats().allowed, 4);
  EXPECT_EQ(fail_closed.stats().redis_errors, 3);
  EXPECT_EQ(fail_closed.stats().refused, 3);

  // Hot reload: the fail-open limiter turned fail-closed refuses from now on.
  fail_open.set_config(closed_config);
  EXPECT_FALSE(fail_open.Decide("rl:down", {10, 60 * kNanosPerSecond})->allowed);
}

TEST_F(RedisLimiterTest, ExhaustedPoolIsARedisErrorWithoutARoundTrip) {
  auto pool = MakePool(1, 30 * kNanosPerMilli, kNanosPerSecond);
  ASSERT_NE(pool, nullptr);
  LimiterConfig config;
  config.on_redis_error = OnRedisError::kFailClosed;
  RedisLimiter limiter(*pool, config);
  Result<RedisLease> held = pool->Acquire();
  ASSERT_TRUE(held.ok());
  Result<Decision> d = limiter.Decide("rl:pool", {10, 60 * kNanosPerSecond});
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(d->allowed);
  EXPECT_TRUE(d->redis_error);
  EXPECT_EQ(d->round_trips, 0);
  EXPECT_NE(d->error.find("acquire timed out"), std::string::npos) << d->error;
  EXPECT_EQ(limiter.stats().pool_unavailable, 1);
  EXPECT_EQ(pool->stats().timeouts, 1);
  held->Release();
  EXPECT_TRUE(limiter.Decide("rl:pool", {10, 60 * kNanosPerSecond})->allowed);
}

TEST_F(RedisLimiterTest, CommandTimeoutIsARedisErrorAndTheConnectionIsReplaced) {
  auto pool = MakePool(2, kNanosPerSecond, 100 * kNanosPerMilli);
  ASSERT_NE(pool, nullptr);
  LimiterConfig config;
  config.on_redis_error = OnRedisError::kFailClosed;
  RedisLimiter limiter(*pool, config);
  ASSERT_TRUE(limiter.Decide("rl:slow", {10, 60 * kNanosPerSecond})->allowed);
  // Another client stalls the server's one thread for longer than the
  // timeout. Connected here, so the thread only has to send the command.
  auto stall = RedisClient::Connect(server_->host(), server_->port(), 5 * kNanosPerSecond);
  ASSERT_TRUE(stall.ok());
  std::thread sleeper([&] { (void)(*stall)->Run({"DEBUG", "SLEEP", "0.6"}); });
  std::this_thread::sleep_for(milliseconds(100));
  Result<Decision> d = limiter.Decide("rl:slow", {10, 60 * kNanosPerSecond});
  sleeper.join();
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(d->allowed);
  EXPECT_TRUE(d->redis_error);
  EXPECT_NE(d->error.find("timed out"), std::string::npos) << d->error;
  EXPECT_EQ(pool->stats().command_timeouts, 1);
  // The stalled connection was discarded; the next decision runs on a new one.
  Result<Decision> after = limiter.Decide("rl:slow", {10, 60 * kNanosPerSecond});
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(after->allowed) << Show(*after);
  EXPECT_FALSE(after->redis_error);
}

TEST_F(RedisLimiterTest, InvalidRequestsAreRejectedBeforeRedis) {
  LimiterConfig config;
  RedisLimiter limiter(*pool_, config);
  EXPECT_EQ(limiter.Decide("", {10, kNanosPerSecond}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(limiter.Decide("rl:x", {0, kNanosPerSecond}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(limiter.Decide("rl:x", {10, 0}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(limiter.Decide(LimiterRequest{"rl:x", {10, kNanosPerSecond}, WallNow(), "", 0}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(limiter.stats().invalid_requests, 4);
  EXPECT_EQ(limiter.stats().decisions, 0);
  EXPECT_EQ(pool_->stats().opened, 0);
}

}  // namespace
}  // namespace scaletwin
