// ShortenerPod: one real pod of the shortener, assembled — storage (SQLite or
// PostgreSQL), the Redis pool with the limiter and the link cache, the
// worker pool, the HTTP server, config hot reload, JSON logs, and the
// Kubernetes-style lifecycle. `scaletwin pod` is a thin wrapper around it;
// tests run it in-process.
//
// Lifecycle:
// - Start: opens the store (migrations run there, idempotently), mirrors the
//   config's tenants into it, creates the Redis pool (no connection yet),
//   starts workers, listens, and returns. /readyz turns 200 once a
//   background check has seen the database and Redis answer.
// - Reload: a ConfigWatcher on the config path (inotify on the directory,
//   polling as the fallback) re-reads it; a valid config is applied
//   (ShortenerService::Apply), an invalid one is logged and ignored, and
//   restart-only keys that changed are logged as ignored.
// - Terminate() (SIGTERM): /readyz fails at once; new connections are still
//   accepted for shutdown.drain_delay (the ingress has not yet seen the pod
//   leave); then the listener closes, idle keep-alive connections close, and
//   every request already accepted is finished. Wait() returns 0 once all
//   connections are gone, or 1 when shutdown.grace_period ran out first or a
//   second Terminate() asked to stop at once (Kubernetes' SIGKILL).
//
//   Result<PodConfig> cfg = LoadPodConfig(path);
//   auto pod = ShortenerPod::Start(*cfg, {.config_path = path});
//   (*pod)->port();          // the bound port (listen port 0 picks one)
//   (*pod)->Terminate();     // from a signal handler thread or a test
//   int code = (*pod)->Wait();
//
// Thread-safety: Terminate, port, ready may be called from any thread; Wait
// from one.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "model/status.h"
#include "real/pod/config_watcher.h"
#include "real/pod/http_server.h"
#include "real/pod/pod_config.h"
#include "real/pod/shortener_service.h"
#include "real/pod/worker_pool.h"
#include "real/redis/redis_connection_pool.h"
#include "real/storage/link_store.h"
#include "real/telemetry/json_log.h"
#include "real/telemetry/metrics_registry.h"

namespace scaletwin {

struct PodStartOptions {
  std::string config_path = {};  // watched for reloads; empty: no reload
  // "IP:PORT" in place of the config's `listen` (scaletwin pod --listen);
  // reloads still compare restart-only keys with the file, not with this.
  std::string listen_override = {};
  int log_fd = 1;                          // where the JSON log lines go (stdout)
  std::function<Nanos()> unix_clock = {};  // tests inject pod clock skew here
  LimiterDecisionObserver on_limiter_decision = {};  // the real harness's auditor feed
};

class ShortenerPod {
 public:
  static Result<std::unique_ptr<ShortenerPod>> Start(const PodConfig& config, PodStartOptions options = {});
  ~ShortenerPod();
  ShortenerPod(const ShortenerPod&) = delete;
  ShortenerPod& operator=(const ShortenerPod&) = delete;

  int port() const { return port_; }
  bool ready() const { return service_->ready(); }
  ShortenerService& service() { return *service_; }
  LinkStore& store() { return *store_; }
  const WorkerPool& workers() const { return *workers_; }
  JsonLogger& log() { return *log_; }

  // SIGTERM: the first call starts the shutdown above; a second one ends it now.
  void Terminate();
  // Blocks until the pod has shut down; its exit code (0 drained, 1 cut short).
  int Wait();

 private:
  explicit ShortenerPod(const PodConfig& config);
  // Shuts down what Start built, in order. REQUIRES: started_.
  int Shutdown(bool cut_short);
  void CheckReadiness();
  void Reload();

  PodConfig config_;  // as last applied from the file (restart-only keys as at start)
  const PodShutdownConfig shutdown_;
  PodStartOptions options_;
  std::unique_ptr<JsonLogger> log_;
  std::unique_ptr<MetricsRegistry> metrics_;
  std::unique_ptr<LinkStore> store_;
  std::unique_ptr<RedisConnectionPool> redis_;
  std::unique_ptr<WorkerPool> workers_;
  std::unique_ptr<ShortenerService> service_;
  std::unique_ptr<boost::asio::io_context> io_;
  // Keeps io_->run() going while every connection waits on a worker (no
  // I/O pending at all), so the workers' answers still get written.
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> io_work_;
  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<ConfigWatcher> watcher_;
  std::vector<std::thread> io_threads_;
  int port_ = 0;
  std::thread readiness_thread_;
  std::mutex reload_mu_;  // one reload at a time; guards config_

  std::mutex mu_;
  std::condition_variable cv_;
  int terminations_ = 0;
  std::chrono::steady_clock::time_point terminated_at_;  // the first Terminate()
  bool started_ = false;                                 // Start() completed; only then is there anything to stop
  bool stopped_ = false;
  int exit_code_ = 0;
};

}  // namespace scaletwin
