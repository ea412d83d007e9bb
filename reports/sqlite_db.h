// SqliteDb and SqliteStatement: move-only owners of sqlite3* and sqlite3_stmt*.
//
// The C API hands out raw handles that must be closed or finalized on every
// path, including early error returns; these wrappers do it in their
// destructors and turn SQLite result codes into Status values. They expose
// only what run_history needs: exec, prepare, bind by position, step, read a
// column. Values always travel through bound parameters, never through SQL text.
//
//   Result<SqliteDb> db = SqliteDb::Open("out/history.sqlite");
//   Result<SqliteStatement> st = db->Prepare("SELECT name FROM t WHERE id = ?1");
//   st->BindInt64(1, 7);
//   while (*st->Step()) Use(st->ColumnText(0));
//
// Thread-safety: a connection and its statements belong to one thread at a
// time. Statements must be destroyed before their connection (declare the
// connection first, or keep statements in an inner scope).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "model/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace scaletwin::reports {

class SqliteStatement {
 public:
  SqliteStatement() = default;
  explicit SqliteStatement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  SqliteStatement(SqliteStatement&& other) noexcept : stmt_(other.stmt_) { other.stmt_ = nullptr; }
  SqliteStatement& operator=(SqliteStatement&& other) noexcept;
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;
  ~SqliteStatement();

  // Parameters are numbered from 1, as in "?1".
  Status BindInt64(int index, int64_t value);
  Status BindDouble(int index, double value);
  Status BindText(int index, std::string_view value);
  Status BindNull(int index);

  // Runs to the next row: true when a row is available, false when done.
  Result<bool> Step();

  // Columns are numbered from 0. REQUIRES: the last Step() returned true.
  int64_t ColumnInt64(int column) const;
  double ColumnDouble(int column) const;
  std::string ColumnText(int column) const;  // "" for NULL

 private:
  Status Check(int rc, const char* what) const;
  sqlite3_stmt* stmt_ = nullptr;
};

class SqliteDb {
 public:
  // Opens (creating if missing) a read-write database file. SQLite opens
  // lazily, so a file that is not a database is only detected by the first
  // statement that reads it.
  static Result<SqliteDb> Open(const std::string& path);

  SqliteDb(SqliteDb&& other) noexcept : db_(other.db_), path_(std::move(other.path_)) { other.db_ = nullptr; }
  SqliteDb& operator=(SqliteDb&& other) noexcept;
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;
  ~SqliteDb();

  // Runs one or more statements that take no parameters (DDL, BEGIN, PRAGMA).
  Status Exec(const char* sql);
  Result<SqliteStatement> Prepare(std::string_view sql) const;
  // How long a statement waits for another process's lock before SQLITE_BUSY.
  void SetBusyTimeoutMs(int ms);

  const std::string& path() const { return path_; }

 private:
  SqliteDb(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  sqlite3* db_ = nullptr;
  std::string path_;
};

}  // namespace scaletwin::reports
