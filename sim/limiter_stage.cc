// The simulated limiter path: pools, network and Redis around model limiter plans.
#include "sim/limiter_stage.h"

#include <utility>

#include "model/check.h"

namespace scaletwin::sim {

namespace {
constexpr uint32_t kGenerationMask = 0xFFFFFF;
}  // namespace

const char* LimiterFailureName(LimiterFailure f) {
  switch (f) {
    case LimiterFailure::kNone: return "none";
    case LimiterFailure::kPoolTimeout: return "pool_timeout";
    case LimiterFailure::kConnectRefused: return "connect_refused";
    case LimiterFailure::kConnectionLost: return "connection_lost";
    case LimiterFailure::kCommandTimeout: return "command_timeout";
    case LimiterFailure::kErrorReply: return "error_reply";
  }
  return "?";
}

LimiterStage::LimiterStage(LimiterStageConfig config, EventQueue* queue, uint8_t first_kind,
                           LimiterDecisionFn on_decision)
    : config_(std::move(config)),
      queue_(queue),
      first_kind_(first_kind),
      on_decision_(std::move(on_decision)),
      server_(RedisServerConfig{config_.redis, config_.seed, config_.unix_time_at_zero, nullptr}, queue,
              static_cast<uint8_t>(first_kind + kOwnKinds)),
      net_rng_(config_.seed, "redis_network"),
      auditor_(config_.limiter.algorithm) {
  SCALETWIN_CHECK(queue_ != nullptr && on_decision_);
  SCALETWIN_CHECK(int{first_kind_} + kEventKinds <= 256);
}

uint64_t LimiterStage::Payload(Kind kind, uint32_t index, uint32_t generation) const {
  return (static_cast<uint64_t>(first_kind_ + kind) << 56) |
         (static_cast<uint64_t>(generation & kGenerationMask) << 32) | index;
}

void LimiterStage::Start(Nanos now) { server_.Start(now); }

LimiterStage::PodState& LimiterStage::EnsurePod(uint32_t pod) {
  while (pods_.size() <= pod) {
    const auto index = static_cast<uint32_t>(pods_.size());
    pods_.emplace_back(config_.redis.client.pool);
    pods_.back().skew = ClockSkewForPod(config_.clock_skew, config_.seed, index);
  }
  return pods_[pod];
}

void LimiterStage::AddPod(Nanos now, uint32_t pod) {
  EnsurePod(pod).removed = false;
  OpenConnections(now, pod);
}

void LimiterStage::RemovePod(Nanos now, uint32_t pod) {
  (void)now;
  EnsurePod(pod).removed = true;
  CloseIdle(pod);
}

void LimiterStage::CloseIdle(uint32_t pod) {
  PodState& ps = pods_[pod];
  constexpr uint64_t kCloser = ~uint64_t{0};  // not a slot: only takes idle connections
  while (ps.pool.idle() > 0 && ps.pool.Acquire(kCloser) == ConnectionPool::Outcome::kGranted) {
    server_.Close(ps.idle.back());
    ps.idle.pop_back();
    ps.pool.Discard();
  }
}

bool LimiterStage::Limited(uint32_t tenant) const {
  return tenant < config_.tenants.size() && config_.tenants[tenant].limit.has_value();
}

Nanos LimiterStage::skew(uint32_t pod) const { return pod < pods_.size() ? pods_[pod].skew : 0; }
int LimiterStage::pool_in_use(uint32_t pod) const { return pod < pods_.size() ? pods_[pod].pool.in_use() : 0; }
size_t LimiterStage::pool_waiting(uint32_t pod) const {
  return pod < pods_.size() ? pods_[pod].pool.waiting() : 0;
}

void LimiterStage::Check(Nanos now, const LimiterCheck& check) {
  SCALETWIN_CHECK(Limited(check.tenant));
  const Nanos pod_clock = config_.unix_time_at_zero + now + EnsurePod(check.pod).skew;
  const uint32_t slot = NewSlot();
  Pending& p = slots_[slot];  // keeps its generation: events of the slot's last user stay stale
  p.request_id = check.request_id;
  p.pod = check.pod;
  p.tenant = check.tenant;
  p.started = now;
  const TenantLimit& tenant = config_.tenants[check.tenant];
  p.key = LimiterKey(config_.limiter, tenant.id, check.route);
  p.limit = *tenant.limit;
  std::string member = "p" + std::to_string(check.pod) + "-" + std::to_string(++member_seq_);
  p.plan = MakeLimiterPlan(config_.limiter, {p.key, p.limit, pod_clock, std::move(member), check.request_id});
  p.is_call = false;
  ++live_;
  ++stats_.checks;
  Acquire(now, slot);
}

uint32_t LimiterStage::NewSlot() {
  if (!free_slots_.empty()) {
    const uint32_t slot = free_slots_.back();
    free_slots_.pop_back();
    return slot;
  }
  slots_.emplace_back();
  return static_cast<uint32_t>(slots_.size() - 1);
}

void LimiterStage::Call(Nanos now, RedisCall call) {
  SCALETWIN_CHECK(on_call_ != nullptr);
  EnsurePod(call.pod);
  const uint32_t slot = NewSlot();
  Pending& p = slots_[slot];
  p.request_id = call.request_id;
  p.pod = call.pod;
  p.tenant = 0;
  p.started = now;
  p.is_call = true;
  p.call_commands = std::move(call.commands);
  ++live_;
  ++stats_.calls;
  Acquire(now, slot);
}

void LimiterStage::Acquire(Nanos now, uint32_t slot) {
  Pending& p = slots_[slot];
  PodState& pod = pods_[p.pod];
  p.phase = Phase::kAcquiring;
  while (pod.pool.Acquire(slot) == ConnectionPool::Outcome::kGranted) {
    SCALETWIN_CHECK(!pod.idle.empty());
    const RedisServer::ConnId conn = pod.idle.back();
    pod.idle.pop_back();
    if (server_.Alive(conn)) {
      Begin(now, slot, conn);
      return;
    }
    // The real pool probes an idle connection before leasing it: one that
    // Redis reset while idle (a crash) is dropped, and the caller asks again.
    server_.Close(conn);
    pod.pool.Discard();
    ++stats_.stale_connections_dropped;
  }
  queue_->Push(now + config_.redis.client.pool.acquire_timeout, Payload(kAcquireTimeout, slot, p.generation));
  OpenConnections(now, p.pod);
}

void LimiterStage::OpenConnections(Nanos now, uint32_t pod) {
  if (pods_[pod].removed) return;
  for (int n = pods_[pod].pool.ConnectionsToOpen(); n > 0; --n) {
    queue_->Push(now + config_.redis.client.pool.connect_time, Payload(kConnectDone, pod, 0));
  }
}

void LimiterStage::HandleConnectDone(Nanos now, uint32_t pod) {
  PodState& ps = pods_[pod];
  const std::optional<RedisServer::ConnId> conn = server_.Accept(now, this);
  const ConnectionPool::OpenResult result = ps.pool.OnOpened(conn.has_value());
  if (conn) {
    if (result.granted) {
      Begin(now, static_cast<uint32_t>(*result.granted), *conn);
    } else {
      ps.idle.push_back(*conn);
      if (ps.removed) CloseIdle(pod);  // an open that was under way when the pod went
    }
  } else if (ps.pool.waiting() > 0) {
    OpenConnections(now, pod);  // for the waiters no pending open covers
  }
  SCALETWIN_CHECK(static_cast<size_t>(ps.pool.idle()) == ps.idle.size());
  // Last: the callback may call Check, which may grow pods_.
  if (result.failed) Decide(now, static_cast<uint32_t>(*result.failed), LimiterFailure::kConnectRefused, false);
}

void LimiterStage::Begin(Nanos now, uint32_t slot, RedisServer::ConnId conn) {
  Pending& p = slots_[slot];
  SCALETWIN_CHECK(!p.has_conn);
  p.has_conn = true;
  p.conn = conn;
  if (p.is_call) {
    Send(now, slot, RoundTrip{RoundTripKind::kPipeline, std::move(p.call_commands)});
    return;
  }
  Send(now, slot, p.plan->Start());
}

void LimiterStage::Send(Nanos now, uint32_t slot, RoundTrip rt) {
  Pending& p = slots_[slot];
  ++p.generation;  // earlier timers of this request (acquire, last round trip) are now stale
  ++stats_.round_trips;
  if (!server_.Alive(p.conn)) {
    // Reset while held between round trips: the client reads EOF at once.
    ReturnToClient(now, slot, /*lost=*/true);
    return;
  }
  p.phase = Phase::kToServer;
  p.outgoing = std::move(rt.commands);
  queue_->Push(now + NetworkDelay(), Payload(kArriveAtServer, slot, p.generation));
  if (config_.redis.client.command_timeout > 0) {
    queue_->Push(now + config_.redis.client.command_timeout, Payload(kCommandTimeout, slot, p.generation));
  }
}

void LimiterStage::ReturnToClient(Nanos at, uint32_t slot, bool lost) {
  Pending& p = slots_[slot];
  p.phase = Phase::kToClient;
  p.lost = lost;
  queue_->Push(at, Payload(kReplyAtClient, slot, p.generation));
}

void LimiterStage::OnRedisReplies(Nanos now, uint64_t tag, std::vector<Reply> replies) {
  const auto slot = static_cast<uint32_t>(tag);
  Pending& p = slots_[slot];
  if (p.phase != Phase::kAtServer || p.generation != static_cast<uint32_t>(tag >> 32)) return;  // timed out
  p.replies = std::move(replies);
  ReturnToClient(now + NetworkDelay(), slot, /*lost=*/false);
}

void LimiterStage::OnRedisLost(Nanos now, uint64_t tag) {
  const auto slot = static_cast<uint32_t>(tag);
  Pending& p = slots_[slot];
  if (p.phase != Phase::kAtServer || p.generation != static_cast<uint32_t>(tag >> 32)) return;
  ReturnToClient(now + NetworkDelay(), slot, /*lost=*/true);  // the reset travels back
}

void LimiterStage::Handle(Nanos now, uint64_t payload) {
  const auto kind = static_cast<uint8_t>((payload >> 56) - first_kind_);
  if (kind >= kOwnKinds) {
    server_.Handle(now, payload);
    return;
  }
  const auto index = static_cast<uint32_t>(payload);
  const auto generation = static_cast<uint32_t>((payload >> 32) & kGenerationMask);
  if (kind == kConnectDone) {
    HandleConnectDone(now, index);
    return;
  }
  Pending& p = slots_[index];
  if ((p.generation & kGenerationMask) != generation) return;  // an earlier step's timer
  switch (static_cast<Kind>(kind)) {
    case kAcquireTimeout:
      if (p.phase == Phase::kAcquiring && pods_[p.pod].pool.Cancel(index)) {
        Decide(now, index, LimiterFailure::kPoolTimeout, false);
      }
      break;
    case kArriveAtServer:
      if (p.phase != Phase::kToServer) break;
      p.phase = Phase::kAtServer;
      if (!server_.Arrive(now, p.conn, Tag(index, p.generation), std::move(p.outgoing))) {
        ReturnToClient(now + NetworkDelay(), index, /*lost=*/true);  // down or reset: an RST comes back
      }
      break;
    case kReplyAtClient:
      if (p.phase == Phase::kToClient) HandleReply(now, index);
      break;
    case kCommandTimeout:
      if (p.phase == Phase::kToServer || p.phase == Phase::kAtServer || p.phase == Phase::kToClient) {
        Decide(now, index, LimiterFailure::kCommandTimeout, /*connection_broken=*/true);
      }
      break;
    case kConnectDone: break;
  }
}

void LimiterStage::HandleReply(Nanos now, uint32_t slot) {
  Pending& p = slots_[slot];
  if (p.lost) {
    Decide(now, slot, LimiterFailure::kConnectionLost, /*connection_broken=*/true);
    return;
  }
  if (p.is_call) {
    p.call_replies = std::move(p.replies);
    p.replies.clear();
    Decide(now, slot, LimiterFailure::kNone, false);
    return;
  }
  const std::vector<Reply> replies = std::move(p.replies);
  p.replies.clear();
  std::optional<RoundTrip> next = p.plan->OnReplies(replies);
  if (next) {
    Send(now, slot, std::move(*next));
    return;
  }
  Decide(now, slot, p.plan->decision().redis_error ? LimiterFailure::kErrorReply : LimiterFailure::kNone, false);
}

void LimiterStage::Decide(Nanos now, uint32_t slot, LimiterFailure failure, bool connection_broken) {
  Pending& p = slots_[slot];
  if (!p.is_call && !p.plan->done()) (void)p.plan->OnTransportError(LimiterFailureName(failure));
  if (p.has_conn) {
    PodState& ps = pods_[p.pod];
    p.has_conn = false;
    if (connection_broken) {
      // Never reused (a client cannot resynchronise a broken stream); its
      // slot reopens for whoever waits.
      server_.Close(p.conn);
      ps.pool.Discard();
      OpenConnections(now, p.pod);
    } else if (std::optional<uint64_t> next = ps.pool.Release()) {
      Begin(now, static_cast<uint32_t>(*next), p.conn);  // handed to the oldest waiter
    } else {
      ps.idle.push_back(p.conn);
      if (ps.removed) CloseIdle(p.pod);
    }
    SCALETWIN_CHECK(static_cast<size_t>(ps.pool.idle()) == ps.idle.size());
  }
  if (p.is_call) {
    RedisCallOutcome outcome{p.request_id, p.pod, std::move(p.call_replies), failure};
    ++stats_.call_failures[static_cast<int>(failure)];
    FreeSlot(slot);
    on_call_(now, outcome);  // last, like the decision callback
    return;
  }
  const Decision& d = p.plan->decision();
  auditor_.Record(p.key, config_.tenants[p.tenant].id, p.limit, d.rule_time, d.allowed);
  LimiterOutcome outcome{p.request_id, p.pod, p.tenant, d, failure, now - p.started};
  ++(d.allowed ? stats_.allowed : stats_.refused);
  ++stats_.by_failure[static_cast<int>(failure)];
  FreeSlot(slot);
  on_decision_(now, outcome);  // last: it may call Check, which may grow slots_ and pods_
}

void LimiterStage::FreeSlot(uint32_t slot) {
  Pending& p = slots_[slot];
  p.plan.reset();
  p.is_call = false;
  p.call_replies.clear();
  p.call_commands.clear();
  p.phase = Phase::kFree;
  ++p.generation;  // its pending timers are stale from now on
  p.lost = false;
  p.outgoing.clear();
  p.replies.clear();
  free_slots_.push_back(slot);
  --live_;
}

nlohmann::json LimiterStage::StatsJson() const {
  nlohmann::json failures = nlohmann::json::object();
  for (int i = 1; i < kLimiterFailureCount; ++i) {
    failures[LimiterFailureName(static_cast<LimiterFailure>(i))] = stats_.by_failure[i];
  }
  nlohmann::json call_failures = nlohmann::json::object();
  for (int i = 1; i < kLimiterFailureCount; ++i) {
    call_failures[LimiterFailureName(static_cast<LimiterFailure>(i))] = stats_.call_failures[i];
  }
  return {{"checks", stats_.checks},
          {"calls", stats_.calls},
          {"call_failures", call_failures},
          {"allowed", stats_.allowed},
          {"refused", stats_.refused},
          {"decided_by_on_redis_error", failures},
          {"round_trips", stats_.round_trips},
          {"stale_connections_dropped", stats_.stale_connections_dropped},
          {"server", server_.StatsJson()}};
}

}  // namespace scaletwin::sim
