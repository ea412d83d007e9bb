// LinkStore: the shortener pod's storage of tenants, API-key hashes and links,
// with two backends — SqliteLinkStore (embedded default, no server) and
// PostgresLinkStore (libpq, bounded pool) — that pass one shared test suite.
//
// Multi-tenancy (issue 5): one shared database; tenant_id is the first column
// of every primary key and appears in every query that reads or writes a
// tenant's data. Two queries *establish* the tenant rather than filter by it,
// and are the only ones without tenant_id in their WHERE clause:
//  * TenantForKeyHash — an API request names its tenant only through its key;
//  * Resolve — a redirect (GET /{code}) is public. Codes are therefore unique
//    across all tenants (a unique index on links.code, besides the
//    (tenant_id, code) primary key), and Resolve returns the owning tenant so
//    the rate limiter can charge the owner.
// (SyncTenants also lists the tenants table itself, to deactivate tenants
// that left the config.)
// Get and Delete see only the calling tenant's links: another tenant's code
// is "not found", exactly like a code that does not exist (no existence leak).
//
// Schema (migrated at open, idempotently; concurrent opens are serialised —
// PostgreSQL advisory lock, SQLite's write lock):
//   schema_migrations(version PK, name, applied_at)
//   tenants(tenant_id PK, active)
//   api_keys(tenant_id, key_sha256, PK (tenant_id, key_sha256), UNIQUE key_sha256)
//   links(tenant_id, code, url, created_at, expires_at, clicks, PK (tenant_id, code), UNIQUE code)
// Times are Unix milliseconds passed in by the caller (`now`): the store never
// reads a clock, so expiry is testable and the database clock does not matter.
//
// Policy shared by both backends lives here, in the non-virtual methods:
// argument validation (URL via model/url_check.h, custom codes and code
// generation via model/short_code.h, ttl bounds), the collision-retry loop of
// generated codes, and error causes (real/storage/storage_status.h). A backend
// implements only the protected row operations.
//
//   auto store = SqliteLinkStore::Open({.path = "/var/lib/shortener/links.db"});
//   (*store)->SyncTenants({{"acme", {ApiKeySha256Hex(key)}}});
//   Result<std::string> tenant = (*store)->TenantForKeyHash(ApiKeySha256Hex(request_key));
//   Result<Link> link = (*store)->CreateLink(*tenant, {.url = "https://example.com/"}, now_ms);
//   Result<ResolvedLink> target = (*store)->Resolve(link->code, now_ms);   // counts a click
//
// Errors: every failure is a Status whose StorageCauseOf() is one of
// not_found, conflict, invalid_argument, pool_timeout, db_too_many_clients,
// unavailable, internal.
// Thread-safety: all public methods may be called concurrently from any
// number of threads (each backend documents how it shares connections).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/duration.h"
#include "model/short_code.h"
#include "model/status.h"
#include "model/url_check.h"
#include "real/storage/blocking_pool.h"
#include "real/storage/storage_status.h"

namespace scaletwin {

using UnixMillis = int64_t;  // milliseconds since 1970-01-01T00:00:00Z

// One tenant of the config's tenant list, with the SHA-256 of each of its API keys.
struct TenantKeys {
  std::string tenant_id = {};                    // 1..64 of [A-Za-z0-9._-]
  std::vector<std::string> api_key_sha256 = {};  // 64 hex digits each, either case
};

struct NewLink {
  std::string url = {};                         // absolute http(s) URL, see model/url_check.h
  std::optional<std::string> custom_code = {};  // else a random base62 code is generated
  std::optional<Nanos> ttl = {};                // else the link never expires
};

struct Link {
  std::string tenant_id = {};
  std::string code = {};
  std::string url = {};
  UnixMillis created_at = 0;
  std::optional<UnixMillis> expires_at = {};  // the link resolves while now < expires_at
  int64_t clicks = 0;

  bool ExpiredAt(UnixMillis now) const { return expires_at && now >= *expires_at; }
  bool operator==(const Link&) const = default;
};

struct ResolvedLink {
  std::string tenant_id = {};  // the owner, whom the limiter charges
  std::string url = {};
  std::optional<UnixMillis> expires_at = {};  // bounds how long a cache may keep it
};

struct LinkStoreOptions {
  int code_length = 7;        // generated codes: 62^7 ≈ 3.5e12 codes
  int max_code_attempts = 5;  // generated codes tried before giving up with `unavailable`
  ShortCodeRules custom_codes = {};
  size_t max_url_length = kDefaultMaxUrlLength;
  Nanos max_ttl = 3650LL * 24 * 3600 * kNanosPerSecond;  // ten years
  // Source of random words for generated codes. Empty: OpenSSL's CSPRNG, so
  // codes cannot be enumerated from one another. When set it is called from
  // many threads at once and must be thread-safe.
  RandomWords random_words = {};
};

// Counters for /metrics: the backend's connection pool, and how many times
// the database refused a connection because it was full.
struct StoreStats {
  PoolCounters pool = {};
  uint64_t db_too_many_clients = 0;
};

class LinkStore {
 public:
  virtual ~LinkStore() = default;
  LinkStore(const LinkStore&) = delete;
  LinkStore& operator=(const LinkStore&) = delete;

  // Mirrors the config's tenant list into the database, atomically: listed
  // tenants are created or re-activated and their key set becomes exactly the
  // listed hashes; tenants no longer listed are deactivated and lose their
  // keys, but keep their links (a config edit must not delete data, and their
  // short links keep redirecting). Safe when several pods sync at once.
  // Fails with invalid_argument on a bad or duplicate tenant id, a malformed
  // hash, or one hash listed under two tenants.
  Status SyncTenants(const std::vector<TenantKeys>& tenants);

  // The active tenant owning the API key whose SHA-256 is `key_sha256_hex`;
  // not_found for an unknown (or malformed) hash or an inactive tenant.
  Result<std::string> TenantForKeyHash(std::string_view key_sha256_hex);

  // Stores a new link for `tenant_id` at time `now`. With a custom code:
  // invalid_argument if it breaks the rules, conflict if any tenant holds it.
  // Otherwise draws random codes of options().code_length, retrying on
  // collision up to max_code_attempts times, then fails with unavailable.
  // invalid_argument for a bad URL or a ttl outside (0, max_ttl];
  // not_found if the tenant does not exist.
  Result<Link> CreateLink(std::string_view tenant_id, const NewLink& link, UnixMillis now);

  // The target of `code` and its owner, counting one click atomically (the
  // count is exact under any concurrency). not_found if the code is unknown,
  // malformed or expired at `now`.
  Result<ResolvedLink> Resolve(std::string_view code, UnixMillis now);

  // `tenant_id`'s link `code` with its click count, expired or not;
  // not_found if it does not exist or belongs to another tenant.
  Result<Link> GetLink(std::string_view tenant_id, std::string_view code);

  // Deletes `tenant_id`'s link `code`, freeing the code; not_found if it does
  // not exist or belongs to another tenant.
  Status DeleteLink(std::string_view tenant_id, std::string_view code);

  // OK iff the database answers a trivial query now (for /readyz).
  virtual Status Ping() = 0;
  virtual StoreStats Stats() const = 0;
  virtual const char* backend() const = 0;  // "sqlite" or "postgres"

  const LinkStoreOptions& options() const { return options_; }

 protected:
  explicit LinkStore(LinkStoreOptions options);
  // OK iff `options` are usable (code length and attempts, custom-code rules, limits).
  static Status ValidateOptions(const LinkStoreOptions& options);

  // Row operations. Arguments are validated and normalised (hashes lower-case,
  // no duplicate tenants) before they are called.
  virtual Status ReplaceTenants(const std::vector<TenantKeys>& tenants) = 0;
  virtual Result<std::string> FindTenantByKeyHash(std::string_view key_sha256_hex) = 0;
  // Inserts `link` unless its code is taken (by any tenant): returns false then.
  // not_found if link.tenant_id is not in the tenants table.
  virtual Result<bool> InsertLinkIfCodeFree(const Link& link) = 0;
  // Adds a click to the unexpired link `code` and returns its owner and URL.
  virtual Result<ResolvedLink> ResolveAndCountClick(std::string_view code, UnixMillis now) = 0;
  virtual Result<Link> FindLink(std::string_view tenant_id, std::string_view code) = 0;
  // True iff a row was deleted.
  virtual Result<bool> RemoveLink(std::string_view tenant_id, std::string_view code) = 0;

 private:
  uint64_t NextRandomWord();

  LinkStoreOptions options_;
};

// True iff `id` is a valid tenant id: 1..64 characters of [A-Za-z0-9._-].
bool IsValidTenantId(std::string_view id);

}  // namespace scaletwin
