// Persistence modes: what a restart keeps.
#include "model/redis_persistence.h"

namespace scaletwin {

Result<PersistenceMode> ParsePersistenceMode(std::string_view name) {
  if (name == "none") return PersistenceMode::kNone;
  if (name == "rdb") return PersistenceMode::kRdb;
  if (name == "aof_everysec") return PersistenceMode::kAofEverysec;
  return Status::InvalidArgument("unknown persistence '" + std::string(name) +
                                 "' (expected none, rdb or aof_everysec)");
}

RedisPersistence::RedisPersistence(PersistenceConfig config, const RedisStore& initial, Nanos now)
    : config_(std::move(config)), base_(initial), last_save_(now) {}

void RedisPersistence::Attach(RedisStore& store) {
  store.SetWriteObserver([this](const Command& c, Nanos now) { RecordWrite(c, now); });
}

void RedisPersistence::RecordWrite(const Command& command, Nanos now) {
  switch (config_.mode) {
    case PersistenceMode::kNone: return;
    case PersistenceMode::kRdb: ++changes_since_save_; return;
    case PersistenceMode::kAofEverysec: log_.push_back({command, now}); return;
  }
}

Nanos RedisPersistence::LastFsyncAt(Nanos t) const {
  const Nanos p = config_.fsync_period;
  Nanos q = t / p;
  if (t % p != 0 && t < 0) --q;
  return q * p;
}

void RedisPersistence::Tick(const RedisStore& store, Nanos now) {
  if (config_.mode == PersistenceMode::kRdb) {
    for (const SavePoint& sp : config_.save_points) {  // serverCron's check
      if (changes_since_save_ >= sp.changes && now - last_save_ >= sp.after) {
        base_ = store;
        last_save_ = now;
        changes_since_save_ = 0;
        break;
      }
    }
  } else if (config_.mode == PersistenceMode::kAofEverysec) {
    // Fold the durable prefix of the log (writes before the last fsync) into
    // the base once it is long, so memory stays bounded; what Recover returns
    // is unchanged by this.
    const Nanos fsync = LastFsyncAt(now);
    size_t durable = 0;
    while (durable < log_.size() && log_[durable].at < fsync) ++durable;
    if (durable > store.key_count() + 64) {
      Replay(base_, durable);
      log_.erase(log_.begin(), log_.begin() + static_cast<std::ptrdiff_t>(durable));
    }
  }
}

void RedisPersistence::Replay(RedisStore& target, size_t count) const {
  target.loading_ = true;
  for (size_t i = 0; i < count; ++i) (void)target.Execute(log_[i].command, log_[i].at);
  target.loading_ = false;
}

RedisStore RedisPersistence::Recover(Nanos crash_time, Nanos restart_time) const {
  RedisStore out(base_.config());
  if (config_.mode == PersistenceMode::kNone) return out;
  out = base_;
  if (config_.mode == PersistenceMode::kAofEverysec) {
    const Nanos fsync = LastFsyncAt(crash_time);
    size_t durable = 0;  // writes after the last fsync are lost
    while (durable < log_.size() && log_[durable].at < fsync) ++durable;
    Replay(out, durable);
  }
  out.PurgeExpired(restart_time);
  out.FlushScriptCache();
  out.SetWriteObserver(nullptr);
  return out;
}

}  // namespace scaletwin
