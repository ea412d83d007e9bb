// PodRuntime: what the simulated control plane and kubelet know about one pod
// object — its lifecycle stage, Ready condition, the ingress's view of it and
// the counters its metrics endpoint exposes.
//
// A pod moves pending -> booting (container started, app not yet answering)
// -> up (app answers; probes may mark it Ready) -> gone; a crash takes it from
// booting/up to down until the kubelet restarts the container (back-off), and
// deletion (the ReplicaSet scaling down, or a pod_delete event) sets
// `deleting`, after which preStop, SIGTERM, drain and the grace period's kill
// take it to gone. `epoch` counts containers: events scheduled for one
// container carry its epoch and are ignored once another has replaced it.
// The world owns the transitions; this struct only holds the state.
//
// Thread-safety: none.
#pragma once

#include <cstdint>
#include <string>

#include "model/duration.h"
#include "model/readiness_probe.h"

namespace scaletwin::sim {

struct PodRuntime {
  enum class Stage : uint8_t { kPending, kBooting, kUp, kDown, kGone };

  std::string name;  // "pod-<index>": what Prometheus and the HPA key samples by
  std::string uid;   // the ReplicaSet's final tie-break
  Stage stage = Stage::kPending;
  bool scheduled = false;
  bool ready = false;      // the Ready condition
  bool deleting = false;   // deletionTimestamp set
  bool listening = false;  // accepts connections: app up and no SIGTERM yet
  bool sigterm = false;
  bool slow = false;       // serves pods.slow_factor times slower
  uint32_t epoch = 0;      // container generation
  Nanos created_at = 0;
  Nanos started_at = 0;          // status.startTime (the kubelet took the pod)
  Nanos container_start = 0;
  Nanos ready_changed_at = 0;    // the Ready condition's lastTransitionTime
  int32_t restarts = 0;
  RestartBackoff backoff;

  // The ingress's view: endpoint changes travel with a delay and may overtake
  // each other; the newest sequence number wins.
  uint32_t endpoint_seq = 0;
  uint32_t endpoint_applied_seq = 0;
  bool in_ingress = false;

  // Requests on this pod (queued, with a worker, or at the database).
  uint32_t in_flight = 0;
  // Exported metrics: a request counter (counted at response) and cumulative
  // CPU time of the current container, integrated from busy workers.
  uint64_t requests_total = 0;
  double busy_worker_ns = 0;
  Nanos busy_since = 0;  // last time busy_worker_ns was brought up to date

  bool container_running() const { return stage == Stage::kBooting || stage == Stage::kUp; }
  bool gone() const { return stage == Stage::kGone; }
  // Counted by the ReplicaSet (not being deleted, not gone).
  bool active() const { return !deleting && stage != Stage::kGone; }
};

}  // namespace scaletwin::sim
