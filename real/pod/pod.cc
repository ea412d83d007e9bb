#include "real/pod/pod.h"

#include <chrono>

#include "real/storage/postgres_link_store.h"
#include "real/storage/sqlite_link_store.h"

namespace scaletwin {

namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr auto kReadinessRetry = std::chrono::milliseconds(200);
constexpr auto kDrainPoll = std::chrono::milliseconds(10);

Result<std::unique_ptr<LinkStore>> OpenStore(const PodConfig& c) {
  LinkStoreOptions options;
  options.code_length = c.code_length;
  if (c.storage.backend == "postgres") {
    PgPoolOptions pool;
    pool.conninfo = c.storage.url;
    pool.size = c.storage.pool_size;
    pool.acquire_timeout = c.storage.acquire_timeout;
    pool.connect_timeout = c.storage.connect_timeout;
    auto store = PostgresLinkStore::Open(pool, options);
    if (!store.ok()) return store.status();
    return std::unique_ptr<LinkStore>(std::move(*store));
  }
  SqliteStoreOptions db;
  db.path = c.storage.path;
  db.connections = c.storage.pool_size;
  db.acquire_timeout = c.storage.acquire_timeout;
  auto store = SqliteLinkStore::Open(db, options);
  if (!store.ok()) return store.status();
  return std::unique_ptr<LinkStore>(std::move(*store));
}

nlohmann::json StringList(const std::vector<std::string>& v) { return nlohmann::json(v); }

}  // namespace

ShortenerPod::ShortenerPod(const PodConfig& config) : config_(config), shutdown_(config.shutdown) {}

Result<std::unique_ptr<ShortenerPod>> ShortenerPod::Start(const PodConfig& config, PodStartOptions options) {
  std::unique_ptr<ShortenerPod> pod(new ShortenerPod(config));
  pod->options_ = options;
  JsonLoggerOptions lo;
  lo.pod = config.pod;
  lo.fd = options.log_fd;
  lo.min_level = ParseLogLevel(config.log_level).value_or(LogLevel::kInfo);
  pod->log_ = std::make_unique<JsonLogger>(std::move(lo));
  pod->metrics_ = std::make_unique<MetricsRegistry>();

  auto store = OpenStore(config);
  if (!store.ok()) return Status(store.status().code(), "storage: " + store.status().message());
  pod->store_ = std::move(*store);
  std::vector<TenantKeys> tenants;
  for (const PodTenant& t : config.tenants) tenants.push_back({t.id, t.api_key_sha256});
  if (Status s = pod->store_->SyncTenants(tenants); !s.ok())
    return Status(s.code(), "storage: mirroring the tenants: " + s.message());

  if (config.redis.enabled) {
    RedisPoolOptions ro;
    ro.endpoint.host = config.redis.host;
    ro.endpoint.port = config.redis.port;
    ro.endpoint.connect_timeout = config.redis.connect_timeout;
    ro.endpoint.command_timeout = config.redis.command_timeout;
    ro.endpoint.added_one_way_delay = config.redis.added_network_delay;
    ro.endpoint.delay_seed = config.work.seed;
    ro.size = config.redis.pool_size;
    ro.acquire_timeout = config.redis.acquire_timeout;
    auto pool = RedisConnectionPool::Create(ro);
    if (!pool.ok()) return Status(pool.status().code(), "redis: " + pool.status().message());
    pod->redis_ = std::move(*pool);
  }

  pod->workers_ = std::make_unique<WorkerPool>(config.workers, config.queue_limit);
  ShortenerServiceDeps deps;
  deps.store = pod->store_.get();
  deps.redis = pod->redis_.get();
  deps.metrics = pod->metrics_.get();
  deps.log = pod->log_.get();
  deps.workers = pod->workers_.get();
  deps.unix_clock = options.unix_clock;
  deps.on_limiter_decision = options.on_limiter_decision;
  auto service = ShortenerService::Create(config, deps);
  if (!service.ok()) return service.status();
  pod->service_ = std::move(*service);

  pod->io_ = std::make_unique<boost::asio::io_context>(config.io_threads);
  pod->io_work_.emplace(pod->io_->get_executor());
  HttpServerOptions ho;
  ho.max_header_bytes = config.http.max_header_bytes;
  ho.max_body_bytes = config.http.max_body_bytes;
  ho.read_timeout = config.http.read_timeout;
  ho.write_timeout = config.http.write_timeout;
  ho.idle_timeout = config.http.idle_timeout;
  ho.max_connections = config.http.max_connections;
  pod->server_ = std::make_unique<HttpServer>(*pod->io_, *pod->service_, *pod->workers_, ho);
  std::string host = config.listen_host;
  int port = config.listen_port;
  if (!options.listen_override.empty() && !ParseListenAddress(options.listen_override, host, port))
    return Status::InvalidArgument("listen: expected IP:PORT or [IPv6]:PORT, found " + options.listen_override);
  if (Status s = pod->server_->Listen(host, port); !s.ok()) return s;
  pod->port_ = pod->server_->port();
  if (config.public_base_url.empty()) {
    const bool v6 = host.find(':') != std::string::npos;
    pod->service_->set_public_base_url("http://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(pod->port_));
  }
  pod->server_->Start();
  for (int i = 0; i < config.io_threads; ++i) pod->io_threads_.emplace_back([io = pod->io_.get()] { io->run(); });

  if (!options.config_path.empty()) {
    ConfigWatcherOptions wo;
    wo.path = PodConfigFile(options.config_path);
    wo.poll_interval = config.reload_poll_interval;
    pod->watcher_ = std::make_unique<ConfigWatcher>(wo, [p = pod.get()] { p->Reload(); });
    if (Status s = pod->watcher_->Start(); !s.ok()) pod->log_->Warn("config reload disabled", {{"error", s.message()}});
  }
  pod->readiness_thread_ = std::thread([p = pod.get()] { p->CheckReadiness(); });
  pod->started_ = true;
  pod->log_->Info("listening", {{"port", pod->port()},
                                {"storage", pod->store_->backend()},
                                {"redis", config.redis.enabled},
                                {"workers", config.workers},
                                {"queue_limit", config.queue_limit},
                                {"config_version", pod->service_->config_version()}});
  return pod;
}

ShortenerPod::~ShortenerPod() {
  if (!started_) return;  // a failed Start: members clean up after themselves
  Terminate();
  Terminate();
  Wait();
}

void ShortenerPod::CheckReadiness() {
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (terminations_ > 0) return;
    }
    Status db = store_->Ping();
    Status redis = Status::Ok();
    if (redis_) {
      Result<RedisLease> lease = redis_->Acquire();
      if (!lease.ok()) {
        redis = lease.status();
      } else {
        Result<Reply> r = (*lease)->Run(Command{"PING"});
        if (!r.ok())
          redis = r.status();
        else if (r->is_error())
          redis = Status::IOError(r->text());
      }
    }
    std::unique_lock<std::mutex> lock(mu_);
    if (terminations_ > 0) return;
    if (db.ok() && redis.ok()) {
      service_->set_ready(true);
      log_->Info("ready");
      return;
    }
    log_->Warn("not ready", {{"db", db.ok() ? "ok" : db.message()}, {"redis", redis.ok() ? "ok" : redis.message()}});
    cv_.wait_for(lock, kReadinessRetry, [this] { return terminations_ > 0; });
  }
}

void ShortenerPod::Reload() {
  std::lock_guard<std::mutex> lock(reload_mu_);
  Result<PodConfig> next = LoadPodConfig(options_.config_path);
  if (!next.ok()) {
    log_->Error("config rejected; the running config stays", {{"error", next.status().message()}});
    return;
  }
  if (Status s = service_->Apply(*next); !s.ok()) {
    log_->Error("config rejected; the running config stays", {{"error", s.message()}});
    return;
  }
  std::vector<std::string> ignored = RestartOnlyChanges(config_, *next);
  if (!ignored.empty())
    log_->Warn("config keys changed that take effect only after a restart", {{"keys", StringList(ignored)}});
  // Keep the running values of restart-only keys, so the warning repeats
  // only for further changes.
  PodConfig applied = *next;
  applied.pod = config_.pod;
  applied.listen_host = config_.listen_host;
  applied.listen_port = config_.listen_port;
  applied.public_base_url = config_.public_base_url;
  applied.workers = config_.workers;
  applied.queue_limit = config_.queue_limit;
  applied.io_threads = config_.io_threads;
  applied.http = config_.http;
  applied.storage = config_.storage;
  applied.redis = config_.redis;
  applied.cache.enabled = config_.cache.enabled;
  applied.cache.key_prefix = config_.cache.key_prefix;
  applied.code_length = config_.code_length;
  applied.shutdown = config_.shutdown;
  config_ = std::move(applied);
  log_->Info("config applied", {{"config_version", service_->config_version()}});
}

void ShortenerPod::Terminate() {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopped_) return;
  ++terminations_;
  if (terminations_ == 1) {
    terminated_at_ = SteadyClock::now();
    service_->set_ready(false);
    log_->Info("SIGTERM: not ready; draining", {{"drain_delay_ms", shutdown_.drain_delay / kNanosPerMilli},
                                                {"grace_period_ms", shutdown_.grace_period / kNanosPerMilli}});
  } else if (terminations_ == 2) {
    log_->Warn("second SIGTERM: stopping now");
  }
  cv_.notify_all();
}

int ShortenerPod::Wait() {
  std::unique_lock<std::mutex> lock(mu_);
  if (stopped_) return exit_code_;
  cv_.wait(lock, [this] { return terminations_ > 0; });
  // Both clocks run from the signal, not from when Wait noticed it.
  const auto drain_at = terminated_at_ + std::chrono::nanoseconds(shutdown_.drain_delay);
  const auto kill_at = terminated_at_ + std::chrono::nanoseconds(shutdown_.grace_period);
  cv_.wait_until(lock, drain_at, [this] { return terminations_ > 1; });
  lock.unlock();
  server_->StopAccepting();
  bool cut_short = false;
  for (;;) {
    lock.lock();
    const bool forced = terminations_ > 1;
    lock.unlock();
    if (server_->active() == 0) break;
    if (forced || SteadyClock::now() >= kill_at) {
      cut_short = true;
      break;
    }
    std::this_thread::sleep_for(kDrainPoll);
  }
  return Shutdown(cut_short);
}

int ShortenerPod::Shutdown(bool cut_short) {
  if (cut_short) log_->Error("grace period over: stopping with connections open", {{"connections", server_->active()}});
  if (watcher_) watcher_->Stop();
  if (readiness_thread_.joinable()) readiness_thread_.join();
  io_work_.reset();
  io_->stop();
  for (auto& t : io_threads_) t.join();
  io_threads_.clear();
  // Cut short, queued requests are dropped: their answers could not be written.
  if (cut_short)
    workers_->Abandon();
  else
    workers_->Stop();
  server_.reset();
  io_.reset();  // destroys what was still queued (open sessions when cut short)
  std::lock_guard<std::mutex> lock(mu_);
  stopped_ = true;
  exit_code_ = cut_short ? 1 : 0;
  log_->Info("stopped", {{"exit_code", exit_code_}});
  return exit_code_;
}

}  // namespace scaletwin
