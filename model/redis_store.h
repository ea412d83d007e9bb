// RedisStore: one Redis 7.0 database (db 0) — keys holding strings and sorted
// sets, TTLs, lazy and active expiry, maxmemory eviction — executing Commands.
//
// The simulated Redis server and any unit that needs Redis semantics run the
// same Command values a real client sends, and get the Reply Redis 7.0 would
// send (property-tests/redis_store_vs_real_props.cc holds the two together).
//
// Time: every call takes `now`, virtual ns; `config.unix_time_at_zero` maps it
// to Unix time (expire times are absolute Unix ms, TIME answers Unix time).
// Within one command, one EXEC and one script the store sees one `now`, so a
// key cannot expire half-way through (as Redis's fixed command time).
//
// Expiry: a key whose expire time T (ms) is < now_ms is treated as absent and
// deleted when touched (lazy); PEXPIRE/SET PXAT with T <= now_ms deletes at once.
// ActiveExpireCycle() is the serverCron slow cycle, to be called every
// CronPeriod() by whoever owns the clock.
//
// Memory: used_memory() sums redis_memory.h entry sizes. Before each command,
// when maxmemory is set and exceeded, keys are evicted per policy; if that
// cannot bring memory under the limit, deny-oom commands (SET, INCR*, ZADD,
// ...) get the OOM error while reads, DEL, PEXPIRE, ZREM* still run.
//
// Transactions and pipelines are per connection: use a RedisSession, which
// queues after MULTI, answers QUEUED, aborts with EXECABORT on queue-time
// errors and runs EXEC atomically.
//
//   RedisStore store(RedisConfig{});
//   RedisSession conn;
//   conn.Execute(store, {"MULTI"}, now);
//   conn.Execute(store, {"ZADD", "k", "1", "a"}, now);      // +QUEUED
//   Reply r = conn.Execute(store, {"EXEC"}, now);            // [(integer) 1]
//
// Thread-safety: none; a store belongs to one simulated server. Copyable (a
// copy is a point-in-time snapshot, used by persistence), minus the observer.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include "model/duration.h"
#include "model/redis_command.h"
#include "model/redis_memory.h"
#include "model/redis_script.h"
#include "model/redis_zset.h"
#include "model/rng.h"

namespace scaletwin {

struct RedisConfig {
  MemoryConfig memory;
  int hz = 10;                    // serverCron frequency
  int active_expire_effort = 1;   // 1..10
  // Modelled CPU cost of examining one key in the active expire cycle; with the
  // 25 ms budget at hz 10 this reclaims ~10k keys per cycle, as measured on
  // 7.0.15 (reference/redis.md §3.5: ~100k keys per 250 ms).
  Nanos expire_cycle_ns_per_key = 2'500;
  Nanos unix_time_at_zero = 0;    // Unix time (ns) at now == 0
  uint64_t seed = 1;              // eviction sampling, LFU increments, active expiry
  std::shared_ptr<const RedisScriptRegistry> scripts;  // EVALSHA targets; null = none
};

// What one ActiveExpireCycle call did.
struct ExpireCycleStats {
  int64_t iterations = 0;  // sample-and-delete loops
  int64_t sampled = 0;     // keys with a TTL examined
  int64_t expired = 0;     // keys deleted
  bool hit_time_limit = false;
  Nanos cpu_time = 0;      // modelled: sampled * expire_cycle_ns_per_key
};

enum class RedisType { kString, kZSet };

class RedisStore {
 public:
  // Called after every command that changed the dataset (Redis's server.dirty),
  // and with a synthetic DEL for each expired or evicted key — exactly the
  // stream Redis appends to its AOF.
  using WriteObserver = std::function<void(const Command&, Nanos now)>;

  explicit RedisStore(RedisConfig config = {});

  // Runs one command outside any transaction. MULTI/EXEC/DISCARD need a
  // RedisSession; here they return an error reply.
  Reply Execute(const Command& command, Nanos now);

  // The serverCron slow expire cycle (expire.c, 7.0): loop sampling up to
  // 20 (+5 per effort step) keys with a TTL, deleting the expired ones, while
  // more than 10 % (-1 per effort step) of a sample was expired, within
  // 25 % (+2 per step) of a cron period of modelled CPU. Sampling is uniform
  // random here (Redis walks hash buckets with a cursor).
  ExpireCycleStats ActiveExpireCycle(Nanos now);
  Nanos CronPeriod() const { return kNanosPerSecond / config_.hz; }

  // Deletes every key already expired at `now` (an RDB or AOF load does this).
  void PurgeExpired(Nanos now);

  void SetWriteObserver(WriteObserver observer) { observer_.fn = std::move(observer); }
  // Forgets loaded scripts (SCRIPT FLUSH, or a restart).
  void FlushScriptCache() { loaded_scripts_.clear(); }

  const RedisConfig& config() const { return config_; }
  int64_t used_memory() const { return used_memory_; }
  // Keys held, including expired ones not yet reclaimed (what DBSIZE says).
  size_t key_count() const { return keys_.size(); }
  size_t volatile_key_count() const { return volatile_keys_.size(); }
  int64_t evicted_keys() const { return evicted_keys_; }
  int64_t expired_keys() const { return expired_keys_; }
  // Dataset changes since start (Redis's server.dirty); drives RDB save points.
  int64_t dirty() const { return dirty_; }
  // Raw inspection without expiry or LRU side effects (tests, reports).
  bool HoldsKey(const std::string& key) const { return keys_.count(key) != 0; }
  // Absolute expire time in Unix ms, or -1.
  int64_t ExpireAtMillis(const std::string& key) const;
  // Whether `name` (upper case) may grow memory and so is refused under OOM.
  static bool IsDenyOom(const std::string& upper_name);

 private:
  friend class RedisSession;
  friend class RedisScriptContext;
  friend class RedisPersistence;

  struct Entry {
    std::variant<std::string, RedisZSet> value;
    int64_t expire_ms = -1;
    uint32_t lru = 0;
    LfuState lfu;
    int64_t bytes = 0;  // accounted in used_memory_
    size_t all_index = 0;
    size_t volatile_index = 0;
    RedisType type() const { return value.index() == 0 ? RedisType::kString : RedisType::kZSet; }
  };

  // Per-call context: the frozen time and where the call comes from.
  struct Ctx {
    Nanos now;
    int64_t now_ms;
    bool in_script = false;
    bool script_oom = false;  // over maxmemory when the running script started
  };

  using Handler = Reply (RedisStore::*)(const Command&, Ctx&);
  struct CommandSpec {
    Handler handler;
    int arity;  // Redis convention: > 0 exact, < 0 at least -arity
    bool deny_oom;
  };
  static const CommandSpec* FindCommand(const std::string& upper_name);
  // Name and arity checks (queue-time errors in MULTI). nullopt = OK.
  static std::optional<Reply> CheckCommand(const Command& command, const CommandSpec** spec);

  Ctx MakeCtx(Nanos now) const;
  // Evicts until under maxmemory. False iff still over (OOM state).
  bool PerformEvictions(Ctx& ctx);
  bool EvictOne(Ctx& ctx);
  // Runs a checked command (no OOM gate).
  Reply Dispatch(const Command& command, const CommandSpec& spec, Ctx& ctx);
  Reply ExecTransaction(const std::vector<Command>& queued, Nanos now);

  // Keyspace primitives.
  bool IsExpired(const Entry& e, int64_t now_ms) const { return e.expire_ms >= 0 && now_ms > e.expire_ms; }
  // Deletes the key if expired; true iff it was.
  bool ExpireIfNeeded(const std::string& key, Ctx& ctx);
  Entry* Lookup(const std::string& key, Ctx& ctx, bool touch);
  Entry& Create(const std::string& key, std::variant<std::string, RedisZSet> value, Ctx& ctx);
  void Delete(const std::string& key);
  void SetExpire(const std::string& key, Entry& e, int64_t when_ms);
  void RemoveExpire(const std::string& key, Entry& e);
  void Reaccount(const std::string& key, Entry& e);
  void Touch(Entry& e, Ctx& ctx);
  void Propagate(const Command& command, Nanos now);

  // Commands.
  Reply CmdGet(const Command& c, Ctx& ctx);
  Reply CmdSet(const Command& c, Ctx& ctx);
  Reply CmdDel(const Command& c, Ctx& ctx);
  Reply CmdExists(const Command& c, Ctx& ctx);
  Reply CmdIncr(const Command& c, Ctx& ctx);
  Reply CmdIncrBy(const Command& c, Ctx& ctx);
  Reply CmdDecr(const Command& c, Ctx& ctx);
  Reply CmdDecrBy(const Command& c, Ctx& ctx);
  Reply IncrDecr(const Command& c, Ctx& ctx, int64_t by);
  Reply CmdExpire(const Command& c, Ctx& ctx);
  Reply CmdPexpire(const Command& c, Ctx& ctx);
  Reply CmdExpireAt(const Command& c, Ctx& ctx);
  Reply CmdPexpireAt(const Command& c, Ctx& ctx);
  Reply ExpireGeneric(const Command& c, Ctx& ctx, int64_t basetime_ms, bool seconds);
  Reply CmdTtl(const Command& c, Ctx& ctx);
  Reply CmdPttl(const Command& c, Ctx& ctx);
  Reply TtlGeneric(const Command& c, Ctx& ctx, bool ms);
  Reply CmdPersist(const Command& c, Ctx& ctx);
  Reply CmdType(const Command& c, Ctx& ctx);
  Reply CmdZadd(const Command& c, Ctx& ctx);
  Reply CmdZrem(const Command& c, Ctx& ctx);
  Reply CmdZremrangebyscore(const Command& c, Ctx& ctx);
  Reply CmdZcard(const Command& c, Ctx& ctx);
  Reply CmdZcount(const Command& c, Ctx& ctx);
  Reply CmdZscore(const Command& c, Ctx& ctx);
  Reply CmdZrange(const Command& c, Ctx& ctx);
  Reply CmdZrangebyscore(const Command& c, Ctx& ctx);
  Reply ZrangeGeneric(const Command& c, Ctx& ctx, bool legacy_byscore);
  Reply CmdTime(const Command& c, Ctx& ctx);
  Reply CmdPing(const Command& c, Ctx& ctx);
  Reply CmdDbsize(const Command& c, Ctx& ctx);
  Reply CmdFlushall(const Command& c, Ctx& ctx);
  Reply CmdEvalsha(const Command& c, Ctx& ctx);
  Reply CmdScript(const Command& c, Ctx& ctx);

  RedisConfig config_;
  std::unordered_map<std::string, Entry> keys_;
  std::vector<std::string> all_keys_;       // for O(1) random sampling
  std::vector<std::string> volatile_keys_;  // keys with a TTL
  std::vector<std::string> loaded_scripts_;  // SHAs in the script cache
  EvictionPool eviction_pool_;
  Rng rng_;
  int64_t used_memory_ = 0;
  int64_t dirty_ = 0;
  int64_t evicted_keys_ = 0;
  int64_t expired_keys_ = 0;
  bool loading_ = false;  // replaying persistence: no eviction, no OOM
  // A copy of the store is a snapshot: it does not inherit the observer.
  struct ObserverSlot {
    WriteObserver fn;
    ObserverSlot() = default;
    ObserverSlot(const ObserverSlot&) {}
    ObserverSlot& operator=(const ObserverSlot&) { return *this; }
  };
  ObserverSlot observer_;
};

// A client connection's state: MULTI queue and its error flag.
class RedisSession {
 public:
  // Runs `command` as Redis's processCommand would for this connection.
  Reply Execute(RedisStore& store, const Command& command, Nanos now);
  bool in_multi() const { return in_multi_; }

 private:
  bool in_multi_ = false;
  bool dirty_exec_ = false;  // a queue-time error: EXEC answers EXECABORT
  std::vector<Command> queue_;
};

// One round trip of a pipeline: every command in order on one connection, at
// one instant (the simulator adds service times around it).
std::vector<Reply> ExecutePipeline(RedisStore& store, RedisSession& session, const std::vector<Command>& commands,
                                   Nanos now);

}  // namespace scaletwin
