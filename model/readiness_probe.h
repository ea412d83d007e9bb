// Container probes and restart back-off, as the kubelet runs them.
//
// The simulated kubelet and the real harness's kubelet-like supervisor share
// these rules so that a pod turns Ready (and loses Ready, and restarts) at the
// same moments in both worlds. Facts: shared/reference/platform.md §2.2 and the
// kubelet prober worker (pkg/kubelet/prober/worker.go doProbe) and container
// back-off (kuberuntime doBackOff + client-go flowcontrol.Backoff).
//
// Probe timing. The prober worker ticks every periodSeconds from when it starts
// (normally at container start). A tick whose time since container start is
// below initialDelaySeconds does nothing. Otherwise the probe runs; the result
// is success iff the app answers within timeoutSeconds. Consecutive equal
// results form a run; the reported result changes only when a success run
// reaches successThreshold or a failure run reaches failureThreshold.
// Initial results: readiness Failure (not Ready), liveness Success, startup
// not-yet-succeeded. A liveness/startup failure that reaches the threshold
// kills the container; the worker then waits for the new container.
// NOTE: the ticks are aligned with the worker start, not with start +
// initialDelay: with initialDelaySeconds 5 and periodSeconds 10 the first probe
// that counts is at 10 s (platform.md §2.2, "initialDelay < period is
// effectively ignored").
//
//   ProbeSpec spec;                                      // Kubernetes defaults 0/10/1/1/3
//   ProbeState readiness(spec, ProbeKind::kReadiness);
//   for each tick t = NextProbeTick(worker_start, spec, after):
//     if (!ProbeCounts(spec, container_start, t)) continue;
//     if (readiness.Record(app_answered_within_timeout)) UpdateEndpoints(readiness.passing());
//   Nanos ready_at = ReadyFlipTime(spec, container_start, app_ready_at);
//
//   RestartBackoff backoff;                               // one per container
//   Nanos restart_at = backoff.OnContainerExit(finished_at);  // 0 s, then 10, 20, ... 300 s
//
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "model/duration.h"
#include "model/json_reader.h"
#include "model/status.h"

namespace scaletwin {

enum class ProbeKind { kReadiness, kLiveness, kStartup };

// A probe's settings in Kubernetes' units (whole seconds in the API).
struct ProbeSpec {
  Nanos initial_delay = 0;                 // initialDelaySeconds
  Nanos period = 10 * kNanosPerSecond;     // periodSeconds
  Nanos timeout = 1 * kNanosPerSecond;     // timeoutSeconds
  int32_t success_threshold = 1;           // successThreshold (1 for liveness/startup)
  int32_t failure_threshold = 3;           // failureThreshold
  // Probe-level terminationGracePeriodSeconds (liveness/startup only).
  std::optional<Nanos> termination_grace_period;
};

// The prober worker's result state for one container.
class ProbeState {
 public:
  enum class Change { kNone, kBecamePassing, kBecameFailing };

  explicit ProbeState(const ProbeSpec& spec, ProbeKind kind = ProbeKind::kReadiness);

  // Records one counted probe outcome (success = answered OK within the
  // timeout). Returns what happened to the reported result. A liveness or
  // startup probe that turns failing goes on hold (further results are
  // ignored) until NewContainer().
  Change Record(bool success);

  // The container was restarted: results start again from the initial value.
  void NewContainer();

  // Readiness: Ready; liveness: alive; startup: has succeeded.
  bool passing() const { return passing_; }
  bool on_hold() const { return on_hold_; }

 private:
  ProbeSpec spec_;
  ProbeKind kind_;
  bool passing_ = false;
  bool on_hold_ = false;
  std::optional<bool> last_result_;  // nullopt = Unknown
  int32_t run_ = 0;
};

// The first prober tick at or after `at`, ticks being worker_start + k·period.
// REQUIRES: spec.period > 0.
Nanos NextProbeTick(Nanos worker_start, const ProbeSpec& spec, Nanos at);

// True iff a tick at `t` is past the initial delay (kubelet compares whole
// seconds since the container started: int32(elapsed.Seconds()) >= delay).
bool ProbeCounts(const ProbeSpec& spec, Nanos container_start, Nanos t);

// True iff a probe whose app answers after `response_time` counts as a success.
inline bool ProbeSucceeds(const ProbeSpec& spec, Nanos response_time) { return response_time <= spec.timeout; }

// When a readiness probe with `spec` reports Ready for a container started at
// `container_start` that answers probes successfully from `app_ready_at` on
// (and fails before): the tick of the successThreshold-th consecutive counted
// success. Ticks run from `worker_start` (default: the container start).
// Probe responses are taken as instant.
Nanos ReadyFlipTime(const ProbeSpec& spec, Nanos container_start, Nanos app_ready_at,
                    std::optional<Nanos> worker_start = std::nullopt);

// How long a Ready container keeps receiving traffic after its app stops
// answering at `app_failed_at`: the time of the failureThreshold-th
// consecutive failed tick (the probe that fails at a tick reports at the tick
// plus the timeout, because the kubelet waits timeoutSeconds for an answer).
Nanos NotReadyFlipTime(const ProbeSpec& spec, Nanos worker_start, Nanos app_failed_at);

// Kubelet container restart back-off (flowcontrol.Backoff 10 s → 300 s, no
// jitter). The first restart of a container is immediate; each later one waits
// the current back-off after the exit, and the back-off doubles on every
// restart up to the cap. An exit more than 2 × max (10 min) after the last
// back-off update starts over (restart at once, back-off 10 s).
struct RestartBackoffConfig {
  Nanos initial = 10 * kNanosPerSecond;
  Nanos max = 300 * kNanosPerSecond;
};

class RestartBackoff {
 public:
  explicit RestartBackoff(const RestartBackoffConfig& config = {}) : config_(config) {}

  // The container exited at `finished_at`; returns the earliest time the
  // kubelet restarts it and records that restart. (A real kubelet notices at
  // its next pod sync, which may come later; the caller adds that.)
  Nanos OnContainerExit(Nanos finished_at);

  // The delay the next exit would wait (0 when the next restart is immediate).
  Nanos DelayFor(Nanos finished_at) const;
  // True while the kubelet would report CrashLoopBackOff for an exit at `finished_at`, at `now`.
  bool InBackOff(Nanos finished_at, Nanos now) const { return now < finished_at + DelayFor(finished_at); }

 private:
  bool Expired(Nanos event_time) const { return event_time - last_update_ > 2 * config_.max; }

  RestartBackoffConfig config_;
  std::optional<Nanos> backoff_;  // nullopt = no entry
  Nanos last_update_ = 0;
};

// Reads a probe object with Kubernetes' field names at `path`:
//   {"initialDelaySeconds": 0, "periodSeconds": 10, "timeoutSeconds": 1,
//    "successThreshold": 1, "failureThreshold": 3}
// Values are integers >= 0; 0 or absent takes the API default (10/1/1/3;
// initialDelaySeconds 0). successThreshold must be 1 for liveness and startup
// probes; terminationGracePeriodSeconds is rejected for readiness. Handler keys
// pasted from a manifest (httpGet, tcpSocket, exec, grpc) are accepted and
// ignored: scaletwin probes /readyz and /healthz. Problems are appended to
// `errors`; the Result fails iff this call added any.
Result<ProbeSpec> ParseProbe(const nlohmann::json& value, const std::string& path, ParseErrors& errors,
                             ProbeKind kind = ProbeKind::kReadiness);

}  // namespace scaletwin
