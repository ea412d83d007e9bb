#include "sim/world.h"

#include "model/check.h"

namespace scaletwin::sim {

World::World(const Scenario& scenario)
    : scenario_(scenario),
      arrivals_(scenario),
      balancer_(scenario.ingress.policy, Rng(scenario.seed, "ingress"), scenario.ingress.ewma_decay),
      db_rng_(scenario.seed, "database"),
      cache_rng_(scenario.seed, "cache"),
      metrics_(scenario, &result_) {
  result_.scenario_name = scenario.name;
  result_.scenario_description = scenario.description;
  result_.seed = scenario.seed;
  result_.duration = scenario.duration;
  result_.warmup = scenario.warmup;
  if (scenario.database) database_.emplace(*scenario.database);
  for (int i = 0; i < scenario.pods.replicas; ++i) {
    pods_.emplace_back(scenario.pods.workers, scenario.pods.queue_limit);
    service_rng_.emplace_back(scenario.seed, "service", static_cast<uint64_t>(i));
    if (database_) pools_.emplace_back(scenario.postgres_pool);
  }
  std::vector<uint32_t> ids(pods_.size());
  for (uint32_t i = 0; i < ids.size(); ++i) ids[i] = i;
  balancer_.SetEndpoints(ids, 0);
  metrics_.SetReadyReplicas(pods_.size());
  queue_.Reserve(1024);
}

void World::ScheduleNextArrival() {
  if (arrivals_.Next(&pending_arrival_)) queue_.Push(pending_arrival_.time, Payload(kArrival, 0));
}

void World::HandleArrival(Nanos now) {
  const uint32_t id = requests_.Acquire();
  Request& r = requests_[id];
  r.arrival = now;
  r.tenant = pending_arrival_.tenant;
  r.route = pending_arrival_.route;
  r.in_window = now >= scenario_.warmup && now < scenario_.duration;
  r.pod = balancer_.Pick(now);
  balancer_.OnStart(r.pod);
  ++offered_;
  metrics_.OnArrival(now, r);
  Pod& pod = pods_[r.pod];
  switch (pod.Arrive(id)) {
    case Pod::Admit::kStart:
      metrics_.AddInSystem(1);
      if (r.in_window) ++in_flight_window_;
      metrics_.AddBusy(1);
      StartService(now, id);
      break;
    case Pod::Admit::kQueued:
      metrics_.AddInSystem(1);
      if (r.in_window) ++in_flight_window_;
      metrics_.AddQueued(1);
      break;
    case Pod::Admit::kRejected:
      ++rejected_;
      metrics_.OnReject(now, r, FailureCause::kQueueFull);
      balancer_.OnFinish(r.pod, 0, now);  // an immediate 503: the ingress sees a fast response
      requests_.Release(id);
      break;
  }
  ScheduleNextArrival();
}

void World::StartService(Nanos now, uint32_t id) {
  Request& r = requests_[id];
  r.service_start = now;
  metrics_.OnServiceStart(now, r);
  const RouteWork& work = scenario_.routes[static_cast<int>(r.route)];
  const bool needs_db = database_ && work.db_queries > 0 &&
                        (work.cache_hit_ratio <= 0 || cache_rng_.Uniform01() >= work.cache_hit_ratio);
  if (!needs_db) {
    StartCpu(now, id);
    return;
  }
  r.queries_left = static_cast<uint16_t>(work.db_queries);
  AcquireConnection(now, id);
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
    queue_.Push(now + scenario_.postgres_pool.connect_time, Payload(kConnectDone, pod));
  }
}

void World::HandleConnectDone(Nanos now, uint32_t pod) {
  ConnectionPool& pool = pools_[pod];
  const bool accepted = database_->Connect();
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
  if ((r.generation & 0xFFFFFF) != generation || r.stage != Request::Stage::kAcquiring) return;
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
  if (--r.queries_left > 0) {
    StartQuery(now, id);
    return;
  }
  ReleaseConnection(now, r.pod);
  StartCpu(now, id);
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
  queue_.Push(now + dist.Sample(service_rng_[r.pod]), Payload(kServiceDone, id));
}

void World::HandleServiceDone(Nanos now, uint32_t id) { LeaveWorker(now, id, std::nullopt); }

void World::LeaveWorker(Nanos now, uint32_t id, std::optional<FailureCause> failure) {
  Request& r = requests_[id];
  if (failure) {
    ++rejected_;
    metrics_.OnReject(now, r, *failure);
  } else {
    ++completed_;
    metrics_.OnComplete(now, r);
  }
  balancer_.OnFinish(r.pod, now - r.arrival, now);
  metrics_.AddInSystem(-1);
  if (r.in_window) --in_flight_window_;
  uint32_t next;
  if (pods_[r.pod].Finish(&next)) {
    metrics_.AddQueued(-1);
    StartService(now, next);
  } else {
    metrics_.AddBusy(-1);
  }
  requests_.Release(id);
}

RunResult World::Run(const ProgressFn& progress) {
  const Nanos stop = scenario_.duration + scenario_.drain;
  ScheduleNextArrival();
  if (database_) {
    for (uint32_t p = 0; p < pools_.size(); ++p) OpenConnections(0, p);  // min_idle at start-up
  }
  Nanos now = 0;
  while (!queue_.empty() && queue_.TopTime() <= stop) {
    const Event ev = queue_.Pop();
    now = ev.time;
    metrics_.Advance(now);
    const auto index = static_cast<uint32_t>(ev.payload);
    const auto generation = static_cast<uint32_t>((ev.payload >> 32) & 0xFFFFFF);
    switch (static_cast<EventKind>(ev.payload >> 56)) {
      case kArrival: HandleArrival(now); break;
      case kServiceDone: HandleServiceDone(now, index); break;
      case kConnectDone: HandleConnectDone(now, index); break;
      case kAcquireTimeout: HandleAcquireTimeout(now, index, generation); break;
      case kQueryDone: HandleQueryDone(now, index); break;
    }
    SCALETWIN_CHECK(offered_ == completed_ + rejected_ + requests_.live());
    if ((++events_ & 0xFFFFF) == 0 && progress) progress(now, scenario_.duration);
  }
  if (database_) {
    result_.has_database = true;
    result_.db_refused_connections = database_->refused_connections();
  }
  metrics_.Finish(queue_.empty() ? now : stop, in_flight_window_);
  return std::move(result_);
}

}  // namespace scaletwin::sim
