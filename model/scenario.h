// Scenario: one question about the service, as plain validated data.
//
// A scenario file (JSON, format v1, documented in scenarios/README.md with a
// JSON Schema in scenarios/scenario.schema.json) is parsed once into this
// struct; both worlds run from it. ParseScenario() is strict: unknown keys,
// wrong types and absurd values are errors naming the JSON pointer, so a typo
// never silently changes a run. It is pure: files a scenario names (traces,
// sample files) are read through the caller's FileReader.
//
//   Result<Scenario> s = ParseScenario(doc, reader);
//   if (!s.ok()) { std::cerr << s.status().message(); return 2; }
//
// Sections added by later capabilities (hpa, redis, limiter, database, pools,
// events, compare) plug into kSectionParsers in scenario.cc: one function per
// top-level key.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/connection_pool.h"
#include "model/distribution.h"
#include "model/duration.h"
#include "model/hpa_spec.h"
#include "model/limiter_config.h"
#include "model/metrics_pipeline.h"
#include "model/rate_profile.h"
#include "model/readiness_probe.h"
#include "model/scenario_redis.h"
#include "model/status.h"

namespace scaletwin {

inline constexpr int kScenarioVersion = 1;

// What a request does. The shortener's routes; the mix picks among them.
enum class Route : uint8_t { kRedirect = 0, kCreate, kGetLink, kDeleteLink };
inline constexpr int kRouteCount = 4;
const char* RouteName(Route r);
std::optional<Route> RouteFromName(std::string_view name);

struct Tenant {
  std::string id;
  double weight = 1;
  std::optional<LimitSpec> limit = std::nullopt;  // per window through the Redis limiter; absent: unlimited
};

enum class ArrivalProcess { kPoisson, kUniform, kTrace };

struct TraceArrival {
  Nanos time = 0;
  int tenant = -1;  // index into Scenario::tenants; -1 = draw by weight
  int route = -1;   // Route value; -1 = draw by mix
};

struct Traffic {
  ArrivalProcess arrivals = ArrivalProcess::kPoisson;
  RateProfile profile;                 // poisson and uniform
  std::vector<TraceArrival> trace;     // trace, sorted by time
  double mix[kRouteCount] = {1, 0, 0, 0};  // probabilities, sum 1
};

enum class IngressPolicy { kRoundRobin, kRandom, kLeastRequest, kEwma };
const char* IngressPolicyName(IngressPolicy p);

// proxy_next_upstream: which upstream failures the ingress retries on another
// endpoint, and how many endpoints one request may try in all.
struct RetrySpec {
  int tries = 3;              // proxy-next-upstream-tries (1 = no retry)
  bool on_error = true;       // "error": connect refused/reset (a closed listener, a dead container)
  bool on_timeout = true;     // "timeout": accepted for manifests; the simulator models no proxy timeouts
  bool on_http_503 = false;   // "http_503": the pod answered 503 (queue_full, pool or database failures)
  // nginx never retries a non-idempotent request (POST: the create route) once
  // it was sent upstream; a connect error is retried, the request was not sent.
};

struct IngressSpec {
  IngressPolicy policy = IngressPolicy::kRoundRobin;
  Nanos ewma_decay = 10 * kNanosPerSecond;  // ingress-nginx DECAY_TIME
  // How long an EndpointSlice change (a pod turning Ready, unready or
  // terminating) takes to reach the ingress (platform.md §1.4: 0-5 s).
  DurationDistribution endpoint_propagation = DurationDistribution::Uniform(kNanosPerSecond / 2, 3 * kNanosPerSecond);
  RetrySpec retries;
};

// Pod start-up stages, each a delay drawn per pod (KWOK-style delay + jitter
// is a uniform distribution): created -> scheduled -> image pulled and sandbox
// ready -> container started -> the app answers probes.
struct StartupSpec {
  DurationDistribution schedule = DurationDistribution::Constant(kNanosPerSecond);
  DurationDistribution pull = DurationDistribution::Constant(0);  // cached image
  DurationDistribution start = DurationDistribution::Constant(kNanosPerSecond);
  DurationDistribution boot = DurationDistribution::Constant(2 * kNanosPerSecond);
};

struct TerminationSpec {
  Nanos grace_period = 30 * kNanosPerSecond;  // terminationGracePeriodSeconds
  Nanos pre_stop_sleep = 0;                   // lifecycle.preStop.sleep.seconds
};

struct PodSpec {
  int replicas = 1;
  int workers = 1;
  int64_t queue_limit = -1;  // -1 = unbounded; 0 = no waiting room
  DurationDistribution service_time = DurationDistribution::Constant(10 * kNanosPerMilli);
  // Per-route overrides of service_time (absent = service_time).
  std::optional<DurationDistribution> route_service_time[kRouteCount];
  StartupSpec startup;
  ProbeSpec readiness_probe;       // Kubernetes' defaults: 0 / 10 s / 1 s / 1 / 3
  TerminationSpec termination;
  int64_t cpu_request_milli = 1000;          // resources.requests.cpu
  int64_t cpu_per_busy_worker_milli = 1000;  // CPU a busy worker burns (idle workers burn none)
  // The first `slow_count` pods ever created serve `slow_factor` times slower.
  int slow_count = 0;
  double slow_factor = 1;
  ClockSkewSpec clock_skew;  // each pod's clock against true (and Redis) time
};

// The `hpa` section: a Kubernetes autoscaling/v2 spec, the controller's
// options, and the metrics pipeline it reads through.
struct HpaScenario {
  HpaSpec spec;
  HpaControllerOptions controller;
  MetricsPipelineConfig metrics;
};

// The shortener's cache-aside for code -> URL in Redis (`cache`): a redirect
// GETs its code's key; a miss reads the database (with one) and SETs the key.
// Codes are drawn uniformly from `keys`, so with room for all of them the hit
// ratio climbs to 1 and with maxmemory it settles at the fraction that fits.
struct LinkCacheSpec {
  int64_t keys = 100'000;
  int value_bytes = 300;    // the cached URL
  Nanos ttl = 0;            // 0: no TTL (SET without PX)
  std::string key_prefix = "url";
};

// Disturbances at fixed times (`events`).
enum class PodEventKind { kCrash, kDelete };
struct PodEvent {
  Nanos at = 0;
  PodEventKind kind = PodEventKind::kCrash;
  // Which pod: the oldest or newest running one, or the pod created index-th (0-based).
  enum class Which { kOldest, kNewest, kIndex } which = Which::kOldest;
  int index = 0;
};

// PostgreSQL as the pods see it (present only with a `database` section).
struct DatabaseSpec {
  int max_connections = 100;                 // PostgreSQL's default
  int superuser_reserved_connections = 3;    // PostgreSQL's default: ordinary roles get max - reserved
  int max_active_queries = 8;                // queries executing at once; more wait in FIFO order
  DurationDistribution query_time[kRouteCount];
  // Ordinary (application) connections PostgreSQL accepts.
  int usable_connections() const { return max_connections - superuser_reserved_connections; }
};

// What one request of a route does besides its service time.
struct RouteWork {
  int db_queries = 1;            // queries on one pooled connection, held for all of them
  double cache_hit_ratio = 0;    // fraction served without the database
};

struct Expectation {
  std::string metric;  // dotted path into report.json, e.g. "summary.latency_ms.p99"
  std::optional<double> min, max;
  std::string description;
};

struct Scenario {
  int version = kScenarioVersion;
  std::string name;
  std::string description;
  uint64_t seed = 1;
  Nanos duration = 0;
  Nanos warmup = 0;
  Nanos drain = 60 * kNanosPerSecond;            // after `duration`, in-flight work may finish
  Nanos series_interval = kNanosPerSecond;
  std::vector<Tenant> tenants;
  Traffic traffic;
  IngressSpec ingress;
  PodSpec pods;
  std::optional<DatabaseSpec> database;   // absent: requests never touch a database
  PoolConfig postgres_pool;               // each pod's pool (used with `database`)
  RouteWork routes[kRouteCount];
  std::optional<HpaScenario> hpa;         // absent: the fleet stays at pods.replicas
  // The Redis limiter: on when a tenant has a `limit`. `redis` holds the
  // server, the pods' Redis pools (pools.redis) and the Redis events.
  RedisScenarioSpec redis;
  LimiterConfig limiter;
  bool has_limiter() const;
  std::optional<LinkCacheSpec> cache;     // the redirect route's cache-aside in Redis
  bool uses_redis() const { return has_limiter() || cache.has_value(); }
  std::vector<PodEvent> events;           // sorted by time
  std::vector<Expectation> expect;
  // The document as parsed (after --set overrides), canonical form: hashed for identity.
  nlohmann::json source;
};

// Parses and validates a scenario document.
Result<Scenario> ParseScenario(const nlohmann::json& doc, const FileReader& read_file);

// Applies a `--set` override: `path` is dotted ("pods.workers", "tenants.0.weight"),
// `value` is read as JSON when it parses, else taken as a string. Intermediate
// objects are created; array indexes must exist.
Status ApplyOverride(nlohmann::json& doc, const std::string& path, const std::string& value);

}  // namespace scaletwin
