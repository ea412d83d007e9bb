// SqliteLinkStore: LinkStore on an SQLite file — the embedded default, so a
// pod runs with no database server at all.
//
// Concurrency design: a bounded pool (`connections`, the same BlockingPool as
// PostgreSQL's, with `acquire_timeout` → pool_timeout) of SQLite connections
// to one file in WAL mode, each used by one thread at a time. WAL lets
// readers (GetLink, TenantForKeyHash, Ping) run in parallel with each other
// and with the writer; SQLite admits one writer at a time, and a blocked
// writer would spin in the busy handler's sleeps (1–100 ms steps), so writes
// from this process are serialised on an in-process mutex first and the busy
// timeout is left for the rare writer in another process. Every write is one
// statement or one BEGIN IMMEDIATE transaction (taking the write lock up
// front, so a transaction never fails halfway with SQLITE_BUSY).
//
// Durability: synchronous=NORMAL, the WAL-mode setting that can lose the
// last transactions on power loss but never corrupts the file.
// Migrations run at Open under BEGIN IMMEDIATE: two processes opening the
// same new file migrate once. Foreign keys are enforced (PRAGMA foreign_keys).
//
//   SqliteStoreOptions db;
//   db.path = "/var/lib/shortener/links.db";
//   Result<std::unique_ptr<SqliteLinkStore>> store = SqliteLinkStore::Open(db);
//
// Thread-safety: all methods thread-safe.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "real/storage/blocking_pool.h"
#include "real/storage/link_store.h"

struct sqlite3;

namespace scaletwin {

class SqliteConnection;

struct SqliteStoreOptions {
  std::string path = {};  // a file path (":memory:" would give each connection its own database)
  int connections = 4;
  Nanos busy_timeout = 5 * kNanosPerSecond;
  Nanos acquire_timeout = 5 * kNanosPerSecond;
};

class SqliteLinkStore final : public LinkStore {
 public:
  // Opens (creating if needed) the file, switches it to WAL, migrates, and
  // returns the store. unavailable if the file cannot be opened.
  static Result<std::unique_ptr<SqliteLinkStore>> Open(SqliteStoreOptions db, LinkStoreOptions options = {});
  ~SqliteLinkStore() override;

  Status Ping() override;
  StoreStats Stats() const override;
  const char* backend() const override { return "sqlite"; }

 protected:
  Status ReplaceTenants(const std::vector<TenantKeys>& tenants) override;
  Result<std::string> FindTenantByKeyHash(std::string_view key_sha256_hex) override;
  Result<bool> InsertLinkIfCodeFree(const Link& link) override;
  Result<ResolvedLink> ResolveAndCountClick(std::string_view code, UnixMillis now) override;
  Result<Link> FindLink(std::string_view tenant_id, std::string_view code) override;
  Result<bool> RemoveLink(std::string_view tenant_id, std::string_view code) override;

 private:
  SqliteLinkStore(SqliteStoreOptions db, LinkStoreOptions options);
  Status Migrate();

  const SqliteStoreOptions db_;
  std::mutex write_mu_;  // one writer at a time from this process (see above)
  BlockingPool<SqliteConnection> pool_;
};

}  // namespace scaletwin
