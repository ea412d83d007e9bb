// RedisStore: keyspace, expiry, eviction and the command implementations.
// Each command follows its Redis 7.0.15 source (t_string.c, t_zset.c, expire.c,
// db.c, multi.c, eval.c) in the order it checks things, because that order
// decides which error a bad command gets.
#include "model/redis_store.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

namespace scaletwin {

namespace {

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
constexpr int64_t kInt64Min = std::numeric_limits<int64_t>::min();

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

Reply Err(std::string_view text) { return Reply::Error(std::string(text)); }

std::string UnknownCommandError(const Command& c) {
  std::string args;
  for (size_t i = 1; i < c.args.size() && args.size() < 128; ++i) {
    args += "'" + c.args[i].substr(0, 128 - args.size()) + "' ";
  }
  return "ERR unknown command '" + c.args[0].substr(0, 128) + "', with args beginning with: " + args;
}

}  // namespace

// ---- command table ---------------------------------------------------------

const RedisStore::CommandSpec* RedisStore::FindCommand(const std::string& upper_name) {
  // arity and deny-oom flags as in Redis 7.0's commands.def.
  static const std::map<std::string, CommandSpec, std::less<>> kTable = {
      {"GET", {&RedisStore::CmdGet, 2, false}},
      {"SET", {&RedisStore::CmdSet, -3, true}},
      {"DEL", {&RedisStore::CmdDel, -2, false}},
      {"EXISTS", {&RedisStore::CmdExists, -2, false}},
      {"INCR", {&RedisStore::CmdIncr, 2, true}},
      {"INCRBY", {&RedisStore::CmdIncrBy, 3, true}},
      {"DECR", {&RedisStore::CmdDecr, 2, true}},
      {"DECRBY", {&RedisStore::CmdDecrBy, 3, true}},
      {"EXPIRE", {&RedisStore::CmdExpire, -3, false}},
      {"PEXPIRE", {&RedisStore::CmdPexpire, -3, false}},
      {"EXPIREAT", {&RedisStore::CmdExpireAt, -3, false}},
      {"PEXPIREAT", {&RedisStore::CmdPexpireAt, -3, false}},
      {"TTL", {&RedisStore::CmdTtl, 2, false}},
      {"PTTL", {&RedisStore::CmdPttl, 2, false}},
      {"PERSIST", {&RedisStore::CmdPersist, 2, false}},
      {"TYPE", {&RedisStore::CmdType, 2, false}},
      {"ZADD", {&RedisStore::CmdZadd, -4, true}},
      {"ZREM", {&RedisStore::CmdZrem, -3, false}},
      {"ZREMRANGEBYSCORE", {&RedisStore::CmdZremrangebyscore, 4, false}},
      {"ZCARD", {&RedisStore::CmdZcard, 2, false}},
      {"ZCOUNT", {&RedisStore::CmdZcount, 4, false}},
      {"ZSCORE", {&RedisStore::CmdZscore, 3, false}},
      {"ZRANGE", {&RedisStore::CmdZrange, -4, false}},
      {"ZRANGEBYSCORE", {&RedisStore::CmdZrangebyscore, -4, false}},
      {"TIME", {&RedisStore::CmdTime, 1, false}},
      {"PING", {&RedisStore::CmdPing, -1, false}},
      {"DBSIZE", {&RedisStore::CmdDbsize, 1, false}},
      {"FLUSHALL", {&RedisStore::CmdFlushall, -1, false}},
      {"EVALSHA", {&RedisStore::CmdEvalsha, -3, false}},
      {"SCRIPT", {&RedisStore::CmdScript, -2, false}},
      // Connection state: handled by RedisSession.
      {"MULTI", {nullptr, 1, false}},
      {"EXEC", {nullptr, 1, false}},
      {"DISCARD", {nullptr, 1, false}},
  };
  auto it = kTable.find(upper_name);
  return it == kTable.end() ? nullptr : &it->second;
}

bool RedisStore::IsDenyOom(const std::string& upper_name) {
  const CommandSpec* spec = FindCommand(upper_name);
  return spec != nullptr && spec->deny_oom;
}

std::optional<Reply> RedisStore::CheckCommand(const Command& command, const CommandSpec** spec) {
  if (command.args.empty()) return Reply::Error("ERR empty command");
  *spec = FindCommand(command.Name());
  if (*spec == nullptr) return Reply::Error(UnknownCommandError(command));
  const int argc = static_cast<int>(command.args.size());
  const int arity = (*spec)->arity;
  if ((arity > 0 && argc != arity) || argc < -arity) {
    return Reply::Error("ERR wrong number of arguments for '" + AsciiLower(command.args[0]) + "' command");
  }
  return std::nullopt;
}

// ---- construction and execution -------------------------------------------

RedisStore::RedisStore(RedisConfig config)
    : config_(std::move(config)), rng_(config_.seed, "redis-store"), used_memory_(config_.memory.baseline_bytes) {}

RedisStore::Ctx RedisStore::MakeCtx(Nanos now) const {
  Ctx ctx;
  ctx.now = now;
  ctx.now_ms = FloorDiv(now + config_.unix_time_at_zero, kNanosPerMilli);
  return ctx;
}

Reply RedisStore::Execute(const Command& command, Nanos now) {
  const CommandSpec* spec = nullptr;
  if (auto err = CheckCommand(command, &spec)) return *err;
  const std::string name = command.Name();
  if (spec->handler == nullptr) {
    if (name == "EXEC") return Reply::Error("ERR EXEC without MULTI");
    if (name == "DISCARD") return Reply::Error("ERR DISCARD without MULTI");
    return Reply::Error("ERR MULTI needs a RedisSession: transaction state is per connection");
  }
  Ctx ctx = MakeCtx(now);
  const bool oom = !PerformEvictions(ctx);
  if (oom && spec->deny_oom) return Err(kErrOom);
  ctx.script_oom = oom;
  return Dispatch(command, *spec, ctx);
}

Reply RedisStore::Dispatch(const Command& command, const CommandSpec& spec, Ctx& ctx) {
  const int64_t before = dirty_;
  Reply r = (this->*spec.handler)(command, ctx);
  if (dirty_ != before && !ctx.in_script) Propagate(command, ctx.now);
  return r;
}

Reply RedisStore::ExecTransaction(const std::vector<Command>& queued, Nanos now) {
  Ctx ctx = MakeCtx(now);  // one frozen time for the whole transaction
  std::vector<Reply> replies;
  replies.reserve(queued.size());
  for (const Command& c : queued) {
    const CommandSpec* spec = FindCommand(c.Name());
    if (spec == nullptr || spec->handler == nullptr) {
      replies.push_back(Reply::Error("ERR command not allowed inside a transaction"));
      continue;
    }
    replies.push_back(Dispatch(c, *spec, ctx));
  }
  return Reply::Array(std::move(replies));
}

void RedisStore::Propagate(const Command& command, Nanos now) {
  if (observer_.fn) observer_.fn(command, now);
}

// ---- keyspace primitives ---------------------------------------------------

bool RedisStore::ExpireIfNeeded(const std::string& key, Ctx& ctx) {
  auto it = keys_.find(key);
  if (it == keys_.end() || !IsExpired(it->second, ctx.now_ms)) return false;
  Delete(key);
  ++expired_keys_;
  Propagate(Command{"DEL", key}, ctx.now);
  return true;
}

RedisStore::Entry* RedisStore::Lookup(const std::string& key, Ctx& ctx, bool touch) {
  if (ExpireIfNeeded(key, ctx)) return nullptr;
  auto it = keys_.find(key);
  if (it == keys_.end()) return nullptr;
  if (touch) Touch(it->second, ctx);
  return &it->second;
}

void RedisStore::Touch(Entry& e, Ctx& ctx) {
  const Nanos unix_now = ctx.now + config_.unix_time_at_zero;
  if (IsLfuPolicy(config_.memory.policy)) {
    uint8_t counter = LfuDecayedCounter(e.lfu, unix_now, config_.memory.lfu_decay_time);
    counter = LfuLogIncr(counter, rng_.Uniform01(), config_.memory.lfu_log_factor);
    e.lfu = LfuState{LfuTimeInMinutes(unix_now), counter};
  } else {
    e.lru = LruClock(unix_now);
  }
}

RedisStore::Entry& RedisStore::Create(const std::string& key, std::variant<std::string, RedisZSet> value, Ctx& ctx) {
  const Nanos unix_now = ctx.now + config_.unix_time_at_zero;
  Entry& e = keys_[key];
  e.value = std::move(value);
  e.lru = LruClock(unix_now);
  e.lfu = LfuState{LfuTimeInMinutes(unix_now), kLfuInitVal};
  e.all_index = all_keys_.size();
  all_keys_.push_back(key);
  Reaccount(key, e);
  return e;
}

void RedisStore::Delete(const std::string& key) {
  auto it = keys_.find(key);
  if (it == keys_.end()) return;
  Entry& e = it->second;
  RemoveExpire(key, e);
  // Swap-remove from the sampling vector.
  const size_t i = e.all_index;
  if (i + 1 != all_keys_.size()) {
    all_keys_[i] = std::move(all_keys_.back());
    keys_.at(all_keys_[i]).all_index = i;
  }
  all_keys_.pop_back();
  used_memory_ -= e.bytes;
  keys_.erase(it);
}

void RedisStore::SetExpire(const std::string& key, Entry& e, int64_t when_ms) {
  if (e.expire_ms < 0) {
    e.volatile_index = volatile_keys_.size();
    volatile_keys_.push_back(key);
  }
  e.expire_ms = when_ms;
  Reaccount(key, e);
}

void RedisStore::RemoveExpire(const std::string& key, Entry& e) {
  if (e.expire_ms < 0) return;
  const size_t i = e.volatile_index;
  if (i + 1 != volatile_keys_.size()) {
    volatile_keys_[i] = std::move(volatile_keys_.back());
    keys_.at(volatile_keys_[i]).volatile_index = i;
  }
  volatile_keys_.pop_back();
  e.expire_ms = -1;
  Reaccount(key, e);
}

void RedisStore::Reaccount(const std::string& key, Entry& e) {
  int64_t bytes;
  if (const auto* s = std::get_if<std::string>(&e.value)) {
    bytes = StringEntryBytes(key.size(), *s);
  } else {
    bytes = KeyOverheadBytes(key.size()) + std::get<RedisZSet>(e.value).MemoryBytes();
  }
  if (e.expire_ms >= 0) bytes += kExpireEntryBytes;
  used_memory_ += bytes - e.bytes;
  e.bytes = bytes;
}

int64_t RedisStore::ExpireAtMillis(const std::string& key) const {
  auto it = keys_.find(key);
  return it == keys_.end() ? -1 : it->second.expire_ms;
}

void RedisStore::PurgeExpired(Nanos now) {
  Ctx ctx = MakeCtx(now);
  std::vector<std::string> doomed;
  for (const std::string& k : volatile_keys_) {
    if (IsExpired(keys_.at(k), ctx.now_ms)) doomed.push_back(k);
  }
  for (const std::string& k : doomed) {
    Delete(k);
    ++expired_keys_;
  }
}

// ---- eviction --------------------------------------------------------------

bool RedisStore::PerformEvictions(Ctx& ctx) {
  if (loading_ || config_.memory.maxmemory <= 0) return true;
  while (used_memory_ > config_.memory.maxmemory) {
    if (!EvictOne(ctx)) return false;
  }
  return true;
}

bool RedisStore::EvictOne(Ctx& ctx) {
  const MaxmemoryPolicy policy = config_.memory.policy;
  if (policy == MaxmemoryPolicy::kNoEviction) return false;
  const bool volatile_only = IsVolatilePolicy(policy);
  const std::vector<std::string>& candidates = volatile_only ? volatile_keys_ : all_keys_;
  if (candidates.empty()) return false;
  const Nanos unix_now = ctx.now + config_.unix_time_at_zero;
  std::string victim;
  if (policy == MaxmemoryPolicy::kAllKeysRandom || policy == MaxmemoryPolicy::kVolatileRandom) {
    victim = candidates[rng_.UniformInt(candidates.size())];
  } else {
    bool found = false;
    while (!found) {
      for (int i = 0; i < config_.memory.samples; ++i) {
        const std::string& k = candidates[rng_.UniformInt(candidates.size())];
        const Entry& e = keys_.at(k);
        uint64_t idle;
        if (IsLfuPolicy(policy)) {
          idle = 255 - LfuDecayedCounter(e.lfu, unix_now, config_.memory.lfu_decay_time);
        } else if (policy == MaxmemoryPolicy::kVolatileTtl) {
          idle = std::numeric_limits<uint64_t>::max() - static_cast<uint64_t>(e.expire_ms);
        } else {
          idle = static_cast<uint64_t>(LruIdleMillis(e.lru, unix_now));
        }
        eviction_pool_.Offer(k, idle);
      }
      while (eviction_pool_.PopBest(&victim)) {
        auto it = keys_.find(victim);
        if (it != keys_.end() && (!volatile_only || it->second.expire_ms >= 0)) {
          found = true;
          break;
        }
      }
    }
  }
  Delete(victim);
  ++evicted_keys_;
  Propagate(Command{"DEL", victim}, ctx.now);
  return true;
}

// ---- active expiry ---------------------------------------------------------

ExpireCycleStats RedisStore::ActiveExpireCycle(Nanos now) {
  const int effort = std::clamp(config_.active_expire_effort, 1, 10) - 1;
  const int64_t keys_per_loop = 20 + 20 / 4 * effort;
  const int64_t acceptable_stale = 10 - effort;  // percent
  const Nanos budget = CronPeriod() * (25 + 2 * effort) / 100;
  ExpireCycleStats stats;
  Ctx ctx = MakeCtx(now);
  bool repeat = true;
  while (repeat && !volatile_keys_.empty()) {
    ++stats.iterations;
    const int64_t num = std::min<int64_t>(static_cast<int64_t>(volatile_keys_.size()), keys_per_loop);
    int64_t sampled = 0;
    int64_t expired = 0;
    for (int64_t i = 0; i < num && !volatile_keys_.empty(); ++i) {
      const std::string key = volatile_keys_[rng_.UniformInt(volatile_keys_.size())];
      ++sampled;
      if (ExpireIfNeeded(key, ctx)) ++expired;
    }
    stats.sampled += sampled;
    stats.expired += expired;
    stats.cpu_time += sampled * config_.expire_cycle_ns_per_key;
    if (stats.cpu_time > budget) {
      stats.hit_time_limit = true;
      break;
    }
    repeat = sampled == 0 || expired * 100 / sampled > acceptable_stale;
  }
  return stats;
}

// ---- strings ---------------------------------------------------------------

Reply RedisStore::CmdGet(const Command& c, Ctx& ctx) {
  Entry* e = Lookup(c.args[1], ctx, true);
  if (e == nullptr) return Reply::Nil();
  if (e->type() != RedisType::kString) return Err(kErrWrongType);
  return Reply::Bulk(std::get<std::string>(e->value));
}

Reply RedisStore::CmdSet(const Command& c, Ctx& ctx) {
  bool nx = false, xx = false, get = false, keepttl = false, ex = false, px = false, exat = false, pxat = false;
  const std::string* expire = nullptr;
  for (size_t j = 3; j < c.args.size(); ++j) {
    const std::string opt = AsciiLower(c.args[j]);
    const bool has_next = j + 1 < c.args.size();
    if (opt == "nx" && !xx) {
      nx = true;
    } else if (opt == "xx" && !nx) {
      xx = true;
    } else if (opt == "get") {
      get = true;
    } else if (opt == "keepttl" && !ex && !exat && !px && !pxat) {
      keepttl = true;
    } else if (opt == "ex" && !keepttl && !exat && !px && !pxat && has_next) {
      ex = true;
      expire = &c.args[++j];
    } else if (opt == "px" && !keepttl && !ex && !exat && !pxat && has_next) {
      px = true;
      expire = &c.args[++j];
    } else if (opt == "exat" && !keepttl && !ex && !px && !pxat && has_next) {
      exat = true;
      expire = &c.args[++j];
    } else if (opt == "pxat" && !keepttl && !ex && !exat && !px && has_next) {
      pxat = true;
      expire = &c.args[++j];
    } else {
      return Err(kErrSyntax);
    }
  }
  int64_t when_ms = -1;
  if (expire != nullptr) {
    const Reply invalid = Reply::Error("ERR invalid expire time in 'set' command");
    int64_t v;
    if (!ParseRedisInt(*expire, &v)) return Err(kErrNotInteger);
    const bool seconds = ex || exat;
    if (v <= 0 || (seconds && v > kInt64Max / 1000)) return invalid;
    if (seconds) v *= 1000;
    if (ex || px) {
      if (v > kInt64Max - ctx.now_ms) return invalid;
      v += ctx.now_ms;
    }
    if (v <= 0) return invalid;
    when_ms = v;
  }
  const std::string& key = c.args[1];
  Reply old = Reply::Nil();
  if (get) {
    Entry* e = Lookup(key, ctx, true);
    if (e != nullptr) {
      if (e->type() != RedisType::kString) return Err(kErrWrongType);
      old = Reply::Bulk(std::get<std::string>(e->value));
    }
  }
  Entry* e = Lookup(key, ctx, true);
  if ((nx && e != nullptr) || (xx && e == nullptr)) return get ? old : Reply::Nil();
  if (e != nullptr) {
    e->value = c.args[2];
    if (!keepttl) RemoveExpire(key, *e);
    Reaccount(key, *e);
  } else {
    e = &Create(key, c.args[2], ctx);
  }
  if (when_ms >= 0) SetExpire(key, *e, when_ms);
  ++dirty_;
  return get ? old : Reply::Ok();
}

Reply RedisStore::CmdDel(const Command& c, Ctx& ctx) {
  int64_t n = 0;
  for (size_t j = 1; j < c.args.size(); ++j) {
    if (Lookup(c.args[j], ctx, false) != nullptr) {
      Delete(c.args[j]);
      ++n;
    }
  }
  dirty_ += n;
  return Reply::Integer(n);
}

Reply RedisStore::CmdExists(const Command& c, Ctx& ctx) {
  int64_t n = 0;
  for (size_t j = 1; j < c.args.size(); ++j) n += Lookup(c.args[j], ctx, false) != nullptr;
  return Reply::Integer(n);
}

Reply RedisStore::IncrDecr(const Command& c, Ctx& ctx, int64_t by) {
  const std::string& key = c.args[1];
  Entry* e = Lookup(key, ctx, true);
  if (e != nullptr && e->type() != RedisType::kString) return Err(kErrWrongType);
  int64_t value = 0;
  if (e != nullptr && !ParseRedisInt(std::get<std::string>(e->value), &value)) return Err(kErrNotInteger);
  if ((by < 0 && value < 0 && by < kInt64Min - value) || (by > 0 && value > 0 && by > kInt64Max - value)) {
    return Reply::Error("ERR increment or decrement would overflow");
  }
  value += by;
  if (e != nullptr) {
    e->value = std::to_string(value);  // the TTL stays
    Reaccount(key, *e);
  } else {
    Create(key, std::to_string(value), ctx);
  }
  ++dirty_;
  return Reply::Integer(value);
}

Reply RedisStore::CmdIncr(const Command& c, Ctx& ctx) { return IncrDecr(c, ctx, 1); }
Reply RedisStore::CmdDecr(const Command& c, Ctx& ctx) { return IncrDecr(c, ctx, -1); }

Reply RedisStore::CmdIncrBy(const Command& c, Ctx& ctx) {
  int64_t by;
  if (!ParseRedisInt(c.args[2], &by)) return Err(kErrNotInteger);
  return IncrDecr(c, ctx, by);
}

Reply RedisStore::CmdDecrBy(const Command& c, Ctx& ctx) {
  int64_t by;
  if (!ParseRedisInt(c.args[2], &by)) return Err(kErrNotInteger);
  if (by == kInt64Min) return Reply::Error("ERR decrement would overflow");
  return IncrDecr(c, ctx, -by);
}

// ---- expiry commands -------------------------------------------------------

Reply RedisStore::CmdExpire(const Command& c, Ctx& ctx) { return ExpireGeneric(c, ctx, ctx.now_ms, true); }
Reply RedisStore::CmdPexpire(const Command& c, Ctx& ctx) { return ExpireGeneric(c, ctx, ctx.now_ms, false); }
Reply RedisStore::CmdExpireAt(const Command& c, Ctx& ctx) { return ExpireGeneric(c, ctx, 0, true); }
Reply RedisStore::CmdPexpireAt(const Command& c, Ctx& ctx) { return ExpireGeneric(c, ctx, 0, false); }

Reply RedisStore::ExpireGeneric(const Command& c, Ctx& ctx, int64_t basetime_ms, bool seconds) {
  bool nx = false, xx = false, gt = false, lt = false;
  for (size_t j = 3; j < c.args.size(); ++j) {
    const std::string opt = AsciiLower(c.args[j]);
    if (opt == "nx") nx = true;
    else if (opt == "xx") xx = true;
    else if (opt == "gt") gt = true;
    else if (opt == "lt") lt = true;
    else return Reply::Error("ERR Unsupported option " + c.args[j]);
  }
  if ((nx && xx) || (nx && gt) || (nx && lt)) {
    return Reply::Error("ERR NX and XX, GT or LT options at the same time are not compatible");
  }
  if (gt && lt) return Reply::Error("ERR GT and LT options at the same time are not compatible");
  int64_t when;
  if (!ParseRedisInt(c.args[2], &when)) return Err(kErrNotInteger);
  const Reply invalid = Reply::Error("ERR invalid expire time in '" + AsciiLower(c.args[0]) + "' command");
  if (seconds) {
    if (when > kInt64Max / 1000 || when < kInt64Min / 1000) return invalid;
    when *= 1000;
  }
  if (when > kInt64Max - basetime_ms) return invalid;
  when += basetime_ms;
  const std::string& key = c.args[1];
  Entry* e = Lookup(key, ctx, true);
  if (e == nullptr) return Reply::Integer(0);
  const int64_t current = e->expire_ms;
  if (nx && current != -1) return Reply::Integer(0);
  if (xx && current == -1) return Reply::Integer(0);
  if (gt && (when <= current || current == -1)) return Reply::Integer(0);
  if (lt && current != -1 && when >= current) return Reply::Integer(0);
  if (when <= ctx.now_ms && !loading_) {
    Delete(key);  // already expired: deleted now (propagated as the command, like Redis's DEL)
  } else {
    SetExpire(key, *e, when);
  }
  ++dirty_;
  return Reply::Integer(1);
}

Reply RedisStore::TtlGeneric(const Command& c, Ctx& ctx, bool ms) {
  Entry* e = Lookup(c.args[1], ctx, false);
  if (e == nullptr) return Reply::Integer(-2);
  if (e->expire_ms < 0) return Reply::Integer(-1);
  int64_t ttl = e->expire_ms - ctx.now_ms;
  if (ttl < 0) ttl = 0;
  return Reply::Integer(ms ? ttl : (ttl + 500) / 1000);
}

Reply RedisStore::CmdTtl(const Command& c, Ctx& ctx) { return TtlGeneric(c, ctx, false); }
Reply RedisStore::CmdPttl(const Command& c, Ctx& ctx) { return TtlGeneric(c, ctx, true); }

Reply RedisStore::CmdPersist(const Command& c, Ctx& ctx) {
  Entry* e = Lookup(c.args[1], ctx, true);
  if (e == nullptr || e->expire_ms < 0) return Reply::Integer(0);
  RemoveExpire(c.args[1], *e);
  ++dirty_;
  return Reply::Integer(1);
}

Reply RedisStore::CmdType(const Command& c, Ctx& ctx) {
  Entry* e = Lookup(c.args[1], ctx, false);
  if (e == nullptr) return Reply::Simple("none");
  return Reply::Simple(e->type() == RedisType::kString ? "string" : "zset");
}

// ---- sorted sets -----------------------------------------------------------

Reply RedisStore::CmdZadd(const Command& c, Ctx& ctx) {
  ZAddFlags flags;
  bool ch = false;
  size_t scoreidx = 2;
  for (; scoreidx < c.args.size(); ++scoreidx) {
    const std::string opt = AsciiLower(c.args[scoreidx]);
    if (opt == "nx") flags.nx = true;
    else if (opt == "xx") flags.xx = true;
    else if (opt == "ch") ch = true;
    else if (opt == "incr") flags.incr = true;
    else if (opt == "gt") flags.gt = true;
    else if (opt == "lt") flags.lt = true;
    else break;
  }
  const size_t elements = c.args.size() - scoreidx;
  if (elements % 2 != 0 || elements == 0) return Err(kErrSyntax);
  const size_t pairs = elements / 2;
  if (flags.nx && flags.xx) return Reply::Error("ERR XX and NX options at the same time are not compatible");
  if ((flags.gt && flags.nx) || (flags.lt && flags.nx) || (flags.gt && flags.lt)) {
    return Reply::Error("ERR GT, LT, and/or NX options at the same time are not compatible");
  }
  if (flags.incr && pairs > 1) return Reply::Error("ERR INCR option supports a single increment-element pair");
  std::vector<double> scores(pairs);
  for (size_t j = 0; j < pairs; ++j) {
    if (!ParseRedisDouble(c.args[scoreidx + 2 * j], &scores[j])) return Err(kErrNotFloat);
  }
  const std::string& key = c.args[1];
  Entry* e = Lookup(key, ctx, true);
  if (e != nullptr && e->type() != RedisType::kZSet) return Err(kErrWrongType);
  if (e == nullptr) {
    if (flags.xx) return flags.incr ? Reply::Nil() : Reply::Integer(0);
    e = &Create(key, RedisZSet(), ctx);
  }
  RedisZSet& z = std::get<RedisZSet>(e->value);
  int64_t added = 0, updated = 0, processed = 0;
  double score = 0;
  for (size_t j = 0; j < pairs; ++j) {
    const ZAddOutcome out = z.Add(scores[j], c.args[scoreidx + 2 * j + 1], flags);
    if (out.nan) {
      Reaccount(key, *e);
      if (z.empty()) Delete(key);
      return Reply::Error("ERR resulting score is not a number (NaN)");
    }
    added += out.added;
    updated += out.updated;
    if (!out.nop) ++processed;
    score = out.new_score;
  }
  if (z.empty()) {
    Delete(key);
  } else {
    Reaccount(key, *e);
  }
  dirty_ += added + updated;
  if (flags.incr) return processed ? Reply::Bulk(FormatRedisDouble(score)) : Reply::Nil();
  return Reply::Integer(ch ? added + updated : added);
}

Reply RedisStore::CmdZrem(const Command& c, Ctx& ctx) {
  const std::string& key = c.args[1];
  Entry* e = Lookup(key, ctx, true);
  if (e == nullptr) return Reply::Integer(0);
  if (e->type() != RedisType::kZSet) return Err(kErrWrongType);
  RedisZSet& z = std::get<RedisZSet>(e->value);
  int64_t deleted = 0;
  for (size_t j = 2; j < c.args.size(); ++j) deleted += z.Remove(c.args[j]);
  if (z.empty()) {
    Delete(key);  // an emptied sorted set goes, and its TTL with it
  } else {
    Reaccount(key, *e);
  }
  dirty_ += deleted;
  return Reply::Integer(deleted);
}

Reply RedisStore::CmdZremrangebyscore(const Command& c, Ctx& ctx) {
  const std::optional<ScoreRange> range = ParseScoreRange(c.args[2], c.args[3]);
  if (!range) return Err(kErrMinMaxNotFloat);
  const std::string& key = c.args[1];
  Entry* e = Lookup(key, ctx, true);
  if (e == nullptr) return Reply::Integer(0);
  if (e->type() != RedisType::kZSet) return Err(kErrWrongType);
  RedisZSet& z = std::get<RedisZSet>(e->value);
  const int64_t removed = z.RemoveRangeByScore(*range);
  if (z.empty()) {
    Delete(key);
  } else {
    Reaccount(key, *e);
  }
  dirty_ += removed;
  return Reply::Integer(removed);
}

Reply RedisStore::CmdZcard(const Command& c, Ctx& ctx) {
  Entry* e = Lookup(c.args[1], ctx, true);
  if (e == nullptr) return Reply::Integer(0);
  if (e->type() != RedisType::kZSet) return Err(kErrWrongType);
  return Reply::Integer(static_cast<int64_t>(std::get<RedisZSet>(e->value).size()));
}

Reply RedisStore::CmdZcount(const Command& c, Ctx& ctx) {
  const std::optional<ScoreRange> range = ParseScoreRange(c.args[2], c.args[3]);
  if (!range) return Err(kErrMinMaxNotFloat);
  Entry* e = Lookup(c.args[1], ctx, true);
  if (e == nullptr) return Reply::Integer(0);
  if (e->type() != RedisType::kZSet) return Err(kErrWrongType);
  return Reply::Integer(std::get<RedisZSet>(e->value).Count(*range));
}

Reply RedisStore::CmdZscore(const Command& c, Ctx& ctx) {
  Entry* e = Lookup(c.args[1], ctx, true);
  if (e == nullptr) return Reply::Nil();
  if (e->type() != RedisType::kZSet) return Err(kErrWrongType);
  const std::optional<double> s = std::get<RedisZSet>(e->value).Score(c.args[2]);
  return s ? Reply::Bulk(FormatRedisDouble(*s)) : Reply::Nil();
}

Reply RedisStore::CmdZrange(const Command& c, Ctx& ctx) { return ZrangeGeneric(c, ctx, false); }
Reply RedisStore::CmdZrangebyscore(const Command& c, Ctx& ctx) { return ZrangeGeneric(c, ctx, true); }

Reply RedisStore::ZrangeGeneric(const Command& c, Ctx& ctx, bool legacy_byscore) {
  enum class Type { kAuto, kRank, kScore, kLex } type = legacy_byscore ? Type::kScore : Type::kAuto;
  enum class Dir { kAuto, kForward, kReverse } dir = legacy_byscore ? Dir::kForward : Dir::kAuto;
  bool withscores = false;
  int64_t offset = 0, limit = -1;
  for (size_t j = 4; j < c.args.size(); ++j) {
    const size_t leftargs = c.args.size() - j - 1;
    const std::string opt = AsciiLower(c.args[j]);
    if (opt == "withscores") {
      withscores = true;
    } else if (opt == "limit" && leftargs >= 2) {
      if (!ParseRedisInt(c.args[j + 1], &offset) || !ParseRedisInt(c.args[j + 2], &limit)) {
        return Err(kErrNotInteger);
      }
      j += 2;
    } else if (dir == Dir::kAuto && opt == "rev") {
      dir = Dir::kReverse;
    } else if (type == Type::kAuto && opt == "bylex") {
      type = Type::kLex;
    } else if (type == Type::kAuto && opt == "byscore") {
      type = Type::kScore;
    } else {
      return Err(kErrSyntax);
    }
  }
  if (dir == Dir::kAuto) dir = Dir::kForward;
  if (type == Type::kAuto) type = Type::kRank;
  if (limit != -1 && type == Type::kRank) {
    return Reply::Error("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX");
  }
  if (withscores && type == Type::kLex) {
    return Reply::Error("ERR syntax error, WITHSCORES not supported in combination with BYLEX");
  }
  const bool rev = dir == Dir::kReverse;
  size_t minidx = 2, maxidx = 3;
  if (rev && type != Type::kRank) std::swap(minidx, maxidx);  // given as [max, min]
  int64_t start = 0, stop = 0;
  std::optional<ScoreRange> range;
  if (type == Type::kRank) {
    if (!ParseRedisInt(c.args[minidx], &start) || !ParseRedisInt(c.args[maxidx], &stop)) return Err(kErrNotInteger);
  } else if (type == Type::kScore) {
    range = ParseScoreRange(c.args[minidx], c.args[maxidx]);
    if (!range) return Err(kErrMinMaxNotFloat);
  } else {
    return Reply::Error("ERR BYLEX is not implemented by the scaletwin model");
  }
  Entry* e = Lookup(c.args[1], ctx, true);
  if (e == nullptr) return Reply::Array({});
  if (e->type() != RedisType::kZSet) return Err(kErrWrongType);
  const RedisZSet& z = std::get<RedisZSet>(e->value);
  const std::vector<RedisZSet::Member> members =
      type == Type::kRank ? z.RangeByRank(start, stop, rev) : z.RangeByScore(*range, rev, offset, limit);
  std::vector<Reply> out;
  out.reserve(members.size() * (withscores ? 2 : 1));
  for (const auto& [member, score] : members) {
    out.push_back(Reply::Bulk(member));
    if (withscores) out.push_back(Reply::Bulk(FormatRedisDouble(score)));
  }
  return Reply::Array(std::move(out));
}

// ---- server ----------------------------------------------------------------

Reply RedisStore::CmdTime(const Command&, Ctx& ctx) {
  const Nanos unix_now = ctx.now + config_.unix_time_at_zero;
  const int64_t us = FloorDiv(unix_now, kNanosPerMicro);
  return Reply::Array({Reply::Bulk(std::to_string(FloorDiv(us, 1'000'000))),
                       Reply::Bulk(std::to_string(us - FloorDiv(us, 1'000'000) * 1'000'000))});
}

Reply RedisStore::CmdPing(const Command& c, Ctx&) {
  if (c.args.size() > 2) return Reply::Error("ERR wrong number of arguments for 'ping' command");
  return c.args.size() == 2 ? Reply::Bulk(c.args[1]) : Reply::Simple("PONG");
}

Reply RedisStore::CmdDbsize(const Command&, Ctx&) { return Reply::Integer(static_cast<int64_t>(keys_.size())); }

Reply RedisStore::CmdFlushall(const Command& c, Ctx&) {
  if (c.args.size() > 2) return Err(kErrSyntax);
  if (c.args.size() == 2) {
    const std::string mode = AsciiLower(c.args[1]);
    if (mode != "sync" && mode != "async") return Err(kErrSyntax);
  }
  dirty_ += static_cast<int64_t>(keys_.size()) + 1;
  keys_.clear();
  all_keys_.clear();
  volatile_keys_.clear();
  eviction_pool_.Clear();
  used_memory_ = config_.memory.baseline_bytes;
  return Reply::Ok();
}

Reply RedisStore::CmdEvalsha(const Command& c, Ctx& ctx) {
  if (c.args[1].size() != 40) return Err(kErrNoScript);
  int64_t numkeys;
  if (!ParseRedisInt(c.args[2], &numkeys)) return Err(kErrNotInteger);
  if (numkeys > static_cast<int64_t>(c.args.size()) - 3) {
    return Reply::Error("ERR Number of keys can't be greater than number of args");
  }
  if (numkeys < 0) return Reply::Error("ERR Number of keys can't be negative");
  const std::string sha = AsciiLower(c.args[1]);
  const RedisScript* script = config_.scripts ? config_.scripts->FindBySha(sha) : nullptr;
  if (script == nullptr ||
      (!loading_ && std::find(loaded_scripts_.begin(), loaded_scripts_.end(), sha) == loaded_scripts_.end())) {
    return Err(kErrNoScript);
  }
  const auto first_key = c.args.begin() + 3;
  const std::vector<std::string> keys(first_key, first_key + numkeys);
  const std::vector<std::string> argv(first_key + numkeys, c.args.end());
  RedisScriptContext sc(*this, ctx.now, ctx.script_oom);
  return script->run(sc, keys, argv);
}

Reply RedisStore::CmdScript(const Command& c, Ctx&) {
  const std::string sub = AsciiLower(c.args[1]);
  if (sub == "load" && c.args.size() == 3) {
    const RedisScript* script = config_.scripts ? config_.scripts->FindByBody(c.args[2]) : nullptr;
    if (script == nullptr) return Reply::Error("ERR the scaletwin model has no native implementation of this script");
    if (std::find(loaded_scripts_.begin(), loaded_scripts_.end(), script->sha1) == loaded_scripts_.end()) {
      loaded_scripts_.push_back(script->sha1);
    }
    return Reply::Bulk(script->sha1);
  }
  if (sub == "exists" && c.args.size() >= 3) {
    std::vector<Reply> out;
    for (size_t j = 2; j < c.args.size(); ++j) {
      const std::string sha = AsciiLower(c.args[j]);
      out.push_back(Reply::Integer(std::find(loaded_scripts_.begin(), loaded_scripts_.end(), sha) !=
                                   loaded_scripts_.end()));
    }
    return Reply::Array(std::move(out));
  }
  if (sub == "flush" && c.args.size() <= 3) {
    loaded_scripts_.clear();
    return Reply::Ok();
  }
  return Reply::Error("ERR unknown subcommand or wrong number of arguments for '" + c.args[1] + "'. Try SCRIPT HELP.");
}

// ---- scripts -----------------------------------------------------------------

Reply RedisScriptContext::Call(const Command& command) {
  const RedisStore::CommandSpec* spec = nullptr;
  if (auto err = RedisStore::CheckCommand(command, &spec)) return *err;
  const std::string name = command.Name();
  if (spec->handler == nullptr || name == "EVALSHA" || name == "SCRIPT") {
    return Reply::Error("ERR This Redis command is not allowed from script");
  }
  if (oom_at_start_ && spec->deny_oom) return Err(kErrOom);
  RedisStore::Ctx ctx = store_.MakeCtx(now_);
  ctx.in_script = true;
  ctx.script_oom = oom_at_start_;
  return store_.Dispatch(command, *spec, ctx);
}

Status RedisScriptRegistry::Register(RedisScript script) {
  if (script.sha1.size() != 40 ||
      !std::all_of(script.sha1.begin(), script.sha1.end(), [](char ch) {
        return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f');
      })) {
    return Status::InvalidArgument("script SHA1 must be 40 lower-case hex digits: '" + script.sha1 + "'");
  }
  if (!script.run) return Status::InvalidArgument("script " + script.sha1 + " has no native implementation");
  if (by_sha_.count(script.sha1)) return Status::InvalidArgument("script " + script.sha1 + " registered twice");
  std::string sha = script.sha1;
  by_sha_.emplace(std::move(sha), std::move(script));
  return Status::Ok();
}

const RedisScript* RedisScriptRegistry::FindBySha(std::string_view sha1) const {
  auto it = by_sha_.find(sha1);
  return it == by_sha_.end() ? nullptr : &it->second;
}

const RedisScript* RedisScriptRegistry::FindByBody(std::string_view body) const {
  for (const auto& [sha, script] : by_sha_) {
    if (script.body == body) return &script;
  }
  return nullptr;
}

// ---- sessions ------------------------------------------------------------------

Reply RedisSession::Execute(RedisStore& store, const Command& command, Nanos now) {
  const RedisStore::CommandSpec* spec = nullptr;
  if (auto err = RedisStore::CheckCommand(command, &spec)) {
    if (in_multi_) dirty_exec_ = true;  // queue-time error: EXEC will abort
    return *err;
  }
  const std::string name = command.Name();
  const bool exec_or_discard = name == "EXEC" || name == "DISCARD";
  RedisStore::Ctx ctx = store.MakeCtx(now);
  const bool oom = !store.PerformEvictions(ctx);
  // processCommand: under OOM, deny-oom commands are refused, and inside MULTI
  // every command but EXEC/DISCARD is (even reads).
  if (oom && (spec->deny_oom || (in_multi_ && !exec_or_discard))) {
    if (in_multi_) dirty_exec_ = true;
    return Err(kErrOom);
  }
  if (name == "MULTI") {
    if (in_multi_) return Reply::Error("ERR MULTI calls can not be nested");
    in_multi_ = true;
    return Reply::Ok();
  }
  if (name == "EXEC") {
    if (!in_multi_) return Reply::Error("ERR EXEC without MULTI");
    std::vector<Command> queued = std::move(queue_);
    const bool abort = dirty_exec_;
    queue_.clear();
    in_multi_ = false;
    dirty_exec_ = false;
    if (abort) return Err(kErrExecAbort);
    return store.ExecTransaction(queued, now);
  }
  if (name == "DISCARD") {
    if (!in_multi_) return Reply::Error("ERR DISCARD without MULTI");
    queue_.clear();
    in_multi_ = false;
    dirty_exec_ = false;
    return Reply::Ok();
  }
  if (in_multi_) {
    queue_.push_back(command);
    return Reply::Simple("QUEUED");
  }
  ctx.script_oom = oom;
  return store.Dispatch(command, *spec, ctx);
}

std::vector<Reply> ExecutePipeline(RedisStore& store, RedisSession& session, const std::vector<Command>& commands,
                                   Nanos now) {
  std::vector<Reply> replies;
  replies.reserve(commands.size());
  for (const Command& c : commands) replies.push_back(session.Execute(store, c, now));
  return replies;
}

}  // namespace scaletwin
