#include "reports/sqlite_db.h"

#include <sqlite3.h>

#include <utility>

namespace scaletwin::reports {

namespace {

// SQLite failures are about a file (locked, full, corrupt, not a database),
// so they surface as IOError with SQLite's own explanation.
Status SqliteError(const std::string& path, const char* what, sqlite3* db, int rc) {
  std::string msg = path + ": " + what + ": ";
  msg += db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  return Status::IOError(std::move(msg));
}

}  // namespace

SqliteStatement& SqliteStatement::operator=(SqliteStatement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    stmt_ = std::exchange(other.stmt_, nullptr);
  }
  return *this;
}

SqliteStatement::~SqliteStatement() { sqlite3_finalize(stmt_); }  // no-op on nullptr

Status SqliteStatement::Check(int rc, const char* what) const {
  if (rc == SQLITE_OK) return Status::Ok();
  sqlite3* db = sqlite3_db_handle(stmt_);
  const char* file = db ? sqlite3_db_filename(db, "main") : nullptr;
  return SqliteError(file ? file : "sqlite", what, db, rc);
}

Status SqliteStatement::BindInt64(int index, int64_t value) {
  return Check(sqlite3_bind_int64(stmt_, index, value), "bind");
}

Status SqliteStatement::BindDouble(int index, double value) {
  return Check(sqlite3_bind_double(stmt_, index, value), "bind");
}

Status SqliteStatement::BindText(int index, std::string_view value) {
  // SQLITE_TRANSIENT: SQLite copies, so the caller's buffer may go away.
  return Check(sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8), "bind");
}

Status SqliteStatement::BindNull(int index) { return Check(sqlite3_bind_null(stmt_, index), "bind"); }

Result<bool> SqliteStatement::Step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return Check(rc, "step");
}

int64_t SqliteStatement::ColumnInt64(int column) const { return sqlite3_column_int64(stmt_, column); }

double SqliteStatement::ColumnDouble(int column) const { return sqlite3_column_double(stmt_, column); }

std::string SqliteStatement::ColumnText(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  if (!text) return std::string();
  return std::string(reinterpret_cast<const char*>(text), static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}

Result<SqliteDb> SqliteDb::Open(const std::string& path) {
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  if (rc != SQLITE_OK) {
    Status s = SqliteError(path, "cannot open", db, rc);
    sqlite3_close_v2(db);  // a handle is allocated even when opening fails
    return s;
  }
  sqlite3_extended_result_codes(db, 1);
  return SqliteDb(db, path);
}

SqliteDb& SqliteDb::operator=(SqliteDb&& other) noexcept {
  if (this != &other) {
    sqlite3_close_v2(db_);
    db_ = std::exchange(other.db_, nullptr);
    path_ = std::move(other.path_);
  }
  return *this;
}

// close_v2 defers the close until outstanding statements are finalized, so a
// statement outliving its connection by mistake leaks nothing and crashes nothing.
SqliteDb::~SqliteDb() { sqlite3_close_v2(db_); }

Status SqliteDb::Exec(const char* sql) {
  const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return SqliteError(path_, "exec", db_, rc);
  return Status::Ok();
}

Result<SqliteStatement> SqliteDb::Prepare(std::string_view sql) const {
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return SqliteError(path_, "prepare", db_, rc);
  }
  return SqliteStatement(stmt);
}

void SqliteDb::SetBusyTimeoutMs(int ms) { sqlite3_busy_timeout(db_, ms); }

}  // namespace scaletwin::reports
