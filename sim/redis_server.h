// RedisServer: the simulated redis-server — one thread executing round trips
// from its connections in arrival order against the model's RedisStore, with
// modelled CPU time, a serverCron, persistence, and crashes.
//
// Execution: a round trip (the commands one client write delivers, e.g. a
// pipeline or a MULTI ... EXEC block) is one job. Jobs and cron runs share one
// FIFO: a job that arrives while the thread is busy waits; when it starts it
// executes all its commands at its start time (ExecutePipeline: other
// connections never interleave inside a round trip, as with Redis's
// one-read-per-event-loop pass for small pipelines) and keeps the thread busy
// for its service time, sampled at start:
//   round_trip + Σ command (EVAL/EVALSHA: script instead)
// (RedisServiceTimes; reference/redis.md §4.2). Its replies leave the server
// when the service ends: a job arriving at t while the thread is busy until b
// completes at max(t, b) + service. The network is the caller's business.
//
// serverCron every 1/hz s: the active expire cycle (its modelled CPU time
// occupies the thread like a job) and the persistence tick (RDB save points,
// AOF fsync bookkeeping).
//
// Crash (the `redis_restart` and `redis_kill` events, scheduled by Start, or
// Crash() directly): every job queued or in service is lost (its client is
// told, at the crash time), every connection is dead, and connects are refused
// until the server is back after `down_for` (never, for a kill) with the
// dataset its persistence mode kept (model/redis_persistence.h) and an empty
// script cache. A job that started before the crash did execute: its writes
// happened even though its replies never left.
//
// Events: the server pushes its own events (service done, cron, crash,
// restart) into the caller's EventQueue with kinds [first_kind, first_kind +
// kEventKinds) in the payload's top byte; the owner passes such events to
// Handle(). Stale events (from before a crash) carry an old epoch and are
// ignored. Deterministic: service times come from Rng(seed, "redis"), the
// store's sampling from a seed derived from Rng(seed, "redis_store").
//
//   RedisServer server(config, &queue, /*first_kind=*/20);
//   server.Start(0);
//   std::optional<RedisServer::ConnId> c = server.Accept(now, &client);
//   if (!server.Arrive(now, *c, tag, {{"PING"}})) { /* connection reset */ }
//   ... queue events of kinds 20..23 -> server.Handle(now, payload);
//   ... client.OnRedisReplies(done, tag, replies) is called at service end.
//
// Invariants (checked): at most one job in service; the thread's work is
// executed in non-decreasing time.
// Thread-safety: none.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/duration.h"
#include "model/redis_command.h"
#include "model/redis_persistence.h"
#include "model/redis_script.h"
#include "model/redis_store.h"
#include "model/rng.h"
#include "model/scenario_redis.h"
#include "sim/event_queue.h"

namespace scaletwin::sim {

// Unix time at virtual time 0 (a whole second): what TIME answers and what
// expire times are measured against. Fixed, so runs are reproducible.
inline constexpr Nanos kSimUnixTimeAtZero = 1'700'000'000LL * kNanosPerSecond;

struct RedisServerConfig {
  RedisScenarioSpec spec;  // memory, persistence, hz, service times, events (the rest is the clients')
  uint64_t seed = 1;
  Nanos unix_time_at_zero = kSimUnixTimeAtZero;
  // EVALSHA targets; null = the limiter scripts (LimiterScriptRegistry()).
  std::shared_ptr<const RedisScriptRegistry> scripts;
};

struct RedisServerStats {
  uint64_t round_trips = 0;      // jobs executed
  uint64_t commands = 0;         // commands in them
  uint64_t cron_runs = 0;
  uint64_t refused_round_trips = 0;  // arrived on a dead connection or while down
  uint64_t lost_round_trips = 0;     // queued or in service at a crash
  uint64_t accepted_connections = 0;
  uint64_t refused_connections = 0;  // connect while down or at maxclients
  uint64_t crashes = 0;
  Nanos busy_time = 0;               // thread busy, summed
  Nanos queue_wait_time = 0;         // jobs waiting for the thread, summed
  size_t max_queue = 0;              // jobs waiting at once, peak
  int64_t peak_used_memory = 0;
};

class RedisServer {
 public:
  using ConnId = uint32_t;

  // Who receives a connection's replies. Callbacks only record and schedule;
  // they must not call back into the server.
  class Client {
   public:
    virtual ~Client() = default;
    // Round trip `tag`'s replies (one per command) leave the server at `now`.
    virtual void OnRedisReplies(Nanos now, uint64_t tag, std::vector<Reply> replies) = 0;
    // Round trip `tag` was queued or in service when the server crashed at `now`.
    virtual void OnRedisLost(Nanos now, uint64_t tag) = 0;
  };

  static constexpr uint8_t kEventKinds = 4;

  RedisServer(RedisServerConfig config, EventQueue* queue, uint8_t first_kind);
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  // Schedules the first cron and the scenario's Redis events. Call once.
  void Start(Nanos now);
  // Handles one of this server's events. REQUIRES: Owns(payload).
  void Handle(Nanos now, uint64_t payload);
  bool Owns(uint64_t payload) const {
    const auto kind = static_cast<uint8_t>(payload >> 56);
    return kind >= first_kind_ && kind < first_kind_ + kEventKinds;
  }

  // A client connects at `now`: nullopt while the server is down (connection
  // refused) or holds maxclients connections (Redis answers "-ERR max number
  // of clients reached" and closes: the same failure to the client). The
  // handshake's cost is the client's connect time.
  std::optional<ConnId> Accept(Nanos now, Client* client);
  // The client closes `conn`. Work it already sent still executes; its replies are dropped.
  void Close(ConnId conn);
  // True iff `conn` is open and the server has not crashed since it was accepted.
  bool Alive(ConnId conn) const;

  // Round trip `commands` arrives on `conn` at `now`. False (and nothing
  // queued) when the connection is dead — the client sees a reset.
  // REQUIRES: !commands.empty().
  bool Arrive(Nanos now, ConnId conn, uint64_t tag, std::vector<Command> commands);

  // Crashes now; back after `down_for`, or never (nullopt). Ignored while down.
  void Crash(Nanos now, std::optional<Nanos> down_for);

  bool up() const { return up_; }
  // When the thread is free, given the work started so far (<= now when idle).
  Nanos busy_until() const { return busy_until_; }
  size_t queued() const { return jobs_.size(); }
  int open_connections() const { return open_conns_; }
  const RedisStore& store() const { return *store_; }
  const RedisServerStats& stats() const { return stats_; }
  // Server-side facts for report.json: the stats, plus used_memory, keys,
  // evicted and expired keys now.
  nlohmann::json StatsJson() const;

 private:
  enum Kind : uint8_t { kServiceDone = 0, kCron, kFault, kRecover };
  struct Job {
    bool cron = false;
    ConnId conn = 0;
    uint32_t conn_serial = 0;
    uint64_t tag = 0;
    Nanos arrival = 0;
    std::vector<Command> commands;
    std::vector<Reply> replies;  // filled when it starts
  };
  struct Conn {
    RedisSession session;
    Client* client = nullptr;
    uint32_t serial = 0;  // bumped on reuse of the id
    uint32_t epoch = 0;   // server epoch at accept
    bool open = false;
  };

  uint64_t Payload(Kind kind, uint32_t index, uint32_t generation) const;
  // Starts the next job if the thread is idle.
  void StartNext(Nanos now);
  void FinishJob(Nanos now);
  // serverCron's work at `now`; returns its modelled CPU time.
  Nanos RunCron(Nanos now);
  Nanos ServiceTime(const std::vector<Command>& commands);
  // Builds a fresh store (and persistence) around `store`.
  void Install(std::unique_ptr<RedisStore> store, Nanos now);

  RedisServerConfig config_;
  RedisConfig store_config_;
  EventQueue* queue_;
  uint8_t first_kind_;
  Rng rng_;
  std::unique_ptr<RedisStore> store_;
  std::unique_ptr<RedisPersistence> persistence_;  // observes *store_; replaced with it
  std::vector<Conn> conns_;
  std::vector<ConnId> free_conns_;
  std::deque<Job> jobs_;
  std::optional<Job> in_service_;
  Nanos busy_until_ = 0;
  Nanos last_start_ = 0;
  uint32_t epoch_ = 0;  // bumped by each crash
  bool up_ = true;
  int open_conns_ = 0;  // open connections accepted since the last crash (what counts for maxclients)
  Nanos crashed_at_ = 0;
  RedisServerStats stats_;
  int64_t evicted_before_ = 0, expired_before_ = 0;  // counters of datasets lost to crashes
};

}  // namespace scaletwin::sim
