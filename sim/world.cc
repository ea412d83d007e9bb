// The request path of the simulated world; the cluster around it (pods coming
// and going, the HPA, the metrics pipeline) is world_cluster.cc.
#include "sim/world.h"

#include "model/check.h"

namespace scaletwin::sim {

World::World(const Scenario& scenario)
    : scenario_(scenario),
      arrivals_(scenario),
      balancer_(scenario.ingress.policy, Rng(scenario.seed, "ingress"), scenario.ingress.ewma_decay),
      db_rng_(scenario.seed, "database"),
      cache_rng_(scenario.seed, "cache"),
      kubelet_rng_(scenario.seed, "kubelet"),
      endpoint_rng_(scenario.seed, "endpoints"),
      metrics_(scenario, &result_),
      link_rng_(scenario.seed, "links") {
  result_.scenario_name = scenario.name;
  result_.scenario_description = scenario.description;
  result_.seed = scenario.seed;
  result_.duration = scenario.duration;
  result_.warmup = scenario.warmup;
  if (scenario.database) database_.emplace(*scenario.database);
  queue_.Reserve(1024);
  if (scenario.uses_redis()) {
    LimiterStageConfig config;
    config.limiter = scenario.limiter;
    config.redis = scenario.redis;
    for (const Tenant& t : scenario.tenants) config.tenants.push_back({t.id, t.limit});
    config.clock_skew = scenario.pods.clock_skew;
    config.seed = scenario.seed;
    limiter_ = std::make_unique<LimiterStage>(std::move(config), &queue_, kLimiterKinds,
                                              [this](Nanos now, const LimiterOutcome& o) { HandleLimiterDecision(now, o); });
    limiter_->SetCallHandler([this](Nanos now, const RedisCallOutcome& o) { HandleCacheReply(now, o); });
    limiter_->Start(0);
    if (scenario.cache) cache_value_.assign(static_cast<size_t>(scenario.cache->value_bytes), 'u');
  }
  StartCluster();
}

void World::ScheduleNextArrival() {
  if (arrivals_.Next(&pending_arrival_)) queue_.Push(pending_arrival_.time, Payload(kArrival, 0));
}

void World::AccrueCpu(Nanos now, uint32_t pod) {
  PodRuntime& rt = runtime_[pod];
  rt.busy_worker_ns += static_cast<double>(pods_[pod].busy()) * static_cast<double>(now - rt.busy_since);
  rt.busy_since = now;
}

void World::HandleArrival(Nanos now) {
  const uint32_t id = requests_.Acquire();
  Request& r = requests_[id];
  r.arrival = now;
  r.tenant = pending_arrival_.tenant;
  r.route = pending_arrival_.route;
  r.in_window = now >= scenario_.warmup && now < scenario_.duration;
  ++offered_;
  if (r.in_window) ++in_flight_window_;
  metrics_.OnArrival(now, r);
  RouteRequest(now, id);
  ScheduleNextArrival();
}

void World::RouteRequest(Nanos now, uint32_t id) {
  const RetrySpec& retries = scenario_.ingress.retries;
  for (;;) {
    Request& r = requests_[id];
    if (balancer_.endpoints().empty()) {
      Fail(now, id, r.tries == 0 ? FailureCause::kUpstreamUnavailable : FailureCause::kUpstreamConnectError);
      return;
    }
    const uint32_t pod = balancer_.Pick(now, std::span<const uint32_t>(r.tried.data(), r.tries));
    r.tried[r.tries++] = pod;
    r.pod = pod;
    balancer_.OnStart(pod);
    if (!runtime_[pod].listening) {
      // Connection refused: the ingress still lists a pod whose listener is
      // closed (SIGTERM before the endpoint removal arrived, or a crash).
      balancer_.OnFinish(pod, 0, now);
      const bool untried_left = r.tries < balancer_.endpoints().size();
      if (retries.on_error && r.tries < retries.tries && untried_left) continue;
      Fail(now, id, FailureCause::kUpstreamConnectError);
      return;
    }
    AccrueCpu(now, pod);  // before Arrive changes the busy count
    switch (pods_[pod].Arrive(id)) {
      case Pod::Admit::kStart:
        r.at_pod = true;
        ++runtime_[pod].in_flight;
        metrics_.AddInSystem(1);
        metrics_.AddBusy(1);
        StartService(now, id);
        return;
      case Pod::Admit::kQueued:
        r.at_pod = true;
        ++runtime_[pod].in_flight;
        metrics_.AddInSystem(1);
        metrics_.AddQueued(1);
        return;
      case Pod::Admit::kRejected:
        ++runtime_[pod].requests_total;
        balancer_.OnFinish(pod, 0, now);  // an immediate 503: the ingress sees a fast response
        if (retries.on_http_503 && r.route != Route::kCreate && r.tries < retries.tries &&
            r.tries < balancer_.endpoints().size()) {
          continue;
        }
        Fail(now, id, FailureCause::kQueueFull);
        return;
    }
  }
}

void World::Fail(Nanos now, uint32_t id, FailureCause cause) {
  Request& r = requests_[id];
  ++rejected_;
  if (r.in_window) --in_flight_window_;
  metrics_.OnReject(now, r, cause);
  if (r.orphan) return;  // released when its query ends
  requests_.Release(id);
}

void World::StartService(Nanos now, uint32_t id) {
  Request& r = requests_[id];
  r.service_start = now;
  metrics_.OnServiceStart(now, r);
  if (limiter_ && limiter_->Limited(r.tenant)) {
    // The worker waits for the limiter's Redis round trips, as a pod's
    // blocking hiredis call does.
    r.stage = Request::Stage::kLimiter;
    limiter_->Check(now, {RequestKey(id), r.pod, r.tenant, RouteName(r.route)});
    return;
  }
  StartWork(now, id);
}

void World::HandleLimiterDecision(Nanos now, const LimiterOutcome& o) {
  const auto id = static_cast<uint32_t>(o.request_id);
  const auto generation = static_cast<uint32_t>(o.request_id >> 32);
  // A request that failed meanwhile (its pod was killed) is no longer waiting.
  if (!requests_.IsLive(id) || Gen24(requests_[id].generation) != generation ||
      requests_[id].stage != Request::Stage::kLimiter) {
    return;
  }
  if (o.decision.allowed) {
    StartWork(now, id);
  } else {
    LeaveWorker(now, id, o.failure == LimiterFailure::kNone ? FailureCause::kRateLimited : FailureCause::kRedisError);
  }
}

void World::StartWork(Nanos now, uint32_t id) {
  Request& r = requests_[id];
  if (scenario_.cache && r.route == Route::kRedirect) {
    // Cache-aside: GET the code's key first; the database only on a miss.
    r.stage = Request::Stage::kCacheGet;
    r.cache_key = static_cast<uint32_t>(link_rng_.Uniform01() * static_cast<double>(scenario_.cache->keys));
    limiter_->Call(now, {RequestKey(id), r.pod,
                         {Command{"GET", scenario_.cache->key_prefix + ":" + std::to_string(r.cache_key)}}});
    return;
  }
  StartDatabaseWork(now, id);
}

void World::HandleCacheReply(Nanos now, const RedisCallOutcome& o) {
  const auto id = static_cast<uint32_t>(o.request_id);
  const auto generation = static_cast<uint32_t>(o.request_id >> 32);
  if (!requests_.IsLive(id) || Gen24(requests_[id].generation) != generation) return;
  Request& r = requests_[id];
  const bool ok = o.failure == LimiterFailure::kNone && o.replies.size() == 1 && !o.replies[0].is_error();
  if (r.stage == Request::Stage::kCacheGet) {
    if (ok && !o.replies[0].is_nil()) {
      ++result_.cache_hits;
      StartCpu(now, id);
      return;
    }
    // A miss, or Redis failed: the database answers and the key is filled.
    ++(ok ? result_.cache_misses : result_.cache_errors);
    r.cache_miss = true;
    StartDatabaseWork(now, id);
  } else if (r.stage == Request::Stage::kCacheSet) {
    if (!ok) ++result_.cache_set_errors;  // e.g. OOM under noeviction
    StartCpu(now, id);
  }
}

void World::StartDatabaseWork(Nanos now, uint32_t id) {
  Request& r = requests_[id];
  const RouteWork& work = scenario_.routes[static_cast<int>(r.route)];
  const bool needs_db = database_ && work.db_queries > 0 &&
                        (work.cache_hit_ratio <= 0 || cache_rng_.Uniform01() >= work.cache_hit_ratio);
  if (!needs_db) {
    AfterDatabase(now, id);
    return;
  }
  r.queries_left = static_cast<uint16_t>(work.db_queries);
  AcquireConnection(now, id);
}

void World::AfterDatabase(Nanos now, uint32_t id) {
  Request& r = requests_[id];
  if (!r.cache_miss) {
    StartCpu(now, id);
    return;
  }
  r.stage = Request::Stage::kCacheSet;
  const LinkCacheSpec& c = *scenario_.cache;
  Command set{"SET", c.key_prefix + ":" + std::to_string(r.cache_key), cache_value_};
  if (c.ttl > 0) {
    set.args.push_back("PX");
    set.args.push_back(std::to_string(c.ttl / kNanosPerMilli));
  }
  limiter_->Call(now, {RequestKey(id), r.pod, {std::move(set)}});
}

void World::AcquireConnection(Nanos now, uint32_t id) {
  Request& r = requests_[id];
  ConnectionPool& pool = pools_[r.pod];
  r.stage = Request::Stage::kAcquiring;
  if (pool.Acquire(id) == ConnectionPool::Outcome::kGranted) {
    metrics_.OnPoolAcquired(now, r);
    StartQuery(now, id);
  } else {
    queue_.Push(now + scenario_.postgres_pool.acquire_timeout, Payload(kAcquireTimeout, id, r.generation));
    OpenConnections(now, r.pod);
  }
  metrics_.SetPoolLevel(r.pod, pool.in_use(), pool.waiting());
}

void World::OpenConnections(Nanos now, uint32_t pod) {
  for (int n = pools_[pod].ConnectionsToOpen(); n > 0; --n) {
    queue_.Push(now + scenario_.postgres_pool.connect_time, Payload(kConnectDone, pod, runtime_[pod].epoch));
  }
}

void World::HandleConnectDone(Nanos now, uint32_t pod, uint32_t epoch) {
  // A connect started by a container that has since stopped: nobody waits for it.
  if (Gen24(runtime_[pod].epoch) != epoch || !runtime_[pod].container_running()) return;
  ConnectionPool& pool = pools_[pod];
  const bool accepted = database_->Connect();
  if (!accepted && !result_.cluster.first_db_refusal_at) {
    // The fleet size at which pods x pool size first overran the database.
    result_.cluster.first_db_refusal_at = now;
    uint64_t up = 0;
    for (const PodRuntime& rt : runtime_) up += rt.stage == PodRuntime::Stage::kUp ? 1 : 0;
    result_.cluster.replicas_at_first_db_refusal = up;
  }
  const ConnectionPool::OpenResult result = pool.OnOpened(accepted);
  metrics_.SetDbConnections(database_->connections());
  if (result.granted) {
    Request& r = requests_[*result.granted];
    metrics_.OnPoolAcquired(now, r);
    StartQuery(now, *result.granted);
  }
  if (result.failed) LeaveWorker(now, *result.failed, FailureCause::kDbTooManyClients);
  metrics_.SetPoolLevel(pod, pool.in_use(), pool.waiting());
}

void World::HandleAcquireTimeout(Nanos now, uint32_t id, uint32_t generation) {
  Request& r = requests_[id];
  // Stale timers (the request got a connection, or the slot was reused) do nothing.
  if (Gen24(r.generation) != generation || r.stage != Request::Stage::kAcquiring) return;
  if (!pools_[r.pod].Cancel(id)) return;
  const uint32_t pod = r.pod;
  LeaveWorker(now, id, FailureCause::kPoolTimeout);
  metrics_.SetPoolLevel(pod, pools_[pod].in_use(), pools_[pod].waiting());
}

void World::StartQuery(Nanos now, uint32_t id) {
  Request& r = requests_[id];
  r.stage = Request::Stage::kQuerying;
  if (database_->StartQuery(id)) {
    queue_.Push(now + database_->spec().query_time[static_cast<int>(r.route)].Sample(db_rng_), Payload(kQueryDone, id));
  }
}

void World::HandleQueryDone(Nanos now, uint32_t id) {
  uint32_t next;
  if (database_->FinishQuery(&next)) {
    const Route route = requests_[next].route;
    queue_.Push(now + database_->spec().query_time[static_cast<int>(route)].Sample(db_rng_), Payload(kQueryDone, next));
  }
  Request& r = requests_[id];
  if (r.orphan) {
    // Its pod died meanwhile (the request already failed); the backend only
    // now finishes and notices its client is gone.
    --orphans_;
    r.orphan = false;
    requests_.Release(id);
    return;
  }
  if (--r.queries_left > 0) {
    StartQuery(now, id);
    return;
  }
  ReleaseConnection(now, r.pod);
  AfterDatabase(now, id);
}

void World::ReleaseConnection(Nanos now, uint32_t pod) {
  ConnectionPool& pool = pools_[pod];
  if (std::optional<uint64_t> next = pool.Release()) {
    const auto waiter = static_cast<uint32_t>(*next);
    metrics_.OnPoolAcquired(now, requests_[waiter]);
    StartQuery(now, waiter);
  }
  metrics_.SetPoolLevel(pod, pool.in_use(), pool.waiting());
}

void World::StartCpu(Nanos now, uint32_t id) {
  Request& r = requests_[id];
  r.stage = Request::Stage::kService;
  r.cpu_start = now;
  const auto& route_dist = scenario_.pods.route_service_time[static_cast<int>(r.route)];
  const DurationDistribution& dist = route_dist ? *route_dist : scenario_.pods.service_time;
  Nanos service = dist.Sample(service_rng_[r.pod]);
  if (runtime_[r.pod].slow) service = static_cast<Nanos>(static_cast<double>(service) * scenario_.pods.slow_factor);
  queue_.Push(now + service, Payload(kServiceDone, id, r.generation));
}

void World::HandleServiceDone(Nanos now, uint32_t id, uint32_t generation) {
  if (Gen24(requests_[id].generation) != generation) return;  // its pod was killed meanwhile
  LeaveWorker(now, id, std::nullopt);
}

void World::LeaveWorker(Nanos now, uint32_t id, std::optional<FailureCause> failure) {
  Request& r = requests_[id];
  const uint32_t pod = r.pod;
  PodRuntime& rt = runtime_[pod];
  ++rt.requests_total;
  --rt.in_flight;
  r.at_pod = false;
  balancer_.OnFinish(pod, now - r.arrival, now);
  metrics_.AddInSystem(-1);
  uint32_t next;
  AccrueCpu(now, pod);
  if (pods_[pod].Finish(&next)) {
    metrics_.AddQueued(-1);
    StartService(now, next);
  } else {
    metrics_.AddBusy(-1);
  }
  const RetrySpec& retries = scenario_.ingress.retries;
  if (failure && *failure != FailureCause::kRateLimited && retries.on_http_503 && r.route != Route::kCreate &&
      r.tries < retries.tries &&
      r.tries < balancer_.endpoints().size()) {
    RouteRequest(now, id);  // the ingress tries the next endpoint with the same request
  } else if (failure) {
    Fail(now, id, *failure);
  } else {
    ++completed_;
    if (r.in_window) --in_flight_window_;
    metrics_.OnComplete(now, r);
    requests_.Release(id);
  }
  MaybeExitAfterDrain(now, pod);
}

RunResult World::Run(const ProgressFn& progress) {
  const Nanos stop = scenario_.duration + scenario_.drain;
  ScheduleNextArrival();
  Nanos now = 0;
  while (!queue_.empty() && queue_.TopTime() <= stop) {
    const Event ev = queue_.Pop();
    now = ev.time;
    metrics_.Advance(now);
    if (limiter_ && limiter_->Owns(ev.payload)) {
      limiter_->Handle(now, ev.payload);
      SCALETWIN_CHECK(offered_ == completed_ + rejected_ + requests_.live() - orphans_);
      ++events_;
      continue;
    }
    const auto index = static_cast<uint32_t>(ev.payload);
    const auto generation = static_cast<uint32_t>((ev.payload >> 32) & 0xFFFFFF);
    switch (static_cast<EventKind>(ev.payload >> 56)) {
      case kArrival: HandleArrival(now); break;
      case kServiceDone: HandleServiceDone(now, index, generation); break;
      case kConnectDone: HandleConnectDone(now, index, generation); break;
      case kAcquireTimeout: HandleAcquireTimeout(now, index, generation); break;
      case kQueryDone: HandleQueryDone(now, index); break;
      case kPodScheduled: if (Gen24(runtime_[index].epoch) == generation) HandlePodScheduled(now, index); break;
      case kContainerStarted: if (Gen24(runtime_[index].epoch) == generation) StartContainer(now, index); break;
      case kAppUp: if (Gen24(runtime_[index].epoch) == generation) HandleAppUp(now, index); break;
      case kPodReady: if (Gen24(runtime_[index].epoch) == generation) HandlePodReady(now, index); break;
      case kPodNotReady: if (Gen24(runtime_[index].epoch) == generation) HandlePodNotReady(now, index); break;
      case kEndpointUpdate: HandleEndpointUpdate(now, index & 0x7FFFFFFF, generation, (index >> 31) != 0); break;
      case kSigterm: HandleSigterm(now, index); break;
      case kKill: HandleKill(now, index); break;
      case kHpaSync: HandleHpaSync(now); break;
      case kScrape: HandleScrape(now, index); break;
      case kResourceScrape: HandleResourceScrape(now); break;
      case kScenarioEvent: HandleScenarioEvent(now, index); break;
    }
    SCALETWIN_CHECK(offered_ == completed_ + rejected_ + requests_.live() - orphans_);
    if ((++events_ & 0xFFFFF) == 0 && progress) progress(now, scenario_.duration);
  }
  if (database_) {
    result_.has_database = true;
    result_.db_refused_connections = database_->refused_connections();
  }
  if (scenario_.cache) result_.has_cache = true;
  if (limiter_ && scenario_.has_limiter()) {
    // Decisions are binned by the time the rule used (the pod's clock, skew included).
    const LimiterAuditReport audit = limiter_->AuditReport(scenario_.series_interval, result_.series.size());
    result_.has_limiter = true;
    result_.limiter_audit = audit.AuditJson();
    result_.limiter_summary = audit.SummaryJson();
    result_.limiter_series = audit.SeriesJson();
  }
  if (limiter_) result_.redis_stats = limiter_->StatsJson();
  metrics_.Finish(queue_.empty() ? now : stop, in_flight_window_);
  return std::move(result_);
}

}  // namespace scaletwin::sim
