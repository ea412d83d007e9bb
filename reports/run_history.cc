#include "reports/run_history.h"

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <iterator>
#include <system_error>

#include "model/run_result.h"

namespace scaletwin::reports {

namespace {

// kMigrations[v] takes the schema from user_version v to v + 1. Append only:
// a released step never changes, or existing files would diverge.
//
// seed is an unsigned 64-bit value stored in SQLite's signed INTEGER by its
// bit pattern (seeds >= 2^63 read as negative in the sqlite3 shell, and come
// back exactly through List).
constexpr const char* kMigrations[] = {
    R"sql(
CREATE TABLE runs (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  started_at_utc  TEXT    NOT NULL,
  scenario_name   TEXT    NOT NULL,
  scenario_hash   TEXT    NOT NULL,
  mode            TEXT    NOT NULL,
  seed            INTEGER NOT NULL,
  duration_s      REAL    NOT NULL,
  wall_seconds    REAL    NOT NULL,
  offered         INTEGER NOT NULL,
  completed       INTEGER NOT NULL,
  rejected        INTEGER NOT NULL,
  latency_p50_ms  REAL    NOT NULL,
  latency_p99_ms  REAL    NOT NULL,
  passed          INTEGER NOT NULL CHECK (passed IN (0, 1)),
  report_dir      TEXT    NOT NULL
);
CREATE INDEX runs_by_scenario_time ON runs (scenario_name, started_at_utc);
CREATE INDEX runs_by_time ON runs (started_at_utc);
)sql",
};
static_assert(std::size(kMigrations) == kHistorySchemaVersion, "one migration per schema version");

constexpr int kBusyTimeoutMs = 10'000;

constexpr const char* kColumns =
    "started_at_utc, scenario_name, scenario_hash, mode, seed, duration_s, wall_seconds, offered, completed, "
    "rejected, latency_p50_ms, latency_p99_ms, passed, report_dir";

std::string StringAt(const nlohmann::json& r, const char* path) {
  const nlohmann::json* v = FindMetric(r, path);
  return v && v->is_string() ? v->get<std::string>() : std::string();
}

double DoubleAt(const nlohmann::json& r, const char* path) {
  const nlohmann::json* v = FindMetric(r, path);
  return v && v->is_number() ? v->get<double>() : 0.0;
}

uint64_t CountAt(const nlohmann::json& r, const char* path) {
  const nlohmann::json* v = FindMetric(r, path);
  if (!v) return 0;
  if (v->is_number_unsigned()) return v->get<uint64_t>();
  if (v->is_number_integer()) return static_cast<uint64_t>(v->get<int64_t>());
  if (v->is_number_float() && v->get<double>() >= 0) return static_cast<uint64_t>(v->get<double>());
  return 0;
}

// Rolls back unless Commit() ran, so every early return leaves the file as it was.
class Transaction {
 public:
  explicit Transaction(SqliteDb& db) : db_(db) {}
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction() {
    if (open_) (void)db_.Exec("ROLLBACK");
  }
  // BEGIN IMMEDIATE takes the write lock up front: two processes migrating at
  // once serialise here (waiting out the busy timeout) instead of both
  // reading version 0 and racing to create the table.
  Status Begin() {
    Status s = db_.Exec("BEGIN IMMEDIATE");
    open_ = s.ok();
    return s;
  }
  Status Commit() {
    Status s = db_.Exec("COMMIT");
    if (s.ok()) open_ = false;
    return s;
  }

 private:
  SqliteDb& db_;
  bool open_ = false;
};

}  // namespace

HistoryEntry FromReport(const nlohmann::json& report) {
  HistoryEntry e;
  e.scenario_name = StringAt(report, "scenario.name");
  e.scenario_hash = StringAt(report, "scenario.hash");
  e.mode = StringAt(report, "mode");
  e.seed = CountAt(report, "scenario.seed");
  e.duration_s = DoubleAt(report, "scenario.duration_s");
  e.offered = CountAt(report, "summary.requests.offered");
  e.completed = CountAt(report, "summary.requests.completed");
  e.rejected = CountAt(report, "summary.requests.rejected");
  e.latency_p50_ms = DoubleAt(report, "summary.latency_ms.p50");
  e.latency_p99_ms = DoubleAt(report, "summary.latency_ms.p99");
  const nlohmann::json* passed = FindMetric(report, "passed");
  e.passed = passed && passed->is_boolean() && passed->get<bool>();
  return e;
}

std::string FormatIso8601Utc(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  const auto ms = duration_cast<milliseconds>(t.time_since_epoch()).count();
  auto secs = static_cast<std::time_t>(ms / 1000);
  long millis = static_cast<long>(ms % 1000);
  if (millis < 0) {  // before 1970: floor, not truncate
    millis += 1000;
    --secs;
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];  // sized for any int year, so the compiler can prove no truncation
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
  return buf;
}

Result<RunHistory> RunHistory::Open(const std::string& path) {
  std::error_code ec;
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) {
    std::filesystem::create_directories(parent, ec);
    if (ec) return Status::IOError("cannot create directory " + parent.string() + ": " + ec.message());
  }
  Result<SqliteDb> db = SqliteDb::Open(path);
  if (!db.ok()) return db.status();
  db->SetBusyTimeoutMs(kBusyTimeoutMs);
  // WAL lets readers (scaletwin history) run beside a writer and makes
  // concurrent appends cheap. It is an optimisation: where the file system
  // refuses it, SQLite's default rollback journal is still correct, so a
  // failure here is not an error. A non-database file fails in Migrate.
  if (Result<SqliteStatement> wal = db->Prepare("PRAGMA journal_mode=WAL"); wal.ok()) (void)wal->Step();
  RunHistory history(std::move(*db));
  if (Status s = history.Migrate(); !s.ok()) return s;
  return history;
}

namespace {

Result<int> ReadSchemaVersion(const SqliteDb& db) {
  Result<SqliteStatement> st = db.Prepare("PRAGMA user_version");
  if (!st.ok()) return st.status();
  Result<bool> row = st->Step();
  if (!row.ok()) return row.status();
  return *row ? static_cast<int>(st->ColumnInt64(0)) : 0;
}

}  // namespace

Status RunHistory::Migrate() {
  // The common case — an up-to-date file — needs no write lock, so listing
  // the history of a read-only output directory still works.
  Result<int> version = ReadSchemaVersion(db_);
  if (!version.ok()) return version.status();
  if (*version == kHistorySchemaVersion) return Status::Ok();

  Transaction tx(db_);
  if (Status s = tx.Begin(); !s.ok()) return s;
  version = ReadSchemaVersion(db_);  // another process may have migrated while we waited for the lock
  if (!version.ok()) return version.status();
  if (*version > kHistorySchemaVersion || *version < 0) {
    return Status(StatusCode::kFailedPrecondition, db_.path() + ": history schema version " + std::to_string(*version) +
                                                       " is newer than this scaletwin understands (" +
                                                       std::to_string(kHistorySchemaVersion) + ")");
  }
  for (int v = *version; v < kHistorySchemaVersion; ++v) {
    if (Status s = db_.Exec(kMigrations[v]); !s.ok()) return s;
  }
  // PRAGMA values cannot be bound parameters; this one is a compile-time constant.
  const std::string set_version = "PRAGMA user_version = " + std::to_string(kHistorySchemaVersion);
  if (Status s = db_.Exec(set_version.c_str()); !s.ok()) return s;
  return tx.Commit();
}

Status RunHistory::Record(const HistoryEntry& e) {
  Result<SqliteStatement> st = db_.Prepare(std::string("INSERT INTO runs (") + kColumns +
                                           ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)");
  if (!st.ok()) return st.status();
  // Counts above 2^63 cannot happen (that many requests would take centuries
  // to simulate); the casts keep the bit pattern either way.
  for (Status s :
       {st->BindText(1, e.started_at_utc), st->BindText(2, e.scenario_name), st->BindText(3, e.scenario_hash),
        st->BindText(4, e.mode), st->BindInt64(5, static_cast<int64_t>(e.seed)), st->BindDouble(6, e.duration_s),
        st->BindDouble(7, e.wall_seconds), st->BindInt64(8, static_cast<int64_t>(e.offered)),
        st->BindInt64(9, static_cast<int64_t>(e.completed)), st->BindInt64(10, static_cast<int64_t>(e.rejected)),
        st->BindDouble(11, e.latency_p50_ms), st->BindDouble(12, e.latency_p99_ms), st->BindInt64(13, e.passed ? 1 : 0),
        st->BindText(14, e.report_dir)}) {
    if (!s.ok()) return s;
  }
  Result<bool> done = st->Step();
  return done.status();
}

Result<std::vector<HistoryEntry>> RunHistory::List(const HistoryQuery& query) const {
  Result<SqliteStatement> st = db_.Prepare(std::string("SELECT id, ") + kColumns +
                                           " FROM runs WHERE (?1 IS NULL OR scenario_name = ?1)"
                                           " ORDER BY started_at_utc DESC, id DESC LIMIT ?2");
  if (!st.ok()) return st.status();
  Status s = query.scenario_name.empty() ? st->BindNull(1) : st->BindText(1, query.scenario_name);
  if (!s.ok()) return s;
  // LIMIT -1 is SQLite's "no limit".
  if (s = st->BindInt64(2, query.limit > 0 ? query.limit : -1); !s.ok()) return s;

  std::vector<HistoryEntry> out;
  while (true) {
    Result<bool> row = st->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    HistoryEntry e;
    e.id = st->ColumnInt64(0);
    e.started_at_utc = st->ColumnText(1);
    e.scenario_name = st->ColumnText(2);
    e.scenario_hash = st->ColumnText(3);
    e.mode = st->ColumnText(4);
    e.seed = static_cast<uint64_t>(st->ColumnInt64(5));
    e.duration_s = st->ColumnDouble(6);
    e.wall_seconds = st->ColumnDouble(7);
    e.offered = static_cast<uint64_t>(st->ColumnInt64(8));
    e.completed = static_cast<uint64_t>(st->ColumnInt64(9));
    e.rejected = static_cast<uint64_t>(st->ColumnInt64(10));
    e.latency_p50_ms = st->ColumnDouble(11);
    e.latency_p99_ms = st->ColumnDouble(12);
    e.passed = st->ColumnInt64(13) != 0;
    e.report_dir = st->ColumnText(14);
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace scaletwin::reports
