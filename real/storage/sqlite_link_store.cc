// SQLite schema, migrations, connection set-up and row operations of the link store.
#include "real/storage/sqlite_link_store.h"

#include <sqlite3.h>

#include <set>
#include <unordered_map>
#include <utility>

namespace scaletwin {

namespace {

struct Migration {
  int version;
  const char* name;
  const char* sql;
};

// Append-only, like PostgreSQL's list (same versions, same meaning).
constexpr Migration kMigrations[] = {
    {1, "tenants, api_keys and links",
     R"sql(
CREATE TABLE tenants (
  tenant_id TEXT NOT NULL PRIMARY KEY,
  active INTEGER NOT NULL DEFAULT 1
) WITHOUT ROWID;
CREATE TABLE api_keys (
  tenant_id TEXT NOT NULL REFERENCES tenants (tenant_id),
  key_sha256 TEXT NOT NULL CHECK (length(key_sha256) = 64),
  PRIMARY KEY (tenant_id, key_sha256)
) WITHOUT ROWID;
CREATE UNIQUE INDEX api_keys_key_sha256 ON api_keys (key_sha256);
CREATE TABLE links (
  tenant_id TEXT NOT NULL REFERENCES tenants (tenant_id),
  code TEXT NOT NULL,
  url TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER,
  clicks INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant_id, code)
);
CREATE UNIQUE INDEX links_code ON links (code);
)sql"},
};

constexpr const char* kRecordMigration = "INSERT INTO schema_migrations (version, name) VALUES (?1, ?2)";
constexpr const char* kListTenants = "SELECT tenant_id FROM tenants";
constexpr const char* kDeleteKeys = "DELETE FROM api_keys WHERE tenant_id = ?1";
constexpr const char* kDeactivateTenant = "UPDATE tenants SET active = 0 WHERE tenant_id = ?1";
constexpr const char* kUpsertTenant =
    "INSERT INTO tenants (tenant_id, active) VALUES (?1, 1) ON CONFLICT (tenant_id) DO UPDATE SET active = 1";
constexpr const char* kInsertKey = "INSERT INTO api_keys (tenant_id, key_sha256) VALUES (?1, ?2)";
constexpr const char* kTenantForKey =
    "SELECT k.tenant_id FROM api_keys k JOIN tenants t ON t.tenant_id = k.tenant_id "
    "WHERE k.key_sha256 = ?1 AND t.active = 1";
// ON CONFLICT DO NOTHING (not INSERT OR IGNORE, which would also swallow
// NOT NULL and CHECK failures): a taken code, under either unique index, inserts no row.
constexpr const char* kInsertLink =
    "INSERT INTO links (tenant_id, code, url, created_at, expires_at, clicks) "
    "VALUES (?1, ?2, ?3, ?4, ?5, 0) ON CONFLICT DO NOTHING";
constexpr const char* kResolve =
    "UPDATE links SET clicks = clicks + 1 "
    "WHERE code = ?1 AND (expires_at IS NULL OR expires_at > ?2) RETURNING tenant_id, url, expires_at";
constexpr const char* kGetLink =
    "SELECT url, created_at, expires_at, clicks FROM links WHERE tenant_id = ?1 AND code = ?2";
constexpr const char* kDeleteLink = "DELETE FROM links WHERE tenant_id = ?1 AND code = ?2";

// Maps an SQLite result code to a storage cause.
Status SqliteError(sqlite3* db, int rc, std::string_view what) {
  const std::string message = std::string(what) + ": " + (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc)) +
                              " (SQLite code " + std::to_string(rc) + ")";
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PROTOCOL:
      return StorageError(StorageCause::kUnavailable, message);
    default:
      return StorageError(StorageCause::kInternal, message);
  }
}

// A prepared statement borrowed from a connection's cache; reset on destruction
// so its read transaction ends and its bindings are dropped.
class Stmt {
 public:
  Stmt(sqlite3* db, sqlite3_stmt* s) : db_(db), s_(s) {}
  Stmt(Stmt&& o) noexcept : db_(o.db_), s_(o.s_) { o.s_ = nullptr; }
  Stmt& operator=(Stmt&&) = delete;
  ~Stmt() {
    if (s_ != nullptr) {
      sqlite3_reset(s_);
      sqlite3_clear_bindings(s_);
    }
  }
  Stmt& Bind(int i, std::string_view v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& Bind(int i, int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  Stmt& Bind(int i, std::optional<int64_t> v) {
    if (v)
      sqlite3_bind_int64(s_, i, *v);
    else
      sqlite3_bind_null(s_, i);
    return *this;
  }
  // SQLITE_ROW, SQLITE_DONE, or an error code.
  int Step() { return sqlite3_step(s_); }
  // Steps to the end; OK iff it finished without error.
  Status Run(std::string_view what) {
    int rc;
    while ((rc = Step()) == SQLITE_ROW) {
    }
    return rc == SQLITE_DONE ? Status::Ok() : SqliteError(db_, rc, what);
  }
  std::string Text(int col) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, col));
    return p == nullptr ? std::string() : std::string(p, static_cast<size_t>(sqlite3_column_bytes(s_, col)));
  }
  int64_t Int64(int col) const { return sqlite3_column_int64(s_, col); }
  bool IsNull(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }

 private:
  sqlite3* db_;
  sqlite3_stmt* s_;
};

}  // namespace

// One SQLite connection with its statement cache. Used by one thread at a time.
class SqliteConnection {
 public:
  static Result<std::unique_ptr<SqliteConnection>> Open(const std::string& path, Nanos busy_timeout) {
    sqlite3* db = nullptr;
    // NOMUTEX: the pool guarantees one thread per connection, so SQLite's
    // per-connection mutex would be pure overhead.
    const int rc =
        sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    std::unique_ptr<SqliteConnection> conn(new SqliteConnection(db));
    if (rc != SQLITE_OK) return SqliteError(db, rc, "open " + path);
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, static_cast<int>(busy_timeout / kNanosPerMilli));
    // journal_mode answers with the mode in force: anything but "wal" means
    // the switch failed (e.g. a file system without shared memory).
    Result<Stmt> wal = conn->Prepare("PRAGMA journal_mode=WAL");
    if (!wal.ok()) return wal.status();
    const int step = wal->Step();
    if (step != SQLITE_ROW) return SqliteError(db, step, "PRAGMA journal_mode=WAL");
    if (wal->Text(0) != "wal") {
      return StorageError(StorageCause::kUnavailable,
                          path + ": cannot use WAL mode (journal_mode is " + wal->Text(0) + ")");
    }
    if (Status s = conn->Exec("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"); !s.ok()) return s;
    return conn;
  }

  ~SqliteConnection() {
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
    sqlite3_close_v2(db_);
  }

  // A cached prepared statement for `sql` (a string literal: cached by address).
  Result<Stmt> Prepare(const char* sql) {
    auto it = cache_.find(sql);
    if (it == cache_.end()) {
      sqlite3_stmt* s = nullptr;
      const int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr);
      if (rc != SQLITE_OK) return SqliteError(db_, rc, std::string("prepare ") + sql);
      it = cache_.emplace(sql, s).first;
    }
    return Stmt(db_, it->second);
  }

  // Runs one or more statements without parameters.
  Status Exec(const std::string& sql) {
    const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr);
    return rc == SQLITE_OK ? Status::Ok() : SqliteError(db_, rc, sql.substr(0, 60));
  }

  // Runs `body` inside BEGIN IMMEDIATE ... COMMIT, rolling back on failure.
  template <typename Body>
  Status InTransaction(Body&& body) {
    if (Status s = Exec("BEGIN IMMEDIATE"); !s.ok()) return s;
    Status s = body();
    if (s.ok()) s = Exec("COMMIT");
    if (!s.ok() && sqlite3_get_autocommit(db_) == 0) (void)Exec("ROLLBACK");
    return s;
  }

  // A connection left inside a transaction (a bug, or a failed ROLLBACK) must not be reused.
  bool IsHealthy() const { return sqlite3_get_autocommit(db_) != 0; }
  sqlite3* db() const { return db_; }

 private:
  explicit SqliteConnection(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::unordered_map<const char*, sqlite3_stmt*> cache_;
};

SqliteLinkStore::SqliteLinkStore(SqliteStoreOptions db, LinkStoreOptions options)
    : LinkStore(std::move(options)),
      db_(std::move(db)),
      pool_(
          PoolConfig{.size = db_.connections, .min_idle = 0, .acquire_timeout = db_.acquire_timeout, .connect_time = 0},
          [this] { return SqliteConnection::Open(db_.path, db_.busy_timeout); },
          [](SqliteConnection& c) { return c.IsHealthy(); }) {}

SqliteLinkStore::~SqliteLinkStore() = default;

Result<std::unique_ptr<SqliteLinkStore>> SqliteLinkStore::Open(SqliteStoreOptions db, LinkStoreOptions options) {
  if (Status s = ValidateOptions(options); !s.ok()) return s;
  if (db.path.empty() || db.path == ":memory:" || db.path.starts_with("file:")) {
    return StorageError(StorageCause::kInvalidArgument, "sqlite path must name a file");
  }
  if (db.connections < 1) return StorageError(StorageCause::kInvalidArgument, "connections must be >= 1");
  if (db.busy_timeout < 0 || db.acquire_timeout <= 0) {
    return StorageError(StorageCause::kInvalidArgument, "busy_timeout and acquire_timeout must be positive");
  }
  std::unique_ptr<SqliteLinkStore> store(new SqliteLinkStore(std::move(db), std::move(options)));
  if (Status s = store->Migrate(); !s.ok()) return s;
  return store;
}

Status SqliteLinkStore::Migrate() {
  Result<BlockingPool<SqliteConnection>::Lease> c = pool_.Acquire();
  if (!c.ok()) return c.status();
  SqliteConnection& conn = **c;
  std::lock_guard write(write_mu_);
  // BEGIN IMMEDIATE takes the database's write lock: a second process opening
  // the same file waits (busy timeout) and then finds the migrations applied.
  return conn.InTransaction([&]() -> Status {
    if (Status s = conn.Exec("CREATE TABLE IF NOT EXISTS schema_migrations ("
                             "version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                             "applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)");
        !s.ok()) {
      return s;
    }
    std::set<int64_t> done;
    {
      Result<Stmt> list = conn.Prepare("SELECT version FROM schema_migrations");
      if (!list.ok()) return list.status();
      int rc;
      while ((rc = list->Step()) == SQLITE_ROW) done.insert(list->Int64(0));
      if (rc != SQLITE_DONE) return SqliteError(conn.db(), rc, "read schema_migrations");
    }
    for (const Migration& m : kMigrations) {
      if (done.contains(m.version)) continue;  // newer unknown versions are left alone, as on PostgreSQL
      if (Status s = conn.Exec(m.sql); !s.ok()) {
        return StorageError(StorageCauseOf(s),
                            "migration " + std::to_string(m.version) + " (" + m.name + "): " + s.message());
      }
      Result<Stmt> record = conn.Prepare(kRecordMigration);
      if (!record.ok()) return record.status();
      if (Status s = record->Bind(1, int64_t{m.version}).Bind(2, std::string_view(m.name)).Run("record migration");
          !s.ok()) {
        return s;
      }
    }
    return Status::Ok();
  });
}

Status SqliteLinkStore::Ping() {
  Result<BlockingPool<SqliteConnection>::Lease> c = pool_.Acquire();
  if (!c.ok()) return c.status();
  Result<Stmt> s = (*c)->Prepare("SELECT 1");
  if (!s.ok()) return s.status();
  return s->Run("ping");
}

StoreStats SqliteLinkStore::Stats() const {
  StoreStats s;
  s.pool = pool_.Counters();
  return s;
}

Status SqliteLinkStore::ReplaceTenants(const std::vector<TenantKeys>& tenants) {
  Result<BlockingPool<SqliteConnection>::Lease> c = pool_.Acquire();
  if (!c.ok()) return c.status();
  SqliteConnection& conn = **c;
  std::lock_guard write(write_mu_);
  return conn.InTransaction([&]() -> Status {
    std::vector<std::string> existing;
    {
      Result<Stmt> list = conn.Prepare(kListTenants);
      if (!list.ok()) return list.status();
      int rc;
      while ((rc = list->Step()) == SQLITE_ROW) existing.push_back(list->Text(0));
      if (rc != SQLITE_DONE) return SqliteError(conn.db(), rc, "list tenants");
    }
    std::set<std::string> listed;
    for (const TenantKeys& t : tenants) listed.insert(t.tenant_id);
    // Keys first, for every tenant: a key hash may move between tenants.
    for (const std::string& id : existing) {
      Result<Stmt> del = conn.Prepare(kDeleteKeys);
      if (!del.ok()) return del.status();
      if (Status s = del->Bind(1, id).Run("delete keys"); !s.ok()) return s;
      if (!listed.contains(id)) {
        Result<Stmt> off = conn.Prepare(kDeactivateTenant);
        if (!off.ok()) return off.status();
        if (Status s = off->Bind(1, id).Run("deactivate tenant"); !s.ok()) return s;
      }
    }
    for (const TenantKeys& t : tenants) {
      Result<Stmt> up = conn.Prepare(kUpsertTenant);
      if (!up.ok()) return up.status();
      if (Status s = up->Bind(1, t.tenant_id).Run("upsert tenant"); !s.ok()) return s;
      for (const std::string& h : t.api_key_sha256) {
        Result<Stmt> key = conn.Prepare(kInsertKey);
        if (!key.ok()) return key.status();
        if (Status s = key->Bind(1, t.tenant_id).Bind(2, h).Run("insert key"); !s.ok()) return s;
      }
    }
    return Status::Ok();
  });
}

Result<std::string> SqliteLinkStore::FindTenantByKeyHash(std::string_view key_sha256_hex) {
  Result<BlockingPool<SqliteConnection>::Lease> c = pool_.Acquire();
  if (!c.ok()) return c.status();
  Result<Stmt> s = (*c)->Prepare(kTenantForKey);
  if (!s.ok()) return s.status();
  s->Bind(1, key_sha256_hex);
  const int rc = s->Step();
  if (rc == SQLITE_DONE) return StorageError(StorageCause::kNotFound, "unknown API key");
  if (rc != SQLITE_ROW) return SqliteError((*c)->db(), rc, "tenant for key");
  return s->Text(0);
}

Result<bool> SqliteLinkStore::InsertLinkIfCodeFree(const Link& link) {
  Result<BlockingPool<SqliteConnection>::Lease> c = pool_.Acquire();
  if (!c.ok()) return c.status();
  std::lock_guard write(write_mu_);
  Result<Stmt> s = (*c)->Prepare(kInsertLink);
  if (!s.ok()) return s.status();
  s->Bind(1, link.tenant_id).Bind(2, link.code).Bind(3, link.url).Bind(4, link.created_at).Bind(5, link.expires_at);
  const int rc = s->Step();
  if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) {
    return StorageError(StorageCause::kNotFound, "unknown tenant \"" + link.tenant_id + "\"");
  }
  if (rc != SQLITE_DONE) return SqliteError((*c)->db(), rc, "insert link");
  return sqlite3_changes((*c)->db()) == 1;
}

Result<ResolvedLink> SqliteLinkStore::ResolveAndCountClick(std::string_view code, UnixMillis now) {
  Result<BlockingPool<SqliteConnection>::Lease> c = pool_.Acquire();
  if (!c.ok()) return c.status();
  std::lock_guard write(write_mu_);
  Result<Stmt> s = (*c)->Prepare(kResolve);
  if (!s.ok()) return s.status();
  s->Bind(1, code).Bind(2, int64_t{now});
  int rc = s->Step();
  if (rc == SQLITE_DONE) return StorageError(StorageCause::kNotFound, "no such link");
  if (rc != SQLITE_ROW) return SqliteError((*c)->db(), rc, "resolve");
  ResolvedLink out{s->Text(0), s->Text(1)};
  if (!s->IsNull(2)) out.expires_at = s->Int64(2);
  // Step to the end so the UPDATE's statement (and its write) completes
  // before the statement is reset.
  while ((rc = s->Step()) == SQLITE_ROW) {
  }
  if (rc != SQLITE_DONE) return SqliteError((*c)->db(), rc, "resolve");
  return out;
}

Result<Link> SqliteLinkStore::FindLink(std::string_view tenant_id, std::string_view code) {
  Result<BlockingPool<SqliteConnection>::Lease> c = pool_.Acquire();
  if (!c.ok()) return c.status();
  Result<Stmt> s = (*c)->Prepare(kGetLink);
  if (!s.ok()) return s.status();
  s->Bind(1, tenant_id).Bind(2, code);
  const int rc = s->Step();
  if (rc == SQLITE_DONE) return StorageError(StorageCause::kNotFound, "no such link");
  if (rc != SQLITE_ROW) return SqliteError((*c)->db(), rc, "get link");
  Link link;
  link.tenant_id = std::string(tenant_id);
  link.code = std::string(code);
  link.url = s->Text(0);
  link.created_at = s->Int64(1);
  if (!s->IsNull(2)) link.expires_at = s->Int64(2);
  link.clicks = s->Int64(3);
  return link;
}

Result<bool> SqliteLinkStore::RemoveLink(std::string_view tenant_id, std::string_view code) {
  Result<BlockingPool<SqliteConnection>::Lease> c = pool_.Acquire();
  if (!c.ok()) return c.status();
  std::lock_guard write(write_mu_);
  Result<Stmt> s = (*c)->Prepare(kDeleteLink);
  if (!s.ok()) return s.status();
  if (Status st = s->Bind(1, tenant_id).Bind(2, code).Run("delete link"); !st.ok()) return st;
  return sqlite3_changes((*c)->db()) == 1;
}

}  // namespace scaletwin
