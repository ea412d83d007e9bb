// PostgresLinkStore: LinkStore on PostgreSQL through a bounded PgConnectionPool.
//
// Every operation takes one pooled connection for one statement (SyncTenants
// and migrations: one transaction), so a request holds a connection only for
// its query — the pool size bounds this pod's share of max_connections, and
// the pool's errors (pool_timeout, db_too_many_clients, unavailable) reach the
// caller unchanged. Schema migrations run at Open inside a transaction holding
// a PostgreSQL advisory lock, so pods starting together migrate once; the
// tenant sync takes a second advisory lock for the same reason. Resolve is a
// single `UPDATE ... SET clicks = clicks + 1 ... RETURNING`, so the row lock
// makes the click count exact without a transaction.
//
//   PgPoolOptions pool;
//   pool.conninfo = "host=127.0.0.1 port=5432 dbname=links user=shortener";
//   pool.size = 10;
//   Result<std::unique_ptr<PostgresLinkStore>> store = PostgresLinkStore::Open(pool);
//
// Thread-safety: all methods thread-safe (the pool hands each thread its own connection).
#pragma once

#include <memory>

#include "real/storage/link_store.h"
#include "real/storage/pg_connection_pool.h"

namespace scaletwin {

class PostgresLinkStore final : public LinkStore {
 public:
  // Connects (one pooled connection), migrates the schema, and returns the
  // store. Fails with the pool's error if PostgreSQL cannot be reached or
  // refuses (db_too_many_clients), invalid_argument for bad options.
  static Result<std::unique_ptr<PostgresLinkStore>> Open(PgPoolOptions pool, LinkStoreOptions options = {});

  Status Ping() override;
  StoreStats Stats() const override;
  const char* backend() const override { return "postgres"; }

  PgConnectionPool& pool() { return pool_; }

 protected:
  Status ReplaceTenants(const std::vector<TenantKeys>& tenants) override;
  Result<std::string> FindTenantByKeyHash(std::string_view key_sha256_hex) override;
  Result<bool> InsertLinkIfCodeFree(const Link& link) override;
  Result<ResolvedLink> ResolveAndCountClick(std::string_view code, UnixMillis now) override;
  Result<Link> FindLink(std::string_view tenant_id, std::string_view code) override;
  Result<bool> RemoveLink(std::string_view tenant_id, std::string_view code) override;

 private:
  PostgresLinkStore(PgPoolOptions pool, LinkStoreOptions options);
  Status Migrate();

  PgConnectionPool pool_;
};

}  // namespace scaletwin
