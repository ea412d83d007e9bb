// The cluster side of the simulated world: the ReplicaSet, the simulated
// kubelet (start-up stages, readiness probes, crashes and restarts with
// back-off, termination), the EndpointSlice → ingress propagation, the
// metrics pipeline's scrapes and the HPA sync loop. Every rule it applies is
// a model/ function shared with the real harness (ReconcileHpa,
// PodsToDelete, ReadyFlipTime, RestartBackoff, MetricsPipeline); this file
// only decides when they run and what they see.
#include <algorithm>
#include <cstdio>

#include "model/check.h"
#include "model/replicaset_order.h"
#include "sim/world.h"

namespace scaletwin::sim {
namespace {

// Pods present when the run starts have been up for long: past the HPA's CPU
// initialization period and the ReplicaSet's log-scale ranking buckets.
constexpr Nanos kPreExistingAge = 3600 * kNanosPerSecond;
// The kubelet's one-off extension when preStop outlives the grace period.
constexpr Nanos kPreStopOverrun = 2 * kNanosPerSecond;

std::string TargetText(const MetricSpec& m) {
  const MetricTarget& t = m.target;
  if (t.type == MetricTargetType::kUtilization && t.average_utilization) {
    return m.DisplayName() + ": " + std::to_string(*t.average_utilization) + "% (Utilization)";
  }
  if (t.type == MetricTargetType::kAverageValue && t.average_value) {
    return m.DisplayName() + ": " + t.average_value->text + " (AverageValue)";
  }
  if (t.value) return m.DisplayName() + ": " + t.value->text + " (Value)";
  return m.DisplayName();
}

}  // namespace

void World::StartCluster() {
  desired_replicas_ = scenario_.pods.replicas;
  ClusterResult& cluster = result_.cluster;
  if (scenario_.hpa) {
    const HpaScenario& hpa = *scenario_.hpa;
    pipeline_.emplace(hpa.metrics);
    cluster.has_hpa = true;
    for (const MetricSpec& m : hpa.spec.metrics) {
      cluster.hpa_targets.push_back(TargetText(m));
      if (m.type == MetricSourceType::kPods && m.target.average_value && !cluster.pods_metric_target) {
        cluster.pods_metric_target = m.target.average_value->value;
      }
      if (m.resource_name == "cpu" && m.target.average_utilization && !cluster.cpu_target_pct) {
        cluster.cpu_target_pct = *m.target.average_utilization;
      }
    }
    if (hpa.controller.sync_period < scenario_.duration) {
      queue_.Push(hpa.controller.sync_period, Payload(kHpaSync, 0));
    }
    queue_.Push(pipeline_->NextResourceScrapeAt(0), Payload(kResourceScrape, 0));
  }
  for (int i = 0; i < scenario_.pods.replicas; ++i) CreatePod(0, /*pre_existing=*/true);
  RebuildIngress(0);
  for (size_t i = 0; i < scenario_.events.size(); ++i) {
    queue_.Push(scenario_.events[i].at, Payload(kScenarioEvent, static_cast<uint32_t>(i)));
  }
  UpdateClusterLevels(0);
}

uint32_t World::CreatePod(Nanos now, bool pre_existing) {
  const auto index = static_cast<uint32_t>(pods_.size());
  pods_.emplace_back(scenario_.pods.workers, scenario_.pods.queue_limit);
  service_rng_.emplace_back(scenario_.seed, "service", index);
  if (database_) pools_.emplace_back(scenario_.postgres_pool);
  PodRuntime& rt = runtime_.emplace_back();
  rt.name = "pod-" + std::to_string(index);
  char uid[16];
  std::snprintf(uid, sizeof uid, "%08u", index);
  rt.uid = uid;
  rt.slow = static_cast<int>(index) < scenario_.pods.slow_count;
  rt.busy_since = now;
  if (pre_existing) {
    const Nanos long_ago = now - kPreExistingAge;
    rt.created_at = rt.started_at = rt.container_start = rt.ready_changed_at = long_ago;
    rt.stage = PodRuntime::Stage::kUp;
    rt.scheduled = rt.ready = rt.listening = rt.in_ingress = true;
    if (database_) OpenConnections(now, index);  // min_idle
    if (limiter_) limiter_->AddPod(now, index);
  } else {
    ++result_.cluster.pods_created;
    rt.created_at = rt.ready_changed_at = now;
    queue_.Push(now + scenario_.pods.startup.schedule.Sample(kubelet_rng_), Payload(kPodScheduled, index, rt.epoch));
  }
  if (pipeline_) queue_.Push(pipeline_->NextScrapeAt(rt.name, now), Payload(kScrape, index));
  return index;
}

void World::HandlePodScheduled(Nanos now, uint32_t pod) {
  PodRuntime& rt = runtime_[pod];
  rt.scheduled = true;
  rt.started_at = now;
  const StartupSpec& s = scenario_.pods.startup;
  const Nanos pulled = now + s.pull.Sample(kubelet_rng_);
  queue_.Push(pulled + s.start.Sample(kubelet_rng_), Payload(kContainerStarted, pod, rt.epoch));
}

void World::StartContainer(Nanos now, uint32_t pod) {
  PodRuntime& rt = runtime_[pod];
  // A new container's readiness starts failing (the prober's initial result).
  if (rt.ready) SetReady(now, pod, false);
  rt.stage = PodRuntime::Stage::kBooting;
  rt.container_start = now;
  rt.busy_worker_ns = 0;
  rt.busy_since = now;
  const Nanos app_up = now + scenario_.pods.startup.boot.Sample(kubelet_rng_);
  queue_.Push(app_up, Payload(kAppUp, pod, rt.epoch));
  queue_.Push(ReadyFlipTime(scenario_.pods.readiness_probe, now, app_up), Payload(kPodReady, pod, rt.epoch));
  UpdateClusterLevels(now);
}

void World::HandleAppUp(Nanos now, uint32_t pod) {
  PodRuntime& rt = runtime_[pod];
  rt.stage = PodRuntime::Stage::kUp;
  rt.listening = !rt.sigterm;
  if (database_ && !rt.sigterm) OpenConnections(now, pod);  // min_idle
  if (limiter_ && !rt.sigterm) limiter_->AddPod(now, pod);
  UpdateClusterLevels(now);
}

void World::HandlePodReady(Nanos now, uint32_t pod) {
  const PodRuntime& rt = runtime_[pod];
  if (rt.stage == PodRuntime::Stage::kUp && !rt.deleting) SetReady(now, pod, true);
}

void World::HandlePodNotReady(Nanos now, uint32_t pod) {
  // Only while the crashed container is still down; a restarted one already reset readiness.
  if (runtime_[pod].stage == PodRuntime::Stage::kDown) SetReady(now, pod, false);
}

void World::SetReady(Nanos now, uint32_t pod, bool ready) {
  PodRuntime& rt = runtime_[pod];
  if (rt.ready == ready) return;
  rt.ready = ready;
  rt.ready_changed_at = now;
  EndpointChanged(now, pod);
  UpdateClusterLevels(now);
}

void World::EndpointChanged(Nanos now, uint32_t pod) {
  PodRuntime& rt = runtime_[pod];
  const uint32_t seq = Gen24(++rt.endpoint_seq);
  const bool in = rt.ready && !rt.deleting;
  const Nanos delay = scenario_.ingress.endpoint_propagation.Sample(endpoint_rng_);
  queue_.Push(now + delay, Payload(kEndpointUpdate, pod | (in ? 0x80000000u : 0u), seq));
}

void World::HandleEndpointUpdate(Nanos now, uint32_t pod, uint32_t seq, bool in) {
  PodRuntime& rt = runtime_[pod];
  if (seq <= rt.endpoint_applied_seq) return;  // an older change overtaken by a newer one
  rt.endpoint_applied_seq = seq;
  if (rt.in_ingress == in) return;
  rt.in_ingress = in;
  RebuildIngress(now);
}

void World::RebuildIngress(Nanos now) {
  endpoint_scratch_.clear();
  for (uint32_t p = 0; p < runtime_.size(); ++p) {
    if (runtime_[p].in_ingress) endpoint_scratch_.push_back(p);
  }
  balancer_.SetEndpoints(endpoint_scratch_, now);
}

void World::DeletePod(Nanos now, uint32_t pod) {
  PodRuntime& rt = runtime_[pod];
  if (rt.deleting || rt.gone()) return;
  rt.deleting = true;
  ++result_.cluster.pods_deleted;
  if (rt.ready) {
    SetReady(now, pod, false);  // deletion forces the pod unready; the endpoint goes
  }
  if (!rt.container_running()) {
    PodGone(now, pod);  // nothing runs: the object goes at once
    return;
  }
  const TerminationSpec& t = scenario_.pods.termination;
  Nanos sigterm_at = now + t.pre_stop_sleep, kill_at = now + t.grace_period;
  if (t.pre_stop_sleep >= t.grace_period && t.pre_stop_sleep > 0) {
    sigterm_at = now + t.grace_period;
    kill_at = sigterm_at + kPreStopOverrun;
  }
  queue_.Push(sigterm_at, Payload(kSigterm, pod));
  queue_.Push(kill_at, Payload(kKill, pod));
  UpdateClusterLevels(now);
}

void World::HandleSigterm(Nanos now, uint32_t pod) {
  PodRuntime& rt = runtime_[pod];
  if (rt.gone()) return;
  rt.sigterm = true;
  rt.listening = false;  // the app stops accepting and drains what it has
  MaybeExitAfterDrain(now, pod);
}

void World::MaybeExitAfterDrain(Nanos now, uint32_t pod) {
  const PodRuntime& rt = runtime_[pod];
  if (rt.sigterm && rt.in_flight == 0 && !rt.gone()) PodGone(now, pod);
}

void World::HandleKill(Nanos now, uint32_t pod) {
  if (runtime_[pod].gone()) return;
  PodGone(now, pod);  // SIGKILL at the end of the grace period
}

void World::CrashContainer(Nanos now, uint32_t pod) {
  PodRuntime& rt = runtime_[pod];
  if (!rt.container_running()) return;
  ++result_.cluster.container_crashes;
  StopContainer(now, pod);
  rt.stage = PodRuntime::Stage::kDown;
  ++rt.epoch;  // the old container's pending start-up events are void
  if (rt.ready) {
    queue_.Push(NotReadyFlipTime(scenario_.pods.readiness_probe, rt.container_start, now),
                Payload(kPodNotReady, pod, rt.epoch));
  }
  if (rt.deleting) {
    PodGone(now, pod);
    return;
  }
  ++rt.restarts;
  ++result_.cluster.container_restarts;
  const Nanos restart_at = rt.backoff.OnContainerExit(now);
  queue_.Push(restart_at + scenario_.pods.startup.start.Sample(kubelet_rng_), Payload(kContainerStarted, pod, rt.epoch));
  UpdateClusterLevels(now);
}

void World::StopContainer(Nanos now, uint32_t pod) {
  PodRuntime& rt = runtime_[pod];
  AccrueCpu(now, pod);
  metrics_.AddBusy(-pods_[pod].busy());
  metrics_.AddQueued(-static_cast<int>(pods_[pod].queued()));
  // Everything the pod holds fails; a query already at the database runs on
  // until PostgreSQL notices (its slot stays taken until then).
  const auto slots = static_cast<uint32_t>(requests_.capacity());
  for (uint32_t id = 0; id < slots; ++id) {
    if (!requests_.IsLive(id)) continue;
    Request& r = requests_[id];
    if (r.pod != pod || !r.at_pod || r.orphan) continue;
    r.at_pod = false;
    balancer_.OnFinish(pod, now - r.arrival, now);
    metrics_.AddInSystem(-1);
    if (r.stage == Request::Stage::kQuerying) {
      r.orphan = true;
      ++orphans_;
    }
    Fail(now, id, FailureCause::kKilledInFlight);
  }
  rt.in_flight = 0;
  rt.listening = false;
  pods_[pod] = Pod(scenario_.pods.workers, scenario_.pods.queue_limit);
  if (limiter_) limiter_->RemovePod(now, pod);
  if (database_) {
    for (int n = pools_[pod].open(); n > 0; --n) database_->Disconnect();
    pools_[pod] = ConnectionPool(scenario_.postgres_pool);
    metrics_.SetPoolLevel(pod, 0, 0);
    metrics_.SetDbConnections(database_->connections());
  }
}

void World::PodGone(Nanos now, uint32_t pod) {
  PodRuntime& rt = runtime_[pod];
  if (rt.container_running()) StopContainer(now, pod);
  rt.stage = PodRuntime::Stage::kGone;
  ++rt.epoch;
  rt.listening = false;
  if (pipeline_) pipeline_->RemovePod(rt.name);
  UpdateClusterLevels(now);
}

uint32_t World::ActivePods() const {
  uint32_t n = 0;
  for (const PodRuntime& rt : runtime_) n += rt.active() ? 1 : 0;
  return n;
}

void World::ReconcileReplicaSet(Nanos now) {
  const auto active = static_cast<int32_t>(ActivePods());
  if (active < desired_replicas_) {
    const int32_t create = std::min(desired_replicas_ - active, kBurstReplicas);
    for (int32_t i = 0; i < create; ++i) CreatePod(now, /*pre_existing=*/false);
  } else if (active > desired_replicas_) {
    std::vector<ReplicaSetPod> pods;
    std::vector<uint32_t> index;
    for (uint32_t p = 0; p < runtime_.size(); ++p) {
      const PodRuntime& rt = runtime_[p];
      if (rt.gone()) continue;
      ReplicaSetPod rs;
      rs.name = rt.name;
      rs.uid = rt.uid;
      rs.node = rt.scheduled ? "node-0" : "";
      rs.phase = rt.stage == PodRuntime::Stage::kPending ? PodPhase::kPending : PodPhase::kRunning;
      rs.ready = rt.ready;
      if (rt.ready) rs.ready_since = rt.ready_changed_at;
      rs.created_at = rt.created_at;
      rs.restart_count = rt.restarts;
      rs.deleting = rt.deleting;
      pods.push_back(std::move(rs));
      index.push_back(p);
    }
    for (size_t i : PodsToDelete(pods, desired_replicas_, now)) DeletePod(now, index[i]);
  }
  UpdateClusterLevels(now);
}

void World::HandleHpaSync(Nanos now) {
  const HpaScenario& hpa = *scenario_.hpa;
  HpaObservation obs;
  obs.spec_replicas = desired_replicas_;
  obs.status_replicas = static_cast<int32_t>(ActivePods());
  std::vector<std::string> names;
  for (const PodRuntime& rt : runtime_) {
    if (rt.gone()) continue;
    HpaPod pod;
    pod.name = rt.name;
    pod.phase = rt.stage == PodRuntime::Stage::kPending ? PodPhase::kPending : PodPhase::kRunning;
    pod.deleting = rt.deleting;
    if (rt.scheduled) pod.start_time = rt.started_at;
    pod.ready = PodReadyCondition{rt.ready ? ConditionStatus::kTrue : ConditionStatus::kFalse, rt.ready_changed_at};
    pod.containers.push_back({"app", {{"cpu", scenario_.pods.cpu_request_milli}}});
    names.push_back(rt.name);
    obs.pods.push_back(std::move(pod));
  }
  for (const MetricSpec& m : hpa.spec.metrics) {
    obs.readings.push_back(m.type == MetricSourceType::kPods ? pipeline_->PodsMetricReading(names, now)
                                                             : pipeline_->CpuReading(names));
  }
  HpaReconcileResult r = ReconcileHpa(hpa.spec, hpa.controller, obs, std::move(hpa_state_), now);
  hpa_state_ = std::move(r.state);
  const HpaDecision& d = r.decision;

  HpaDecisionRow row;
  row.time = now;
  row.current = d.current_replicas;
  for (const MetricProposal& p : d.proposals) {
    HpaDecisionRow::Proposal out;
    out.metric = p.metric;
    out.target = p.target;
    out.ok = p.ok;
    out.error = p.error;
    if (p.ok) {
      out.replicas = p.proposal.replicas;
      if (p.proposal.utilization_percent) {
        out.usage_milli = static_cast<int64_t>(*p.proposal.utilization_percent) * 1000;
      } else if (p.proposal.average_value_milli) {
        out.usage_milli = *p.proposal.average_value_milli;
      }
    }
    row.proposals.push_back(std::move(out));
  }
  row.metric_replicas = d.metric_replicas;
  row.stabilized_replicas = d.stabilized_replicas;
  row.desired = d.desired_replicas;
  row.rescale = d.rescale;
  row.limiting_reason = d.limiting_reason;
  row.reason = d.rescale ? d.rescale_reason : !d.error.empty() ? d.error : d.limiting_reason;
  result_.cluster.decisions.push_back(std::move(row));

  if (d.rescale) {
    if (d.desired_replicas > desired_replicas_) {
      ++result_.cluster.rescales_up;
      if (!result_.cluster.first_scale_up_at) result_.cluster.first_scale_up_at = now;
    } else {
      ++result_.cluster.rescales_down;
    }
    desired_replicas_ = d.desired_replicas;
    ReconcileReplicaSet(now);
  }
  // The first climb is over at the first reconcile after it that adds no pod;
  // capacity has caught up once Ready pods then reach the desired count.
  if (result_.cluster.first_scale_up_at && !(d.rescale && d.desired_replicas > d.current_replicas)) {
    scale_up_settled_ = true;
    UpdateClusterLevels(now);
  }
  const Nanos next = now + hpa.controller.sync_period;
  if (next < scenario_.duration) queue_.Push(next, Payload(kHpaSync, 0));
}

void World::HandleScrape(Nanos now, uint32_t pod) {
  const PodRuntime& rt = runtime_[pod];
  if (rt.gone()) return;  // the target left service discovery
  // A pod whose app does not answer yields a failed scrape: no sample.
  if (rt.stage == PodRuntime::Stage::kUp) pipeline_->RecordScrape(rt.name, now, static_cast<double>(rt.requests_total));
  const Nanos next = now + pipeline_->config().scrape_interval;
  if (next < scenario_.duration) queue_.Push(next, Payload(kScrape, pod));
}

void World::HandleResourceScrape(Nanos now) {
  std::vector<ResourcePoint> batch;
  const double milli = static_cast<double>(scenario_.pods.cpu_per_busy_worker_milli) / 1000.0;
  for (uint32_t p = 0; p < runtime_.size(); ++p) {
    PodRuntime& rt = runtime_[p];
    if (!rt.container_running()) continue;
    AccrueCpu(now, p);
    batch.push_back({rt.name, rt.container_start, static_cast<int64_t>(rt.busy_worker_ns * milli)});
  }
  pipeline_->StoreResourceBatch(now, batch);
  const Nanos next = now + pipeline_->config().metric_resolution;
  if (next < scenario_.duration) queue_.Push(next, Payload(kResourceScrape, 0));
}

void World::HandleScenarioEvent(Nanos now, uint32_t index) {
  const PodEvent& e = scenario_.events[index];
  auto eligible = [&](uint32_t p) {
    const PodRuntime& rt = runtime_[p];
    return e.kind == PodEventKind::kCrash ? rt.container_running() && !rt.deleting : rt.active();
  };
  std::optional<uint32_t> target;
  if (e.which == PodEvent::Which::kIndex) {
    if (static_cast<size_t>(e.index) < runtime_.size() && eligible(static_cast<uint32_t>(e.index))) {
      target = static_cast<uint32_t>(e.index);
    }
  } else {
    for (uint32_t p = 0; p < runtime_.size(); ++p) {
      if (!eligible(p)) continue;
      if (!target || e.which == PodEvent::Which::kNewest) target = p;
      if (e.which == PodEvent::Which::kOldest) break;
    }
  }
  if (!target) return;  // no pod fits (all gone, or not started yet)
  if (e.kind == PodEventKind::kCrash) {
    CrashContainer(now, *target);
  } else {
    DeletePod(now, *target);
    ReconcileReplicaSet(now);  // the ReplicaSet replaces it at once
  }
}

void World::UpdateClusterLevels(Nanos now) {
  uint32_t ready = 0, total = 0, running = 0;
  for (const PodRuntime& rt : runtime_) {
    ready += rt.ready ? 1 : 0;
    total += rt.gone() ? 0 : 1;
    running += rt.container_running() ? 1 : 0;
  }
  ClusterResult& c = result_.cluster;
  c.replicas_max = std::max<uint64_t>(c.replicas_max, total);
  c.ready_max = std::max<uint64_t>(c.ready_max, ready);
  if (scale_up_settled_ && !c.caught_up_at && static_cast<int32_t>(ready) >= desired_replicas_) c.caught_up_at = now;
  metrics_.SetClusterLevels(static_cast<uint64_t>(std::max(desired_replicas_, 0)), ready, total, running);
}

}  // namespace scaletwin::sim
