// PodConfig: the configuration file of one real shortener pod
// (`scaletwin pod --config FILE|DIR`), its parser and what may change while
// the pod runs.
//
// The file is JSON (schema and every default: real/pod/README.md). Every key
// but these has a default, so this much runs a pod:
//
//   { "listen": "127.0.0.1:8080",
//     "storage": { "backend": "sqlite", "path": "links.db" },
//     "redis": { "url": "redis://127.0.0.1:6379" },
//     "tenants": [ { "id": "acme", "api_key_sha256": ["<64 hex>"],
//                    "limit": { "requests": 100, "window": "1s" } } ] }
//
// `limit` and `limiter` are parsed by model/limiter_config.h, and the
// emulated work's distributions by model/distribution.h — the very parsers
// the scenario loader uses — so a harness can copy those sections from a
// scenario unchanged and the real pod decides and works as the simulated one.
//
// Hot reload (Kubernetes ConfigMap style): tenants (keys and limits), the
// limiter section, log.level, work, cache.ttl and auth.jwt (the secret file
// is read again) take effect without a restart. Everything else — listen,
// workers, queue_limit, io_threads, http, storage, redis, codes, pod — is
// restart-only: sockets, thread counts and pools cannot be resized safely
// under live requests. A reload that changes a restart-only key is applied
// for its reloadable parts and logged with the keys that were ignored
// (RestartOnlyChanges).
//
//   Result<PodConfig> cfg = LoadPodConfig("/etc/shortener");   // dir: reads dir/config.json
//   if (!cfg.ok()) { std::cerr << cfg.status().message(); return 2; }
//
// Errors: one line per problem naming its JSON pointer, what was expected and
// what was found (model/json_reader.h); unknown keys are errors.
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "model/distribution.h"
#include "model/duration.h"
#include "model/limiter_config.h"
#include "model/scenario.h"
#include "model/status.h"

namespace scaletwin {

struct PodTenant {
  std::string id;
  std::vector<std::string> api_key_sha256;  // lower-case hex
  std::optional<LimitSpec> limit;           // none: this tenant is not rate limited
};

struct PodHttpConfig {
  int64_t max_header_bytes = 8 * 1024;
  int64_t max_body_bytes = 64 * 1024;
  Nanos read_timeout = 10 * kNanosPerSecond;   // a whole request, headers and body (slow-loris bound)
  Nanos write_timeout = 10 * kNanosPerSecond;  // a whole response
  Nanos idle_timeout = 60 * kNanosPerSecond;   // a keep-alive connection with no request
  int64_t max_connections = 10'000;            // open client connections; more are closed at accept
};

struct PodStorageConfig {
  std::string backend = "sqlite";  // "sqlite" or "postgres"
  std::string path = "links.db";   // sqlite
  std::string url;                 // postgres: a libpq connection string or postgres:// URL
  int pool_size = 4;               // connections (sqlite: to the one file)
  Nanos acquire_timeout = 2 * kNanosPerSecond;
  Nanos connect_timeout = 2 * kNanosPerSecond;  // postgres
};

struct PodRedisConfig {
  bool enabled = true;  // false: no limiter, no cache (every tenant unlimited)
  std::string host = "127.0.0.1";
  int port = 6379;
  int pool_size = 8;
  Nanos acquire_timeout = 100 * kNanosPerMilli;
  Nanos connect_timeout = 1 * kNanosPerSecond;
  Nanos command_timeout = 1 * kNanosPerSecond;
  // Not read from the config file: `scaletwin real` sets it from a scenario's
  // redis.network_delay (RedisEndpoint::added_one_way_delay).
  std::optional<DurationDistribution> added_network_delay = std::nullopt;
};

struct PodCacheConfig {
  bool enabled = true;  // cache-aside code -> URL in Redis
  Nanos ttl = 300 * kNanosPerSecond;
  std::string key_prefix = "url";  // keys "<prefix>:<code>", as the simulator's cache
};

struct PodJwtConfig {
  std::string secret_file;  // Secret-style file holding the HMAC key
  std::string algorithm = "HS256";
  std::optional<std::string> issuer;
  std::optional<std::string> audience;
  std::string tenant_claim = "tenant";
  Nanos leeway = 0;
  bool require_exp = true;  // a token without exp is refused
};

// Emulated work: a service time per route drawn from the scenario's
// distribution, slept or spun on the worker thread, so that a pod on a small
// machine has a bounded, known capacity.
struct PodWorkConfig {
  enum class Mode { kSleep, kSpin };
  Mode mode = Mode::kSleep;
  DurationDistribution service_time;  // default constant 0: no emulated work
  std::optional<DurationDistribution> routes[kRouteCount];
  uint64_t seed = 1;
  const DurationDistribution& For(Route r) const {
    const auto& o = routes[static_cast<int>(r)];
    return o ? *o : service_time;
  }
};

struct PodShutdownConfig {
  Nanos grace_period = 30 * kNanosPerSecond;  // terminationGracePeriodSeconds: then the pod exits regardless
  // After SIGTERM the pod stays unready but keeps accepting for this long,
  // so the ingress has time to stop sending (platform.md §1.5, the
  // termination race); then it stops accepting and drains.
  Nanos drain_delay = 5 * kNanosPerSecond;
};

struct PodConfig {
  std::string pod;  // name in logs and metrics; default $POD_NAME, else the hostname
  std::string listen_host = "127.0.0.1";
  int listen_port = 8080;       // 0: any free port (tests)
  std::string public_base_url;  // base of short_url; empty: "http://<listen host>:<bound port>"
  int workers = 4;              // request handler threads (the simulator's pods.workers)
  int64_t queue_limit = 1024;   // requests waiting for a worker; more get 503 queue_full
  int io_threads = 1;
  PodHttpConfig http;
  PodStorageConfig storage;
  PodRedisConfig redis;
  LimiterConfig limiter;
  PodCacheConfig cache;
  std::vector<PodTenant> tenants;
  std::optional<PodJwtConfig> jwt;
  int code_length = 7;
  PodWorkConfig work;
  std::string log_level = "info";
  PodShutdownConfig shutdown;
  Nanos reload_poll_interval = 1 * kNanosPerSecond;
};

// Parses a config document. `base_dir` resolves relative paths (sqlite path,
// jwt secret file, empirical distribution files).
Result<PodConfig> ParsePodConfig(const nlohmann::json& doc, const std::string& base_dir);

// Reads and parses `path`: a file, or a directory holding config.json (a
// mounted ConfigMap: config.json -> ..data/config.json).
Result<PodConfig> LoadPodConfig(const std::string& path);

// The file LoadPodConfig reads for `path`.
std::string PodConfigFile(const std::string& path);

// The restart-only keys (top-level names, as in the file) that differ
// between `running` and `next`; empty when a reload can apply all of `next`.
std::vector<std::string> RestartOnlyChanges(const PodConfig& running, const PodConfig& next);

// Parses a listen address "IP:PORT" or "[IPv6]:PORT" (port 0..65535; 0 picks
// a free port). False when it is not one.
bool ParseListenAddress(const std::string& text, std::string& host, int& port);

// Parses "redis://host:port[/db]" (db 0 only). InvalidArgument otherwise.
Status ParseRedisUrl(const std::string& url, std::string& host, int& port);

}  // namespace scaletwin
