// The simulated redis-server: one FIFO thread over the model's RedisStore.
#include "sim/redis_server.h"

#include <algorithm>
#include <utility>

#include "model/check.h"
#include "model/limiter_plan.h"

namespace scaletwin::sim {

namespace {
constexpr uint32_t kGenerationMask = 0xFFFFFF;
}  // namespace

RedisServer::RedisServer(RedisServerConfig config, EventQueue* queue, uint8_t first_kind)
    : config_(std::move(config)), queue_(queue), first_kind_(first_kind), rng_(config_.seed, "redis") {
  SCALETWIN_CHECK(queue_ != nullptr);
  SCALETWIN_CHECK(int{first_kind_} + kEventKinds <= 256);
  store_config_.memory = config_.spec.memory;
  store_config_.hz = config_.spec.hz;
  store_config_.active_expire_effort = config_.spec.active_expire_effort;
  store_config_.unix_time_at_zero = config_.unix_time_at_zero;
  store_config_.seed = Rng(config_.seed, "redis_store").Next();
  store_config_.scripts = config_.scripts ? config_.scripts : LimiterScriptRegistry();
  Install(std::make_unique<RedisStore>(store_config_), 0);
}

uint64_t RedisServer::Payload(Kind kind, uint32_t index, uint32_t generation) const {
  return (static_cast<uint64_t>(first_kind_ + kind) << 56) |
         (static_cast<uint64_t>(generation & kGenerationMask) << 32) | index;
}

void RedisServer::Install(std::unique_ptr<RedisStore> store, Nanos now) {
  if (store_) {
    // Counters of the dataset that went away stay in the run's totals.
    evicted_before_ += store_->evicted_keys();
    expired_before_ += store_->expired_keys();
  }
  store_ = std::move(store);
  persistence_ = std::make_unique<RedisPersistence>(config_.spec.persistence, *store_, now);
  // With no persistence nothing needs the write stream; skip the per-write call.
  if (config_.spec.persistence.mode != PersistenceMode::kNone) persistence_->Attach(*store_);
}

void RedisServer::Start(Nanos now) {
  queue_->Push(now + store_->CronPeriod(), Payload(kCron, 0, epoch_));
  const std::vector<RedisEvent>& events = config_.spec.events;
  for (uint32_t i = 0; i < events.size(); ++i) {
    queue_->Push(std::max(now, events[i].at), Payload(kFault, i, 0));
  }
}

void RedisServer::Handle(Nanos now, uint64_t payload) {
  const auto kind = static_cast<Kind>((payload >> 56) - first_kind_);
  const auto index = static_cast<uint32_t>(payload);
  const auto generation = static_cast<uint32_t>((payload >> 32) & kGenerationMask);
  const bool current = generation == (epoch_ & kGenerationMask);
  switch (kind) {
    case kServiceDone:
      if (current && in_service_) FinishJob(now);
      break;
    case kCron:
      // A crash ends the cron chain (its events carry the old epoch); a
      // restart starts a new one.
      if (!current || !up_) break;
      jobs_.emplace_back();
      jobs_.back().cron = true;
      jobs_.back().arrival = now;
      StartNext(now);
      queue_->Push(now + store_->CronPeriod(), Payload(kCron, 0, epoch_));
      break;
    case kFault: {
      const RedisEvent& e = config_.spec.events[index];
      Crash(now, e.kind == RedisEventKind::kRestart ? std::optional<Nanos>(e.down_for) : std::nullopt);
      break;
    }
    case kRecover:
      if (!current || up_) break;
      Install(std::make_unique<RedisStore>(persistence_->Recover(crashed_at_, now)), now);
      up_ = true;
      busy_until_ = now;
      queue_->Push(now + store_->CronPeriod(), Payload(kCron, 0, epoch_));
      break;
  }
}

std::optional<RedisServer::ConnId> RedisServer::Accept(Nanos now, Client* client) {
  (void)now;
  if (!up_ || open_conns_ >= config_.spec.maxclients) {
    ++stats_.refused_connections;
    return std::nullopt;
  }
  ConnId id;
  if (!free_conns_.empty()) {
    id = free_conns_.back();
    free_conns_.pop_back();
  } else {
    id = static_cast<ConnId>(conns_.size());
    conns_.emplace_back();
  }
  Conn& c = conns_[id];
  c.session = RedisSession();
  c.client = client;
  ++c.serial;
  c.epoch = epoch_;
  c.open = true;
  ++open_conns_;
  ++stats_.accepted_connections;
  return id;
}

void RedisServer::Close(ConnId conn) {
  SCALETWIN_CHECK(conn < conns_.size() && conns_[conn].open);
  conns_[conn].open = false;
  conns_[conn].client = nullptr;
  if (conns_[conn].epoch == epoch_) --open_conns_;  // a crash already forgot the others
  free_conns_.push_back(conn);
}

bool RedisServer::Alive(ConnId conn) const {
  return up_ && conn < conns_.size() && conns_[conn].open && conns_[conn].epoch == epoch_;
}

bool RedisServer::Arrive(Nanos now, ConnId conn, uint64_t tag, std::vector<Command> commands) {
  SCALETWIN_CHECK(!commands.empty());
  if (!Alive(conn)) {
    ++stats_.refused_round_trips;
    return false;
  }
  Job& job = jobs_.emplace_back();
  job.conn = conn;
  job.conn_serial = conns_[conn].serial;
  job.tag = tag;
  job.arrival = now;
  job.commands = std::move(commands);
  stats_.max_queue = std::max(stats_.max_queue, jobs_.size() - (in_service_ ? 0 : 1));
  StartNext(now);
  return true;
}

Nanos RedisServer::ServiceTime(const std::vector<Command>& commands) {
  const RedisServiceTimes& t = config_.spec.service_time;
  Nanos total = t.round_trip.Sample(rng_);
  for (const Command& c : commands) {
    const std::string name = c.Name();
    total += (name == "EVALSHA" || name == "EVAL") ? t.script.Sample(rng_) : t.command.Sample(rng_);
  }
  return total;
}

Nanos RedisServer::RunCron(Nanos now) {
  const ExpireCycleStats expire = store_->ActiveExpireCycle(now);
  persistence_->Tick(*store_, now);
  ++stats_.cron_runs;
  return expire.cpu_time;
}

void RedisServer::StartNext(Nanos now) {
  if (in_service_ || jobs_.empty()) return;
  SCALETWIN_CHECK(now >= last_start_);  // the store sees time move forward only
  last_start_ = now;
  Job job = std::move(jobs_.front());
  jobs_.pop_front();
  Nanos service = 0;
  if (job.cron) {
    service = RunCron(now);
  } else {
    // A connection closed (and maybe reused) after sending still has its
    // commands run, on a scratch session: Redis had read them already.
    Conn& c = conns_[job.conn];
    RedisSession scratch;
    RedisSession& session = (c.open && c.serial == job.conn_serial) ? c.session : scratch;
    job.replies = ExecutePipeline(*store_, session, job.commands, now);
    service = ServiceTime(job.commands);
    ++stats_.round_trips;
    stats_.commands += job.commands.size();
    stats_.queue_wait_time += now - job.arrival;
  }
  stats_.peak_used_memory = std::max(stats_.peak_used_memory, store_->used_memory());
  stats_.busy_time += service;
  busy_until_ = now + service;
  in_service_ = std::move(job);
  queue_->Push(busy_until_, Payload(kServiceDone, 0, epoch_));
}

void RedisServer::FinishJob(Nanos now) {
  Job job = std::move(*in_service_);
  in_service_.reset();
  if (!job.cron) {
    Conn& c = conns_[job.conn];
    if (c.open && c.serial == job.conn_serial) c.client->OnRedisReplies(now, job.tag, std::move(job.replies));
  }
  StartNext(now);
}

void RedisServer::Crash(Nanos now, std::optional<Nanos> down_for) {
  if (!up_) return;
  ++epoch_;
  up_ = false;
  crashed_at_ = now;
  open_conns_ = 0;
  ++stats_.crashes;
  std::vector<Job> lost;
  if (in_service_) lost.push_back(std::move(*in_service_));
  in_service_.reset();
  for (Job& j : jobs_) lost.push_back(std::move(j));
  jobs_.clear();
  busy_until_ = now;
  for (const Job& j : lost) {
    if (j.cron) continue;
    ++stats_.lost_round_trips;
    const Conn& c = conns_[j.conn];
    if (c.open && c.serial == j.conn_serial) c.client->OnRedisLost(now, j.tag);
  }
  if (down_for) queue_->Push(now + *down_for, Payload(kRecover, 0, epoch_));
}

nlohmann::json RedisServer::StatsJson() const {
  const RedisServerStats& s = stats_;
  return {{"round_trips", s.round_trips},
          {"commands", s.commands},
          {"cron_runs", s.cron_runs},
          {"refused_round_trips", s.refused_round_trips},
          {"lost_round_trips", s.lost_round_trips},
          {"accepted_connections", s.accepted_connections},
          {"refused_connections", s.refused_connections},
          {"crashes", s.crashes},
          {"busy_time_ms", ToMillis(s.busy_time)},
          {"mean_queue_wait_us", s.round_trips ? ToMillis(s.queue_wait_time) * 1000 / s.round_trips : 0.0},
          {"max_queue", s.max_queue},
          {"used_memory", store_->used_memory()},
          {"peak_used_memory", s.peak_used_memory},
          {"keys", store_->key_count()},
          {"evicted_keys", evicted_before_ + store_->evicted_keys()},
          {"expired_keys", expired_before_ + store_->expired_keys()}};
}

}  // namespace scaletwin::sim
