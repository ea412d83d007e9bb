// RunReal: a scenario run in the real world — the counterpart of sim::Run,
// returning the same RunResult (mode "real") so both render the same
// report.json.
//
// What runs, in this process and its children:
// - a real redis-server (RedisProcess) started with the scenario's `redis`
//   settings (maxmemory, policy, hz, persistence), crashed and restarted at
//   the times of its `redis_kill` / `redis_restart` events;
// - `pods.replicas` real ShortenerPods (the same code as `scaletwin pod`),
//   each on its own loopback port, sharing one SQLite database, each with
//   its own Redis pool (`pools.redis`), worker pool (`pods.workers`,
//   `pods.queue`), emulated service time, limiter and link cache taken from
//   the scenario, and its clock offset by `pods.clock_skew`;
// - the model's arrival trace (same generator, same seed as the simulator)
//   replayed open-loop over HTTP by the load generator, each request sent to
//   the pod the model's LoadBalancer (`ingress.policy`) picks.
// Outcomes are read from the answers (429 rate_limited, 503 queue_full /
// redis_error / ...); the limiter audit is fed every decision the pods took
// (key, tenant, limit, rule time, verdict) — the same auditor and the same
// inputs as the simulator's.
//
// What a real run cannot do yet is refused by CheckRealSupport with the JSON
// path of each feature (the HPA, pod events, the database model, slow pods:
// they need the cluster harness). A `redis.network_delay` the scenario sets is
// emulated: the pods' Redis clients sleep a draw before each round trip's
// write and after its replies, on top of loopback's own delay (listed in the
// report's `real.emulated`). Scenario settings that only the simulator models
// (Redis service times, start-up stages, probes, ingress retries) are listed
// in `real.not_applied`: in the real world those are measured, not modelled.
//
//   Status ok = CheckRealSupport(scenario);
//   Result<RunResult> r = RunReal(scenario, {.progress = ...});
//
// Errors: InvalidArgument for an unsupported scenario; IOError when
// redis-server, a pod or the work directory cannot be set up; Cancelled when
// options.interrupt was set. Everything is stopped and (unless kept) removed
// before RunReal returns.
#pragma once

#include <atomic>
#include <functional>
#include <string>

#include "model/duration.h"
#include "model/run_result.h"
#include "model/scenario.h"
#include "model/status.h"

namespace scaletwin {

struct RealRunOptions {
  std::string redis_binary = "redis-server";
  // Where the SQLite database (links.db), the pods' JSON logs (pods.log) and Redis's
  // directory go. "" = a fresh temporary directory.
  std::string work_dir;
  bool keep_work_dir = false;  // keep the temporary directory (logs) afterwards
  // About once a second while the trace plays: (time since the trace
  // started, scenario duration).
  std::function<void(Nanos now, Nanos end)> progress;
  // One line per set-up step ("starting redis-server", "seeding 1200 links").
  std::function<void(const std::string& line)> note;
  // Optional; set by another thread (a Ctrl-C handler) to stop the run: set-up
  // stops at its next step, the trace within the load generator's
  // kCancelPollInterval; everything is stopped and removed as on any return,
  // and RunReal returns Cancelled with how far it got.
  const std::atomic<bool>* interrupt = nullptr;
};

// OK, or InvalidArgument with one line per scenario feature a real run
// cannot reproduce, each naming its JSON path.
Status CheckRealSupport(const Scenario& scenario);

Result<RunResult> RunReal(const Scenario& scenario, const RealRunOptions& options = {});

}  // namespace scaletwin
