// LimiterStage: the simulated rate-limiter path of every pod — each pod's
// Redis pool, the network to Redis, the simulated Redis server — driving one
// model limiter plan (model/limiter_plan.h) per request to a decision, and
// auditing every decision (model/limiter_auditor.h).
//
// One request's path:
//   Check → acquire a pooled connection of its pod (FIFO waiters; a connection
//   is opened on demand in connect_time; an idle connection found dead after
//   a Redis crash is dropped and another taken, as the real pool's idle probe
//   does — real/redis/redis_connection_pool.h) → for each round trip of the plan: one-way network delay → the
//   server's FIFO (sim/redis_server.h) → one-way delay back → the plan reads
//   the replies → ... until the plan has decided → the connection goes back to
//   the pool (or is dropped if it broke) → the decision is reported.
// Failures decide through the plan's on_redis_error (fail_open admits,
// fail_closed refuses), with LimiterOutcome::failure saying why:
//   pool_timeout       no connection within acquire_timeout
//   connect_refused    the pool's connect found Redis down
//   connection_lost    the connection was reset: Redis crashed with the round
//                      trip queued or in service, or was down on arrival
//   command_timeout    no reply within command_timeout (the connection is
//                      dropped: a client cannot resynchronise it)
//   error_reply        Redis answered an error (OOM, ...): the connection is fine
// Pod clocks: a request's "now" is the pod's clock, unix_time_at_zero + t +
// the pod's skew (ClockSkewForPod); Redis TIME is unskewed. Members are
// "p<pod>-<sequence>", unique over the run (or the ms timestamp with
// member: timestamp, which the plan applies). Like the real pod, nothing loads
// the scripts up front: the plans answer NOSCRIPT themselves (one extra round
// trip after a start or restart).
//
// The world owns one stage and gives it a range of event kinds:
//
//   LimiterStage stage(config, &queue, /*first_kind=*/16,
//                      [&](Nanos now, const LimiterOutcome& o) { ... });
//   stage.Start(0);                        // Redis cron and scheduled restarts/kills
//   for (pod ...) stage.AddPod(0, pod);    // opens min_idle connections
//   if (stage.Limited(tenant)) stage.Check(now, {request_id, pod, tenant, "redirect"});
//   // event loop: kinds in [16, 16 + LimiterStage::kEventKinds) go to the stage:
//   if (stage.Owns(ev.payload)) stage.Handle(ev.time, ev.payload);
//   // report.json:
//   LimiterAuditReport audit = stage.AuditReport();
//   json["limiter"]["audit"] = audit.AuditJson();
//   json["summary"]["limiter"] = audit.SummaryJson();
//
// Payloads: kind (absolute) in bits 56..63, a 24-bit generation in 32..55,
// an index in 0..31 — the world's layout. The callback runs only from
// Handle(), never from Check(), so the world may start or finish requests
// (and call Check again) inside it. Deterministic: the network draws from
// Rng(seed, "redis_network"), the server from its own streams (RedisServer),
// skews from Rng(seed, "clock_skew", pod); no other component's stream moves.
//
// Invariants (checked): a request holds at most one connection; the pool's
// idle count equals the idle connections the stage tracks.
// Thread-safety: none.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/connection_pool.h"
#include "model/duration.h"
#include "model/limiter_auditor.h"
#include "model/limiter_config.h"
#include "model/limiter_plan.h"
#include "model/rng.h"
#include "model/scenario_redis.h"
#include "sim/event_queue.h"
#include "sim/redis_server.h"

namespace scaletwin::sim {

// A tenant as the limiter sees it; index = the world's tenant index.
struct TenantLimit {
  std::string id;
  std::optional<LimitSpec> limit;  // nullopt: never limited, no Redis traffic
};

struct LimiterStageConfig {
  LimiterConfig limiter;
  RedisScenarioSpec redis;  // server, pool (redis.client), network, events
  std::vector<TenantLimit> tenants;
  ClockSkewSpec clock_skew;
  uint64_t seed = 1;
  Nanos unix_time_at_zero = kSimUnixTimeAtZero;
};

// Why on_redis_error decided (kNone: the algorithm decided).
enum class LimiterFailure : uint8_t {
  kNone,
  kPoolTimeout,
  kConnectRefused,
  kConnectionLost,
  kCommandTimeout,
  kErrorReply,
};
inline constexpr int kLimiterFailureCount = 6;
const char* LimiterFailureName(LimiterFailure f);  // "none", "pool_timeout", ...

struct LimiterCheck {
  uint64_t request_id = 0;  // opaque to the stage; handed back in the outcome
  uint32_t pod = 0;
  uint32_t tenant = 0;      // index into LimiterStageConfig::tenants
  std::string_view route;   // used in the key with scope tenant_route
};

struct LimiterOutcome {
  uint64_t request_id = 0;
  uint32_t pod = 0;
  uint32_t tenant = 0;
  Decision decision;  // decision.allowed: admit; else 429, or per `failure`
  LimiterFailure failure = LimiterFailure::kNone;
  Nanos latency = 0;  // Check to decision
};

using LimiterDecisionFn = std::function<void(Nanos now, const LimiterOutcome& outcome)>;

// A plain round trip for the pod's other use of Redis (the link cache): its
// commands travel pipelined over the same pool, network and server as the
// limiter's, and its replies (or why there are none) come back through the
// call handler. Calls are not audited.
struct RedisCall {
  uint64_t request_id = 0;
  uint32_t pod = 0;
  std::vector<Command> commands;
};
struct RedisCallOutcome {
  uint64_t request_id = 0;
  uint32_t pod = 0;
  std::vector<Reply> replies;  // one per command, when failure == kNone
  LimiterFailure failure = LimiterFailure::kNone;
};
using RedisCallFn = std::function<void(Nanos now, const RedisCallOutcome& outcome)>;

struct LimiterStageStats {
  uint64_t checks = 0;
  uint64_t allowed = 0;
  uint64_t refused = 0;
  uint64_t by_failure[kLimiterFailureCount] = {};
  uint64_t round_trips = 0;
  uint64_t stale_connections_dropped = 0;  // idle connections found dead at acquire
  uint64_t calls = 0;                      // plain round trips (Call)
  uint64_t call_failures[kLimiterFailureCount] = {};
};

class LimiterStage : private RedisServer::Client {
 public:
  static constexpr uint8_t kOwnKinds = 5;
  // Event kinds the stage uses from first_kind on (its own, then the server's).
  static constexpr uint8_t kEventKinds = kOwnKinds + RedisServer::kEventKinds;

  LimiterStage(LimiterStageConfig config, EventQueue* queue, uint8_t first_kind, LimiterDecisionFn on_decision);
  LimiterStage(const LimiterStage&) = delete;
  LimiterStage& operator=(const LimiterStage&) = delete;

  // Schedules the server's cron and the scenario's Redis events. Call once.
  void Start(Nanos now);
  // A pod exists (at start or when it is created): opens its min_idle
  // connections. Check() on an unknown pod adds it without opening any.
  void AddPod(Nanos now, uint32_t pod);
  // The pod is gone (deleted or crashed): its idle connections close now, a
  // connection its in-flight checks hold closes when they end (or goes to one
  // of its waiters), and it opens no more. Its in-flight checks still decide
  // and report; the world ignores what it no longer cares about. AddPod
  // revives the index.
  void RemovePod(Nanos now, uint32_t pod);

  // Whether requests of `tenant` go through the limiter at all.
  bool Limited(uint32_t tenant) const;
  // Starts the limiter for one request; the decision comes later through the
  // callback. REQUIRES: Limited(check.tenant).
  void Check(Nanos now, const LimiterCheck& check);
  // Where Call() outcomes go (set before the first Call).
  void SetCallHandler(RedisCallFn on_call) { on_call_ = std::move(on_call); }
  // Sends one plain round trip for a request; the outcome comes later through
  // the call handler, never from inside Call().
  void Call(Nanos now, RedisCall call);

  bool Owns(uint64_t payload) const {
    const auto kind = static_cast<uint8_t>(payload >> 56);
    return kind >= first_kind_ && kind < first_kind_ + kEventKinds;
  }
  // Handles one of the stage's events (its own or its server's). REQUIRES: Owns(payload).
  void Handle(Nanos now, uint64_t payload);

  // The auditor's verdict on every decision so far (report.json's
  // limiter.audit and summary.limiter via AuditJson() / SummaryJson()).
  LimiterAuditReport AuditReport() const { return auditor_.Report(); }
  // With the verdicts per interval of `interval` from simulated time 0.
  LimiterAuditReport AuditReport(Nanos interval, size_t intervals) const {
    return auditor_.Report(config_.unix_time_at_zero, interval, intervals);
  }
  // {"decisions": {...}, "server": RedisServer::StatsJson()} for report.json.
  nlohmann::json StatsJson() const;
  const LimiterStageStats& stats() const { return stats_; }
  const RedisServer& server() const { return server_; }
  // Pool levels of a pod (0 for a pod never seen).
  int pool_in_use(uint32_t pod) const;
  size_t pool_waiting(uint32_t pod) const;
  // Requests between Check and their decision.
  size_t in_flight() const { return live_; }
  // The clock offset of `pod`.
  Nanos skew(uint32_t pod) const;

 private:
  uint32_t NewSlot();
  void FreeSlot(uint32_t slot);  // the request is decided: the slot is reusable
  enum Kind : uint8_t { kConnectDone = 0, kAcquireTimeout, kArriveAtServer, kReplyAtClient, kCommandTimeout };
  enum class Phase : uint8_t { kFree, kAcquiring, kToServer, kAtServer, kToClient };

  struct Pending {
    uint64_t request_id = 0;
    uint32_t pod = 0;
    uint32_t tenant = 0;
    uint32_t generation = 0;  // bumped at every step: events of an earlier step are stale
    Phase phase = Phase::kFree;
    bool has_conn = false;
    bool lost = false;  // what travels back is a reset, not replies
    RedisServer::ConnId conn = 0;
    Nanos started = 0;
    std::unique_ptr<LimiterPlan> plan;
    bool is_call = false;             // a plain round trip (Call), not a limiter plan
    std::vector<Command> call_commands;
    std::vector<Reply> call_replies;
    std::string key;
    LimitSpec limit;
    std::vector<Command> outgoing;  // round trip on its way to the server
    std::vector<Reply> replies;     // replies on their way back
  };
  struct PodState {
    explicit PodState(const PoolConfig& config) : pool(config) {}
    ConnectionPool pool;
    std::vector<RedisServer::ConnId> idle;  // LIFO: the warmest connection first
    Nanos skew = 0;
    bool removed = false;
  };

  uint64_t Payload(Kind kind, uint32_t index, uint32_t generation) const;
  static uint64_t Tag(uint32_t slot, uint32_t generation) { return (uint64_t{generation} << 32) | slot; }
  Nanos NetworkDelay() { return config_.redis.network_delay.Sample(net_rng_); }
  PodState& EnsurePod(uint32_t pod);

  void Acquire(Nanos now, uint32_t slot);
  void OpenConnections(Nanos now, uint32_t pod);
  // Closes every idle connection of a removed pod.
  void CloseIdle(uint32_t pod);
  void HandleConnectDone(Nanos now, uint32_t pod);
  // `slot` now holds `conn`: sends the plan's first round trip.
  void Begin(Nanos now, uint32_t slot, RedisServer::ConnId conn);
  void Send(Nanos now, uint32_t slot, RoundTrip rt);
  // The slot's reply (or reset) travels back, arriving at `at`.
  void ReturnToClient(Nanos at, uint32_t slot, bool lost);
  void HandleReply(Nanos now, uint32_t slot);
  // Ends the request: frees or drops its connection, audits, reports.
  void Decide(Nanos now, uint32_t slot, LimiterFailure failure, bool connection_broken);

  // RedisServer::Client
  void OnRedisReplies(Nanos now, uint64_t tag, std::vector<Reply> replies) override;
  void OnRedisLost(Nanos now, uint64_t tag) override;

  LimiterStageConfig config_;
  EventQueue* queue_;
  uint8_t first_kind_;
  LimiterDecisionFn on_decision_;
  RedisCallFn on_call_;
  RedisServer server_;
  Rng net_rng_;
  std::vector<PodState> pods_;
  std::vector<Pending> slots_;
  std::vector<uint32_t> free_slots_;
  size_t live_ = 0;
  uint64_t member_seq_ = 0;
  LimiterAuditor auditor_;
  LimiterStageStats stats_;
};

}  // namespace scaletwin::sim
