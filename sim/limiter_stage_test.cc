// The simulated limiter path end to end: races between pods per strategy,
// sequential requests, Redis restarts per persistence mode, pool and command
// timeouts, error replies, clock skew and determinism — each judged by the
// auditor the report uses.
#include "sim/limiter_stage.h"

#include <gtest/gtest.h>

#include <memory>
#include <tuple>
#include <vector>

namespace scaletwin::sim {
namespace {

constexpr Nanos kUs = kNanosPerMicro;
constexpr Nanos kMs = kNanosPerMilli;
constexpr Nanos kS = kNanosPerSecond;

// One tenant "acme" limited to `requests` per `window`; one-way delay 500 µs
// (RTT 1 ms); the default Redis service times.
LimiterStageConfig Config(SlidingLogStrategy strategy, int64_t requests, Nanos window) {
  LimiterStageConfig c;
  c.limiter.algorithm = LimiterAlgorithm::kSlidingLog;
  c.limiter.strategy = strategy;
  c.tenants = {{"acme", LimitSpec{requests, window}}, {"free", std::nullopt}};
  c.redis.network_delay = DurationDistribution::Constant(500 * kUs);
  c.redis.client.pool.size = 4;
  return c;
}

// Drives a stage with arrivals in the same queue as the world would: kind 0
// = an arrival (payload = index into `checks`), kinds from 1 = the stage.
class Harness {
 public:
  explicit Harness(LimiterStageConfig config, int pods = 1)
      : stage(std::move(config), &queue, /*first_kind=*/1, [this](Nanos now, const LimiterOutcome& o) {
          outcomes.push_back(o);
          decided_at.push_back(now);
        }) {
    stage.Start(0);
    for (int p = 0; p < pods; ++p) stage.AddPod(0, static_cast<uint32_t>(p));
  }
  void Arrive(Nanos t, uint32_t pod, uint32_t tenant = 0) {
    checks.push_back({checks.size(), pod, tenant, "redirect"});
    queue.Push(t, checks.size() - 1);
  }
  void RunUntil(Nanos t) {
    while (!queue.empty() && queue.TopTime() <= t) {
      const Event e = queue.Pop();
      if (stage.Owns(e.payload)) stage.Handle(e.time, e.payload);
      else stage.Check(e.time, checks[e.payload]);
    }
  }
  int64_t Admitted() const {
    int64_t n = 0;
    for (const LimiterOutcome& o : outcomes) n += o.decision.allowed;
    return n;
  }
  const LimiterOutcome& OutcomeOf(uint64_t request) const {
    for (const LimiterOutcome& o : outcomes) {
      if (o.request_id == request) return o;
    }
    ADD_FAILURE() << "no outcome for request " << request;
    return outcomes.front();
  }

  EventQueue queue;
  std::vector<LimiterCheck> checks;
  std::vector<LimiterOutcome> outcomes;
  std::vector<Nanos> decided_at;
  LimiterStage stage;
};

// 16 pods, 400 requests 100 µs apart round-robin over the pods, one key with
// a limit of 50 per minute: a perfect limiter admits exactly 50.
std::unique_ptr<Harness> RaceOf16Pods(SlidingLogStrategy strategy) {
  auto h = std::make_unique<Harness>(Config(strategy, 50, 60 * kS), 16);
  for (int i = 0; i < 400; ++i) h->Arrive(i * 100 * kUs, static_cast<uint32_t>(i % 16));
  h->RunUntil(10 * kS);
  EXPECT_EQ(h->outcomes.size(), 400u);
  EXPECT_EQ(h->stage.in_flight(), 0u);
  return h;
}

TEST(LimiterStage, CheckThenAddOverAdmitsWhen16PodsRaceWithA1msRtt) {
  auto hp = RaceOf16Pods(SlidingLogStrategy::kCheckThenAdd);
  Harness& h = *hp;
  const LimiterAuditReport audit = h.stage.AuditReport();
  EXPECT_GT(audit.excess_admits, 0);
  EXPECT_GT(h.Admitted(), 50);
  EXPECT_EQ(audit.excess_admits, h.Admitted() - 50);
  ASSERT_EQ(audit.keys.size(), 1u);
  EXPECT_EQ(audit.keys[0].key, "rl:acme");
  EXPECT_EQ(audit.keys[0].peak_in_window, h.Admitted());
  for (const LimiterOutcome& o : h.outcomes) EXPECT_EQ(o.failure, LimiterFailure::kNone);
  EXPECT_EQ(h.outcomes.front().decision.round_trips, 2);  // read, then write
}

TEST(LimiterStage, AtomicStrategiesNeverOverAdmitInTheSameRace) {
  for (SlidingLogStrategy s : {SlidingLogStrategy::kLua, SlidingLogStrategy::kMultiAddThenCount}) {
    SCOPED_TRACE(SlidingLogStrategyName(s));
    auto hp = RaceOf16Pods(s);
    Harness& h = *hp;
    const LimiterAuditReport audit = h.stage.AuditReport();
    EXPECT_EQ(audit.excess_admits, 0);
    EXPECT_EQ(audit.strict_excess, 0);
    EXPECT_LE(h.Admitted(), 50);
    if (s == SlidingLogStrategy::kLua) {
      EXPECT_EQ(h.Admitted(), 50);
    }
    for (const LimiterOutcome& o : h.outcomes) EXPECT_EQ(o.failure, LimiterFailure::kNone) << o.decision.error;
  }
}

TEST(LimiterStage, ReportsAuditFragmentsWithThePinnedFieldNames) {
  auto hp = RaceOf16Pods(SlidingLogStrategy::kCheckThenAdd);
  Harness& h = *hp;
  const LimiterAuditReport audit = h.stage.AuditReport();
  const nlohmann::json summary = audit.SummaryJson();
  EXPECT_EQ(summary["excess_admits"], audit.excess_admits);
  EXPECT_TRUE(summary.contains("false_refusals"));
  EXPECT_TRUE(summary.contains("strict_excess"));
  const nlohmann::json rows = audit.AuditJson();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["key"], "rl:acme");
  EXPECT_EQ(rows[0]["limit"], 50);
  const nlohmann::json stats = h.stage.StatsJson();
  EXPECT_EQ(stats["checks"], 400);
  EXPECT_EQ(stats["server"]["round_trips"], h.stage.server().stats().round_trips);
}

TEST(LimiterStage, OnePodWithSequentialRequestsNeverExceeds) {
  // 5 ms apart (a decision takes ~2 ms): no two decisions overlap. 60
  // requests per 300 ms window are offered, 50 admitted per window.
  Harness h(Config(SlidingLogStrategy::kCheckThenAdd, 50, 300 * kMs));
  for (int i = 0; i < 400; ++i) h.Arrive(i * 5 * kMs, 0);
  h.RunUntil(10 * kS);
  ASSERT_EQ(h.outcomes.size(), 400u);
  const LimiterAuditReport audit = h.stage.AuditReport();
  EXPECT_EQ(audit.excess_admits, 0);
  EXPECT_EQ(audit.false_refusals, 0);
  EXPECT_EQ(audit.keys[0].peak_in_window, 50);
  EXPECT_GT(h.Admitted(), 300);  // the window slides
  // A decision costs two round trips: 4 one-way delays plus Redis time.
  EXPECT_GT(h.outcomes[1].latency, 2 * kMs);
  EXPECT_LT(h.outcomes[1].latency, 2 * kMs + 100 * kUs);
}

// Limit 100 per minute, one request every 20 ms, fail_closed; Redis crashes
// at 1.5 s and is back at 1.6 s. Requests decided before the crash wrote
// entries at ~t + 0.5 ms; those before the fsync at 1.0 s are durable.
std::unique_ptr<Harness> RestartRun(PersistenceMode mode) {
  LimiterStageConfig config = Config(SlidingLogStrategy::kLua, 100, 60 * kS);
  config.limiter.on_redis_error = OnRedisError::kFailClosed;
  config.redis.persistence.mode = mode;
  config.redis.events = {{RedisEventKind::kRestart, 1500 * kMs, 100 * kMs}};
  auto h = std::make_unique<Harness>(std::move(config));
  for (int i = 0; i < 250; ++i) h->Arrive(i * 20 * kMs, 0);
  h->RunUntil(10 * kS);
  EXPECT_EQ(h->outcomes.size(), 250u);
  return h;
}

int64_t AdmittedIn(const Harness& h, Nanos from, Nanos to) {
  int64_t n = 0;
  for (size_t i = 0; i < h.outcomes.size(); ++i) {
    const Nanos arrival = static_cast<Nanos>(h.outcomes[i].request_id) * 20 * kMs;
    if (arrival >= from && arrival < to) n += h.outcomes[i].decision.allowed;
  }
  return n;
}

TEST(LimiterStage, RestartWithoutPersistenceForgetsEveryAdmission) {
  auto hp = RestartRun(PersistenceMode::kNone);
  Harness& h = *hp;
  EXPECT_EQ(AdmittedIn(h, 0, 1500 * kMs), 75);
  EXPECT_EQ(AdmittedIn(h, 1500 * kMs, 1600 * kMs), 0);  // down: fail_closed refuses
  EXPECT_EQ(AdmittedIn(h, 1600 * kMs, 5 * kS), 100);    // a fresh window: admits restart from 0
  EXPECT_EQ(h.stage.AuditReport().excess_admits, 75);
  EXPECT_EQ(h.stage.server().stats().crashes, 1u);
}

TEST(LimiterStage, AofEverysecKeepsAllButTheLastSecond) {
  auto hp = RestartRun(PersistenceMode::kAofEverysec);
  Harness& h = *hp;
  EXPECT_EQ(AdmittedIn(h, 0, 1500 * kMs), 75);
  // 50 entries written before the fsync at 1.0 s survive; the 25 of
  // [1.0 s, 1.5 s) are lost, so 50 more are admitted after the restart.
  EXPECT_EQ(AdmittedIn(h, 1600 * kMs, 5 * kS), 50);
  EXPECT_EQ(h.stage.AuditReport().excess_admits, 25);
}

TEST(LimiterStage, RequestsDuringTheOutageDecideByOnRedisError) {
  auto hp = RestartRun(PersistenceMode::kNone);
  Harness& h = *hp;
  for (uint64_t r = 75; r < 80; ++r) {  // arrivals at 1.50 .. 1.58 s
    const LimiterOutcome& o = h.OutcomeOf(r);
    EXPECT_FALSE(o.decision.allowed);
    EXPECT_TRUE(o.decision.redis_error);
    EXPECT_TRUE(o.failure == LimiterFailure::kConnectRefused || o.failure == LimiterFailure::kConnectionLost)
        << LimiterFailureName(o.failure);
  }
  // The idle connection Redis reset was dropped at acquire, not used.
  EXPECT_GE(h.stage.stats().stale_connections_dropped, 1u);
  // After the restart the script cache is empty: the plan reloads it once.
  EXPECT_EQ(h.OutcomeOf(80).decision.round_trips, 2);
  EXPECT_EQ(h.OutcomeOf(81).decision.round_trips, 1);
}

TEST(LimiterStage, PoolAcquireTimeoutRefusesWithFailClosedAndAdmitsWithFailOpen) {
  for (OnRedisError mode : {OnRedisError::kFailClosed, OnRedisError::kFailOpen}) {
    SCOPED_TRACE(OnRedisErrorName(mode));
    LimiterStageConfig config = Config(SlidingLogStrategy::kLua, 100, 60 * kS);
    config.limiter.on_redis_error = mode;
    config.redis.client.pool.size = 1;
    config.redis.client.pool.acquire_timeout = 1 * kMs;
    config.redis.network_delay = DurationDistribution::Constant(5 * kMs);  // one decision holds it >= 10 ms
    Harness h(std::move(config));
    h.Arrive(0, 0);
    h.Arrive(0, 0);
    h.RunUntil(kS);
    ASSERT_EQ(h.outcomes.size(), 2u);
    const LimiterOutcome& second = h.outcomes[0];  // decided first, at its timeout
    EXPECT_EQ(second.request_id, 1u);
    EXPECT_EQ(second.failure, LimiterFailure::kPoolTimeout);
    EXPECT_EQ(second.latency, 1 * kMs);
    EXPECT_TRUE(second.decision.redis_error);
    EXPECT_EQ(second.decision.allowed, mode == OnRedisError::kFailOpen);
    EXPECT_EQ(h.outcomes[1].failure, LimiterFailure::kNone);
    EXPECT_TRUE(h.outcomes[1].decision.allowed);
    EXPECT_EQ(h.stage.pool_waiting(0), 0u);
    EXPECT_EQ(h.stage.pool_in_use(0), 0);
  }
}

TEST(LimiterStage, CommandTimeoutDropsTheConnection) {
  LimiterStageConfig config = Config(SlidingLogStrategy::kLua, 100, 60 * kS);
  config.redis.service_time.round_trip = DurationDistribution::Constant(300 * kMs);  // a stalled Redis
  config.redis.client.command_timeout = 100 * kMs;
  Harness h(std::move(config));
  h.Arrive(0, 0);
  h.Arrive(kS, 0);
  h.RunUntil(3 * kS);
  ASSERT_EQ(h.outcomes.size(), 2u);
  EXPECT_EQ(h.outcomes[0].failure, LimiterFailure::kCommandTimeout);
  EXPECT_TRUE(h.outcomes[0].decision.allowed);  // fail_open, the default
  EXPECT_EQ(h.decided_at[0], 200 * kUs + 100 * kMs);  // connect, then the timeout
  EXPECT_EQ(h.stage.server().stats().accepted_connections, 2u);  // the second request needed a new one
}

TEST(LimiterStage, ErrorRepliesDecideByOnRedisErrorAndKeepTheConnection) {
  LimiterStageConfig config = Config(SlidingLogStrategy::kCheckThenAdd, 100, 60 * kS);
  config.limiter.on_redis_error = OnRedisError::kFailClosed;
  config.redis.memory.baseline_bytes = 0;
  config.redis.memory.maxmemory = 1;  // noeviction: once the first entry is in, every ZADD gets OOM
  Harness h(std::move(config));
  for (int i = 0; i < 3; ++i) h.Arrive(i * 10 * kMs, 0);
  h.RunUntil(kS);
  ASSERT_EQ(h.outcomes.size(), 3u);
  EXPECT_EQ(h.outcomes[0].failure, LimiterFailure::kNone);
  EXPECT_TRUE(h.outcomes[0].decision.allowed);
  for (int i = 1; i < 3; ++i) {
    const LimiterOutcome& o = h.outcomes[i];
    EXPECT_EQ(o.failure, LimiterFailure::kErrorReply);
    EXPECT_FALSE(o.decision.allowed);
    EXPECT_NE(o.decision.error.find("OOM"), std::string::npos) << o.decision.error;
  }
  EXPECT_EQ(h.stage.server().stats().accepted_connections, 1u);
}

TEST(LimiterStage, PodClockCarriesItsSkewAndUnlimitedTenantsSkipRedis) {
  LimiterStageConfig config = Config(SlidingLogStrategy::kLua, 100, 60 * kS);
  config.clock_skew.kind = ClockSkewSpec::Kind::kList;
  config.clock_skew.list = {0, 250 * kMs};
  Harness h(std::move(config), 2);
  EXPECT_FALSE(h.stage.Limited(1));
  EXPECT_TRUE(h.stage.Limited(0));
  h.Arrive(10 * kMs, 0);
  h.Arrive(10 * kMs, 1);
  h.RunUntil(kS);
  ASSERT_EQ(h.outcomes.size(), 2u);
  EXPECT_EQ(h.OutcomeOf(0).decision.rule_time, kSimUnixTimeAtZero + 10 * kMs);
  EXPECT_EQ(h.OutcomeOf(1).decision.rule_time, kSimUnixTimeAtZero + 260 * kMs);
  EXPECT_EQ(h.stage.skew(1), 250 * kMs);
}

TEST(LimiterStage, RedisKillFailsEveryLaterRequest) {
  LimiterStageConfig config = Config(SlidingLogStrategy::kLua, 100, 60 * kS);
  config.redis.events = {{RedisEventKind::kKill, 50 * kMs, 0}};
  Harness h(std::move(config));
  for (int i = 0; i < 10; ++i) h.Arrive(i * 20 * kMs, 0);
  h.RunUntil(10 * kS);
  ASSERT_EQ(h.outcomes.size(), 10u);
  for (const LimiterOutcome& o : h.outcomes) {
    EXPECT_TRUE(o.decision.allowed);  // fail_open
    EXPECT_EQ(o.decision.redis_error, o.request_id >= 3) << o.request_id;
  }
}

TEST(LimiterStage, RemovedPodsCloseTheirConnections) {
  Harness h(Config(SlidingLogStrategy::kLua, 100, 60 * kS), 2);
  h.Arrive(0, 0);
  h.Arrive(0, 0);  // pod 0 holds two connections
  h.Arrive(0, 1);
  h.RunUntil(100 * kMs);
  ASSERT_EQ(h.outcomes.size(), 3u);
  EXPECT_EQ(h.stage.server().open_connections(), 3);
  h.stage.RemovePod(100 * kMs, 0);
  EXPECT_EQ(h.stage.server().open_connections(), 1);
  h.Arrive(200 * kMs, 1);
  h.RunUntil(kS);
  EXPECT_EQ(h.outcomes.size(), 4u);
  EXPECT_EQ(h.stage.server().open_connections(), 1);
}

TEST(LimiterStage, SameSeedSameDecisions) {
  auto run = [](uint64_t seed) {
    LimiterStageConfig config = Config(SlidingLogStrategy::kCheckThenAdd, 50, 60 * kS);
    config.seed = seed;
    config.redis.network_delay = DurationDistribution::Lognormal(300 * kUs, 2 * kMs);
    config.redis.service_time.command = DurationDistribution::Exponential(5 * kUs);
    config.clock_skew.kind = ClockSkewSpec::Kind::kUniform;
    config.clock_skew.max = 5 * kMs;
    Harness h(std::move(config), 16);
    for (int i = 0; i < 400; ++i) h.Arrive(i * 100 * kUs, static_cast<uint32_t>(i % 16));
    h.RunUntil(10 * kS);
    std::vector<std::tuple<uint64_t, bool, Nanos>> out;
    for (size_t i = 0; i < h.outcomes.size(); ++i) {
      out.emplace_back(h.outcomes[i].request_id, h.outcomes[i].decision.allowed, h.decided_at[i]);
    }
    return std::make_pair(out, h.stage.AuditReport().excess_admits);
  };
  const auto a = run(7);
  EXPECT_EQ(a, run(7));
  EXPECT_NE(a.first, run(8).first);
  EXPECT_GT(a.second, 0);
}

}  // namespace
}  // namespace scaletwin::sim
