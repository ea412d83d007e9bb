#include "real/pod/shortener_service.h"

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>
#include <chrono>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <thread>

#include "model/rng.h"
#include "real/auth/api_key.h"
#include "real/auth/jwt_hs256.h"

namespace scaletwin {

namespace http = boost::beast::http;

namespace {

using SteadyClock = std::chrono::steady_clock;

Nanos Since(SteadyClock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now() - t).count();
}

constexpr std::string_view kLinksPath = "/api/v1/links";
constexpr const char* kJsonType = "application/json";

// Seconds, rounded up and at least 1: what Retry-After and RateLimit-Reset carry.
int64_t CeilSeconds(Nanos d) { return std::max<int64_t>(1, (d + kNanosPerSecond - 1) / kNanosPerSecond); }

// How long a deleted code's cache key stays a tombstone: far longer than a
// redirect takes from its database read to its cache write.
constexpr Nanos kTombstoneTtl = 10 * kNanosPerSecond;

const std::vector<double> kLatencyBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                             0.1,    0.25,  0.5,    1,     2.5,  5,     10};

}  // namespace

struct ShortenerService::Settings {
  uint64_t version = 0;
  std::optional<ApiKeyTable> keys;  // set by BuildSettings
  std::set<std::string> tenants;
  std::map<std::string, LimitSpec, std::less<>> limits;
  std::optional<JwtPolicy> jwt;
  PodWorkConfig work;
  Nanos cache_ttl = 0;
};

// One request in progress: who, which route, and where its time went.
struct ShortenerService::Call {
  std::shared_ptr<const Settings> settings;
  SteadyClock::time_point start = SteadyClock::now();
  std::string request_id;
  std::string route = "other";  // a Route name, or health/ready/metrics/other
  std::optional<Route> limited_route;
  std::string tenant;
  std::string cause;                                         // stable error code of a failed request
  Nanos queue_ns = 0, work_ns = 0, redis_ns = 0, db_ns = 0;  // queue: waiting for a worker
  std::vector<std::pair<std::string, std::string>> extra_headers;
  bool cache_hit = false;
};

namespace {

Result<std::shared_ptr<ShortenerService::Settings>> BuildSettings(const PodConfig& config, uint64_t version) {
  auto s = std::make_shared<ShortenerService::Settings>();
  s->version = version;
  std::vector<std::pair<std::string, std::vector<std::string>>> keys;
  for (const PodTenant& t : config.tenants) {
    keys.emplace_back(t.id, t.api_key_sha256);
    s->tenants.insert(t.id);
    if (t.limit) s->limits.emplace(t.id, *t.limit);
  }
  Result<ApiKeyTable> table = ApiKeyTable::Build(keys);
  if (!table.ok()) return table.status();
  s->keys.emplace(std::move(*table));
  if (config.jwt) {
    Result<std::string> secret = ReadJwtSecretFile(config.jwt->secret_file);
    if (!secret.ok()) return Status::InvalidArgument("auth.jwt.secret_file: " + secret.status().message());
    JwtPolicy p;
    p.secret = std::move(*secret);
    p.algorithm = config.jwt->algorithm;
    p.issuer = config.jwt->issuer;
    p.audience = config.jwt->audience;
    p.tenant_claim = config.jwt->tenant_claim;
    p.leeway_seconds = config.jwt->leeway / kNanosPerSecond;
    p.require_exp = config.jwt->require_exp;
    s->jwt = std::move(p);
  }
  s->work = config.work;
  s->cache_ttl = config.cache.ttl;
  return s;
}

}  // namespace

ShortenerService::ShortenerService(ShortenerServiceDeps deps, const PodConfig& config)
    : deps_(std::move(deps)), pod_(config.pod), public_base_url_(config.public_base_url), cache_(config.cache) {}

ShortenerService::~ShortenerService() = default;

Result<std::unique_ptr<ShortenerService>> ShortenerService::Create(const PodConfig& config, ShortenerServiceDeps deps) {
  if (!deps.store || !deps.metrics || !deps.log) return Status::InvalidArgument("service: missing dependency");
  auto settings = BuildSettings(config, 1);
  if (!settings.ok()) return settings.status();
  std::unique_ptr<ShortenerService> svc(new ShortenerService(std::move(deps), config));
  svc->settings_ = std::move(*settings);
  if (svc->deps_.redis) {
    RedisLimiterOptions lo;
    lo.member_prefix = config.pod;
    lo.clock = svc->deps_.unix_clock;
    svc->limiter_ = std::make_unique<RedisLimiter>(*svc->deps_.redis, config.limiter, lo);
  }
  if (auto level = ParseLogLevel(config.log_level)) svc->deps_.log->set_min_level(*level);
  svc->RegisterMetrics();
  return svc;
}

Status ShortenerService::Apply(const PodConfig& config) {
  auto next = BuildSettings(config, config_version() + 1);
  if (!next.ok()) return next.status();
  std::vector<TenantKeys> tenants;
  for (const PodTenant& t : config.tenants) tenants.push_back({t.id, t.api_key_sha256});
  // New tenants must exist in the database before their first link.
  if (Status s = deps_.store->SyncTenants(tenants); !s.ok()) return s;
  if (limiter_) limiter_->set_config(config.limiter);
  if (auto level = ParseLogLevel(config.log_level)) deps_.log->set_min_level(*level);
  {
    std::lock_guard<std::mutex> lock(settings_mu_);
    settings_ = std::move(*next);
  }
  config_version_->Set(static_cast<double>(config_version()));
  return Status::Ok();
}

uint64_t ShortenerService::config_version() const { return Snapshot()->version; }

std::shared_ptr<const ShortenerService::Settings> ShortenerService::Snapshot() const {
  std::lock_guard<std::mutex> lock(settings_mu_);
  return settings_;
}

uint64_t ShortenerService::CacheEvents(const std::string& event) const {
  return static_cast<uint64_t>(cache_events_->WithLabels({event}).Value());
}

Nanos ShortenerService::Now() const {
  if (deps_.unix_clock) return deps_.unix_clock();
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void ShortenerService::RegisterMetrics() {
  MetricsRegistry& m = *deps_.metrics;
  requests_ = &m.AddCounter("shortener_requests_total", "HTTP requests answered, by tenant, route and status code.",
                            {"tenant", "route", "status"});
  latency_ = &m.AddHistogram("shortener_request_duration_seconds",
                             "Time from a complete request to its answer, by route (queueing for a worker excluded).",
                             {"route"}, kLatencyBuckets);
  part_seconds_ = &m.AddCounter(
      "shortener_request_part_seconds_total",
      "Where request time went: emulated work (the scenario's service time) versus measured Redis and database time.",
      {"part"});
  limiter_decisions_ = &m.AddCounter("shortener_limiter_decisions_total",
                                     "Rate-limiter decisions by tenant and outcome (allowed, refused, redis_error).",
                                     {"tenant", "decision"});
  cache_events_ = &m.AddCounter("shortener_cache_events_total",
                                "Link cache lookups and writes: hit, miss, error (a lookup or click count Redis failed), "
                                "set, set_error (a SET Redis failed or refused, e.g. OOM).", {"event"});
  config_version_ = &m.AddGauge("shortener_config_version",
                                "Configuration generation in force (1 at start, +1 per "
                                "applied reload).",
                                {})
                         .WithLabels({});
  config_version_->Set(1);
  m.AddGauge("process_start_time_seconds", "Start time of the process since the Unix epoch in seconds.", {})
      .WithLabels({})
      .Set(static_cast<double>(Now()) / kNanosPerSecond);
  m.AddGaugeCallback("shortener_ready", "1 when /readyz answers 200.", {}, [this] {
    return MetricSamples{{{}, ready() ? 1.0 : 0.0}};
  });
  if (deps_.workers) {
    WorkerPool* w = deps_.workers;
    m.AddGaugeCallback(
        "shortener_workers", "Request workers by state (busy, idle) and requests waiting for one.", {"state"}, [w] {
          const double busy = static_cast<double>(w->busy());
          return MetricSamples{
              {{"busy"}, busy}, {{"idle"}, w->workers() - busy}, {{"queued"}, static_cast<double>(w->waiting())}};
        });
    m.AddCounterCallback("shortener_queue_rejected_total", "Requests refused with 503 queue_full.", {}, [w] {
      return MetricSamples{{{}, static_cast<double>(w->rejected())}};
    });
  }
  LinkStore* store = deps_.store;
  m.AddGaugeCallback("shortener_db_pool_connections", "Database pool connections by state.", {"state"}, [store] {
    const StoreStats s = store->Stats();
    return MetricSamples{{{"in_use"}, static_cast<double>(s.pool.in_use)},
                         {{"idle"}, static_cast<double>(s.pool.idle)},
                         {{"waiting"}, static_cast<double>(s.pool.waiting)}};
  });
  m.AddCounterCallback("shortener_db_pool_timeouts_total", "Database pool acquires that timed out (pool_timeout).", {},
                       [store] {
                         return MetricSamples{{{}, static_cast<double>(store->Stats().pool.timeouts)}};
                       });
  m.AddCounterCallback("shortener_db_too_many_clients_total",
                       "Connections the database refused because max_connections was reached.", {}, [store] {
                         return MetricSamples{{{}, static_cast<double>(store->Stats().db_too_many_clients)}};
                       });
  if (deps_.redis) {
    RedisConnectionPool* r = deps_.redis;
    m.AddGaugeCallback("shortener_redis_pool_connections", "Redis pool connections by state.", {"state"}, [r] {
      const RedisPoolStats s = r->stats();
      return MetricSamples{{{"in_use"}, static_cast<double>(s.in_use)},
                           {{"idle"}, static_cast<double>(s.idle)},
                           {{"waiting"}, static_cast<double>(s.waiting)}};
    });
    m.AddCounterCallback("shortener_redis_pool_timeouts_total", "Redis pool acquires that timed out.", {}, [r] {
      return MetricSamples{{{}, static_cast<double>(r->stats().timeouts)}};
    });
  }
}

bool ShortenerService::IsInline(const HttpRequest& req) const {
  const std::string_view t(req.target().data(), req.target().size());
  const std::string_view path = t.substr(0, t.find('?'));
  return path == "/healthz" || path == "/readyz" || path == "/metrics";
}

HttpResponse ShortenerService::Handle(const HttpRequest& req, SteadyClock::time_point received) {
  Call call;
  call.start = received;
  call.queue_ns = Since(received);
  call.settings = Snapshot();
  const auto rid = req["X-Request-Id"];
  const std::string_view rid_view(rid.data(), rid.size());
  call.request_id = IsAcceptableRequestId(rid_view) ? std::string(rid_view) : NewRequestId();
  HttpResponse res = Dispatch(call, req);
  Finish(call, req, res);
  return res;
}

HttpResponse ShortenerService::Dispatch(Call& call, const HttpRequest& req) {
  std::string_view target(req.target().data(), req.target().size());
  // Absolute form ("GET http://host/x", RFC 9112 §3.2.2) names the same resource.
  for (std::string_view scheme : {"http://", "https://"}) {
    if (target.substr(0, scheme.size()) == scheme) {
      const size_t slash = target.find('/', scheme.size());
      target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
    }
  }
  if (target.empty() || target.front() != '/')
    return JsonError(call, 400, "bad_request", "the request target must be a path");
  const std::string_view path = target.substr(0, target.find('?'));
  const http::verb method = req.method();
  const bool get = method == http::verb::get || method == http::verb::head;
  auto only = [&](bool allowed, const char* allow) -> std::optional<HttpResponse> {
    if (allowed) return std::nullopt;
    call.extra_headers.emplace_back("Allow", allow);
    return JsonError(call, 405, "method_not_allowed", std::string("allowed: ") + allow);
  };
  if (path == "/healthz") {
    call.route = "healthz";
    if (auto r = only(get, "GET, HEAD")) return *r;
    return Health(call);
  }
  if (path == "/readyz") {
    call.route = "readyz";
    if (auto r = only(get, "GET, HEAD")) return *r;
    return Ready(call);
  }
  if (path == "/metrics") {
    call.route = "metrics";
    if (auto r = only(get, "GET, HEAD")) return *r;
    return Metrics(call);
  }
  if (path == kLinksPath) {
    call.route = RouteName(Route::kCreate);
    if (auto r = only(method == http::verb::post, "POST")) return *r;
    return CreateLink(call, req);
  }
  if (path.size() > kLinksPath.size() + 1 && path.substr(0, kLinksPath.size() + 1) == std::string(kLinksPath) + "/") {
    const std::string_view code = path.substr(kLinksPath.size() + 1);
    if (code.find('/') != std::string_view::npos) return JsonError(call, 404, "not_found", "no such route");
    if (get) {
      call.route = RouteName(Route::kGetLink);
      return GetLink(call, req, code);
    }
    if (method == http::verb::delete_) {
      call.route = RouteName(Route::kDeleteLink);
      return DeleteLink(call, req, code);
    }
    return *only(false, "GET, HEAD, DELETE");
  }
  const std::string_view code = path.substr(1);
  if (code.empty() || code.find('/') != std::string_view::npos || code == "api")
    return JsonError(call, 404, "not_found", "no such route");
  call.route = RouteName(Route::kRedirect);
  if (auto r = only(get, "GET, HEAD")) return *r;
  return Redirect(call, code);
}

HttpResponse ShortenerService::Health(Call& call) { return Json(call, 200, {{"status", "ok"}}); }

HttpResponse ShortenerService::Ready(Call& call) {
  if (!ready()) return JsonError(call, 503, "not_ready", "starting or shutting down");
  return Json(call, 200, {{"status", "ready"}, {"config_version", call.settings->version}});
}

HttpResponse ShortenerService::Metrics(Call& call) {
  HttpResponse res{http::status::ok, 11};
  res.set(http::field::content_type, std::string(kPrometheusTextContentType));
  res.body() = deps_.metrics->Render();
  (void)call;
  return res;
}

std::optional<HttpResponse> ShortenerService::Authenticate(Call& call, const HttpRequest& req) {
  call.extra_headers.emplace_back("WWW-Authenticate", "Bearer");
  const auto header = req[http::field::authorization];
  if (header.empty()) return JsonError(call, 401, "unauthorized", "missing Authorization: Bearer <API key or JWT>");
  std::optional<std::string_view> token = BearerToken(std::string_view(header.data(), header.size()));
  if (!token) return JsonError(call, 401, "unauthorized", "the Authorization header is not \"Bearer <token>\"");
  const Settings& s = *call.settings;
  const bool looks_like_jwt = std::count(token->begin(), token->end(), '.') == 2;
  if (looks_like_jwt && s.jwt) {
    Result<JwtClaims> claims = VerifyJwtHs256(*token, *s.jwt, Now() / kNanosPerSecond);
    if (!claims.ok()) return JsonError(call, 401, "unauthorized", "invalid token: " + claims.status().message());
    if (!s.tenants.count(claims->tenant))
      return JsonError(call, 401, "unauthorized", "the token's tenant is not known to this service");
    call.tenant = claims->tenant;
  } else {
    std::optional<std::string> tenant = s.keys->TenantForKey(*token);
    if (!tenant) return JsonError(call, 401, "unauthorized", "invalid API key");
    call.tenant = std::move(*tenant);
  }
  call.extra_headers.pop_back();  // authenticated: no challenge on the answer
  return std::nullopt;
}

std::optional<HttpResponse> ShortenerService::Admit(Call& call, const HttpRequest& req) {
  if (auto unauthorized = Authenticate(call, req)) return unauthorized;
  return Limit(call);
}

std::optional<HttpResponse> ShortenerService::Limit(Call& call) {
  if (!limiter_ || !call.limited_route) return std::nullopt;
  const auto it = call.settings->limits.find(call.tenant);
  if (it == call.settings->limits.end()) return std::nullopt;
  const LimitSpec& limit = it->second;
  const auto t0 = SteadyClock::now();
  std::string key = LimiterKey(limiter_->config(), call.tenant, RouteName(*call.limited_route));
  Result<Decision> d = limiter_->Decide(key, limit);
  call.redis_ns += Since(t0);
  if (!d.ok()) return JsonError(call, 500, "internal", d.status().message());
  if (deps_.on_limiter_decision) deps_.on_limiter_decision(key, call.tenant, limit, *d);
  const char* outcome = d->redis_error ? "redis_error" : d->allowed ? "allowed" : "refused";
  limiter_decisions_->WithLabels({call.tenant, outcome}).Inc();
  call.extra_headers.emplace_back("RateLimit-Limit", std::to_string(limit.requests));
  call.extra_headers.emplace_back("RateLimit-Remaining", std::to_string(d->allowed ? d->remaining : 0));
  call.extra_headers.emplace_back("RateLimit-Reset", std::to_string(CeilSeconds(d->reset)));
  if (d->allowed) return std::nullopt;
  if (d->redis_error)  // fail_closed
    return JsonError(call, 503, "redis_error", "the rate limiter could not reach Redis: " + d->error);
  call.extra_headers.emplace_back("Retry-After", std::to_string(CeilSeconds(d->retry_after)));
  return JsonError(call, 429, "rate_limited",
                   "tenant " + call.tenant + " is over its limit of " + std::to_string(limit.requests) + " per " +
                       FormatDuration(limit.window));
}

void ShortenerService::EmulateWork(Call& call) {
  const DurationDistribution& dist = call.settings->work.For(call.limited_route.value_or(Route::kRedirect));
  // One stream per worker thread, so draws neither contend nor repeat.
  thread_local std::optional<Rng> rng;
  thread_local uint64_t rng_seed = 0;
  if (!rng || rng_seed != call.settings->work.seed) {
    rng_seed = call.settings->work.seed;
    rng.emplace(rng_seed, "pod-work", work_sequence_.fetch_add(1));
  }
  const Nanos d = dist.Sample(*rng);
  if (d <= 0) return;
  const auto t0 = SteadyClock::now();
  if (call.settings->work.mode == PodWorkConfig::Mode::kSleep) {
    std::this_thread::sleep_for(std::chrono::nanoseconds(d));
  } else {
    while (Since(t0) < d) {
    }
  }
  call.work_ns += Since(t0);
}

HttpResponse ShortenerService::Redirect(Call& call, std::string_view code) {
  call.limited_route = Route::kRedirect;
  std::optional<std::pair<std::string, std::string>> cached = CacheGet(call, code);
  ResolvedLink link;
  if (cached) {
    call.cache_hit = true;
    link.tenant_id = std::move(cached->first);
    link.url = std::move(cached->second);
  } else {
    const Nanos now = Now();
    const auto t0 = SteadyClock::now();
    Result<ResolvedLink> r = deps_.store->Resolve(code, now / kNanosPerMilli);
    call.db_ns += Since(t0);
    if (!r.ok()) return StorageFailure(call, r.status());
    link = std::move(*r);
    // The link's expiry bounds the cache entry; cache.ttl 0 sets none of its own.
    std::optional<Nanos> ttl;
    if (call.settings->cache_ttl > 0) ttl = call.settings->cache_ttl;
    if (link.expires_at) {
      const Nanos left = (*link.expires_at - now / kNanosPerMilli) * kNanosPerMilli;
      ttl = ttl ? std::min(*ttl, left) : left;
    }
    if (!ttl || *ttl > 0) CachePut(call, code, link, ttl);
  }
  call.tenant = link.tenant_id;
  if (auto refused = Limit(call)) return *refused;
  EmulateWork(call);
  if (call.cache_hit) CacheIncrClicks(call, code);
  HttpResponse res{http::status::found, 11};
  res.set(http::field::location, link.url);
  res.set(http::field::cache_control, "private, max-age=0");
  res.set(http::field::content_type, kJsonType);
  res.body() = nlohmann::json{{"url", link.url}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return res;
}

HttpResponse ShortenerService::CreateLink(Call& call, const HttpRequest& req) {
  call.limited_route = Route::kCreate;
  if (auto refused = Admit(call, req)) return *refused;
  // The body is JSON whatever its Content-Type says (`curl -d` sends form-urlencoded).
  nlohmann::json body = nlohmann::json::parse(req.body(), nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object())
    return JsonError(call, 400, "invalid_json", "the body must be a JSON object {\"url\": ...}");
  NewLink link;
  for (auto it = body.begin(); it != body.end(); ++it) {
    const std::string& key = it.key();
    const nlohmann::json& v = it.value();
    if (key == "url" && v.is_string()) {
      link.url = v.get<std::string>();
    } else if (key == "code" && v.is_string()) {
      link.custom_code = v.get<std::string>();
    } else if (key == "ttl" && v.is_string()) {
      Result<Nanos> ttl = ParseDuration(v.get<std::string>());
      if (!ttl.ok()) return JsonError(call, 400, "invalid_argument", "ttl: " + ttl.status().message());
      link.ttl = *ttl;
    } else if (key == "ttl" && v.is_number_integer()) {
      const int64_t seconds = v.get<int64_t>();
      if (seconds <= 0 || seconds > 3650LL * 24 * 3600)
        return JsonError(call, 400, "invalid_argument", "ttl: seconds out of range");
      link.ttl = seconds * kNanosPerSecond;
    } else if (key == "url" || key == "code" || key == "ttl") {
      return JsonError(call, 400, "invalid_argument",
                       key + ": expected a " + (key == "ttl" ? "duration string or whole seconds" : "string"));
    } else {
      return JsonError(call, 400, "invalid_argument", "unknown key \"" + key + "\" (expected url, code, ttl)");
    }
  }
  if (link.url.empty()) return JsonError(call, 400, "invalid_argument", "url is required");
  EmulateWork(call);
  const auto t0 = SteadyClock::now();
  Result<Link> created = deps_.store->CreateLink(call.tenant, link, Now() / kNanosPerMilli);
  call.db_ns += Since(t0);
  if (!created.ok()) return StorageFailure(call, created.status());
  // A deleted link's code can be created again: no cache entry or pending
  // clicks of the old link may survive into the new one.
  CacheForget(call, created->code, /*tombstone=*/false);
  nlohmann::json out = {{"code", created->code},
                        {"short_url", public_base_url_ + "/" + created->code},
                        {"url", created->url},
                        {"created_at", created->created_at}};
  if (created->expires_at) out["expires_at"] = *created->expires_at;
  call.extra_headers.emplace_back("Location", public_base_url_ + "/" + created->code);
  return Json(call, 201, out);
}

HttpResponse ShortenerService::GetLink(Call& call, const HttpRequest& req, std::string_view code) {
  call.limited_route = Route::kGetLink;
  if (auto refused = Admit(call, req)) return *refused;
  EmulateWork(call);
  const auto t0 = SteadyClock::now();
  Result<Link> link = deps_.store->GetLink(call.tenant, code);
  call.db_ns += Since(t0);
  if (!link.ok()) return StorageFailure(call, link.status());
  const UnixMillis now_ms = Now() / kNanosPerMilli;
  nlohmann::json out = {{"code", link->code},
                        {"short_url", public_base_url_ + "/" + link->code},
                        {"url", link->url},
                        {"created_at", link->created_at},
                        {"expired", link->ExpiredAt(now_ms)},
                        {"clicks", link->clicks + CachePendingClicks(call, code)}};
  if (link->expires_at) out["expires_at"] = *link->expires_at;
  return Json(call, 200, out);
}

HttpResponse ShortenerService::DeleteLink(Call& call, const HttpRequest& req, std::string_view code) {
  call.limited_route = Route::kDeleteLink;
  if (auto refused = Admit(call, req)) return *refused;
  EmulateWork(call);
  const auto t0 = SteadyClock::now();
  Status s = deps_.store->DeleteLink(call.tenant, code);
  call.db_ns += Since(t0);
  if (!s.ok()) return StorageFailure(call, s);
  CacheForget(call, code, /*tombstone=*/true);
  HttpResponse res{http::status::no_content, 11};
  return res;
}

HttpResponse ShortenerService::StorageFailure(Call& call, const Status& s) {
  const StorageCause cause = StorageCauseOf(s);
  switch (cause) {
    case StorageCause::kNotFound:
      return JsonError(call, 404, "not_found", "no such link");
    case StorageCause::kConflict:
      return JsonError(call, 409, "code_taken", "that code is already taken");
    case StorageCause::kInvalidArgument:
      return JsonError(call, 400, "invalid_argument", s.message());
    case StorageCause::kPoolTimeout:
      return JsonError(call, 503, "pool_timeout", "no database connection was free in time");
    case StorageCause::kDbTooManyClients:
      return JsonError(call, 503, "db_too_many_clients", "the database refused a connection (max_connections)");
    case StorageCause::kUnavailable:
      return JsonError(call, 503, "unavailable", s.message());
    case StorageCause::kOk:
    case StorageCause::kInternal:
      break;
  }
  return JsonError(call, 500, "internal", s.message());
}

HttpResponse ShortenerService::JsonError(Call& call, unsigned status, std::string_view code, std::string_view message) {
  call.cause = std::string(code);
  return Json(call, status, {{"error", {{"code", code}, {"message", message}}}});
}

HttpResponse ShortenerService::Json(Call& call, unsigned status, const nlohmann::json& body) {
  (void)call;
  HttpResponse res{static_cast<http::status>(status), 11};
  res.set(http::field::content_type, kJsonType);
  res.body() = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return res;
}

HttpResponse ShortenerService::Overloaded(const HttpRequest& req, SteadyClock::time_point received) {
  Call call;
  call.start = received;
  call.settings = Snapshot();
  call.request_id = NewRequestId();
  call.route = "queue";
  call.extra_headers.emplace_back("Retry-After", "1");
  HttpResponse res = JsonError(call, 503, "queue_full", "every worker is busy and the queue is full");
  Finish(call, req, res);
  return res;
}

HttpResponse ShortenerService::Error(unsigned status, const std::string& code, const std::string& message,
                                     unsigned version) {
  Call call;
  call.settings = Snapshot();
  call.request_id = NewRequestId();
  call.route = "bad_request";
  HttpResponse res = JsonError(call, status, code, message);
  res.version(version);
  res.set("X-Request-Id", call.request_id);
  requests_->WithLabels({"", call.route, std::to_string(status)}).Inc();
  if (deps_.log->Enabled(LogLevel::kDebug))  // on the I/O thread: see Finish
    deps_.log->Log(LogLevel::kDebug, "bad request",
                   {{"status", status}, {"cause", code}, {"request_id", call.request_id}, {"error", message}});
  return res;
}

void ShortenerService::Finish(Call& call, const HttpRequest& req, HttpResponse& res) {
  res.version(req.version() == 10 ? 10 : 11);
  res.set("X-Request-Id", call.request_id);
  for (auto& [name, value] : call.extra_headers) res.set(name, value);
  if (req.method() == http::verb::head) {
    res.content_length(res.body().size());
    res.body().clear();
    res.keep_alive(req.keep_alive());
  } else {
    res.keep_alive(req.keep_alive());
  }
  const Nanos latency = Since(call.start);
  const unsigned status = res.result_int();
  requests_->WithLabels({call.tenant, call.route, std::to_string(status)}).Inc();
  latency_->WithLabels({call.route}).Observe(static_cast<double>(latency) / kNanosPerSecond);
  if (call.queue_ns) part_seconds_->WithLabels({"queue"}).Inc(static_cast<double>(call.queue_ns) / kNanosPerSecond);
  if (call.work_ns) part_seconds_->WithLabels({"emulated"}).Inc(static_cast<double>(call.work_ns) / kNanosPerSecond);
  if (call.redis_ns) part_seconds_->WithLabels({"redis"}).Inc(static_cast<double>(call.redis_ns) / kNanosPerSecond);
  if (call.db_ns) part_seconds_->WithLabels({"db"}).Inc(static_cast<double>(call.db_ns) / kNanosPerSecond);
  // Probes, scrapes and queue_full answers run on the I/O thread: logging
  // them at info would let a slow log reader stall every connection under
  // overload. Their counts are in /metrics.
  const bool io_thread =
      call.route == "healthz" || call.route == "readyz" || call.route == "metrics" || call.route == "queue";
  const LogLevel level = io_thread ? LogLevel::kDebug : status >= 500 ? LogLevel::kError : LogLevel::kInfo;
  if (!deps_.log->Enabled(level)) return;
  nlohmann::json fields = {{"tenant", call.tenant},
                           {"route", call.route},
                           {"method", std::string(req.method_string())},
                           {"status", status},
                           {"latency_ms", static_cast<double>(latency) / kNanosPerMilli},
                           {"queue_ms", static_cast<double>(call.queue_ns) / kNanosPerMilli},
                           {"work_ms", static_cast<double>(call.work_ns) / kNanosPerMilli},
                           {"redis_ms", static_cast<double>(call.redis_ns) / kNanosPerMilli},
                           {"db_ms", static_cast<double>(call.db_ns) / kNanosPerMilli},
                           {"request_id", call.request_id}};
  if (!call.cause.empty()) fields["cause"] = call.cause;
  if (call.route == RouteName(Route::kRedirect)) fields["cache"] = call.cache_hit ? "hit" : "miss";
  deps_.log->Log(level, "request", fields);
}

// ---- Cache-aside -----------------------------------------------------------

std::optional<std::pair<std::string, std::string>> ShortenerService::CacheGet(Call& call, std::string_view code) {
  if (!deps_.redis || !cache_.enabled) return std::nullopt;
  const auto t0 = SteadyClock::now();
  std::optional<std::pair<std::string, std::string>> out;
  Result<RedisLease> lease = deps_.redis->Acquire();
  if (lease.ok()) {
    Result<Reply> r = (*lease)->Run(Command{"GET", cache_.key_prefix + ":" + std::string(code)});
    if (r.ok() && r->kind() == Reply::Kind::kBulk) {
      const std::string& v = r->text();
      const size_t nl = v.find('\n');
      if (nl != std::string::npos) out.emplace(v.substr(0, nl), v.substr(nl + 1));
    }
    cache_events_->WithLabels({!r.ok() || r->is_error() ? "error" : out ? "hit" : "miss"}).Inc();
  } else {
    cache_events_->WithLabels({"error"}).Inc();
  }
  call.redis_ns += Since(t0);
  return out;
}

void ShortenerService::CachePut(Call& call, std::string_view code, const ResolvedLink& link, std::optional<Nanos> ttl) {
  if (!deps_.redis || !cache_.enabled) return;
  const auto t0 = SteadyClock::now();
  Result<RedisLease> lease = deps_.redis->Acquire();
  bool ok = false;
  if (lease.ok()) {
    // NX: a DELETE that ran since our database read left a tombstone, and
    // the stale link must not be written back over it.
    Command set{"SET", cache_.key_prefix + ":" + std::string(code), link.tenant_id + "\n" + link.url, "NX"};
    if (ttl) {
      set.args.push_back("PX");
      set.args.push_back(std::to_string(std::max<int64_t>(1, *ttl / kNanosPerMilli)));
    }
    Result<Reply> r = (*lease)->Run(set);
    ok = r.ok() && !r->is_error();
  }
  cache_events_->WithLabels({ok ? "set" : "set_error"}).Inc();
  call.redis_ns += Since(t0);
}

void ShortenerService::CacheIncrClicks(Call& call, std::string_view code) {
  const auto t0 = SteadyClock::now();
  Result<RedisLease> lease = deps_.redis->Acquire();
  bool ok = false;
  if (lease.ok()) {
    Result<Reply> r = (*lease)->Run(Command{"INCR", cache_.key_prefix + ":clicks:" + std::string(code)});
    ok = r.ok() && !r->is_error();
  }
  if (!ok) cache_events_->WithLabels({"error"}).Inc();
  call.redis_ns += Since(t0);
}

int64_t ShortenerService::CachePendingClicks(Call& call, std::string_view code) {
  if (!deps_.redis || !cache_.enabled) return 0;
  const auto t0 = SteadyClock::now();
  int64_t n = 0;
  Result<RedisLease> lease = deps_.redis->Acquire();
  if (lease.ok()) {
    Result<Reply> r = (*lease)->Run(Command{"GET", cache_.key_prefix + ":clicks:" + std::string(code)});
    if (r.ok() && r->kind() == Reply::Kind::kBulk) n = std::strtoll(r->text().c_str(), nullptr, 10);
  }
  call.redis_ns += Since(t0);
  return n;
}

void ShortenerService::CacheForget(Call& call, std::string_view code, bool tombstone) {
  if (!deps_.redis || !cache_.enabled) return;
  const auto t0 = SteadyClock::now();
  Result<RedisLease> lease = deps_.redis->Acquire();
  bool ok = false;
  if (lease.ok()) {
    const std::string c(code);
    const std::string key = cache_.key_prefix + ":" + c;
    std::vector<Command> cmds = {Command{"DEL", cache_.key_prefix + ":clicks:" + c}};
    // The tombstone (an empty value, read as a miss) outlives any redirect
    // that read the row before the delete and is about to cache it.
    cmds.push_back(tombstone ? Command{"SET", key, "", "PX", std::to_string(kTombstoneTtl / kNanosPerMilli)}
                             : Command{"DEL", key});
    Result<std::vector<Reply>> r = (*lease)->Pipeline(cmds);
    ok = r.ok() && !(*r)[0].is_error() && !(*r)[1].is_error();
  }
  if (!ok) cache_events_->WithLabels({"error"}).Inc();
  call.redis_ns += Since(t0);
}

}  // namespace scaletwin
