// RunHistory: one row per run in an SQLite file, so "how did p99 move since
// last week?" is a query, not a hunt through output directories.
//
// The file lives in the output root (out/history.sqlite) and is shared by
// every run writing there, possibly at the same time: the database uses WAL
// journaling and a busy timeout, so a second process waits for the first
// instead of failing. The schema is versioned with PRAGMA user_version and
// migrated forward on Open; a file from a newer scaletwin is refused rather
// than guessed at. A file that is not an SQLite database yields an error
// Status, never a crash, and is left untouched.
//
//   Result<RunHistory> h = RunHistory::Open("out/history.sqlite");
//   if (!h.ok()) return h.status();
//   HistoryEntry e = FromReport(report);
//   e.started_at_utc = FormatIso8601Utc(start);  e.wall_seconds = 2.5;  e.report_dir = dir;
//   Status s = h->Record(e);
//   auto recent = h->List({.scenario_name = "flash-sale", .limit = 10});
//
// Thread-safety: one RunHistory per thread; several processes may share a file.
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "model/status.h"
#include "reports/sqlite_db.h"

namespace scaletwin::reports {

inline constexpr int kHistorySchemaVersion = 1;

struct HistoryEntry {
  int64_t id = 0;              // assigned by Record (ignored there); set by List
  std::string started_at_utc;  // ISO 8601 UTC, see FormatIso8601Utc; orders the history
  std::string scenario_name;
  std::string scenario_hash;
  std::string mode;  // "sim" or "real"
  uint64_t seed = 0;
  double duration_s = 0;    // simulated / scenario duration
  double wall_seconds = 0;  // how long the run took on the wall clock
  uint64_t offered = 0;     // summary.requests.*: arrivals in [warmup, duration)
  uint64_t completed = 0;
  uint64_t rejected = 0;
  double latency_p50_ms = 0;
  double latency_p99_ms = 0;
  bool passed = false;     // every expectation held
  std::string report_dir;  // where report.json / report.html were written

  bool operator==(const HistoryEntry&) const = default;
};

struct HistoryQuery {
  std::string scenario_name;  // empty = every scenario
  int limit = 50;             // <= 0 = no limit
};

// The metric and identity fields of an entry, taken from a report.json.
// started_at_utc, wall_seconds and report_dir are not in a report (they are
// wall-clock and filesystem facts) and are left for the caller. Missing or
// mistyped report fields stay at their zero defaults.
HistoryEntry FromReport(const nlohmann::json& report);

// "2024-05-01T12:00:00.123Z": fixed width, so string order is time order.
std::string FormatIso8601Utc(std::chrono::system_clock::time_point t);

class RunHistory {
 public:
  // Opens or creates the history file (and its parent directory), migrating
  // the schema to kHistorySchemaVersion. IOError when the file cannot be
  // opened or is not a database; FailedPrecondition when it was written by a
  // newer schema version.
  static Result<RunHistory> Open(const std::string& path);

  RunHistory(RunHistory&&) noexcept = default;
  RunHistory& operator=(RunHistory&&) noexcept = default;

  // Appends one run. `entry.id` is ignored; SQLite assigns the next id.
  Status Record(const HistoryEntry& entry);

  // Entries newest first (by started_at_utc, then by id), filtered and limited by `query`.
  Result<std::vector<HistoryEntry>> List(const HistoryQuery& query) const;

 private:
  explicit RunHistory(SqliteDb db) : db_(std::move(db)) {}
  Status Migrate();

  SqliteDb db_;
};

}  // namespace scaletwin::reports
