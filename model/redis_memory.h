// Redis memory accounting and the maxmemory eviction machinery (Redis 7.0.15).
//
// Sizes: what one key costs in `used_memory`, built from the allocations Redis
// makes (dict entry, robj, key sds, value) rounded up to jemalloc size classes.
// Checked against MEMORY USAGE on 7.0.15 (reference/redis.md §3.7): a listpack
// zset of 1/10/128 ms-scored members costs 80/272/3120 B with 16-digit integer
// members, 96/432/5168 B with 20-byte members — the formulas below give exactly
// those; a skiplist zset costs ~120 B/member (20-byte members) and ~136 B/member
// (UUIDs); a short counter key ~77 B, +52 B when it has a TTL (used_memory deltas).
//
// Eviction: the eight maxmemory policies. LRU, LFU and volatile-ttl are
// approximated as Redis does: each eviction samples `samples` keys (5 by
// default) into a 16-entry pool ordered by "idle" (LRU: seconds since last
// access on a 24-bit 1 s clock; LFU: 255 - decayed log counter; TTL: far
// expiry is idle), and evicts the best candidate that still exists. The pool
// persists between evictions, as in evict.c.
//
//   MemoryConfig m{.maxmemory = 64 << 20, .policy = MaxmemoryPolicy::kAllKeysLru};
//   int64_t b = StringEntryBytes(key.size(), value);   // what SET key value costs
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "model/duration.h"
#include "model/status.h"

namespace scaletwin {

enum class MaxmemoryPolicy {
  kNoEviction,
  kAllKeysLru,
  kAllKeysLfu,
  kAllKeysRandom,
  kVolatileLru,
  kVolatileLfu,
  kVolatileRandom,
  kVolatileTtl,
};

// Parses the redis.conf spelling ("allkeys-lru", "noeviction", ...).
Result<MaxmemoryPolicy> ParseMaxmemoryPolicy(std::string_view name);
std::string_view MaxmemoryPolicyName(MaxmemoryPolicy p);
inline bool IsVolatilePolicy(MaxmemoryPolicy p) {
  return p == MaxmemoryPolicy::kVolatileLru || p == MaxmemoryPolicy::kVolatileLfu ||
         p == MaxmemoryPolicy::kVolatileRandom || p == MaxmemoryPolicy::kVolatileTtl;
}
inline bool IsLfuPolicy(MaxmemoryPolicy p) {
  return p == MaxmemoryPolicy::kAllKeysLfu || p == MaxmemoryPolicy::kVolatileLfu;
}

struct MemoryConfig {
  int64_t maxmemory = 0;  // bytes; 0 = unlimited (the 64-bit default)
  MaxmemoryPolicy policy = MaxmemoryPolicy::kNoEviction;
  int samples = 5;          // maxmemory-samples
  int lfu_log_factor = 10;  // lfu-log-factor
  int lfu_decay_time = 1;   // lfu-decay-time, minutes
  // used_memory of an empty server (code, shared objects, client buffers):
  // ~0.9 MB on 7.0.15. Counted against maxmemory like any key.
  int64_t baseline_bytes = 0;
};

// ---- per-entry sizes -------------------------------------------------------

// jemalloc's size class for an allocation of n bytes (8, 16, 32, 48, ... then
// four classes per power of two).
int64_t JemallocSize(int64_t n);
// Main-dict cost of any key: dictEntry (24 B) + amortised bucket slot (12 B) +
// robj (16 B) + key sds.
int64_t KeyOverheadBytes(size_t key_len);
// A string key: key overhead + value (integer-like values live in the robj,
// <= 44 bytes are embstr, longer get their own sds).
int64_t StringEntryBytes(size_t key_len, std::string_view value);
// Extra cost of a TTL: an entry in the expires dict (measured delta, 52 B).
inline constexpr int64_t kExpireEntryBytes = 52;

// zset encodings (redis.conf 7.0 defaults): listpack while <= 128 members and
// every member <= 64 bytes; past either, skiplist for good (no conversion back).
inline constexpr size_t kZsetMaxListpackEntries = 128;
inline constexpr size_t kZsetMaxListpackValue = 64;
// Bytes one member + score pair takes inside a listpack (entry encodings plus
// back-lengths; integral scores and integer-like members are stored as ints).
int64_t ListpackPairBytes(std::string_view member, double score);
// Listpack allocation for the given sum of pair bytes (6 B header + terminator).
inline int64_t ListpackAllocBytes(int64_t pair_bytes) { return JemallocSize(7 + pair_bytes); }
// One skiplist member: node with the mean 1.33 levels (52 B), member sds, and
// its hash-table entry + bucket (36 B).
int64_t SkiplistMemberBytes(size_t member_len);
// The zset struct, its dict and the 32-level skiplist header.
inline constexpr int64_t kSkiplistZsetBaseBytes = 650;

// ---- LRU / LFU clocks (evict.c) -------------------------------------------

inline constexpr uint32_t kLruClockMax = (1u << 24) - 1;
// The 24-bit LRU clock at Unix time `unix_now` (1 s resolution).
uint32_t LruClock(Nanos unix_now);
// Estimated idle time in ms of an object last touched at LRU clock `lru`.
int64_t LruIdleMillis(uint32_t lru, Nanos unix_now);

// LFU state as Redis packs it in the 24-bit lru field: 16-bit minutes of the
// last decrement, 8-bit logarithmic counter.
struct LfuState {
  uint16_t last_decr_minutes = 0;
  uint8_t counter = 0;
};
inline constexpr uint8_t kLfuInitVal = 5;
uint16_t LfuTimeInMinutes(Nanos unix_now);
// The counter after decay (one step per lfu_decay_time minutes elapsed).
uint8_t LfuDecayedCounter(LfuState s, Nanos unix_now, int decay_time);
// Morris increment: +1 with probability 1 / ((counter - 5) * factor + 1).
// `u` is a uniform draw on [0, 1).
uint8_t LfuLogIncr(uint8_t counter, double u, int log_factor);

// ---- eviction pool ---------------------------------------------------------

inline constexpr size_t kEvictionPoolSize = 16;

// The candidates from past samples, ascending by idle (best last), at most 16.
class EvictionPool {
 public:
  // Offers a sampled key. Keeps the 16 idlest; a key already present is updated.
  void Offer(const std::string& key, uint64_t idle);
  // Removes and returns the best (idlest) candidate; false when empty.
  bool PopBest(std::string* key);
  size_t size() const { return entries_.size(); }
  void Clear() { entries_.clear(); }

 private:
  struct Entry {
    uint64_t idle;
    std::string key;
  };
  std::vector<Entry> entries_;  // ascending idle
};

}  // namespace scaletwin
