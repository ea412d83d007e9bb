// PgConnection: one libpq connection, with the error classification the pool
// and the pod need.
//
// Connect() drives libpq's non-blocking connect with its own deadline
// (libpq's connect_timeout has whole-second granularity and applies only to
// blocking connects) and classifies a failure: SQLSTATE 53300
// (too_many_connections: "sorry, too many clients already", "remaining
// connection slots are reserved ...", "too many connections for role ...")
// becomes cause `db_too_many_clients`, anything else `unavailable`. libpq
// exposes no SQLSTATE for a failed connect, so the connection is started with
// verbose errors, which print it ("FATAL:  53300: sorry, ..."); the English
// texts are a fallback.
//
// Run() executes a named statement, preparing it on first use on this
// connection (parse and plan once per connection, not per request).
// Query errors map to causes: connection lost (class 08, 57P01..57P03, or
// libpq's connection status BAD) → unavailable, and the connection is then
// unusable; serialization failures, deadlocks, lock timeouts, cancellations
// and resource shortage (classes 40, 53, 55P03, 57014) → unavailable (worth a
// retry later); others → internal. The SQLSTATE of the last error is kept for
// callers that expect one (e.g. 23503 foreign key violation).
//
//   auto conn = PgConnection::Connect("host=127.0.0.1 port=5432 dbname=app", 2 * kNanosPerSecond);
//   static constexpr PgStatement kGet{"get_link", "SELECT url FROM links WHERE tenant_id = $1 AND code = $2", 2};
//   Result<PgResult> r = (*conn)->Run(kGet, {tenant, code});
//
// Thread-safety: none; one thread at a time (the pool hands it out).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "model/duration.h"
#include "model/status.h"

typedef struct pg_conn PGconn;
typedef struct pg_result PGresult;

namespace scaletwin {

// A statement run by name; `sql` uses $1..$n placeholders. Names are global
// per connection, so each distinct SQL text needs its own name.
struct PgStatement {
  const char* name;
  const char* sql;
  int params;
};

// Owns a PGresult.
class PgResult {
 public:
  explicit PgResult(PGresult* r);
  PgResult(PgResult&&) noexcept;
  PgResult& operator=(PgResult&&) noexcept;
  ~PgResult();

  int rows() const;
  bool IsNull(int row, int col) const;
  std::string_view Get(int row, int col) const;
  // REQUIRES: the value is a decimal integer (a BIGINT/INTEGER column).
  int64_t GetInt64(int row, int col) const;
  // Rows affected by INSERT/UPDATE/DELETE.
  int64_t affected() const;

 private:
  PGresult* r_;
};

class PgConnection {
 public:
  // Opens a connection described by `conninfo` (libpq keyword/value string
  // or URI) within `timeout`.
  static Result<std::unique_ptr<PgConnection>> Connect(const std::string& conninfo, Nanos timeout);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // Runs `st` with text parameters (nullopt = SQL NULL).
  Result<PgResult> Run(const PgStatement& st, const std::vector<std::optional<std::string>>& params);
  // Runs one or more statements without parameters (simple query protocol):
  // BEGIN/COMMIT, migrations.
  Result<PgResult> Exec(std::string_view sql);

  // The SQLSTATE of the last failed Run/Exec ("" if none or not from the server).
  const std::string& last_sqlstate() const { return last_sqlstate_; }

  // True iff the connection looks usable for a new request, without a round
  // trip: libpq says it is OK, no transaction is open, and the server has sent
  // nothing while it sat idle (a terminated or restarted backend sends an
  // error or closes the socket, which makes it readable).
  bool IsHealthy() const;

  // The backend's process id (pg_backend_pid()), for tests and logs.
  int backend_pid() const;

 private:
  explicit PgConnection(PGconn* conn) : conn_(conn) {}
  Status ErrorFrom(PGresult* r, std::string_view what);

  PGconn* conn_;
  std::unordered_set<std::string> prepared_;
  std::string last_sqlstate_;
};

}  // namespace scaletwin
