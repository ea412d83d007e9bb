#include "model/limiter_config.h"

#include <vector>

namespace scaletwin {

const char* LimiterAlgorithmName(LimiterAlgorithm a) {
  switch (a) {
    case LimiterAlgorithm::kSlidingLog: return "sliding_log";
    case LimiterAlgorithm::kSlidingCounter: return "sliding_counter";
    case LimiterAlgorithm::kFixedWindow: return "fixed_window";
    case LimiterAlgorithm::kTokenBucket: return "token_bucket";
    case LimiterAlgorithm::kGcra: return "gcra";
  }
  return "?";
}

const char* SlidingLogStrategyName(SlidingLogStrategy s) {
  switch (s) {
    case SlidingLogStrategy::kCheckThenAdd: return "check_then_add";
    case SlidingLogStrategy::kMultiAddThenCount: return "multi_add_then_count";
    case SlidingLogStrategy::kLua: return "lua";
  }
  return "?";
}

const char* LimiterMemberName(LimiterMember m) { return m == LimiterMember::kUnique ? "unique" : "timestamp"; }
const char* LimiterTimeSourceName(LimiterTimeSource t) {
  return t == LimiterTimeSource::kPodClock ? "pod_clock" : "redis_time";
}
const char* LimiterScopeName(LimiterScope s) { return s == LimiterScope::kTenant ? "tenant" : "tenant_route"; }
const char* OnRedisErrorName(OnRedisError e) { return e == OnRedisError::kFailOpen ? "fail_open" : "fail_closed"; }

namespace {

// Maps a validated enum string back to its value via the name function.
template <typename E, int N>
E FromName(const std::string& name, const char* (*namer)(E), E fallback) {
  for (int i = 0; i < N; ++i) {
    if (name == namer(static_cast<E>(i))) return static_cast<E>(i);
  }
  return fallback;
}

template <typename E, int N>
std::vector<std::string> Names(const char* (*namer)(E)) {
  std::vector<std::string> out;
  for (int i = 0; i < N; ++i) out.emplace_back(namer(static_cast<E>(i)));
  return out;
}

}  // namespace

std::optional<LimitSpec> ParseLimit(const nlohmann::json& value, const std::string& path, ParseErrors& errors) {
  const size_t errors_before = errors.size();
  ObjectReader r(value, path, errors);
  LimitSpec limit;
  auto requests = r.Int("requests", 1, kMaxLimitRequests, true);
  auto window = r.Duration("window", kNanosPerMilli, kMaxDuration, true);
  r.Finish();
  if (window && *window % kNanosPerMilli != 0) {
    errors.Add(JoinPath(path, "window"), "a whole number of milliseconds", FormatDuration(*window));
  }
  if (errors.size() != errors_before || !requests || !window) return std::nullopt;
  limit.requests = *requests;
  limit.window = *window;
  return limit;
}

LimiterConfig ParseLimiter(const nlohmann::json& value, const std::string& path, ParseErrors& errors) {
  LimiterConfig c;
  ObjectReader r(value, path, errors);
  if (auto a = r.Enum("algorithm", Names<LimiterAlgorithm, 5>(LimiterAlgorithmName))) {
    c.algorithm = FromName<LimiterAlgorithm, 5>(*a, LimiterAlgorithmName, c.algorithm);
  }
  if (auto s = r.Enum("strategy", Names<SlidingLogStrategy, 3>(SlidingLogStrategyName))) {
    c.strategy = FromName<SlidingLogStrategy, 3>(*s, SlidingLogStrategyName, c.strategy);
    if (c.algorithm != LimiterAlgorithm::kSlidingLog) {
      errors.AddMessage(JoinPath(path, "strategy"), std::string("\"strategy\" applies to algorithm \"sliding_log\" only, not \"") +
                                                        LimiterAlgorithmName(c.algorithm) + "\"");
    }
  }
  c.ttl_windows = static_cast<int>(r.Int("ttl_windows", 1, kMaxTtlWindows).value_or(c.ttl_windows));
  if (auto m = r.Enum("member", Names<LimiterMember, 2>(LimiterMemberName))) {
    c.member = FromName<LimiterMember, 2>(*m, LimiterMemberName, c.member);
    if (c.algorithm != LimiterAlgorithm::kSlidingLog) {
      errors.AddMessage(JoinPath(path, "member"), std::string("\"member\" applies to algorithm \"sliding_log\" only, not \"") +
                                                      LimiterAlgorithmName(c.algorithm) + "\"");
    }
  }
  if (auto t = r.Enum("time_source", Names<LimiterTimeSource, 2>(LimiterTimeSourceName))) {
    c.time_source = FromName<LimiterTimeSource, 2>(*t, LimiterTimeSourceName, c.time_source);
  }
  if (auto s = r.Enum("scope", Names<LimiterScope, 2>(LimiterScopeName))) {
    c.scope = FromName<LimiterScope, 2>(*s, LimiterScopeName, c.scope);
  }
  if (auto e = r.Enum("on_redis_error", Names<OnRedisError, 2>(OnRedisErrorName))) {
    c.on_redis_error = FromName<OnRedisError, 2>(*e, OnRedisErrorName, c.on_redis_error);
  }
  if (auto p = r.String("key_prefix")) {
    if (p->empty() || p->size() > 64 || p->find_first_of(" \t\r\n") != std::string::npos) {
      errors.Add(JoinPath(path, "key_prefix"), "1-64 characters without whitespace", DescribeJson(value["key_prefix"]));
    } else {
      c.key_prefix = *p;
    }
  }
  r.Finish();
  return c;
}

std::string LimiterKey(const LimiterConfig& config, std::string_view tenant, std::string_view route) {
  std::string key = config.key_prefix + ":" + std::string(tenant);
  if (config.scope == LimiterScope::kTenantRoute) key += ":" + std::string(route);
  return key;
}

nlohmann::json LimitToJson(const LimitSpec& limit) {
  return {{"requests", limit.requests}, {"window", FormatDuration(limit.window)}};
}

nlohmann::json LimiterToJson(const LimiterConfig& c) {
  nlohmann::json j = {{"algorithm", LimiterAlgorithmName(c.algorithm)},
                      {"ttl_windows", c.ttl_windows},
                      {"time_source", LimiterTimeSourceName(c.time_source)},
                      {"scope", LimiterScopeName(c.scope)},
                      {"on_redis_error", OnRedisErrorName(c.on_redis_error)},
                      {"key_prefix", c.key_prefix}};
  if (c.algorithm == LimiterAlgorithm::kSlidingLog) {
    j["strategy"] = SlidingLogStrategyName(c.strategy);
    j["member"] = LimiterMemberName(c.member);
  }
  return j;
}

}  // namespace scaletwin
