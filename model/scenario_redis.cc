// The scenario's Redis sections: strict parsing into RedisScenarioSpec and
// friends. See scenario_redis.h for the keys and where each default comes from.
#include "model/scenario_redis.h"

#include <algorithm>
#include <cctype>
#include <limits>

#include "model/rng.h"

namespace scaletwin {

const char* RedisEventKindName(RedisEventKind k) {
  return k == RedisEventKind::kRestart ? "redis_restart" : "redis_kill";
}

Result<int64_t> ParseRedisMemory(std::string_view text) {
  auto fail = [&](const std::string& why) -> Result<int64_t> {
    return Status::InvalidArgument("invalid memory size \"" + std::string(text) + "\": " + why +
                                   " (e.g. \"64mb\", \"1gb\", \"500000\"; k = 1000, kb = 1024)");
  };
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  if (digits == 0) return fail("expected digits first");
  const std::string unit = AsciiLower(text.substr(digits));
  int64_t mul = 0;
  if (unit.empty() || unit == "b") mul = 1;
  else if (unit == "k") mul = 1000;
  else if (unit == "kb") mul = 1024;
  else if (unit == "m") mul = 1000 * 1000;
  else if (unit == "mb") mul = 1024 * 1024;
  else if (unit == "g") mul = 1000LL * 1000 * 1000;
  else if (unit == "gb") mul = 1024LL * 1024 * 1024;
  else return fail("unknown unit \"" + std::string(text.substr(digits)) + "\"");
  int64_t n = 0;
  for (size_t i = 0; i < digits; ++i) {
    const int d = text[i] - '0';
    if (n > (std::numeric_limits<int64_t>::max() - d) / 10) return fail("too large");
    n = n * 10 + d;
  }
  if (n > std::numeric_limits<int64_t>::max() / mul) return fail("too large");
  return n * mul;
}

namespace {

// Largest memory size a scenario may name (1 TiB): far above any test box.
constexpr int64_t kMaxRedisMemory = int64_t{1} << 40;

// A memory size given as a string with units or as a plain byte count.
std::optional<int64_t> ReadMemory(ObjectReader& r, std::string_view key) {
  const nlohmann::json* v = r.Get(key);
  if (!v) return std::nullopt;
  const std::string path = JoinPath(r.path(), key);
  const std::string want = "a memory size such as \"64mb\" or a byte count, up to 1 TiB";
  std::optional<int64_t> bytes;
  if (v->is_string()) {
    Result<int64_t> parsed = ParseRedisMemory(v->get<std::string>());
    if (!parsed.ok()) {
      r.errors().AddMessage(path, parsed.status().message());
      return std::nullopt;
    }
    bytes = *parsed;
  } else if (v->is_number_integer() && !(v->is_number_unsigned() && v->get<uint64_t>() > INT64_MAX) &&
             v->get<int64_t>() >= 0) {
    bytes = v->get<int64_t>();
  } else {
    r.errors().Add(path, want, DescribeJson(*v));
    return std::nullopt;
  }
  if (*bytes > kMaxRedisMemory) {
    r.errors().Add(path, want, DescribeJson(*v));
    return std::nullopt;
  }
  return bytes;
}

std::vector<std::string> PolicyNames() {
  std::vector<std::string> out;
  for (MaxmemoryPolicy p :
       {MaxmemoryPolicy::kNoEviction, MaxmemoryPolicy::kAllKeysLru, MaxmemoryPolicy::kAllKeysLfu,
        MaxmemoryPolicy::kAllKeysRandom, MaxmemoryPolicy::kVolatileLru, MaxmemoryPolicy::kVolatileLfu,
        MaxmemoryPolicy::kVolatileRandom, MaxmemoryPolicy::kVolatileTtl}) {
    out.emplace_back(MaxmemoryPolicyName(p));
  }
  return out;
}

void ReadSavePoints(const nlohmann::json& v, const std::string& path, PersistenceConfig& p, ParseErrors& errors) {
  if (!v.is_array() || v.empty() || v.size() > 16) {
    errors.Add(path, "a non-empty array of up to 16 {\"after\": duration, \"changes\": integer}", DescribeJson(v));
    return;
  }
  std::vector<SavePoint> points;
  for (size_t i = 0; i < v.size(); ++i) {
    ObjectReader r(v[i], JoinPath(path, i), errors);
    auto after = r.Duration("after", kNanosPerSecond, kMaxDuration, true);
    auto changes = r.Int("changes", 1, 1'000'000'000, true);
    r.Finish();
    if (after && changes) points.push_back({*after, *changes});
  }
  if (points.size() == v.size()) p.save_points = std::move(points);
}

DurationDistribution ReadDist(ObjectReader& r, std::string_view key, const FileReader& read_file,
                              DurationDistribution fallback) {
  const nlohmann::json* v = r.Get(key);
  if (!v) return fallback;
  return ReadDistribution(*v, JoinPath(r.path(), key), read_file, r.errors()).value_or(fallback);
}

}  // namespace

RedisScenarioSpec ParseRedisSection(const nlohmann::json& value, const std::string& path, const FileReader& read_file,
                                    ParseErrors& errors) {
  RedisScenarioSpec s;
  ObjectReader r(value, path, errors);
  s.memory.maxmemory = ReadMemory(r, "maxmemory").value_or(s.memory.maxmemory);
  if (auto p = r.Enum("maxmemory_policy", PolicyNames())) s.memory.policy = *ParseMaxmemoryPolicy(*p);
  s.memory.samples = static_cast<int>(r.Int("maxmemory_samples", 1, 64).value_or(s.memory.samples));
  s.memory.baseline_bytes = ReadMemory(r, "baseline_memory").value_or(s.memory.baseline_bytes);
  if (r.valid() && s.memory.maxmemory > 0 && s.memory.baseline_bytes >= s.memory.maxmemory) {
    errors.AddMessage(JoinPath(path, "maxmemory"), "must exceed baseline_memory (" +
                                                       std::to_string(s.memory.baseline_bytes) +
                                                       " bytes), or no key would ever fit");
  }

  if (auto p = r.Enum("persistence", {"none", "rdb", "aof_everysec"})) s.persistence.mode = *ParsePersistenceMode(*p);
  if (const nlohmann::json* save = r.Get("save")) {
    if (s.persistence.mode != PersistenceMode::kRdb) {
      errors.AddMessage(JoinPath(path, "save"), "save points apply to persistence \"rdb\" only");
    } else {
      ReadSavePoints(*save, JoinPath(path, "save"), s.persistence, errors);
    }
  }
  if (r.Has("fsync_period") && s.persistence.mode != PersistenceMode::kAofEverysec) {
    (void)r.Get("fsync_period");
    errors.AddMessage(JoinPath(path, "fsync_period"), "fsync_period applies to persistence \"aof_everysec\" only");
  } else {
    s.persistence.fsync_period =
        r.Duration("fsync_period", kNanosPerMilli, 3600 * kNanosPerSecond).value_or(s.persistence.fsync_period);
  }

  s.hz = static_cast<int>(r.Int("hz", 1, 500).value_or(s.hz));
  s.active_expire_effort = static_cast<int>(r.Int("active_expire_effort", 1, 10).value_or(s.active_expire_effort));
  s.maxclients = static_cast<int>(r.Int("maxclients", 1, 1'000'000).value_or(s.maxclients));
  if (const nlohmann::json* st = r.Get("service_time")) {
    ObjectReader t(*st, JoinPath(path, "service_time"), errors);
    s.service_time.round_trip = ReadDist(t, "round_trip", read_file, s.service_time.round_trip);
    s.service_time.command = ReadDist(t, "command", read_file, s.service_time.command);
    s.service_time.script = ReadDist(t, "script", read_file, s.service_time.script);
    t.Finish();
  }
  s.network_delay = ReadDist(r, "network_delay", read_file, s.network_delay);
  r.Finish();
  return s;
}

RedisPoolSpec ParseRedisPool(const nlohmann::json& value, const std::string& path, ParseErrors& errors) {
  RedisPoolSpec s;
  ObjectReader r(value, path, errors);
  PoolConfig& c = s.pool;
  c.size = static_cast<int>(r.Int("size", 1, 100'000).value_or(c.size));
  c.min_idle = static_cast<int>(r.Int("min_idle", 0, 100'000).value_or(c.min_idle));
  c.acquire_timeout = r.Duration("acquire_timeout", 0, 3600 * kNanosPerSecond).value_or(c.acquire_timeout);
  c.connect_time = r.Duration("connect_time", kNanosPerMicro, 60 * kNanosPerSecond).value_or(c.connect_time);
  s.command_timeout = r.Duration("command_timeout", 0, 3600 * kNanosPerSecond).value_or(s.command_timeout);
  if (r.valid() && c.min_idle > c.size) {
    errors.AddMessage(JoinPath(path, "min_idle"), "must not exceed size (" + std::to_string(c.size) + ")");
  }
  r.Finish();
  return s;
}

bool IsRedisEventKind(std::string_view kind) { return kind == "redis_restart" || kind == "redis_kill"; }

std::optional<RedisEvent> ParseRedisEvent(const nlohmann::json& value, const std::string& path, ParseErrors& errors) {
  const size_t before = errors.size();
  ObjectReader r(value, path, errors);
  RedisEvent e;
  std::optional<std::string> kind = r.Enum("kind", {"redis_restart", "redis_kill"}, true);
  if (kind == "redis_kill") e.kind = RedisEventKind::kKill;
  e.at = r.Duration("at", 0, kMaxDuration, true).value_or(0);
  if (e.kind == RedisEventKind::kRestart) {
    e.down_for = r.Duration("down_for", 0, kMaxDuration, true).value_or(0);
  }
  r.Finish();  // down_for on a kill is an unknown key: a kill has no way back
  if (errors.size() != before || !kind) return std::nullopt;
  return e;
}

void CheckRedisEvents(std::vector<RedisEvent>& events, const std::string& path, ParseErrors& errors) {
  std::stable_sort(events.begin(), events.end(), [](const RedisEvent& a, const RedisEvent& b) { return a.at < b.at; });
  Nanos up_at = 0;  // when the server is next up
  bool killed = false;
  for (const RedisEvent& e : events) {
    const std::string what = std::string(RedisEventKindName(e.kind)) + " at " + FormatDuration(e.at);
    if (killed) {
      errors.AddMessage(path, what + " comes after a redis_kill: a killed server never comes back");
    } else if (e.at < up_at) {
      errors.AddMessage(path, what + " falls while Redis is down (until " + FormatDuration(up_at) + ")");
    }
    if (e.kind == RedisEventKind::kKill) killed = true;
    up_at = std::max(up_at, e.at + e.down_for);
  }
}

Result<Nanos> ParseSignedDuration(std::string_view text) {
  bool negative = false;
  if (!text.empty() && (text[0] == '+' || text[0] == '-')) {
    negative = text[0] == '-';
    text.remove_prefix(1);
  }
  Result<Nanos> d = ParseDuration(text);
  if (!d.ok()) return d.status();
  return negative ? -*d : *d;
}

namespace {

constexpr Nanos kMaxClockSkew = 3600 * kNanosPerSecond;

std::optional<Nanos> ReadSkew(const nlohmann::json& v, const std::string& path, ParseErrors& errors) {
  const std::string want = "a signed duration within ±1h such as \"-50ms\" or \"+120ms\"";
  if (!v.is_string()) {
    errors.Add(path, want, DescribeJson(v));
    return std::nullopt;
  }
  Result<Nanos> d = ParseSignedDuration(v.get<std::string>());
  if (!d.ok() || *d < -kMaxClockSkew || *d > kMaxClockSkew) {
    errors.Add(path, want, DescribeJson(v));
    return std::nullopt;
  }
  return *d;
}

}  // namespace

ClockSkewSpec ParseClockSkew(const nlohmann::json& value, const std::string& path, ParseErrors& errors) {
  ClockSkewSpec s;
  if (value.is_string()) {
    if (auto d = ReadSkew(value, path, errors)) {
      s.kind = ClockSkewSpec::Kind::kList;
      s.list = {*d};
    }
  } else if (value.is_array()) {
    if (value.empty() || value.size() > 10'000) {
      errors.Add(path, "a non-empty array of signed durations (pod i takes element i mod length)", DescribeJson(value));
      return s;
    }
    std::vector<Nanos> list;
    for (size_t i = 0; i < value.size(); ++i) {
      if (auto d = ReadSkew(value[i], JoinPath(path, i), errors)) list.push_back(*d);
    }
    if (list.size() == value.size()) {
      s.kind = ClockSkewSpec::Kind::kList;
      s.list = std::move(list);
    }
  } else if (value.is_object()) {
    ObjectReader r(value, path, errors);
    if (auto max = r.Duration("max", 0, kMaxClockSkew, true)) {
      s.kind = ClockSkewSpec::Kind::kUniform;
      s.max = *max;
    }
    r.Finish();
  } else {
    errors.Add(path, "a signed duration, an array of them, or {\"max\": duration}", DescribeJson(value));
  }
  return s;
}

Nanos ClockSkewForPod(const ClockSkewSpec& spec, uint64_t seed, uint32_t pod) {
  switch (spec.kind) {
    case ClockSkewSpec::Kind::kNone: return 0;
    case ClockSkewSpec::Kind::kList: return spec.list[pod % spec.list.size()];
    case ClockSkewSpec::Kind::kUniform: {
      Rng rng(seed, "clock_skew", pod);
      return -spec.max + static_cast<Nanos>(rng.UniformInt(static_cast<uint64_t>(2 * spec.max) + 1));
    }
  }
  return 0;
}

}  // namespace scaletwin
