// libpq connect with a deadline, statement preparation, and error classification.
#include "real/storage/pg_connection.h"

#include <libpq-fe.h>
#include <poll.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>

#include "real/storage/storage_status.h"

namespace scaletwin {

namespace {

using Clock = std::chrono::steady_clock;

// libpq messages end with newlines and, when verbose, a LOCATION line; keep
// the first line for a log-friendly Status.
std::string FirstLine(std::string_view m) {
  const size_t nl = m.find('\n');
  std::string_view line = m.substr(0, nl);
  while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.remove_suffix(1);
  return std::string(line);
}

bool IsSqlstateChar(char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z'); }

// The SQLSTATE in a verbose libpq message ("...FATAL:  53300: sorry, ..."), or "".
std::string SqlstateInVerboseMessage(std::string_view m) {
  for (std::string_view severity : {"FATAL:", "ERROR:", "PANIC:"}) {
    size_t at = m.find(severity);
    if (at == std::string_view::npos) continue;
    at += severity.size();
    while (at < m.size() && m[at] == ' ') ++at;
    if (at + 6 <= m.size() && m[at + 5] == ':') {
      const std::string_view code = m.substr(at, 5);
      bool ok = true;
      for (char c : code) ok = ok && IsSqlstateChar(c);
      if (ok) return std::string(code);
    }
  }
  return "";
}

bool IsTooManyConnections(std::string_view message) {
  if (SqlstateInVerboseMessage(message) == "53300") return true;
  // Fallback for servers or libpq builds that print no SQLSTATE (English messages only).
  return message.find("too many clients") != std::string_view::npos ||
         message.find("remaining connection slots are reserved") != std::string_view::npos ||
         message.find("too many connections for") != std::string_view::npos;
}

Status ConnectError(PGconn* conn, std::string_view fallback) {
  const std::string message = conn != nullptr ? PQerrorMessage(conn) : std::string(fallback);
  const std::string line = FirstLine(message.empty() ? fallback : message);
  if (IsTooManyConnections(message)) return StorageError(StorageCause::kDbTooManyClients, line);
  return StorageError(StorageCause::kUnavailable, "connect: " + line);
}

}  // namespace

PgResult::PgResult(PGresult* r) : r_(r) {}
PgResult::PgResult(PgResult&& o) noexcept : r_(o.r_) { o.r_ = nullptr; }
PgResult& PgResult::operator=(PgResult&& o) noexcept {
  if (this != &o) {
    PQclear(r_);
    r_ = o.r_;
    o.r_ = nullptr;
  }
  return *this;
}
PgResult::~PgResult() { PQclear(r_); }
int PgResult::rows() const { return PQntuples(r_); }
bool PgResult::IsNull(int row, int col) const { return PQgetisnull(r_, row, col) != 0; }
std::string_view PgResult::Get(int row, int col) const {
  return std::string_view(PQgetvalue(r_, row, col), static_cast<size_t>(PQgetlength(r_, row, col)));
}
int64_t PgResult::GetInt64(int row, int col) const { return std::strtoll(PQgetvalue(r_, row, col), nullptr, 10); }
int64_t PgResult::affected() const {
  const char* n = PQcmdTuples(r_);
  return (n == nullptr || *n == '\0') ? 0 : std::strtoll(n, nullptr, 10);
}

Result<std::unique_ptr<PgConnection>> PgConnection::Connect(const std::string& conninfo, Nanos timeout) {
  const char* keywords[] = {"dbname", "application_name", nullptr};
  const char* values[] = {conninfo.c_str(), "scaletwin-shortener", nullptr};
  // expand_dbname = 1: `conninfo` is a full connection string; later keywords
  // fill in what it does not set.
  PGconn* conn = PQconnectStartParams(keywords, values, 1);
  if (conn == nullptr) return StorageError(StorageCause::kUnavailable, "connect: out of memory");
  auto fail = [&](std::string_view fallback) {
    Status s = ConnectError(conn, fallback);
    PQfinish(conn);
    return s;
  };
  if (PQstatus(conn) == CONNECTION_BAD) return fail("invalid connection string");
  // Verbose errors carry the SQLSTATE of a refused startup (see the header).
  PQsetErrorVerbosity(conn, PQERRORS_VERBOSE);

  const auto deadline = Clock::now() + std::chrono::nanoseconds(timeout);
  PostgresPollingStatusType st = PGRES_POLLING_WRITING;  // as libpq's docs say to start
  while (st != PGRES_POLLING_OK) {
    if (st == PGRES_POLLING_FAILED) return fail("connection failed");
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      PQfinish(conn);
      return StorageError(StorageCause::kUnavailable, "connect: timed out after " + FormatDuration(timeout));
    }
    pollfd p{PQsocket(conn), static_cast<short>(st == PGRES_POLLING_READING ? POLLIN : POLLOUT), 0};
    const int ready = poll(&p, 1, static_cast<int>(left));
    if (ready < 0 && errno != EINTR) return fail("poll failed");
    if (ready == 0) continue;  // the deadline check above ends it
    st = PQconnectPoll(conn);
  }
  PQsetErrorVerbosity(conn, PQERRORS_DEFAULT);
  return std::unique_ptr<PgConnection>(new PgConnection(conn));
}

PgConnection::~PgConnection() { PQfinish(conn_); }

Status PgConnection::ErrorFrom(PGresult* r, std::string_view what) {
  const char* state = r != nullptr ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  last_sqlstate_ = state != nullptr ? state : "";
  const char* primary = r != nullptr ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  const std::string message = std::string(what) + ": " +
                              (primary != nullptr ? std::string(primary) : FirstLine(PQerrorMessage(conn_))) +
                              (last_sqlstate_.empty() ? "" : " (SQLSTATE " + last_sqlstate_ + ")");
  PQclear(r);
  const std::string& s = last_sqlstate_;
  if (PQstatus(conn_) == CONNECTION_BAD || s.starts_with("08") || s == "57P01" || s == "57P02" || s == "57P03") {
    return StorageError(StorageCause::kUnavailable, "connection lost: " + message);
  }
  if (s == "53300") return StorageError(StorageCause::kDbTooManyClients, message);
  if (s.starts_with("40") || s.starts_with("53") || s == "55P03" || s == "57014") {
    return StorageError(StorageCause::kUnavailable, message);
  }
  return StorageError(StorageCause::kInternal, message);
}

Result<PgResult> PgConnection::Run(const PgStatement& st, const std::vector<std::optional<std::string>>& params) {
  if (!prepared_.contains(st.name)) {
    PGresult* r = PQprepare(conn_, st.name, st.sql, st.params, nullptr);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) return ErrorFrom(r, std::string("prepare ") + st.name);
    PQclear(r);
    prepared_.insert(st.name);
  }
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const std::optional<std::string>& p : params) values.push_back(p ? p->c_str() : nullptr);
  PGresult* r = PQexecPrepared(conn_, st.name, static_cast<int>(values.size()), values.data(), nullptr, nullptr, 0);
  const ExecStatusType status = PQresultStatus(r);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) return ErrorFrom(r, st.name);
  last_sqlstate_.clear();
  return PgResult(r);
}

Result<PgResult> PgConnection::Exec(std::string_view sql) {
  PGresult* r = PQexec(conn_, std::string(sql).c_str());
  const ExecStatusType status = PQresultStatus(r);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    return ErrorFrom(r, FirstLine(sql.substr(0, 60)));
  }
  last_sqlstate_.clear();
  return PgResult(r);
}

bool PgConnection::IsHealthy() const {
  if (PQstatus(conn_) != CONNECTION_OK || PQtransactionStatus(conn_) != PQTRANS_IDLE) return false;
  // An idle connection that became readable has been told something we did
  // not ask for — in practice the FATAL of pg_terminate_backend or a server
  // shutdown, or EOF. Reconnecting costs ~2 ms; failing a request costs more.
  pollfd p{PQsocket(conn_), POLLIN, 0};
  return poll(&p, 1, 0) == 0;
}

int PgConnection::backend_pid() const { return PQbackendPID(conn_); }

}  // namespace scaletwin
