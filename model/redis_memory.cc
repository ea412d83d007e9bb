// Per-entry sizes, LRU/LFU clocks and the eviction pool (Redis 7.0.15 evict.c).
#include "model/redis_memory.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "model/redis_command.h"

namespace scaletwin {

Result<MaxmemoryPolicy> ParseMaxmemoryPolicy(std::string_view name) {
  static constexpr MaxmemoryPolicy kAll[] = {
      MaxmemoryPolicy::kNoEviction,  MaxmemoryPolicy::kAllKeysLru,      MaxmemoryPolicy::kAllKeysLfu,
      MaxmemoryPolicy::kAllKeysRandom, MaxmemoryPolicy::kVolatileLru,   MaxmemoryPolicy::kVolatileLfu,
      MaxmemoryPolicy::kVolatileRandom, MaxmemoryPolicy::kVolatileTtl};
  for (MaxmemoryPolicy p : kAll) {
    if (MaxmemoryPolicyName(p) == name) return p;
  }
  return Status::InvalidArgument("unknown maxmemory-policy '" + std::string(name) +
                                 "' (expected noeviction, allkeys-lru, allkeys-lfu, allkeys-random, volatile-lru, "
                                 "volatile-lfu, volatile-random or volatile-ttl)");
}

std::string_view MaxmemoryPolicyName(MaxmemoryPolicy p) {
  switch (p) {
    case MaxmemoryPolicy::kNoEviction: return "noeviction";
    case MaxmemoryPolicy::kAllKeysLru: return "allkeys-lru";
    case MaxmemoryPolicy::kAllKeysLfu: return "allkeys-lfu";
    case MaxmemoryPolicy::kAllKeysRandom: return "allkeys-random";
    case MaxmemoryPolicy::kVolatileLru: return "volatile-lru";
    case MaxmemoryPolicy::kVolatileLfu: return "volatile-lfu";
    case MaxmemoryPolicy::kVolatileRandom: return "volatile-random";
    case MaxmemoryPolicy::kVolatileTtl: return "volatile-ttl";
  }
  return "?";
}

int64_t JemallocSize(int64_t n) {
  if (n <= 8) return 8;
  if (n <= 128) return (n + 15) / 16 * 16;  // 16, 32, 48, ..., 128
  // Above 128: four classes per doubling (160, 192, 224, 256, 320, ...).
  int64_t base = 128;
  while (base * 2 < n) base *= 2;
  const int64_t step = base / 4;
  return (n + step - 1) / step * step;
}

int64_t KeyOverheadBytes(size_t key_len) {
  // sdshdr8 (3 B) + NUL for keys < 256 B; longer keys need sdshdr16 (5 B) + NUL.
  const int64_t sds = JemallocSize(static_cast<int64_t>(key_len) + (key_len < 256 ? 4 : 6));
  return 24 + 12 + 16 + sds;
}

int64_t StringEntryBytes(size_t key_len, std::string_view value) {
  int64_t as_int;
  int64_t value_bytes;
  if (value.size() <= 20 && ParseRedisInt(value, &as_int)) {
    value_bytes = 0;  // OBJ_ENCODING_INT: the number lives in the robj's pointer
  } else if (value.size() <= 44) {
    value_bytes = JemallocSize(16 + 3 + static_cast<int64_t>(value.size()) + 1) - 16;  // embstr: robj+sds in one
  } else {
    value_bytes = JemallocSize(static_cast<int64_t>(value.size()) + (value.size() < 256 ? 4 : 6));
  }
  return KeyOverheadBytes(key_len) + value_bytes;
}

namespace {

// listpack.c: bytes of one entry's encoding + data.
int64_t ListpackEncodedBytes(std::string_view s) {
  int64_t v;
  if (s.size() <= 20 && ParseRedisInt(s, &v)) {
    if (v >= 0 && v <= 127) return 1;
    if (v >= -4096 && v <= 4095) return 2;
    if (v >= -32768 && v <= 32767) return 3;
    if (v >= -8388608 && v <= 8388607) return 4;
    if (v >= -2147483648LL && v <= 2147483647LL) return 5;
    return 9;
  }
  const int64_t n = static_cast<int64_t>(s.size());
  if (n < 64) return 1 + n;
  if (n < 4096) return 2 + n;
  return 5 + n;
}

int64_t ListpackEntryBytes(std::string_view s) {
  const int64_t e = ListpackEncodedBytes(s);
  const int64_t backlen = e <= 127 ? 1 : e < 16383 ? 2 : e < 2097151 ? 3 : e < 268435455 ? 4 : 5;
  return e + backlen;
}

// util.c d2string: how zzlInsertAt turns a score into listpack text.
std::string ScoreToListpackString(double d) {
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  if (d == 0) return "0";
  if (d > -4503599627370495.0 && d < 4503599627370496.0 && d == static_cast<double>(static_cast<int64_t>(d))) {
    return std::to_string(static_cast<int64_t>(d));
  }
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.17g", d);
  return buf;
}

}  // namespace

int64_t ListpackPairBytes(std::string_view member, double score) {
  return ListpackEntryBytes(member) + ListpackEntryBytes(ScoreToListpackString(score));
}

int64_t SkiplistMemberBytes(size_t member_len) {
  return 52 + JemallocSize(static_cast<int64_t>(member_len) + (member_len < 256 ? 4 : 6)) + 36;
}

uint32_t LruClock(Nanos unix_now) {
  return static_cast<uint32_t>((unix_now / kNanosPerSecond) & kLruClockMax);
}

int64_t LruIdleMillis(uint32_t lru, Nanos unix_now) {
  const uint32_t clock = LruClock(unix_now);
  const int64_t ticks = clock >= lru ? clock - lru : clock + (kLruClockMax - lru);
  return ticks * 1000;
}

uint16_t LfuTimeInMinutes(Nanos unix_now) {
  return static_cast<uint16_t>((unix_now / kNanosPerSecond / 60) & 65535);
}

uint8_t LfuDecayedCounter(LfuState s, Nanos unix_now, int decay_time) {
  const uint16_t now = LfuTimeInMinutes(unix_now);
  const int64_t elapsed = now >= s.last_decr_minutes ? now - s.last_decr_minutes : 65535 - s.last_decr_minutes + now;
  const int64_t periods = decay_time > 0 ? elapsed / decay_time : 0;
  if (periods == 0) return s.counter;
  return periods > s.counter ? 0 : static_cast<uint8_t>(s.counter - periods);
}

uint8_t LfuLogIncr(uint8_t counter, double u, int log_factor) {
  if (counter == 255) return 255;
  double base = static_cast<double>(counter) - kLfuInitVal;
  if (base < 0) base = 0;
  const double p = 1.0 / (base * log_factor + 1);
  return u < p ? static_cast<uint8_t>(counter + 1) : counter;
}

void EvictionPool::Offer(const std::string& key, uint64_t idle) {
  auto same = std::find_if(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.key == key; });
  if (same != entries_.end()) entries_.erase(same);
  if (entries_.size() == kEvictionPoolSize && idle <= entries_.front().idle) return;  // worse than all kept
  auto at = std::lower_bound(entries_.begin(), entries_.end(), idle,
                             [](const Entry& e, uint64_t v) { return e.idle < v; });
  entries_.insert(at, Entry{idle, key});
  if (entries_.size() > kEvictionPoolSize) entries_.erase(entries_.begin());
}

bool EvictionPool::PopBest(std::string* key) {
  if (entries_.empty()) return false;
  *key = std::move(entries_.back().key);
  entries_.pop_back();
  return true;
}

}  // namespace scaletwin
