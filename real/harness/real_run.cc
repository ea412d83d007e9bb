// The real world's run of a scenario: Redis, pods, trace, outcomes, audit.
#include "real/harness/real_run.h"

#include <fcntl.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include "model/arrivals.h"
#include "model/limiter_auditor.h"
#include "model/load_balancer.h"
#include "model/rng.h"
#include "model/scenario_redis.h"
#include "real/auth/api_key.h"
#include "real/harness/load_generator.h"
#include "real/harness/redis_process.h"
#include "real/harness/run_recorder.h"
#include "real/pod/pod.h"
#include "real/redis/redis_connection.h"
#include "real/storage/api_key_hash.h"

namespace scaletwin {

namespace {

using SteadyClock = std::chrono::steady_clock;

// Codes per tenant when redirects need links but the scenario has no cache
// (and so no `cache.keys`): enough that no single row is hot.
constexpr int64_t kCodesPerTenantWithoutCache = 64;
constexpr Nanos kLevelSamplePeriod = 100 * kNanosPerMilli;
constexpr Nanos kPodReadyTimeout = 15 * kNanosPerSecond;

Nanos UnixNow() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// ---- what the trace asks for -------------------------------------------

// The links the trace's redirects and reads refer to. Tenant t owns the
// contiguous code range [first[t], first[t] + count[t]) of the scenario's
// `cache.keys` (split by weight, as the simulator draws codes uniformly over
// all keys), so the cache's key space matches the simulator's.
struct LinkSpace {
  std::vector<int64_t> first, count;
  static std::string Code(int64_t index) { return "lnk" + std::to_string(index); }
};

LinkSpace MakeLinkSpace(const Scenario& s) {
  LinkSpace space;
  double weights = 0;
  for (const Tenant& t : s.tenants) weights += t.weight;
  int64_t next = 0;
  for (const Tenant& t : s.tenants) {
    const int64_t n =
        s.cache ? std::max<int64_t>(1, static_cast<int64_t>(static_cast<double>(s.cache->keys) * t.weight / weights))
                : kCodesPerTenantWithoutCache;
    space.first.push_back(next);
    space.count.push_back(n);
    next += n;
  }
  return space;
}

struct TraceRequest {
  Arrival arrival;
  std::string code;  // redirect, get_link, delete_link
};

struct Trace {
  std::vector<TraceRequest> requests;
  // Links to create before the trace starts: (tenant index, code).
  std::vector<std::pair<uint32_t, std::string>> links;
};

Trace MakeTrace(const Scenario& s, const LinkSpace& space) {
  Trace trace;
  ArrivalGenerator gen(s);
  Rng codes(s.seed, "real-links");
  std::vector<uint8_t> used;
  int64_t deletes = 0;
  for (Arrival a; gen.Next(&a);) {
    if (a.time >= s.duration) break;
    TraceRequest r{a, ""};
    if (a.route == Route::kRedirect || a.route == Route::kGetLink) {
      const int64_t index = space.first[a.tenant] +
                            std::min(space.count[a.tenant] - 1,
                                     static_cast<int64_t>(codes.Uniform01() * static_cast<double>(space.count[a.tenant])));
      if (static_cast<size_t>(index) >= used.size()) used.resize(static_cast<size_t>(index) + 1, 0);
      if (!used[static_cast<size_t>(index)]) {
        used[static_cast<size_t>(index)] = 1;
        trace.links.emplace_back(a.tenant, LinkSpace::Code(index));
      }
      r.code = LinkSpace::Code(index);
    } else if (a.route == Route::kDeleteLink) {
      // Each delete removes a link of its own, so no redirect ever finds its link gone.
      r.code = "del" + std::to_string(deletes++);
      trace.links.emplace_back(a.tenant, r.code);
    }
    trace.requests.push_back(std::move(r));
  }
  return trace;
}

// ---- outcomes -----------------------------------------------------------

struct Classified {
  std::optional<FailureCause> failure;
  std::string unexpected;  // "" = completed or a known failure; else what was seen
};

// The answer as the report counts it: the pod's stable error codes map onto
// the failure causes; anything else is unexpected and reported as such.
Classified Classify(const RequestOutcome& o) {
  if (o.transport == LoadTransport::kConnectRefused) return {FailureCause::kUpstreamConnectError, ""};
  if (o.transport != LoadTransport::kOk) return {std::nullopt, LoadTransportName(o.transport)};
  if (o.status >= 200 && o.status < 400) return {};
  if (o.status == 429) return {FailureCause::kRateLimited, ""};
  if (o.status == 503) {
    static const std::map<std::string, FailureCause> kCauses = {
        {"queue_full", FailureCause::kQueueFull},
        {"redis_error", FailureCause::kRedisError},
        {"pool_timeout", FailureCause::kPoolTimeout},
        {"db_too_many_clients", FailureCause::kDbTooManyClients},
    };
    if (auto it = kCauses.find(o.error_code); it != kCauses.end()) return {it->second, ""};
  }
  return {std::nullopt, std::to_string(o.status) + (o.error_code.empty() ? "" : " " + o.error_code)};
}

// ---- Redis's own counters --------------------------------------------------

std::map<std::string, std::string> RedisInfo(const RedisProcess& redis) {
  std::map<std::string, std::string> info;
  Result<std::unique_ptr<RedisConnection>> conn = RedisConnection::Open({.host = redis.host(), .port = redis.port()});
  if (!conn.ok()) return info;
  Result<Reply> r = (*conn)->Run({"INFO", "everything"});
  if (!r.ok() || r->kind() != Reply::Kind::kBulk) return info;
  std::istringstream in(r->text());
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const size_t colon = line.find(':');
    if (line.empty() || line[0] == '#' || colon == std::string::npos) continue;
    info[line.substr(0, colon)] = line.substr(colon + 1);
  }
  return info;
}

int64_t InfoInt(const std::map<std::string, std::string>& info, const std::string& key) {
  auto it = info.find(key);
  return it == info.end() ? 0 : std::strtoll(it->second.c_str(), nullptr, 10);
}

// Keys in db0 ("db0:keys=12,expires=3,avg_ttl=0").
int64_t InfoKeys(const std::map<std::string, std::string>& info) {
  auto it = info.find("db0");
  if (it == info.end()) return 0;
  return std::strtoll(it->second.c_str() + (it->second.rfind("keys=", 0) == 0 ? 5 : 0), nullptr, 10);
}

// ---- the pods --------------------------------------------------------------

// True iff the scenario file itself sets section.key (not a default).
bool ScenarioSets(const Scenario& s, const char* section, const char* key) {
  auto it = s.source.find(section);
  return it != s.source.end() && it->is_object() && it->contains(key);
}

PodConfig MakePodConfig(const Scenario& s, uint32_t index, const std::string& db_path, const RedisProcess* redis,
                        const std::vector<PodTenant>& tenants) {
  PodConfig c;
  c.pod = "pod-" + std::to_string(index);
  c.listen_host = "127.0.0.1";
  c.listen_port = 0;
  c.workers = s.pods.workers;
  c.queue_limit = s.pods.queue_limit < 0 ? 1'000'000 : s.pods.queue_limit;
  c.storage.backend = "sqlite";
  c.storage.path = db_path;
  c.redis.enabled = redis != nullptr;
  if (redis) {
    c.redis.host = redis->host();
    c.redis.port = redis->port();
    c.redis.pool_size = s.redis.client.pool.size;
    c.redis.acquire_timeout = s.redis.client.pool.acquire_timeout;
    c.redis.command_timeout = s.redis.client.command_timeout > 0 ? s.redis.client.command_timeout : 60 * kNanosPerSecond;
    // A network the scenario names is emulated on top of loopback's own
    // (~25 µs each way); the default delay describes loopback itself.
    if (ScenarioSets(s, "redis", "network_delay")) c.redis.added_network_delay = s.redis.network_delay;
  }
  c.limiter = s.limiter;
  c.cache.enabled = s.cache.has_value();
  if (s.cache) {
    c.cache.ttl = s.cache->ttl;
    c.cache.key_prefix = s.cache->key_prefix;
  }
  c.tenants = tenants;
  c.work.mode = PodWorkConfig::Mode::kSleep;
  c.work.service_time = s.pods.service_time;
  for (int r = 0; r < kRouteCount; ++r) c.work.routes[r] = s.pods.route_service_time[r];
  c.work.seed = s.seed * 1000 + index;
  c.log_level = "info";
  // The harness stops pods only after every answer is in: nothing to drain.
  c.shutdown.drain_delay = 0;
  c.shutdown.grace_period = 10 * kNanosPerSecond;
  return c;
}

// Records every limiter decision the pods take, for the auditor.
class DecisionLog {
 public:
  struct Entry {
    std::string key, tenant;
    LimitSpec limit;
    Nanos rule_time;
    bool allowed;
  };
  void Add(const std::string& key, const std::string& tenant, const LimitSpec& limit, const Decision& d) {
    std::lock_guard lock(mu_);
    entries_.push_back({key, tenant, limit, d.rule_time, d.allowed});
  }
  std::vector<Entry> Take() {
    std::lock_guard lock(mu_);
    return std::move(entries_);
  }

 private:
  std::mutex mu_;
  std::vector<Entry> entries_;
};

// A thread that runs `body(stop)` and is stopped and joined on destruction.
class BackgroundTask {
 public:
  template <typename F>
  explicit BackgroundTask(F body) : thread_([this, body] { body(*this); }) {}
  ~BackgroundTask() { Stop(); }
  // Sleeps until `deadline` or Stop(); false when stopped.
  bool SleepUntil(SteadyClock::time_point deadline) {
    std::unique_lock lock(mu_);
    return !cv_.wait_until(lock, deadline, [this] { return stop_; });
  }
  void Stop() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;  // last: starts after the members it uses exist
};

std::string MachineLine() {
  utsname u{};
  uname(&u);
  char host[256] = "unknown";
  gethostname(host, sizeof host - 1);
  return std::string(host) + ", " + u.sysname + " " + u.release + " " + u.machine + ", " +
         std::to_string(sysconf(_SC_NPROCESSORS_ONLN)) + " cores";
}

// Scenario settings the real run reproduces by emulation rather than for real.
std::vector<std::string> Emulated(const Scenario& s) {
  std::vector<std::string> out;
  if (s.uses_redis() && ScenarioSets(s, "redis", "network_delay"))
    out.push_back("redis.network_delay (slept by the pods' Redis clients before each round trip's write and after "
                  "its replies, on top of loopback's own)");
  return out;
}

// Scenario settings present in the file that only the simulator models.
std::vector<std::string> NotApplied(const Scenario& s) {
  std::vector<std::string> out;
  if (ScenarioSets(s, "redis", "service_time"))
    out.push_back("redis.service_time (the real server's own, measured, not modelled)");
  for (const char* key : {"retries", "endpoint_propagation"})
    if (ScenarioSets(s, "ingress", key))
      out.push_back(std::string("ingress.") + key + " (the fleet is fixed and always Ready)");
  for (const char* key : {"startup", "readiness_probe", "termination", "cpu_request", "cpu_per_busy_worker"})
    if (ScenarioSets(s, "pods", key))
      out.push_back(std::string("pods.") + key + " (pods start before the trace and stop after it)");
  return out;
}

}  // namespace

Status CheckRealSupport(const Scenario& s) {
  std::vector<std::string> problems;
  if (s.hpa) problems.push_back("/hpa: the HPA needs the cluster harness; a real run keeps pods.replicas pods");
  if (s.database) problems.push_back("/database: real pods use SQLite; the PostgreSQL model is simulator-only for now");
  if (!s.events.empty()) problems.push_back("/events: pod crash/delete events need the cluster harness");
  if (s.pods.slow_count > 0) problems.push_back("/pods/slow_pods: slow pods are simulator-only");
  if (s.traffic.arrivals == ArrivalProcess::kTrace && s.traffic.trace.empty())
    problems.push_back("/traffic/trace: an empty trace gives nothing to replay");
  if (static_cast<int64_t>(s.pods.replicas) * s.pods.workers > 4096)
    problems.push_back("/pods: replicas x workers is " + std::to_string(int64_t{s.pods.replicas} * s.pods.workers) +
                       " threads; a real run on one machine allows at most 4096");
  if (problems.empty()) return Status::Ok();
  std::string msg = "this scenario cannot run in the real world yet:";
  for (const std::string& p : problems) msg += "\n  " + p;
  return Status::InvalidArgument(msg);
}

Result<RunResult> RunReal(const Scenario& scenario, const RealRunOptions& options) {
  if (Status s = CheckRealSupport(scenario); !s.ok()) return s;
  auto note = [&](const std::string& line) {
    if (options.note) options.note(line);
  };
  auto interrupted = [&] { return options.interrupt && options.interrupt->load(); };
  const Status kInterruptedInSetUp = Status::Cancelled("interrupted while setting up, before the trace started");

  // Work directory.
  std::string dir = options.work_dir;
  bool remove_dir = false;
  if (dir.empty()) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "scaletwin-real-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) return Status::IOError("cannot create a temporary directory");
    dir = tmpl;
    remove_dir = !options.keep_work_dir;
  } else {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return Status::IOError("cannot create " + dir + ": " + ec.message());
  }
  struct DirGuard {
    std::string dir;
    bool remove;
    ~DirGuard() {
      std::error_code ec;
      if (remove) std::filesystem::remove_all(dir, ec);
    }
  } dir_guard{dir, remove_dir};
  const std::string db_path = dir + "/links.db";
  std::error_code stale;
  std::filesystem::remove(db_path, stale);  // a previous run's links would collide with ours
  if (stale) return Status::IOError("cannot remove the previous run's " + db_path + ": " + stale.message());

  // Redis.
  std::unique_ptr<RedisProcess> redis;
  if (scenario.uses_redis()) {
    note("starting redis-server");
    Result<std::unique_ptr<RedisProcess>> started =
        RedisProcess::Start({.binary = options.redis_binary, .config_args = RedisServerArgs(scenario.redis),
                             .keep_dir = options.keep_work_dir, .parent_dir = dir});
    if (!started.ok()) return started.status();
    redis = std::move(*started);
  }
  if (interrupted()) return kInterruptedInSetUp;

  // Tenants and their API keys.
  std::vector<PodTenant> tenants;
  std::vector<std::string> bearer;
  for (const Tenant& t : scenario.tenants) {
    Result<std::string> key = NewApiKey();
    if (!key.ok()) return key.status();
    tenants.push_back({t.id, {ApiKeySha256Hex(*key)}, t.limit});
    bearer.push_back("Bearer " + *key);
  }

  const LinkSpace space = MakeLinkSpace(scenario);
  Trace trace = MakeTrace(scenario, space);

  // Pods: the first creates the schema, then the links are seeded through it.
  const int log_fd = open((dir + "/pods.log").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) return Status::IOError("cannot open " + dir + "/pods.log");
  struct FdGuard {
    int fd;
    ~FdGuard() { close(fd); }
  } log_guard{log_fd};
  DecisionLog decisions;
  std::vector<std::unique_ptr<ShortenerPod>> pods;
  struct PodsGuard {
    std::vector<std::unique_ptr<ShortenerPod>>& pods;
    ~PodsGuard() {
      for (auto& p : pods) p->Terminate();
      for (auto& p : pods) p->Wait();
    }
  } pods_guard{pods};
  std::vector<Nanos> skews;
  note("starting " + std::to_string(scenario.pods.replicas) + " pods");
  for (uint32_t i = 0; i < static_cast<uint32_t>(scenario.pods.replicas); ++i) {
    const Nanos skew = ClockSkewForPod(scenario.pods.clock_skew, scenario.seed, i);
    skews.push_back(skew);
    PodStartOptions start;
    start.log_fd = log_fd;
    start.unix_clock = [skew] { return UnixNow() + skew; };
    start.on_limiter_decision = [&decisions](const std::string& key, const std::string& tenant, const LimitSpec& limit,
                                             const Decision& d) { decisions.Add(key, tenant, limit, d); };
    Result<std::unique_ptr<ShortenerPod>> pod =
        ShortenerPod::Start(MakePodConfig(scenario, i, db_path, redis.get(), tenants), std::move(start));
    if (!pod.ok()) return Status::IOError("pod-" + std::to_string(i) + ": " + pod.status().ToString());
    pods.push_back(std::move(*pod));
    if (interrupted()) return kInterruptedInSetUp;
    if (i == 0) {
      note("seeding " + std::to_string(trace.links.size()) + " links");
      const std::string pad = scenario.cache ? std::string(static_cast<size_t>(std::max(0, scenario.cache->value_bytes - 30)), 'x') : "";
      const UnixMillis now_ms = UnixNow() / kNanosPerMilli;
      for (const auto& [tenant, code] : trace.links) {
        if (interrupted()) return kInterruptedInSetUp;
        Result<Link> made = pods[0]->store().CreateLink(scenario.tenants[tenant].id,
                                                        {.url = "https://example.com/" + code + "/" + pad,
                                                         .custom_code = code},
                                                        now_ms);
        if (!made.ok()) return Status::IOError("seeding link " + code + ": " + made.status().ToString());
      }
    }
  }
  const auto ready_deadline = SteadyClock::now() + std::chrono::nanoseconds(kPodReadyTimeout);
  for (size_t i = 0; i < pods.size(); ++i) {
    while (!pods[i]->ready()) {
      if (interrupted()) return kInterruptedInSetUp;
      if (SteadyClock::now() > ready_deadline)
        return Status::IOError("pod-" + std::to_string(i) + " did not become ready (log: " + dir + "/pods.log)");
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  // The schedule, in trace order.
  std::vector<ScheduledRequest> schedule;
  schedule.reserve(trace.requests.size());
  for (size_t i = 0; i < trace.requests.size(); ++i) {
    const TraceRequest& r = trace.requests[i];
    ScheduledRequest q;
    q.at = r.arrival.time;
    switch (r.arrival.route) {
      case Route::kRedirect:
        q.target = "/" + r.code;
        break;
      case Route::kCreate:
        q.method = boost::beast::http::verb::post;
        q.target = "/api/v1/links";
        q.authorization = bearer[r.arrival.tenant];
        q.body = nlohmann::json{{"url", "https://example.com/new/" + std::to_string(i)}}.dump();
        break;
      case Route::kGetLink:
        q.target = "/api/v1/links/" + r.code;
        q.authorization = bearer[r.arrival.tenant];
        break;
      case Route::kDeleteLink:
        q.method = boost::beast::http::verb::delete_;
        q.target = "/api/v1/links/" + r.code;
        q.authorization = bearer[r.arrival.tenant];
        break;
    }
    schedule.push_back(std::move(q));
  }

  RunResult result;
  result.mode = "real";
  result.scenario_name = scenario.name;
  result.scenario_description = scenario.description;
  result.seed = scenario.seed;
  result.duration = scenario.duration;
  result.warmup = scenario.warmup;
  RealRunRecorder recorder(scenario, &result);

  // The trace starts a moment from now, so the event and sampler threads
  // share its origin.
  const auto start = SteadyClock::now() + std::chrono::milliseconds(50);
  const Nanos unix_start = UnixNow() + 50 * kNanosPerMilli;
  const auto at = [&](Nanos t) { return start + std::chrono::nanoseconds(t); };

  // Redis events, at their times. While the events thread exists it owns the
  // server (kills, restarts, and the final INFO read: a server it restarted
  // dies with it); these are written by it and read after it is joined.
  nlohmann::json event_log = nlohmann::json::array();
  int64_t evicted_before = 0, expired_before = 0, crashes = 0;
  std::map<std::string, std::string> final_info;
  const auto read_final_info = [&] {
    if (redis && redis->running()) final_info = RedisInfo(*redis);
  };
  std::unique_ptr<BackgroundTask> events;
  if (redis && !scenario.redis.events.empty()) {
    events = std::make_unique<BackgroundTask>([&](BackgroundTask& self) {
      for (const RedisEvent& e : scenario.redis.events) {
        if (!self.SleepUntil(at(e.at))) return read_final_info();
        const auto info = RedisInfo(*redis);
        redis->Kill();
        evicted_before += InfoInt(info, "evicted_keys");
        expired_before += InfoInt(info, "expired_keys");
        ++crashes;
        nlohmann::json entry = {{"kind", RedisEventKindName(e.kind)}, {"at_s", ToSeconds(e.at)}};
        if (e.kind == RedisEventKind::kRestart) {
          if (!self.SleepUntil(at(e.at + e.down_for))) return read_final_info();
          const Status up = redis->StartAgain();
          entry["down_s"] = ToSeconds(e.down_for);
          entry["restarted"] = up.ok();
          if (!up.ok()) entry["error"] = up.ToString();
        }
        event_log.push_back(std::move(entry));
      }
      // A restarted server's PR_SET_PDEATHSIG is tied to this thread: it
      // must live until the run is over.
      self.SleepUntil(SteadyClock::now() + std::chrono::hours(24 * 365));
      read_final_info();
    });
  }

  // Worker-pool levels, sampled (by the sampler thread; read after it is joined).
  std::vector<std::array<int64_t, 3>> levels;  // (t, queued, busy)
  auto sampler = std::make_unique<BackgroundTask>([&](BackgroundTask& self) {
    for (Nanos t = 0;; t += kLevelSamplePeriod) {
      if (!self.SleepUntil(at(t))) return;
      int64_t queued = 0, busy = 0;
      for (const auto& p : pods) {
        queued += p->workers().waiting();
        busy += p->workers().busy();
      }
      levels.push_back({t, queued, busy});
    }
  });

  // The trace.
  LoadBalancer balancer(scenario.ingress.policy, Rng(scenario.seed, "ingress"), scenario.ingress.ewma_decay);
  std::vector<uint32_t> ids(pods.size());
  for (uint32_t i = 0; i < ids.size(); ++i) ids[i] = i;
  balancer.SetEndpoints(ids, 0);
  std::vector<LoadEndpoint> endpoints;
  for (const auto& p : pods) endpoints.push_back({"127.0.0.1", p->port()});
  std::map<std::string, uint64_t> unexpected;
  LoadGeneratorOptions load_options;
  load_options.start = start;
  load_options.cancel = options.interrupt;
  load_options.progress = [&](Nanos now, size_t, size_t) {
    if (options.progress) options.progress(now, scenario.duration);
  };
  note("replaying " + std::to_string(schedule.size()) + " requests over " + FormatDuration(scenario.duration));
  Result<LoadRunStats> load = RunLoad(
      endpoints, schedule,
      [&](size_t, Nanos now) {
        const uint32_t pod = balancer.Pick(now);
        balancer.OnStart(pod);
        return pod;
      },
      [&](const RequestOutcome& o) {
        balancer.OnFinish(o.endpoint, o.done_at - o.sent_at, o.done_at);
        const Classified c = Classify(o);
        const TraceRequest& r = trace.requests[o.index];
        recorder.Add({.arrival = r.arrival.time, .done = o.done_at, .tenant = r.arrival.tenant,
                      .route = r.arrival.route, .failure = c.failure, .unexpected = !c.unexpected.empty()});
        if (!c.unexpected.empty()) ++unexpected[c.unexpected];
      },
      load_options);
  sampler.reset();
  if (events)
    events.reset();  // reads final_info as it ends
  else
    read_final_info();
  if (load.status().code() == StatusCode::kCancelled) {
    const Nanos tenth = 100 * kNanosPerMilli;  // "12.3s into", not nanoseconds
    const Nanos reached = std::max<Nanos>(0, (SteadyClock::now() - start).count()) / tenth * tenth;
    return Status::Cancelled("interrupted " + FormatDuration(std::min(reached, scenario.duration)) + " into the " +
                             FormatDuration(scenario.duration) + " trace");
  }
  if (!load.ok()) return load.status();
  for (const auto& [t, queued, busy] : levels) recorder.SampleLevels(t, queued, busy);
  recorder.Finish();

  // The limiter audit: the same auditor, fed what the pods decided.
  if (scenario.has_limiter()) {
    LimiterAuditor auditor(scenario.limiter.algorithm);
    for (const DecisionLog::Entry& e : decisions.Take())
      auditor.Record(e.key, e.tenant, e.limit, e.rule_time, e.allowed);
    const LimiterAuditReport audit = auditor.Report(unix_start, scenario.series_interval, result.series.size());
    result.has_limiter = true;
    result.limiter_audit = audit.AuditJson();
    result.limiter_summary = audit.SummaryJson();
    result.limiter_series = audit.SeriesJson();
  }

  // Redis: the pods' limiter counters and the server's own.
  if (redis) {
    RedisLimiterStats sum;
    for (const auto& p : pods) {
      if (RedisLimiter* l = p->service().limiter()) {
        const RedisLimiterStats st = l->stats();
        sum.decisions += st.decisions;
        sum.allowed += st.allowed;
        sum.refused += st.refused;
        sum.redis_errors += st.redis_errors;
        sum.pool_unavailable += st.pool_unavailable;
        sum.round_trips += st.round_trips;
        sum.script_reloads += st.script_reloads;
      }
    }
    const auto& info = final_info;
    result.redis_stats = {
        {"checks", sum.decisions},
        {"allowed", sum.allowed},
        {"refused", sum.refused},
        {"decided_by_on_redis_error", {{"redis_error", sum.redis_errors}, {"pool_unavailable", sum.pool_unavailable}}},
        {"round_trips", sum.round_trips},
        {"script_reloads", sum.script_reloads},
        {"server",
         {{"version", info.count("redis_version") ? info.at("redis_version") : ""},
          {"crashes", crashes},
          {"used_memory", InfoInt(info, "used_memory")},
          {"peak_used_memory", InfoInt(info, "used_memory_peak")},
          {"keys", InfoKeys(info)},
          {"evicted_keys", evicted_before + InfoInt(info, "evicted_keys")},
          {"expired_keys", expired_before + InfoInt(info, "expired_keys")}}}};
  }
  if (scenario.cache) {
    result.has_cache = true;
    for (const auto& p : pods) {
      result.cache_hits += p->service().CacheEvents("hit");
      result.cache_misses += p->service().CacheEvents("miss");
      result.cache_errors += p->service().CacheEvents("error");
      result.cache_set_errors += p->service().CacheEvents("set_error");
    }
  }

  nlohmann::json skew_ms = nlohmann::json::array();
  for (Nanos s : skews) skew_ms.push_back(ToMillis(s));
  nlohmann::json unexpected_json = nlohmann::json::object();
  for (const auto& [what, n] : unexpected) unexpected_json[what] = n;
  result.real = {{"machine", MachineLine()},
                 {"pods", pods.size()},
                 {"pod_clock_skew_ms", skew_ms},
                 {"seeded_links", trace.links.size()},
                 {"requests", schedule.size()},
                 {"unexpected_in_window", recorder.unexpected_in_window()},
                 {"unexpected", unexpected_json},
                 {"redis_events", event_log},
                 {"generator",
                  {{"connections_opened", load->connections_opened},
                   {"lag_max_ms", ToMillis(load->lag_max)},
                   {"lag_p99_ms", ToMillis(load->lag_p99)},
                   {"wall_s", ToSeconds(load->wall)}}},
                 {"emulated", Emulated(scenario)},
                 {"not_applied", NotApplied(scenario)}};
  if (options.keep_work_dir || !options.work_dir.empty()) result.real["work_dir"] = dir;
  return result;
}

}  // namespace scaletwin
