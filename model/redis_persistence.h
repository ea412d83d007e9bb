// What survives a Redis restart: persistence none / RDB at save points / AOF
// with appendfsync everysec (reference/redis.md §3.9).
//
// The model follows the writes a store reports (RedisStore::WriteObserver: each
// dataset-changing command, plus a DEL per expired or evicted key — the AOF
// stream) and keeps just enough to rebuild the dataset as of a crash:
// - kNone: nothing; a restart is an empty server.
// - kRdb: a point-in-time copy taken when a save point "after S seconds if at
//   least N changes" is met (checked on Tick, i.e. every cron); a crash loses
//   every write since the last snapshot. Fork and write time are not modelled
//   (the snapshot is the state at the tick that triggers it).
// - kAofEverysec: the write log is fsynced at each multiple of fsync_period; a
//   crash at t keeps exactly the writes made before the last fsync <= t
//   (~1 s of acknowledged writes lost at worst; the 2 s delayed-write case is
//   not modelled). On Tick the durable prefix of the log is folded into a base
//   dataset once it is longer than the dataset (like auto-aof-rewrite at 100 %).
// Recovery replays the log with each write's own `now`, so relative TTLs come
// back as absolute expire times, then drops keys already expired at restart
// (as loading does), and forgets the script cache.
//
//   RedisPersistence p({.mode = PersistenceMode::kAofEverysec}, store);
//   p.Attach(store);                          // observe writes from now on
//   ... store.Execute(...); p.Tick(store, now) every cron ...
//   RedisStore after = p.Recover(crash_time, restart_time);
//
// Thread-safety: none.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "model/duration.h"
#include "model/redis_command.h"
#include "model/redis_store.h"
#include "model/status.h"

namespace scaletwin {

enum class PersistenceMode { kNone, kRdb, kAofEverysec };

// "none", "rdb", "aof_everysec" (the scenario spelling).
Result<PersistenceMode> ParsePersistenceMode(std::string_view name);

struct SavePoint {
  Nanos after;      // at least this long since the last save...
  int64_t changes;  // ...and at least this many changes
};

struct PersistenceConfig {
  PersistenceMode mode = PersistenceMode::kNone;
  // Redis 7.0's default `save 3600 1 300 100 60 10000`.
  std::vector<SavePoint> save_points = {
      {3600 * kNanosPerSecond, 1}, {300 * kNanosPerSecond, 100}, {60 * kNanosPerSecond, 10000}};
  Nanos fsync_period = kNanosPerSecond;
};

class RedisPersistence {
 public:
  // `initial` is the dataset at start (loaded from disk, so durable); the
  // clock of the last RDB save starts at `now`.
  RedisPersistence(PersistenceConfig config, const RedisStore& initial, Nanos now);

  // Routes `store`'s writes here. REQUIRES: this object outlives the store's use.
  void Attach(RedisStore& store);
  // Records one write (what Attach wires up).
  void RecordWrite(const Command& command, Nanos now);
  // Cron: RDB save points; AOF rewrite at fsync time. Call at least once per
  // fsync period (every serverCron is fine).
  void Tick(const RedisStore& store, Nanos now);

  // The store a server restarted at `restart_time` holds after crashing at
  // `crash_time` (crash_time <= restart_time). Same config as at start; no observer.
  RedisStore Recover(Nanos crash_time, Nanos restart_time) const;

  // Writes logged and not yet folded into the base (AOF) — for tests and reports.
  size_t log_size() const { return log_.size(); }
  Nanos last_rdb_save() const { return last_save_; }

 private:
  struct Logged {
    Command command;
    Nanos at;
  };
  // Last fsync at or before t: the largest multiple of fsync_period <= t.
  Nanos LastFsyncAt(Nanos t) const;
  // Applies the first `count` logged writes to `target`, as an AOF load does.
  void Replay(RedisStore& target, size_t count) const;

  PersistenceConfig config_;
  RedisStore base_;  // RDB: last snapshot; AOF: the dataset the log applies to
  std::vector<Logged> log_;
  Nanos last_save_;
  int64_t changes_since_save_ = 0;
};

}  // namespace scaletwin
