// Wiring PgConnection into BlockingPool, counting refusals by cause.
#include "real/storage/pg_connection_pool.h"

#include <utility>

namespace scaletwin {

PgConnectionPool::PgConnectionPool(PgPoolOptions options)
    : options_(std::move(options)),
      pool_(
          PoolConfig{
              .size = options_.size, .min_idle = 0, .acquire_timeout = options_.acquire_timeout, .connect_time = 0},
          [this] { return Open(); }, [](PgConnection& c) { return c.IsHealthy(); }) {}

Result<std::unique_ptr<PgConnection>> PgConnectionPool::Open() {
  Result<std::unique_ptr<PgConnection>> conn = PgConnection::Connect(options_.conninfo, options_.connect_timeout);
  if (!conn.ok() && StorageCauseOf(conn.status()) == StorageCause::kDbTooManyClients) {
    too_many_clients_.fetch_add(1, std::memory_order_relaxed);
  }
  return conn;
}

}  // namespace scaletwin
