// The scenario's Redis: the `redis` section, the Redis pool of each pod
// (`pools.redis`), the Redis events (`redis_restart`, `redis_kill` in the
// top-level `events` list) and the pods' clock skew (`pods.clock_skew`), parsed
// into plain values for the simulated server (sim/redis_server.h) and the
// simulated limiter path (sim/limiter_stage.h).
//
// Every parser is strict like the rest of the scenario loader (unknown keys,
// wrong types and out-of-range values are errors naming the JSON pointer),
// collects every error into `errors`, and returns documented defaults for
// what is absent:
//
//   ParseErrors errors;
//   RedisScenarioSpec redis = ParseRedisSection(doc["redis"], "/redis", read_file, errors);
//   redis.pool = ParseRedisPool(doc["pools"]["redis"], "/pools/redis", errors);
//   if (auto e = ParseRedisEvent(doc["events"][0], "/events/0", errors)) redis.events.push_back(*e);
//   CheckRedisEvents(redis.events, "/events", errors);   // sorts; no event while down or after a kill
//   ClockSkewSpec skew = ParseClockSkew(doc["pods"]["clock_skew"], "/pods/clock_skew", errors);
//
// `redis` keys and defaults (Redis 7.0's own defaults unless noted):
//   maxmemory          "0" (unlimited) — redis.conf units: a bare byte count or
//                      <n>b|k|kb|m|mb|g|gb, case-insensitive, k = 1000, kb = 1024
//   maxmemory_policy   "noeviction"; any of the eight Redis policies
//   maxmemory_samples  5
//   baseline_memory    "900kb": used_memory of an empty 7.0.15 server (~0.9 MB,
//                      model/redis_memory.h), counted against maxmemory
//   persistence        "none" | "rdb" | "aof_everysec" (default "none")
//   save               rdb only: [{"after": "60s", "changes": 10000}, ...];
//                      default 7.0's `save 3600 1 300 100 60 10000`
//   fsync_period       aof_everysec only: "1s" (appendfsync everysec)
//   hz                 10 (1..500); active_expire_effort 1 (1..10)
//   maxclients         10000: connections beyond it are refused
//   service_time       {"round_trip", "command", "script"}: distributions of the
//                      single thread's CPU per round trip (read, parse, write
//                      syscalls), per command, and per EVAL/EVALSHA (instead of
//                      "command"). Defaults 7.5 µs, 0.3 µs, 8.3 µs (constant):
//                      the one solution that fits three of the four loopback
//                      throughputs in reference/redis.md §4.2 (EVALSHA -c 50
//                      64k/s and -P 16 114k/s; SET -P 16 1.35M/s); SET -c 50
//                      (91k/s measured, 128k/s predicted) was client-bound.
//   network_delay      one-way delay of each message, pod <-> Redis; default
//                      lognormal p50 24 µs, p99 120 µs: half the measured
//                      loopback round trip (55 µs p50 with 1 client, minus
//                      server time), with a tail for scheduler wake-ups.
// `pools.redis` (the pod's Redis client; defaults match real/redis's
// RedisEndpoint): size 10, min_idle 0, acquire_timeout "1s", connect_time
// "200us", command_timeout "1s" (a reply later than that is a transport
// error; "0s" waits forever).
// Events: {"kind": "redis_restart", "at": "30s", "down_for": "5s"} — the server
// crashes at `at` (in-flight commands are lost, connections reset), refuses
// connections for `down_for`, then comes back with what its persistence mode
// kept (model/redis_persistence.h); {"kind": "redis_kill", "at": "30s"} — the
// server dies for the rest of the run.
// Clock skew: a signed duration for every pod ("-50ms"), a list applied by pod
// index modulo its length (["0ms", "+120ms"]), or {"max": "100ms"}: each pod
// draws uniformly from [-max, +max] on its own RNG stream.
//
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/connection_pool.h"
#include "model/distribution.h"
#include "model/duration.h"
#include "model/json_reader.h"
#include "model/redis_memory.h"
#include "model/redis_persistence.h"
#include "model/status.h"

namespace scaletwin {

// What the server's one thread spends on a round trip: round_trip once, then
// command per command — script instead for EVAL/EVALSHA.
struct RedisServiceTimes {
  DurationDistribution round_trip = DurationDistribution::Constant(7'500);
  DurationDistribution command = DurationDistribution::Constant(300);
  DurationDistribution script = DurationDistribution::Constant(8'300);
};

// The Redis client a pod holds: its pool and its per-round-trip timeout.
struct RedisPoolSpec {
  PoolConfig pool{.size = 10, .min_idle = 0, .acquire_timeout = kNanosPerSecond, .connect_time = 200 * kNanosPerMicro};
  Nanos command_timeout = kNanosPerSecond;  // 0 = none
};

enum class RedisEventKind { kRestart, kKill };
const char* RedisEventKindName(RedisEventKind k);  // "redis_restart", "redis_kill"

struct RedisEvent {
  RedisEventKind kind = RedisEventKind::kRestart;
  Nanos at = 0;
  Nanos down_for = 0;  // restart only
  bool operator==(const RedisEvent&) const = default;
};

inline constexpr int64_t kDefaultRedisBaselineBytes = 900 * 1024;

struct RedisScenarioSpec {
  MemoryConfig memory = [] {
    MemoryConfig m;
    m.baseline_bytes = kDefaultRedisBaselineBytes;
    return m;
  }();
  PersistenceConfig persistence;
  int hz = 10;
  int active_expire_effort = 1;
  int maxclients = 10'000;
  RedisServiceTimes service_time;
  DurationDistribution network_delay = DurationDistribution::Lognormal(24 * kNanosPerMicro, 120 * kNanosPerMicro);
  RedisPoolSpec client;            // from `pools.redis`
  std::vector<RedisEvent> events;  // from `events`, sorted by time (CheckRedisEvents)
};

// Parses a memory size as redis.conf does (memtoull): digits, then an optional
// unit b, k (1000), kb (1024), m (10^6), mb (2^20), g (10^9), gb (2^30), any
// case, no sign, no fraction. Fails on anything else or on int64 overflow.
Result<int64_t> ParseRedisMemory(std::string_view text);

// Parses the `redis` section (an object). Defaults fill what is absent; the
// pool and events keep their defaults (they live in other sections).
RedisScenarioSpec ParseRedisSection(const nlohmann::json& value, const std::string& path, const FileReader& read_file,
                                    ParseErrors& errors);

// Parses `pools.redis`.
RedisPoolSpec ParseRedisPool(const nlohmann::json& value, const std::string& path, ParseErrors& errors);

// True iff `kind` names a Redis event ("redis_restart", "redis_kill"), for the
// top-level events parser, which dispatches on each event's "kind".
bool IsRedisEventKind(std::string_view kind);
// Parses one event object whose "kind" is a Redis event. nullopt iff an error
// was recorded.
std::optional<RedisEvent> ParseRedisEvent(const nlohmann::json& value, const std::string& path, ParseErrors& errors);
// Sorts `events` by time and checks them as a sequence: no event while the
// server is down from an earlier restart, none after a kill. Errors name `path`.
void CheckRedisEvents(std::vector<RedisEvent>& events, const std::string& path, ParseErrors& errors);

// Per-pod offset of the pod's clock from true (and Redis) time.
struct ClockSkewSpec {
  enum class Kind { kNone, kList, kUniform };
  Kind kind = Kind::kNone;
  std::vector<Nanos> list;  // kList: pod i gets list[i % size]; one element = every pod
  Nanos max = 0;            // kUniform: [-max, +max]
  bool operator==(const ClockSkewSpec&) const = default;
};

// Parses a signed duration: "+50ms", "-1.5s", "0s" (ParseDuration with a sign).
Result<Nanos> ParseSignedDuration(std::string_view text);
// Parses `pods.clock_skew` (string, array or {"max"}); skews are within ±1 h.
ClockSkewSpec ParseClockSkew(const nlohmann::json& value, const std::string& path, ParseErrors& errors);
// The skew of pod `pod` (deterministic in seed and pod index; the uniform draw
// uses stream Rng(seed, "clock_skew", pod), so pods do not shift each other).
Nanos ClockSkewForPod(const ClockSkewSpec& spec, uint64_t seed, uint32_t pod);

}  // namespace scaletwin
