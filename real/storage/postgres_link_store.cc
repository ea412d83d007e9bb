// PostgreSQL schema, migrations and row operations of the link store.
#include "real/storage/postgres_link_store.h"

#include <set>
#include <utility>

namespace scaletwin {

namespace {

// pg_advisory_xact_lock keys: arbitrary constants, one per critical section,
// chosen so they do not collide with locks other applications might take.
constexpr int64_t kSchemaLock = 0x5354'4c4b'0000'0001;      // "STLK" 1: schema migrations
constexpr int64_t kTenantSyncLock = 0x5354'4c4b'0000'0002;  // "STLK" 2: tenant mirroring

struct Migration {
  int version;
  const char* name;
  const char* sql;
};

// Append-only: a released migration is never edited, a change is a new version.
// Codes compare byte-wise (COLLATE "C"): base62 is case-sensitive whatever the
// database's default collation, and the unique index stays cheap.
constexpr Migration kMigrations[] = {
    {1, "tenants, api_keys and links",
     R"sql(
CREATE TABLE tenants (
  tenant_id TEXT COLLATE "C" PRIMARY KEY,
  active SMALLINT NOT NULL DEFAULT 1
);
CREATE TABLE api_keys (
  tenant_id TEXT COLLATE "C" NOT NULL REFERENCES tenants (tenant_id),
  key_sha256 TEXT COLLATE "C" NOT NULL CHECK (key_sha256 ~ '^[0-9a-f]{64}$'),
  PRIMARY KEY (tenant_id, key_sha256)
);
CREATE UNIQUE INDEX api_keys_key_sha256 ON api_keys (key_sha256);
CREATE TABLE links (
  tenant_id TEXT COLLATE "C" NOT NULL REFERENCES tenants (tenant_id),
  code TEXT COLLATE "C" NOT NULL,
  url TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT,
  clicks BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant_id, code)
);
CREATE UNIQUE INDEX links_code ON links (code);
)sql"},
};

constexpr PgStatement kRecordMigration{"record_migration",
                                       "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", 2};
constexpr PgStatement kListTenants{"list_tenants", "SELECT tenant_id FROM tenants", 0};
constexpr PgStatement kDeleteKeys{"delete_keys", "DELETE FROM api_keys WHERE tenant_id = $1", 1};
constexpr PgStatement kDeactivateTenant{"deactivate_tenant", "UPDATE tenants SET active = 0 WHERE tenant_id = $1", 1};
constexpr PgStatement kUpsertTenant{
    "upsert_tenant",
    "INSERT INTO tenants (tenant_id, active) VALUES ($1, 1) ON CONFLICT (tenant_id) DO UPDATE SET active = 1", 1};
constexpr PgStatement kInsertKey{"insert_key", "INSERT INTO api_keys (tenant_id, key_sha256) VALUES ($1, $2)", 2};
constexpr PgStatement kTenantForKey{"tenant_for_key",
                                    "SELECT k.tenant_id FROM api_keys k JOIN tenants t ON t.tenant_id = k.tenant_id "
                                    "WHERE k.key_sha256 = $1 AND t.active = 1",
                                    1};
// ON CONFLICT DO NOTHING without a target covers both the primary key and
// the global unique index on code: a taken code inserts no row.
constexpr PgStatement kInsertLink{"insert_link",
                                  "INSERT INTO links (tenant_id, code, url, created_at, expires_at, clicks) "
                                  "VALUES ($1, $2, $3, $4, $5, 0) ON CONFLICT DO NOTHING",
                                  5};
constexpr PgStatement kResolve{
    "resolve",
    "UPDATE links SET clicks = clicks + 1 "
    "WHERE code = $1 AND (expires_at IS NULL OR expires_at > $2) RETURNING tenant_id, url, expires_at",
    2};
constexpr PgStatement kGetLink{
    "get_link", "SELECT url, created_at, expires_at, clicks FROM links WHERE tenant_id = $1 AND code = $2", 2};
constexpr PgStatement kDeleteLink{"delete_link", "DELETE FROM links WHERE tenant_id = $1 AND code = $2", 2};

std::string S(std::string_view v) { return std::string(v); }

// Runs `body` in a transaction. On failure rolls back (best effort; a
// connection left in a transaction is discarded by the pool anyway).
template <typename Body>
Status InTransaction(PgConnection& c, Body&& body) {
  if (Result<PgResult> r = c.Exec("BEGIN"); !r.ok()) return r.status();
  Status s = body();
  if (!s.ok()) {
    (void)c.Exec("ROLLBACK");
    return s;
  }
  if (Result<PgResult> r = c.Exec("COMMIT"); !r.ok()) return r.status();
  return Status::Ok();
}

}  // namespace

PostgresLinkStore::PostgresLinkStore(PgPoolOptions pool, LinkStoreOptions options)
    : LinkStore(std::move(options)), pool_(std::move(pool)) {}

Result<std::unique_ptr<PostgresLinkStore>> PostgresLinkStore::Open(PgPoolOptions pool, LinkStoreOptions options) {
  if (Status s = ValidateOptions(options); !s.ok()) return s;
  if (pool.size < 1) return StorageError(StorageCause::kInvalidArgument, "pool size must be >= 1");
  if (pool.acquire_timeout <= 0 || pool.connect_timeout <= 0) {
    return StorageError(StorageCause::kInvalidArgument, "acquire_timeout and connect_timeout must be positive");
  }
  std::unique_ptr<PostgresLinkStore> store(new PostgresLinkStore(std::move(pool), std::move(options)));
  if (Status s = store->Migrate(); !s.ok()) return s;
  return store;
}

Status PostgresLinkStore::Migrate() {
  Result<PgConnectionPool::Lease> c = pool_.Acquire();
  if (!c.ok()) return c.status();
  PgConnection& conn = **c;
  return InTransaction(conn, [&]() -> Status {
    // The lock comes first: even CREATE TABLE IF NOT EXISTS races with a
    // concurrent creator (duplicate key in pg_type).
    if (Result<PgResult> r = conn.Exec("SELECT pg_advisory_xact_lock(" + std::to_string(kSchemaLock) + ")"); !r.ok()) {
      return r.status();
    }
    if (Result<PgResult> r = conn.Exec(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())");
        !r.ok()) {
      return r.status();
    }
    Result<PgResult> applied = conn.Exec("SELECT version FROM schema_migrations");
    if (!applied.ok()) return applied.status();
    std::set<int64_t> done;
    for (int i = 0; i < applied->rows(); ++i) done.insert(applied->GetInt64(i, 0));
    // A newer pod may have applied versions this binary does not know; they
    // are left alone, since a rolling update runs old and new pods side by side.
    for (const Migration& m : kMigrations) {
      if (done.contains(m.version)) continue;
      if (Result<PgResult> r = conn.Exec(m.sql); !r.ok()) {
        return StorageError(StorageCauseOf(r.status()),
                            "migration " + std::to_string(m.version) + " (" + m.name + "): " + r.status().message());
      }
      if (Result<PgResult> r = conn.Run(kRecordMigration, {std::to_string(m.version), m.name}); !r.ok()) {
        return r.status();
      }
    }
    return Status::Ok();
  });
}

Status PostgresLinkStore::Ping() {
  Result<PgConnectionPool::Lease> c = pool_.Acquire();
  if (!c.ok()) return c.status();
  Result<PgResult> r = (*c)->Exec("SELECT 1");
  return r.ok() ? Status::Ok() : r.status();
}

StoreStats PostgresLinkStore::Stats() const {
  StoreStats s;
  s.pool = pool_.Counters();
  s.db_too_many_clients = pool_.too_many_clients();
  return s;
}

Status PostgresLinkStore::ReplaceTenants(const std::vector<TenantKeys>& tenants) {
  Result<PgConnectionPool::Lease> c = pool_.Acquire();
  if (!c.ok()) return c.status();
  PgConnection& conn = **c;
  return InTransaction(conn, [&]() -> Status {
    if (Result<PgResult> r = conn.Exec("SELECT pg_advisory_xact_lock(" + std::to_string(kTenantSyncLock) + ")");
        !r.ok()) {
      return r.status();
    }
    Result<PgResult> existing = conn.Run(kListTenants, {});
    if (!existing.ok()) return existing.status();
    std::set<std::string> listed;
    for (const TenantKeys& t : tenants) listed.insert(t.tenant_id);
    // Keys first, for every tenant: a key hash may move between tenants.
    for (int i = 0; i < existing->rows(); ++i) {
      const std::string id = S(existing->Get(i, 0));
      if (Result<PgResult> r = conn.Run(kDeleteKeys, {id}); !r.ok()) return r.status();
      if (!listed.contains(id)) {
        if (Result<PgResult> r = conn.Run(kDeactivateTenant, {id}); !r.ok()) return r.status();
      }
    }
    for (const TenantKeys& t : tenants) {
      if (Result<PgResult> r = conn.Run(kUpsertTenant, {t.tenant_id}); !r.ok()) return r.status();
      for (const std::string& h : t.api_key_sha256) {
        if (Result<PgResult> r = conn.Run(kInsertKey, {t.tenant_id, h}); !r.ok()) return r.status();
      }
    }
    return Status::Ok();
  });
}

Result<std::string> PostgresLinkStore::FindTenantByKeyHash(std::string_view key_sha256_hex) {
  Result<PgConnectionPool::Lease> c = pool_.Acquire();
  if (!c.ok()) return c.status();
  Result<PgResult> r = (*c)->Run(kTenantForKey, {S(key_sha256_hex)});
  if (!r.ok()) return r.status();
  if (r->rows() == 0) return StorageError(StorageCause::kNotFound, "unknown API key");
  return S(r->Get(0, 0));
}

Result<bool> PostgresLinkStore::InsertLinkIfCodeFree(const Link& link) {
  Result<PgConnectionPool::Lease> c = pool_.Acquire();
  if (!c.ok()) return c.status();
  std::optional<std::string> expires;
  if (link.expires_at) expires = std::to_string(*link.expires_at);
  Result<PgResult> r =
      (*c)->Run(kInsertLink, {link.tenant_id, link.code, link.url, std::to_string(link.created_at), expires});
  if (!r.ok()) {
    if ((*c)->last_sqlstate() == "23503") {  // foreign_key_violation
      return StorageError(StorageCause::kNotFound, "unknown tenant \"" + link.tenant_id + "\"");
    }
    return r.status();
  }
  return r->affected() == 1;
}

Result<ResolvedLink> PostgresLinkStore::ResolveAndCountClick(std::string_view code, UnixMillis now) {
  Result<PgConnectionPool::Lease> c = pool_.Acquire();
  if (!c.ok()) return c.status();
  Result<PgResult> r = (*c)->Run(kResolve, {S(code), std::to_string(now)});
  if (!r.ok()) return r.status();
  if (r->rows() == 0) return StorageError(StorageCause::kNotFound, "no such link");
  ResolvedLink out{S(r->Get(0, 0)), S(r->Get(0, 1))};
  if (!r->IsNull(0, 2)) out.expires_at = r->GetInt64(0, 2);
  return out;
}

Result<Link> PostgresLinkStore::FindLink(std::string_view tenant_id, std::string_view code) {
  Result<PgConnectionPool::Lease> c = pool_.Acquire();
  if (!c.ok()) return c.status();
  Result<PgResult> r = (*c)->Run(kGetLink, {S(tenant_id), S(code)});
  if (!r.ok()) return r.status();
  if (r->rows() == 0) return StorageError(StorageCause::kNotFound, "no such link");
  Link link;
  link.tenant_id = S(tenant_id);
  link.code = S(code);
  link.url = S(r->Get(0, 0));
  link.created_at = r->GetInt64(0, 1);
  if (!r->IsNull(0, 2)) link.expires_at = r->GetInt64(0, 2);
  link.clicks = r->GetInt64(0, 3);
  return link;
}

Result<bool> PostgresLinkStore::RemoveLink(std::string_view tenant_id, std::string_view code) {
  Result<PgConnectionPool::Lease> c = pool_.Acquire();
  if (!c.ok()) return c.status();
  Result<PgResult> r = (*c)->Run(kDeleteLink, {S(tenant_id), S(code)});
  if (!r.ok()) return r.status();
  return r->affected() == 1;
}

}  // namespace scaletwin
