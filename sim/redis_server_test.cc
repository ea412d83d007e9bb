// The simulated Redis server: FIFO service times, cron, crashes and what each
// persistence mode keeps across a restart, maxclients, determinism.
#include "sim/redis_server.h"

#include <gtest/gtest.h>

#include <map>

#include "model/limiter_plan.h"

namespace scaletwin::sim {
namespace {

constexpr Nanos kUs = kNanosPerMicro;
constexpr Nanos kMs = kNanosPerMilli;
constexpr Nanos kS = kNanosPerSecond;
constexpr uint8_t kFirstKind = 10;

struct Received {
  Nanos at;
  std::vector<Reply> replies;  // empty: lost
};

class RecordingClient : public RedisServer::Client {
 public:
  void OnRedisReplies(Nanos now, uint64_t tag, std::vector<Reply> replies) override {
    got[tag] = {now, std::move(replies)};
  }
  void OnRedisLost(Nanos now, uint64_t tag) override { lost[tag] = now; }
  std::map<uint64_t, Received> got;
  std::map<uint64_t, Nanos> lost;
};

// Round trip 10 µs, command 1 µs, script 5 µs: easy sums.
RedisServerConfig Config() {
  RedisServerConfig c;
  c.spec.service_time.round_trip = DurationDistribution::Constant(10 * kUs);
  c.spec.service_time.command = DurationDistribution::Constant(1 * kUs);
  c.spec.service_time.script = DurationDistribution::Constant(5 * kUs);
  return c;
}

class Harness {
 public:
  explicit Harness(RedisServerConfig config) : server(std::move(config), &queue, kFirstKind) { server.Start(0); }
  // Runs every event up to and including `t`.
  void RunUntil(Nanos t) {
    while (!queue.empty() && queue.TopTime() <= t) {
      const Event e = queue.Pop();
      ASSERT_TRUE(server.Owns(e.payload));
      server.Handle(e.time, e.payload);
    }
  }
  RedisServer::ConnId Connect(Nanos t) {
    RunUntil(t);
    std::optional<RedisServer::ConnId> c = server.Accept(t, &client);
    EXPECT_TRUE(c.has_value());
    return c.value_or(0);
  }
  bool Send(Nanos t, RedisServer::ConnId conn, uint64_t tag, std::vector<Command> commands) {
    RunUntil(t);
    return server.Arrive(t, conn, tag, std::move(commands));
  }
  // One command at `t` on a fresh connection; runs until its reply.
  Reply Run(Nanos t, Command command) {
    const RedisServer::ConnId c = Connect(t);
    const uint64_t tag = next_tag++;
    EXPECT_TRUE(Send(t, c, tag, {std::move(command)}));
    RunUntil(t + kMs);
    server.Close(c);
    return client.got.count(tag) ? client.got[tag].replies.at(0) : Reply::Error("no reply");
  }

  EventQueue queue;
  RecordingClient client;
  RedisServer server;
  uint64_t next_tag = 1000;
};

TEST(RedisServer, RoundTripsRunInArrivalOrderAndWaitWhileTheThreadIsBusy) {
  Harness h(Config());
  const RedisServer::ConnId a = h.Connect(0), b = h.Connect(0), c = h.Connect(0);
  ASSERT_TRUE(h.Send(0, a, 1, {{"SET", "k", "1"}, {"GET", "k"}}));  // 10 + 2 x 1 µs
  EXPECT_EQ(h.server.busy_until(), 12 * kUs);
  ASSERT_TRUE(h.Send(5 * kUs, b, 2, {{"INCR", "k"}}));  // busy: starts at 12, done at 12 + 11
  EXPECT_EQ(h.server.busy_until(), 12 * kUs);  // its service time is drawn when it starts
  EXPECT_EQ(h.server.queued(), 1u);
  ASSERT_TRUE(h.Send(6 * kUs, c, 3, {{"INCR", "k"}}));  // behind b: 23 + 11
  EXPECT_EQ(h.server.stats().max_queue, 2u);
  h.RunUntil(40 * kUs);
  EXPECT_EQ(h.client.got[1].at, 12 * kUs);
  EXPECT_EQ(h.client.got[1].replies, (std::vector<Reply>{Reply::Ok(), Reply::Bulk("1")}));
  EXPECT_EQ(h.client.got[2].at, 23 * kUs);
  EXPECT_EQ(h.client.got[2].replies, std::vector<Reply>{Reply::Integer(2)});  // after a's SET
  EXPECT_EQ(h.client.got[3].at, 34 * kUs);
  EXPECT_EQ(h.client.got[3].replies, std::vector<Reply>{Reply::Integer(3)});
  // Idle again: a later arrival starts at once.
  ASSERT_TRUE(h.Send(50 * kUs, a, 4, {{"GET", "k"}}));
  h.RunUntil(100 * kUs);
  EXPECT_EQ(h.client.got[4].at, 61 * kUs);
  EXPECT_EQ(h.server.stats().round_trips, 4u);
  EXPECT_EQ(h.server.stats().commands, 5u);
  EXPECT_EQ(h.server.stats().queue_wait_time, (12 - 5) * kUs + (23 - 6) * kUs);
}

TEST(RedisServer, ScriptsCostScriptTimeAndMultiRunsAsOneRoundTrip) {
  Harness h(Config());
  const RedisServer::ConnId a = h.Connect(0);
  const LimiterScript& s = LimiterScriptNamed("sliding_log");
  // EVALSHA before SCRIPT LOAD answers NOSCRIPT (it still costs a script slot).
  ASSERT_TRUE(h.Send(0, a, 1, {{"EVALSHA", s.sha1, "1", "k", "1700000000000", "1000", "5", "m1", "2000"}}));
  h.RunUntil(kMs);
  EXPECT_EQ(h.client.got[1].at, 15 * kUs);
  EXPECT_EQ(h.client.got[1].replies.at(0), Reply::Error(std::string(kErrNoScript)));
  ASSERT_TRUE(h.Send(kMs, a, 2, {{"MULTI"}, {"INCR", "n"}, {"INCR", "n"}, {"EXEC"}}));
  h.RunUntil(2 * kMs);
  EXPECT_EQ(h.client.got[2].at, kMs + 14 * kUs);
  EXPECT_EQ(h.client.got[2].replies.back(), Reply::Array({Reply::Integer(1), Reply::Integer(2)}));
}

TEST(RedisServer, CrashLosesQueuedWorkResetsConnectionsAndRefusesUntilBack) {
  Harness h(Config());
  const RedisServer::ConnId a = h.Connect(0), b = h.Connect(0);
  ASSERT_TRUE(h.Send(0, a, 1, {{"SET", "x", "1"}}));  // in service until 11 µs
  ASSERT_TRUE(h.Send(1 * kUs, b, 2, {{"SET", "y", "1"}}));  // queued
  h.server.Crash(5 * kUs, 1 * kS);
  EXPECT_EQ(h.client.lost, (std::map<uint64_t, Nanos>{{1, 5 * kUs}, {2, 5 * kUs}}));
  h.RunUntil(500 * kMs);
  EXPECT_TRUE(h.client.got.empty());
  EXPECT_FALSE(h.server.up());
  EXPECT_FALSE(h.server.Alive(a));
  EXPECT_FALSE(h.server.Arrive(500 * kMs, a, 3, {{"PING"}}));
  EXPECT_FALSE(h.server.Accept(500 * kMs, &h.client).has_value());
  EXPECT_EQ(h.server.stats().refused_connections, 1u);
  h.RunUntil(kS + 5 * kUs);
  EXPECT_TRUE(h.server.up());
  EXPECT_FALSE(h.server.Alive(a));  // a restart does not revive old connections
  EXPECT_EQ(h.Run(2 * kS, {"PING"}), Reply::Simple("PONG"));
  EXPECT_EQ(h.server.stats().lost_round_trips, 2u);
}

// Writes a key at 0.5 s and another at 1.5 s, crashes at 1.7 s, restarts at
// 2.7 s; returns which of the two survived.
std::pair<bool, bool> SurvivorsOfARestart(PersistenceMode mode, std::vector<SavePoint> save_points = {}) {
  RedisServerConfig config = Config();
  config.spec.persistence.mode = mode;
  if (!save_points.empty()) config.spec.persistence.save_points = std::move(save_points);
  config.spec.events = {{RedisEventKind::kRestart, 1700 * kMs, 1 * kS}};
  Harness h(config);
  EXPECT_EQ(h.Run(500 * kMs, {"SET", "early", "1"}), Reply::Ok());
  EXPECT_EQ(h.Run(1500 * kMs, {"SET", "late", "1"}), Reply::Ok());
  h.RunUntil(2 * kS);
  EXPECT_FALSE(h.server.up());
  const Reply early = h.Run(3 * kS, {"EXISTS", "early"});
  const Reply late = h.Run(3 * kS + kMs, {"EXISTS", "late"});
  EXPECT_EQ(h.server.stats().crashes, 1u);
  return {early == Reply::Integer(1), late == Reply::Integer(1)};
}

TEST(RedisServer, RestartKeepsWhatThePersistenceModeKept) {
  EXPECT_EQ(SurvivorsOfARestart(PersistenceMode::kNone), std::make_pair(false, false));
  // everysec: the fsync at 1 s covers "early"; "late" sat in the last second.
  EXPECT_EQ(SurvivorsOfARestart(PersistenceMode::kAofEverysec), std::make_pair(true, false));
  // RDB with `save 1 1`: the cron at 1.0 s snapshots "early"; the next save is due at 2.0 s.
  EXPECT_EQ(SurvivorsOfARestart(PersistenceMode::kRdb, {{1 * kS, 1}}), std::make_pair(true, false));
}

TEST(RedisServer, RestartFlushesTheScriptCache) {
  Harness h(Config());
  const LimiterScript& s = LimiterScriptNamed("sliding_log");
  EXPECT_EQ(h.Run(0, {"SCRIPT", "LOAD", std::string(s.body)}), Reply::Bulk(s.sha1));
  EXPECT_EQ(h.Run(kMs, {"SCRIPT", "EXISTS", s.sha1}), Reply::Array({Reply::Integer(1)}));
  h.server.Crash(2 * kMs, 0);
  h.RunUntil(2 * kMs);
  EXPECT_EQ(h.Run(3 * kMs, {"SCRIPT", "EXISTS", s.sha1}), Reply::Array({Reply::Integer(0)}));
}

TEST(RedisServer, KillIsForever) {
  RedisServerConfig config = Config();
  config.spec.events = {{RedisEventKind::kKill, 1 * kS, 0}};
  Harness h(config);
  EXPECT_EQ(h.Run(0, {"PING"}), Reply::Simple("PONG"));
  h.RunUntil(3600 * kS);
  EXPECT_FALSE(h.server.up());
  EXPECT_FALSE(h.server.Accept(3600 * kS, &h.client).has_value());
  EXPECT_TRUE(h.queue.empty());  // no cron chain, no restart pending
}

TEST(RedisServer, CronReclaimsExpiredKeysAndItsCpuDelaysCommands) {
  Harness h(Config());
  const RedisServer::ConnId a = h.Connect(0);
  std::vector<Command> writes;
  for (int i = 0; i < 2000; ++i) writes.push_back({"SET", "k" + std::to_string(i), "v", "PX", "10"});
  ASSERT_TRUE(h.Send(0, a, 1, std::move(writes)));
  h.RunUntil(50 * kMs);
  EXPECT_EQ(h.server.store().key_count(), 2000u);  // expired, not yet reclaimed
  // The cron at 100 ms samples keys (2.5 µs each, modelled): a command
  // arriving just after it waits for it.
  ASSERT_TRUE(h.Send(100 * kMs + 1, a, 2, {{"PING"}}));
  h.RunUntil(200 * kMs);
  EXPECT_GT(h.client.got[2].at, 100 * kMs + 1 + 11 * kUs + 100 * kUs);
  EXPECT_EQ(h.server.store().key_count(), 0u);
  EXPECT_GE(h.server.stats().cron_runs, 1u);
  EXPECT_GT(h.server.stats().busy_time, 2000 * kUs);
}

TEST(RedisServer, MaxclientsRefusesConnectionsBeyondIt) {
  RedisServerConfig config = Config();
  config.spec.maxclients = 2;
  Harness h(config);
  const RedisServer::ConnId a = h.Connect(0);
  h.Connect(0);
  EXPECT_FALSE(h.server.Accept(0, &h.client).has_value());
  h.server.Close(a);
  EXPECT_TRUE(h.server.Accept(0, &h.client).has_value());
  // A crash forgets every client: the slots are free again after the restart.
  h.server.Crash(kMs, 0);
  h.RunUntil(kMs);
  EXPECT_TRUE(h.server.Accept(2 * kMs, &h.client).has_value());
  EXPECT_TRUE(h.server.Accept(2 * kMs, &h.client).has_value());
  EXPECT_FALSE(h.server.Accept(2 * kMs, &h.client).has_value());
}

TEST(RedisServer, SameSeedSameServiceTimes) {
  auto run = [](uint64_t seed) {
    RedisServerConfig config = Config();
    config.seed = seed;
    config.spec.service_time.command = DurationDistribution::Exponential(20 * kUs);
    Harness h(config);
    const RedisServer::ConnId a = h.Connect(0);
    for (uint64_t i = 0; i < 50; ++i) EXPECT_TRUE(h.Send(static_cast<Nanos>(i) * kUs, a, i, {{"INCR", "n"}}));
    h.RunUntil(kS);
    std::vector<Nanos> done;
    for (const auto& [tag, r] : h.client.got) done.push_back(r.at);
    return done;
  };
  EXPECT_EQ(run(7), run(7));
  EXPECT_NE(run(7), run(8));
}

}  // namespace
}  // namespace scaletwin::sim
