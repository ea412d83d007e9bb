// World: the simulated service — open-loop arrivals → ingress → pods, and
// with a `database` section each pod's PostgreSQL pool and the database —
// driven by one event queue in integer virtual time.
//
// A request's path: the ingress picks a pod; a worker takes it (or it waits
// in the pod's queue, or is refused with queue_full); if its route needs the
// database (and misses the cache) the worker acquires a pooled connection
// (waiting up to acquire_timeout → pool_timeout; a connection the database
// refuses → db_too_many_clients), runs its queries (the database runs at most
// max_active_queries at once), releases the connection, then spends its
// service time and completes.
//
// The cluster around the pods (world_cluster.cc): pods are created and
// deleted by a ReplicaSet whose replica count the HPA sets every sync period
// from what the metrics pipeline last scraped; each pod goes through start-up
// stages, readiness probes, and on deletion preStop, SIGTERM, drain and the
// grace period's kill. The ingress sends only to endpoints it has seen Ready
// (changes reach it after a propagation delay) and retries refused
// connections on other endpoints like proxy_next_upstream. Without an `hpa`
// section the fleet stays at pods.replicas (pod events may still disturb it).
//
// With a tenant `limit`, a worker first asks the Redis limiter
// (sim/limiter_stage.h: the pod's Redis pool, the network, the simulated
// Redis server, the limiter plan); a refusal answers 429 (rate_limited), a
// Redis failure decides per on_redis_error (fail_closed: redis_error).
//
// Arrivals stop at `duration`; in-flight work may then finish for up to
// `drain`. Invariant (checked at every event): requests offered = completed +
// rejected + in flight, over the whole run.
//
//   World world(scenario);
//   RunResult result = world.Run(progress);
//
// Thread-safety: none; one world per thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "model/arrivals.h"
#include "model/connection_pool.h"
#include "model/hpa_controller.h"
#include "model/load_balancer.h"
#include "model/metrics_pipeline.h"
#include "model/run_result.h"
#include "model/scenario.h"
#include "sim/database.h"
#include "sim/event_queue.h"
#include "sim/limiter_stage.h"
#include "sim/metrics.h"
#include "sim/pod.h"
#include "sim/pod_runtime.h"
#include "sim/request_slab.h"

namespace scaletwin::sim {

// Called now and then with the virtual time reached (for progress lines).
using ProgressFn = std::function<void(Nanos now, Nanos end)>;

class World {
 public:
  explicit World(const Scenario& scenario);

  // Runs to completion. Call once.
  RunResult Run(const ProgressFn& progress = nullptr);

  uint64_t events_processed() const { return events_; }

 private:
  // Payload: kind in bits 56..63, a generation in 32..55, an index in 0..31.
  // Request events carry the request's generation, pod events the container epoch.
  enum EventKind : uint64_t {
    kArrival = 0, kServiceDone, kConnectDone, kAcquireTimeout, kQueryDone,
    kPodScheduled, kContainerStarted, kAppUp, kPodReady, kPodNotReady, kEndpointUpdate,
    kSigterm, kKill, kHpaSync, kScrape, kResourceScrape, kScenarioEvent,
  };
  static uint64_t Payload(EventKind kind, uint32_t index, uint32_t generation = 0) {
    return (static_cast<uint64_t>(kind) << 56) | ((static_cast<uint64_t>(generation) & 0xFFFFFF) << 32) | index;
  }
  static uint32_t Gen24(uint32_t g) { return g & 0xFFFFFF; }

  // --- Request path (world.cc) ---
  void HandleArrival(Nanos now);
  // Sends the request to an endpoint (first try or retry); fails it when none is left.
  void RouteRequest(Nanos now, uint32_t request);
  void StartService(Nanos now, uint32_t request);  // a worker took the request
  void StartWork(Nanos now, uint32_t request);     // admitted by the limiter (or unlimited)
  void HandleLimiterDecision(Nanos now, const LimiterOutcome& outcome);
  void StartDatabaseWork(Nanos now, uint32_t request);  // the route's queries, if it has any
  void AfterDatabase(Nanos now, uint32_t request);      // fill the cache on a miss, then CPU
  void HandleCacheReply(Nanos now, const RedisCallOutcome& outcome);
  uint64_t RequestKey(uint32_t request) { return (static_cast<uint64_t>(Gen24(requests_[request].generation)) << 32) | request; }
  void AcquireConnection(Nanos now, uint32_t request);
  void OpenConnections(Nanos now, uint32_t pod);
  void HandleConnectDone(Nanos now, uint32_t pod, uint32_t epoch);
  void HandleAcquireTimeout(Nanos now, uint32_t request, uint32_t generation);
  void StartQuery(Nanos now, uint32_t request);
  void HandleQueryDone(Nanos now, uint32_t request);
  void ReleaseConnection(Nanos now, uint32_t pod);
  void StartCpu(Nanos now, uint32_t request);
  void HandleServiceDone(Nanos now, uint32_t request, uint32_t generation);
  // The request leaves its worker, completed or failed; the worker takes the next.
  void LeaveWorker(Nanos now, uint32_t request, std::optional<FailureCause> failure);
  // Final outcomes of a request (counted once).
  void Fail(Nanos now, uint32_t request, FailureCause cause);
  void ScheduleNextArrival();
  // Worker-level changes on a pod, keeping its CPU integral current.
  void AccrueCpu(Nanos now, uint32_t pod);

  // --- Cluster (world_cluster.cc) ---
  void StartCluster();
  uint32_t CreatePod(Nanos now, bool pre_existing);
  void HandlePodScheduled(Nanos now, uint32_t pod);
  void StartContainer(Nanos now, uint32_t pod);
  void HandleAppUp(Nanos now, uint32_t pod);
  void HandlePodReady(Nanos now, uint32_t pod);
  void HandlePodNotReady(Nanos now, uint32_t pod);
  void SetReady(Nanos now, uint32_t pod, bool ready);
  // The EndpointSlice changed for `pod`; the ingress learns after a delay.
  void EndpointChanged(Nanos now, uint32_t pod);
  void HandleEndpointUpdate(Nanos now, uint32_t pod, uint32_t seq, bool in);
  void RebuildIngress(Nanos now);
  void DeletePod(Nanos now, uint32_t pod);
  void HandleSigterm(Nanos now, uint32_t pod);
  void HandleKill(Nanos now, uint32_t pod);
  void CrashContainer(Nanos now, uint32_t pod);
  // The container is gone (exit, kill or crash): fails what is in flight,
  // closes its pool, resets its workers.
  void StopContainer(Nanos now, uint32_t pod);
  void PodGone(Nanos now, uint32_t pod);
  void MaybeExitAfterDrain(Nanos now, uint32_t pod);
  void ReconcileReplicaSet(Nanos now);
  void HandleHpaSync(Nanos now);
  void HandleScrape(Nanos now, uint32_t pod);
  void HandleResourceScrape(Nanos now);
  void HandleScenarioEvent(Nanos now, uint32_t index);
  void UpdateClusterLevels(Nanos now);
  uint32_t ActivePods() const;

  const Scenario& scenario_;
  RunResult result_;
  EventQueue queue_;
  ArrivalGenerator arrivals_;
  Arrival pending_arrival_;
  LoadBalancer balancer_;
  // Per pod ever created, by index (pods are never reused).
  std::vector<Pod> pods_;
  std::vector<PodRuntime> runtime_;
  std::vector<Rng> service_rng_;
  std::vector<ConnectionPool> pools_;  // with a database
  std::optional<Database> database_;
  Rng db_rng_, cache_rng_, kubelet_rng_, endpoint_rng_;
  RequestSlab requests_;
  MetricsRecorder metrics_;
  uint64_t events_ = 0;
  // Whole-run conservation counters (not only the summary window).
  uint64_t offered_ = 0, completed_ = 0, rejected_ = 0;
  uint64_t orphans_ = 0;  // failed requests whose database query still runs (slot kept until it ends)
  uint64_t in_flight_window_ = 0;

  // The Redis limiter (with a tenant limit); its events use kinds from kLimiterKinds on.
  static constexpr uint8_t kLimiterKinds = 32;
  std::unique_ptr<LimiterStage> limiter_;
  std::string cache_value_;  // the cached URL: cache.value_bytes long
  Rng link_rng_;             // which code a redirect asks for

  // Control plane.
  int32_t desired_replicas_ = 0;
  std::optional<MetricsPipeline> pipeline_;
  HpaState hpa_state_;
  bool scale_up_settled_ = false;  // the first climb of the HPA ended (for catch_up_s)
  std::vector<uint32_t> endpoint_scratch_;
};

}  // namespace scaletwin::sim
