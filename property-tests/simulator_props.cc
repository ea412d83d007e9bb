// RapidCheck properties of the simulator over generated small scenarios:
// conservation in the summary and in every interval, the queue bound, busy
// workers within capacity, determinism, and independence of the arrival trace
// from the fleet.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "model/scenario.h"
#include "sim/run.h"

namespace scaletwin {
namespace {

constexpr Nanos ms = kNanosPerMilli, S = kNanosPerSecond;
constexpr Nanos kLongDrain = 7 * 24 * 3600 * S;

rc::Gen<Scenario> SmallScenario() {
  return rc::gen::exec([] {
    Scenario s;
    s.name = "prop";
    s.seed = *rc::gen::arbitrary<uint64_t>();
    s.duration = *rc::gen::inRange<int>(1, 6) * S;
    s.warmup = *rc::gen::inRange<int>(0, 500) * ms;
    s.drain = *rc::gen::element<Nanos>(0, 100 * ms, kLongDrain);
    s.series_interval = *rc::gen::element<Nanos>(100 * ms, S);
    s.tenants = {{"a", 1}, {"b", static_cast<double>(*rc::gen::inRange(0, 5))}};
    const double qps = *rc::gen::inRange(1, 3000);
    switch (*rc::gen::inRange(0, 3)) {
      case 0: s.traffic.profile = RateProfile::FromPoints({{0, qps, 0}, {s.duration / 2, qps * 3, s.duration / 4}}); break;
      case 1: s.traffic.profile = RateProfile::FromSpike({qps, qps * 5, s.duration / 3, 0, s.duration / 3, 100 * ms}); break;
      default: s.traffic.profile = RateProfile::FromDiurnal({qps, 0.9, s.duration, 0}); break;
    }
    s.traffic.arrivals = *rc::gen::element(ArrivalProcess::kPoisson, ArrivalProcess::kUniform);
    s.ingress.policy = *rc::gen::element(IngressPolicy::kRoundRobin, IngressPolicy::kRandom, IngressPolicy::kLeastRequest,
                                          IngressPolicy::kEwma);
    s.pods.replicas = *rc::gen::inRange(1, 6);
    s.pods.workers = *rc::gen::inRange(1, 8);
    s.pods.queue_limit = *rc::gen::element<int64_t>(-1, 0, 1, 7, 100);
    const Nanos mean = *rc::gen::inRange(1, 50) * ms;
    s.pods.service_time = *rc::gen::element(DurationDistribution::Exponential(mean), DurationDistribution::Constant(mean),
                                            DurationDistribution::Lognormal(mean, 5 * mean));
    if (*rc::gen::arbitrary<bool>()) {  // the database path: pools, budget, query slots
      DatabaseSpec db;
      db.max_connections = *rc::gen::inRange(2, 40);
      db.superuser_reserved_connections = *rc::gen::inRange(0, db.max_connections);
      db.max_active_queries = *rc::gen::inRange(1, 10);
      for (auto& q : db.query_time) q = DurationDistribution::Exponential(*rc::gen::inRange(1, 30) * ms);
      s.database = db;
      s.postgres_pool.size = *rc::gen::inRange(1, 8);
      s.postgres_pool.min_idle = *rc::gen::inRange(0, s.postgres_pool.size + 1);
      s.postgres_pool.acquire_timeout = *rc::gen::element<Nanos>(0, 50 * ms, 30 * S);
      s.routes[0].cache_hit_ratio = *rc::gen::element(0.0, 0.5);
    }
    return s;
  });
}

RC_GTEST_PROP(Simulator, ConservationQueueBoundAndCapacityHold, ()) {
  const Scenario s = *SmallScenario();
  const RunResult r = sim::Run(s);
  RC_ASSERT(r.summary.offered == r.summary.completed + r.summary.rejected + r.in_flight_at_end);
  if (s.drain == kLongDrain) RC_ASSERT(r.in_flight_at_end == 0u);  // every backlog clears
  uint64_t so = 0, sc = 0, sr = 0;
  for (size_t i = 0; i < r.series.size(); ++i) {
    so += r.series.offered[i];
    sc += r.series.completed[i];
    sr += r.series.rejected[i];
    RC_ASSERT(so == sc + sr + r.series.in_flight[i]);
    if (s.pods.queue_limit >= 0)
      RC_ASSERT(r.series.queue_length_max[i] <= static_cast<uint64_t>(s.pods.queue_limit * s.pods.replicas));
    RC_ASSERT(r.series.busy_workers_mean[i] <= s.pods.workers * s.pods.replicas + 1e-9);
  }
  if (s.database) {
    const auto pool_cap = static_cast<uint64_t>(s.postgres_pool.size * s.pods.replicas);
    for (size_t i = 0; i < r.series.size(); ++i) {
      RC_ASSERT(r.series.pool_in_use[i] <= pool_cap);
      RC_ASSERT(r.series.db_connections[i] <= static_cast<uint64_t>(s.database->usable_connections()));
    }
    RC_ASSERT(r.db_connections_max <= static_cast<uint64_t>(s.database->usable_connections()));
  } else if (s.pods.queue_limit == -1) {
    RC_ASSERT(r.summary.rejected == 0u);
  }
  RC_ASSERT(r.utilization >= 0.0 && r.utilization <= 1.0 + 1e-9);
}

RC_GTEST_PROP(Simulator, SameSeedSameReportAndFleetSizeDoesNotMoveArrivals, ()) {
  Scenario s = *SmallScenario();
  RunResult a = sim::Run(s), b = sim::Run(s);
  RC_ASSERT(RenderReport(a, {}).dump() == RenderReport(b, {}).dump());
  Scenario bigger = s;
  bigger.pods.replicas += 1;
  RC_ASSERT(sim::Run(bigger).series.offered == a.series.offered);
}

}  // namespace
}  // namespace scaletwin
