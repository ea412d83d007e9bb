// The simulated pools and database: Erlang B as the oracle for a fail-fast
// pool, PostgreSQL's connection budget, pool timeouts, and conservation.
#include <gtest/gtest.h>

#include <cmath>

#include "model/scenario.h"
#include "sim/run.h"

namespace scaletwin::sim {
namespace {

constexpr Nanos S = kNanosPerSecond, ms = kNanosPerMilli;

double ErlangB(int c, double a) {
  double b = 1;
  for (int m = 1; m <= c; ++m) b = a * b / (m + a * b);
  return b;
}

Scenario WithDatabase(double qps, int replicas, int workers, PoolConfig pool, DatabaseSpec db, Nanos duration) {
  Scenario s;
  s.name = "db";
  s.seed = 1;
  s.duration = duration;
  s.warmup = duration / 20;
  s.tenants = {{"t", 1}};
  s.traffic.profile = RateProfile::FromPoints({{0, qps, 0}});
  s.pods.replicas = replicas;
  s.pods.workers = workers;
  s.pods.service_time = DurationDistribution::Constant(0);
  s.database = db;
  s.postgres_pool = pool;
  return s;
}

DatabaseSpec Db(DurationDistribution query, int max_active = 100'000) {
  DatabaseSpec d;
  d.max_active_queries = max_active;
  for (auto& q : d.query_time) q = query;
  return d;
}

TEST(DatabaseWorld, FailFastFixedPoolBlocksAsErlangB) {
  // 10 pre-opened connections, no waiting (acquire_timeout 0), Poisson 800/s,
  // exponential 10 ms queries: a = 8 Erlangs on 10 servers, B(10, 8) = 0.1217.
  const PoolConfig pool{.size = 10, .min_idle = 10, .acquire_timeout = 0, .connect_time = ms};
  double sum = 0, sum2 = 0;
  const int reps = 10;
  for (int r = 0; r < reps; ++r) {
    Scenario s = WithDatabase(800, 1, 1000, pool, Db(DurationDistribution::Exponential(10 * ms)), 200 * S);
    s.seed = 500 + static_cast<uint64_t>(r);
    const RunResult res = sim::Run(s);
    const double blocked =
        static_cast<double>(res.summary.by_cause[static_cast<int>(FailureCause::kPoolTimeout)]) / res.summary.offered;
    sum += blocked;
    sum2 += blocked * blocked;
  }
  const double mean = sum / reps;
  const double half = 3.25 * std::sqrt((sum2 / reps - mean * mean) * reps / (reps - 1) / reps);
  const double theory = ErlangB(10, 8);
  EXPECT_NEAR(mean, theory, half) << "simulated " << mean << " ± " << half << ", Erlang B " << theory;
  EXPECT_LT(half, 0.05 * theory);
}

TEST(DatabaseWorld, ConnectionsBeyondTheBudgetAreRefusedAndFailRequests) {
  // 12 pods × 10 connections want 120; PostgreSQL gives ordinary roles 100 - 3 = 97.
  const PoolConfig pool{.size = 10, .min_idle = 10, .acquire_timeout = 5 * S, .connect_time = 2 * ms};
  DatabaseSpec db = Db(DurationDistribution::Exponential(5 * ms));
  Scenario s = WithDatabase(3000, 12, 20, pool, db, 30 * S);
  const RunResult r = sim::Run(s);
  EXPECT_EQ(r.db_connections_max, 97u);
  EXPECT_GE(r.db_refused_connections, 23u);
  EXPECT_GT(r.summary.by_cause[static_cast<int>(FailureCause::kDbTooManyClients)], 0u);
  for (uint64_t c : r.series.db_connections) EXPECT_LE(c, 97u);
  // With 9 pods (90 connections) nothing is refused.
  s.pods.replicas = 9;
  const RunResult fits = sim::Run(s);
  EXPECT_EQ(fits.db_refused_connections, 0u);
  EXPECT_EQ(fits.summary.by_cause[static_cast<int>(FailureCause::kDbTooManyClients)], 0u);
}

TEST(DatabaseWorld, SlowQueriesExhaustThePoolAndWaitersTimeOut) {
  // 2 connections, 50 ms queries, 100/s: the pool serves at most 40/s.
  const PoolConfig pool{.size = 2, .min_idle = 0, .acquire_timeout = 200 * ms, .connect_time = 2 * ms};
  Scenario s = WithDatabase(100, 1, 200, pool, Db(DurationDistribution::Constant(50 * ms)), 60 * S);
  const RunResult r = sim::Run(s);
  EXPECT_GT(r.summary.by_cause[static_cast<int>(FailureCause::kPoolTimeout)], r.summary.offered / 3);
  EXPECT_NEAR(static_cast<double>(r.summary.completed) / ToSeconds(s.duration - s.warmup), 40.0, 2.0);
  EXPECT_LE(ToMillis(r.pool_wait.max()), 200.0 + 1e-6);
  for (uint64_t u : r.series.pool_in_use) EXPECT_LE(u, 2u);
  EXPECT_EQ(r.summary.offered, r.summary.completed + r.summary.rejected + r.in_flight_at_end);
}

TEST(DatabaseWorld, MaxActiveQueriesQueuesAtTheDatabase) {
  // A single execution slot makes the database an M/D/1 queue behind the pools.
  const PoolConfig pool{.size = 50, .min_idle = 50, .acquire_timeout = 30 * S, .connect_time = ms};
  Scenario s = WithDatabase(80, 1, 200, pool, Db(DurationDistribution::Constant(10 * ms), 1), 1000 * S);
  const RunResult r = sim::Run(s);
  // M/D/1 at rho 0.8: W = D + rho D / (2 (1 - rho)) = 30 ms.
  EXPECT_NEAR(r.latency.Mean() / ms, 30.0, 2.0);
}

TEST(DatabaseWorld, CacheHitsSkipTheDatabase) {
  const PoolConfig pool{.size = 10, .min_idle = 10, .acquire_timeout = S, .connect_time = ms};
  Scenario s = WithDatabase(200, 1, 50, pool, Db(DurationDistribution::Constant(10 * ms)), 60 * S);
  s.routes[0].cache_hit_ratio = 0.75;
  const RunResult r = sim::Run(s);
  // A quarter of the requests take 10 ms, the rest 0: mean 2.5 ms.
  EXPECT_NEAR(r.latency.Mean() / ms, 2.5, 0.2);
}

}  // namespace
}  // namespace scaletwin::sim
