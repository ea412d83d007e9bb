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
#include "model/rate_profile.h"
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

struct IngressSpec {
  IngressPolicy policy = IngressPolicy::kRoundRobin;
  Nanos ewma_decay = 10 * kNanosPerSecond;  // ingress-nginx DECAY_TIME
};

struct PodSpec {
  int replicas = 1;
  int workers = 1;
  int64_t queue_limit = -1;  // -1 = unbounded; 0 = no waiting room
  DurationDistribution service_time = DurationDistribution::Constant(10 * kNanosPerMilli);
  // Per-route overrides of service_time (absent = service_time).
  std::optional<DurationDistribution> route_service_time[kRouteCount];
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
