// PgConnectionPool: the pod's bounded pool of PostgreSQL connections.
//
// A BlockingPool (real/storage/blocking_pool.h, which runs the model's pool
// state machine) of PgConnections:
//  * at most `size` connections, opened on demand (none at construction);
//  * Acquire waits up to `acquire_timeout`, then fails with `pool_timeout`;
//  * each connect must finish within `connect_timeout`, else `unavailable`;
//  * PostgreSQL refusing a connection because max_connections is reached
//    (SQLSTATE 53300) fails the waiting caller at once with
//    `db_too_many_clients` — the pod answers 503 and the run report counts it
//    under that cause — and is counted in too_many_clients();
//  * a broken connection (server restart, pg_terminate_backend, a failed
//    transaction) is detected when taken or returned, closed, and replaced by
//    a fresh one for the next caller.
// These are the semantics the simulator gives its pools, with the same
// defaults as HikariCP where a choice was needed (30 s acquire timeout).
//
//   PgConnectionPool pool({.conninfo = "host=db dbname=links", .size = 10});
//   Result<PgConnectionPool::Lease> c = pool.Acquire();
//   if (!c.ok()) return c.status();           // pool_timeout, db_too_many_clients, unavailable
//   Result<PgResult> r = (*c)->Run(kStatement, {tenant_id});
//
// Thread-safety: all methods thread-safe. REQUIRES at destruction: no Lease outstanding.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "model/duration.h"
#include "real/storage/blocking_pool.h"
#include "real/storage/pg_connection.h"

namespace scaletwin {

struct PgPoolOptions {
  std::string conninfo = {};  // libpq connection string or URI
  int size = 10;
  Nanos acquire_timeout = 30 * kNanosPerSecond;
  Nanos connect_timeout = 5 * kNanosPerSecond;
};

class PgConnectionPool {
 public:
  using Lease = BlockingPool<PgConnection>::Lease;

  // REQUIRES: options.size >= 1.
  explicit PgConnectionPool(PgPoolOptions options);

  Result<Lease> Acquire() { return pool_.Acquire(); }
  PoolCounters Counters() const { return pool_.Counters(); }
  // Connections PostgreSQL refused with SQLSTATE 53300 so far.
  uint64_t too_many_clients() const { return too_many_clients_.load(std::memory_order_relaxed); }
  const PgPoolOptions& options() const { return options_; }

 private:
  Result<std::unique_ptr<PgConnection>> Open();

  const PgPoolOptions options_;
  std::atomic<uint64_t> too_many_clients_{0};
  BlockingPool<PgConnection> pool_;  // last: its destructor waits for Open() calls that use the members above
};

}  // namespace scaletwin
