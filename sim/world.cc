#include "sim/world.h"

#include "model/check.h"

namespace scaletwin::sim {

World::World(const Scenario& scenario)
    : scenario_(scenario),
      arrivals_(scenario),
      balancer_(scenario.ingress.policy, Rng(scenario.seed, "ingress"), scenario.ingress.ewma_decay),
      metrics_(scenario, &result_) {
  result_.scenario_name = scenario.name;
  result_.scenario_description = scenario.description;
  result_.seed = scenario.seed;
  result_.duration = scenario.duration;
  result_.warmup = scenario.warmup;
  for (int i = 0; i < scenario.pods.replicas; ++i) {
    pods_.emplace_back(scenario.pods.workers, scenario.pods.queue_limit);
    service_rng_.emplace_back(scenario.seed, "service", static_cast<uint64_t>(i));
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
  const auto& route_dist = scenario_.pods.route_service_time[static_cast<int>(r.route)];
  const DurationDistribution& dist = route_dist ? *route_dist : scenario_.pods.service_time;
  queue_.Push(now + dist.Sample(service_rng_[r.pod]), Payload(kServiceDone, id));
}

void World::HandleServiceDone(Nanos now, uint32_t id) {
  Request& r = requests_[id];
  ++completed_;
  metrics_.OnComplete(now, r);
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
  Nanos now = 0;
  while (!queue_.empty() && queue_.TopTime() <= stop) {
    const Event ev = queue_.Pop();
    now = ev.time;
    metrics_.Advance(now);
    const auto id = static_cast<uint32_t>(ev.payload);
    if ((ev.payload >> 32) == kArrival) HandleArrival(now);
    else HandleServiceDone(now, id);
    SCALETWIN_CHECK(offered_ == completed_ + rejected_ + requests_.live());
    if ((++events_ & 0xFFFFF) == 0 && progress) progress(now, scenario_.duration);
  }
  metrics_.Finish(queue_.empty() ? now : stop, in_flight_window_);
  return std::move(result_);
}

}  // namespace scaletwin::sim
