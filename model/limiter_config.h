// Limiter configuration: the `limit` object and the `limiter` section.
//
// A tenant's limit ({"requests": 1000, "window": "60s"}) is used by scenario
// files and by the real pod's config alike; the `limiter` section picks the
// algorithm and how it talks to Redis. Both parsers are strict (unknown keys,
// wrong types and out-of-range values are errors naming the JSON pointer),
// collect every error, and fill in the documented defaults below.
//
//   ParseErrors errors;
//   std::optional<LimitSpec> limit = ParseLimit(doc["limit"], "/tenants/0/limit", errors);
//   LimiterConfig cfg = ParseLimiter(doc["limiter"], "/limiter", errors);
//   if (!errors.empty()) return errors.ToStatus("scenario");
//
// Defaults (a section may be omitted entirely):
//   algorithm "sliding_log", strategy "lua" (the atomic one; a user must opt
//   into the racy "check_then_add"), ttl_windows 2, member "unique",
//   time_source "pod_clock", scope "tenant", on_redis_error "fail_open"
//   (Envoy's default), key_prefix "rl".
//
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "model/duration.h"
#include "model/json_reader.h"

namespace scaletwin {

// `requests` admitted per `window`. window is whole milliseconds: the limiter
// scripts keep time in ms (µs for GCRA), like the scores they write.
struct LimitSpec {
  int64_t requests = 0;
  Nanos window = 0;
  int64_t window_ms() const { return window / kNanosPerMilli; }
  bool operator==(const LimitSpec&) const = default;
};

inline constexpr int64_t kMaxLimitRequests = 1'000'000;  // keeps script arithmetic exact in doubles (< 2^53)
inline constexpr int kMaxTtlWindows = 100;

enum class LimiterAlgorithm { kSlidingLog, kSlidingCounter, kFixedWindow, kTokenBucket, kGcra };
enum class SlidingLogStrategy { kCheckThenAdd, kMultiAddThenCount, kLua };
// What the sorted-set member is: "<pod>-<seq>" (unique) or the ms timestamp,
// which collapses requests of one millisecond into one member (a known bug,
// modelled on purpose).
enum class LimiterMember { kUnique, kTimestamp };
// Whose clock scores and windows use: the pod's (skew applies) or Redis TIME.
enum class LimiterTimeSource { kPodClock, kRedisTime };
enum class LimiterScope { kTenant, kTenantRoute };
enum class OnRedisError { kFailOpen, kFailClosed };

const char* LimiterAlgorithmName(LimiterAlgorithm a);
const char* SlidingLogStrategyName(SlidingLogStrategy s);
const char* LimiterMemberName(LimiterMember m);
const char* LimiterTimeSourceName(LimiterTimeSource t);
const char* LimiterScopeName(LimiterScope s);
const char* OnRedisErrorName(OnRedisError e);

struct LimiterConfig {
  LimiterAlgorithm algorithm = LimiterAlgorithm::kSlidingLog;
  SlidingLogStrategy strategy = SlidingLogStrategy::kLua;  // sliding_log only
  int ttl_windows = 2;  // key TTL = ttl_windows x window (reference/redis.md §1.5)
  LimiterMember member = LimiterMember::kUnique;
  LimiterTimeSource time_source = LimiterTimeSource::kPodClock;
  LimiterScope scope = LimiterScope::kTenant;
  OnRedisError on_redis_error = OnRedisError::kFailOpen;
  std::string key_prefix = "rl";
  bool operator==(const LimiterConfig&) const = default;
};

// Parses a `limit` object: {"requests": int 1..kMaxLimitRequests, "window":
// duration 1ms..30d in whole ms}, both required. nullopt iff an error was recorded.
std::optional<LimitSpec> ParseLimit(const nlohmann::json& value, const std::string& path, ParseErrors& errors);

// Parses a `limiter` section; defaults for absent keys. `strategy` is an error
// unless the algorithm is sliding_log, and `member` too (only the log has members).
LimiterConfig ParseLimiter(const nlohmann::json& value, const std::string& path, ParseErrors& errors);

// The Redis key of one limited identity: "<prefix>:<tenant>" or, with scope
// tenant_route, "<prefix>:<tenant>:<route>". Algorithms may derive further
// keys from it (":<window index>", ":ts").
std::string LimiterKey(const LimiterConfig& config, std::string_view tenant, std::string_view route);

nlohmann::json LimitToJson(const LimitSpec& limit);
nlohmann::json LimiterToJson(const LimiterConfig& config);

}  // namespace scaletwin
