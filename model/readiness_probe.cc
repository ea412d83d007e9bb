#include "model/readiness_probe.h"

#include <algorithm>
#include <limits>

namespace scaletwin {

ProbeState::ProbeState(const ProbeSpec& spec, ProbeKind kind) : spec_(spec), kind_(kind) { NewContainer(); }

void ProbeState::NewContainer() {
  // Initial values (prober_manager.go): readiness Failure, liveness Success,
  // startup Unknown (not started).
  passing_ = kind_ == ProbeKind::kLiveness;
  on_hold_ = false;
  last_result_.reset();
  run_ = 0;
}

ProbeState::Change ProbeState::Record(bool success) {
  if (on_hold_) return Change::kNone;
  if (last_result_ == success) {
    ++run_;
  } else {
    last_result_ = success;
    run_ = 1;
  }
  // Below the threshold the reported result stays as it was.
  if ((!success && run_ < spec_.failure_threshold) || (success && run_ < spec_.success_threshold)) {
    return Change::kNone;
  }
  const bool was = passing_;
  passing_ = success;
  if (!success && kind_ != ProbeKind::kReadiness) {
    // The container will be killed and restarted; probing pauses until then.
    on_hold_ = true;
    run_ = 0;
  }
  if (was == passing_) return Change::kNone;
  return passing_ ? Change::kBecamePassing : Change::kBecameFailing;
}

Nanos NextProbeTick(Nanos worker_start, const ProbeSpec& spec, Nanos at) {
  if (at <= worker_start) return worker_start;
  const Nanos k = (at - worker_start + spec.period - 1) / spec.period;
  return worker_start + k * spec.period;
}

bool ProbeCounts(const ProbeSpec& spec, Nanos container_start, Nanos t) {
  // int32(elapsed.Seconds()) < initialDelaySeconds skips the tick; for whole
  // seconds of delay that is exactly elapsed < delay.
  return t >= container_start && t - container_start >= spec.initial_delay;
}

Nanos ReadyFlipTime(const ProbeSpec& spec, Nanos container_start, Nanos app_ready_at,
                    std::optional<Nanos> worker_start) {
  const Nanos earliest = std::max(app_ready_at, container_start + spec.initial_delay);
  const Nanos first = NextProbeTick(worker_start.value_or(container_start), spec, earliest);
  return first + static_cast<Nanos>(std::max(spec.success_threshold, 1) - 1) * spec.period;
}

Nanos NotReadyFlipTime(const ProbeSpec& spec, Nanos worker_start, Nanos app_failed_at) {
  const Nanos first = NextProbeTick(worker_start, spec, app_failed_at);
  return first + static_cast<Nanos>(std::max(spec.failure_threshold, 1) - 1) * spec.period + spec.timeout;
}

Nanos RestartBackoff::DelayFor(Nanos finished_at) const {
  // IsInBackOffSince: no entry or an expired one means no back-off.
  if (!backoff_ || Expired(finished_at)) return 0;
  return *backoff_;
}

Nanos RestartBackoff::OnContainerExit(Nanos finished_at) {
  const Nanos restart_at = finished_at + DelayFor(finished_at);
  // Backoff.Next(key, finished_at), run when the kubelet restarts the container.
  if (!backoff_ || Expired(finished_at)) {
    backoff_ = config_.initial;
  } else {
    backoff_ = std::min(*backoff_ * 2, config_.max);
  }
  last_update_ = restart_at;
  return restart_at;
}

namespace {

constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();

// A non-negative int32 field (seconds or a count), as the API validates it.
std::optional<int64_t> SecondsField(ObjectReader& r, const char* key) { return r.Int(key, 0, kInt32Max); }

}  // namespace

Result<ProbeSpec> ParseProbe(const nlohmann::json& value, const std::string& path, ParseErrors& errors,
                             ProbeKind kind) {
  const size_t before = errors.size();
  ObjectReader r(value, path, errors);
  ProbeSpec spec;
  for (const char* handler : {"httpGet", "tcpSocket", "exec", "grpc"}) r.Allow(handler);
  spec.initial_delay = SecondsField(r, "initialDelaySeconds").value_or(0) * kNanosPerSecond;
  // SetDefaults_Probe: zero means unset.
  if (auto v = SecondsField(r, "periodSeconds"); v && *v > 0) spec.period = *v * kNanosPerSecond;
  if (auto v = SecondsField(r, "timeoutSeconds"); v && *v > 0) spec.timeout = *v * kNanosPerSecond;
  if (auto v = SecondsField(r, "successThreshold"); v && *v > 0) {
    spec.success_threshold = static_cast<int32_t>(*v);
    if (kind != ProbeKind::kReadiness && *v != 1) {
      errors.Add(JoinPath(path, "successThreshold"), "1 (liveness and startup probes)", DescribeJson(value["successThreshold"]));
    }
  }
  if (auto v = SecondsField(r, "failureThreshold"); v && *v > 0) spec.failure_threshold = static_cast<int32_t>(*v);
  if (r.Has("terminationGracePeriodSeconds")) {
    if (kind == ProbeKind::kReadiness) {
      r.Get("terminationGracePeriodSeconds");
      errors.AddMessage(JoinPath(path, "terminationGracePeriodSeconds"), "must not be set for readiness probes");
    } else if (auto v = r.Int("terminationGracePeriodSeconds", 1, kInt32Max)) {
      spec.termination_grace_period = *v * kNanosPerSecond;
    }
  }
  r.Finish();
  if (errors.size() > before) return Status::InvalidArgument("invalid probe at " + path);
  return spec;
}

}  // namespace scaletwin
