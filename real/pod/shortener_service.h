// ShortenerService: the shortener's routes — what one pod answers to one
// HTTP request, independent of sockets (HttpServer calls it; so do the
// tests and the request fuzzer, with no network at all).
//
// Routes:
//   POST   /api/v1/links          {"url", "code"?, "ttl"?} -> 201 {"code", "short_url", "url", ...}; 409 code taken
//   GET    /{code}                -> 302 Location; 404 unknown or expired; counts a click
//   GET    /api/v1/links/{code}   -> 200 the link with its click count (owner only)
//   DELETE /api/v1/links/{code}   -> 204 (owner only)
//   GET    /healthz, /readyz, /metrics (Prometheus text)
// Every error is `{"error": {"code", "message"}}` with a stable code (the
// table is in real/pod/README.md); every answer carries X-Request-Id (the
// client's, when acceptable, else a fresh one).
//
// Policy and its order, per request: authenticate (API routes: Bearer API
// key, or a JWT when configured) -> the owner's rate limit (redirects are
// public and charge the link owner, so the owner is looked up first) ->
// emulated work (the route's service-time distribution, slept or spun on
// this worker thread) -> storage. A refused request does no work and
// touches no storage beyond finding the owner.
//
// Cache-aside (Redis, `cache`): a redirect first GETs "<prefix>:<code>" =
// "<tenant>\n<url>"; on a hit the database is not touched at all and the
// click is counted in Redis ("<prefix>:clicks:<code>", INCR), and GET
// /api/v1/links/{code} adds those pending clicks to the stored count. On a
// miss the database resolves the code (counting the click there) and the
// key is SET NX with PX = min(cache.ttl, time until the link expires) (no PX
// when cache.ttl is 0 and the link never expires).
// DELETE drops the clicks key and leaves a 10 s tombstone in the URL key, so
// a redirect that read the row before the delete cannot cache it again. Redis failures on the cache path are not
// errors: a failed GET is a miss, a failed SET is skipped (both counted). Consequence, documented: a redirect refused
// with 429 on a cache miss has already counted its click (the owner is known only from the row that counts it); on a
// hit it has not.
//
// Hot reload: Apply(config) swaps tenants, keys, limits, JWT policy (secret
// file re-read), emulated work, cache TTL, log level and limiter settings
// atomically for requests that start afterwards; a request sees one
// configuration from start to end. An invalid config is refused and the
// running one stays.
//
// Thread-safety: Handle, Apply and the accessors may be called from any
// number of threads at once.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "model/status.h"
#include "real/pod/http_server.h"
#include "real/pod/pod_config.h"
#include "real/redis/redis_connection_pool.h"
#include "real/redis/redis_limiter.h"
#include "real/storage/link_store.h"
#include "real/telemetry/json_log.h"
#include "real/telemetry/metrics_registry.h"

namespace scaletwin {

// One limiter decision as a pod took it: the Redis key, the tenant, the limit
// it was judged against, and the plan's decision (rule_time is what the
// auditor wants). Must be cheap and thread-safe: it runs on worker threads.
using LimiterDecisionObserver =
    std::function<void(const std::string& key, const std::string& tenant, const LimitSpec& limit, const Decision& d)>;

struct ShortenerServiceDeps {
  LinkStore* store = nullptr;            // REQUIRED
  RedisConnectionPool* redis = nullptr;  // null: no limiter, no cache
  MetricsRegistry* metrics = nullptr;    // REQUIRED
  JsonLogger* log = nullptr;             // REQUIRED
  WorkerPool* workers = nullptr;         // for queue and busy gauges; may be null
  std::function<Nanos()> unix_clock;     // Unix ns; empty = system_clock
  // Called with every limiter decision (on the worker thread that took it,
  // after Redis answered): the real harness feeds its auditor from here.
  LimiterDecisionObserver on_limiter_decision;
};

class ShortenerService final : public HttpHandler {
 public:
  // Validates `config` (reads the JWT secret file) and builds the service.
  static Result<std::unique_ptr<ShortenerService>> Create(const PodConfig& config, ShortenerServiceDeps deps);
  ~ShortenerService() override;

  // HttpHandler.
  bool IsInline(const HttpRequest& req) const override;
  HttpResponse Handle(const HttpRequest& req, std::chrono::steady_clock::time_point received) override;
  HttpResponse Overloaded(const HttpRequest& req, std::chrono::steady_clock::time_point received) override;
  HttpResponse Error(unsigned status, const std::string& code, const std::string& message, unsigned version) override;

  // Hot reload (see above). On success the config version goes up by one.
  Status Apply(const PodConfig& config);
  uint64_t config_version() const;

  // /readyz answers 200 iff ready: set once start-up checks passed, cleared
  // for good at SIGTERM.
  void set_ready(bool ready) { ready_.store(ready); }
  bool ready() const { return ready_.load(); }

  RedisLimiter* limiter() { return limiter_.get(); }
  // shortener_cache_events_total{event}: "hit", "miss", "error", "set", "set_error".
  uint64_t CacheEvents(const std::string& event) const;
  // The base of short_url. REQUIRES: called before the first request.
  void set_public_base_url(std::string base) { public_base_url_ = std::move(base); }

  struct Settings;  // one immutable configuration generation

 private:
  ShortenerService(ShortenerServiceDeps deps, const PodConfig& config);
  std::shared_ptr<const Settings> Snapshot() const;
  void RegisterMetrics();

  struct Call;  // one request in progress
  HttpResponse Dispatch(Call& call, const HttpRequest& req);
  HttpResponse Redirect(Call& call, std::string_view code);
  HttpResponse CreateLink(Call& call, const HttpRequest& req);
  HttpResponse GetLink(Call& call, const HttpRequest& req, std::string_view code);
  HttpResponse DeleteLink(Call& call, const HttpRequest& req, std::string_view code);
  HttpResponse Health(Call& call);
  HttpResponse Ready(Call& call);
  HttpResponse Metrics(Call& call);
  // Sets call.tenant from the Authorization header, or returns the 401.
  std::optional<HttpResponse> Authenticate(Call& call, const HttpRequest& req);
  // Charges call.tenant's limit for call.route; the 429 (or 503 with
  // fail_closed) when refused.
  std::optional<HttpResponse> Limit(Call& call);
  // An API route's gate: Authenticate, then Limit; the refusal, if any.
  std::optional<HttpResponse> Admit(Call& call, const HttpRequest& req);
  void EmulateWork(Call& call);
  HttpResponse StorageFailure(Call& call, const Status& s);
  HttpResponse JsonError(Call& call, unsigned status, std::string_view code, std::string_view message);
  HttpResponse Json(Call& call, unsigned status, const nlohmann::json& body);
  void Finish(Call& call, const HttpRequest& req, HttpResponse& res);

  // Cache helpers: each is one Redis round trip; failures are counted, not returned.
  std::optional<std::pair<std::string, std::string>> CacheGet(Call& call, std::string_view code);
  void CachePut(Call& call, std::string_view code, const ResolvedLink& link, std::optional<Nanos> ttl);
  void CacheIncrClicks(Call& call, std::string_view code);
  int64_t CachePendingClicks(Call& call, std::string_view code);
  // Drops the code's cache entry and pending clicks; with `tombstone` the
  // entry becomes a short-lived empty value that CachePut (SET NX) cannot
  // overwrite, so a redirect racing a DELETE does not resurrect the link.
  void CacheForget(Call& call, std::string_view code, bool tombstone);

  Nanos Now() const;

  ShortenerServiceDeps deps_;
  const std::string pod_;
  std::string public_base_url_;
  const PodCacheConfig cache_;
  std::unique_ptr<RedisLimiter> limiter_;
  std::atomic<bool> ready_{false};
  mutable std::mutex settings_mu_;  // guards the pointer, not the value
  std::shared_ptr<const Settings> settings_;
  std::atomic<uint64_t> work_sequence_{0};

  // Hot-path metric families (registered once).
  CounterFamily* requests_ = nullptr;
  HistogramFamily* latency_ = nullptr;
  CounterFamily* part_seconds_ = nullptr;
  CounterFamily* limiter_decisions_ = nullptr;
  CounterFamily* cache_events_ = nullptr;
  Gauge* config_version_ = nullptr;
};

}  // namespace scaletwin
