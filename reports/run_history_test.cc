#include "reports/run_history.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "reports/sqlite_db.h"
#include "reports/test_report.h"

namespace scaletwin::reports {
namespace {

namespace fs = std::filesystem;
using testing::NewTempDir;

HistoryEntry Entry(const std::string& scenario, const std::string& started, uint64_t offered = 100) {
  HistoryEntry e;
  e.started_at_utc = started;
  e.scenario_name = scenario;
  e.scenario_hash = "sha256:" + scenario;
  e.mode = "sim";
  e.seed = 42;
  e.duration_s = 60;
  e.wall_seconds = 1.25;
  e.offered = offered;
  e.completed = offered - 3;
  e.rejected = 2;
  e.latency_p50_ms = 12.5;
  e.latency_p99_ms = 99.875;
  e.passed = true;
  e.report_dir = "out/" + scenario;
  return e;
}

std::vector<std::string> Times(const std::vector<HistoryEntry>& entries) {
  std::vector<std::string> t;
  t.reserve(entries.size());
  for (const HistoryEntry& e : entries) t.push_back(e.started_at_utc);
  return t;
}

TEST(RunHistory, RecordedEntriesComeBackFieldForField) {
  const std::string path = NewTempDir("history") + "/history.sqlite";
  Result<RunHistory> h = RunHistory::Open(path);
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  HistoryEntry e = Entry("flash-sale", "2024-05-01T12:00:00.000Z");
  e.seed = 0xFFFF'FFFF'FFFF'FFF0ull;  // above INT64_MAX: stored by bit pattern
  e.passed = false;
  e.report_dir = "out/it's \"quoted\"; DROP TABLE runs; --";
  ASSERT_TRUE(h->Record(e).ok());
  Result<std::vector<HistoryEntry>> got = h->List({});
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->size(), 1u);
  EXPECT_GT((*got)[0].id, 0);
  e.id = (*got)[0].id;
  EXPECT_EQ((*got)[0], e);
}

TEST(RunHistory, ListsNewestFirstAndHonoursTheLimit) {
  Result<RunHistory> h = RunHistory::Open(NewTempDir("order") + "/history.sqlite");
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  // Recorded out of order, as two concurrent runs finishing would.
  for (const char* t : {"2024-05-02T00:00:00.000Z", "2024-05-01T00:00:00.000Z", "2024-05-03T00:00:00.000Z",
                        "2023-12-31T23:59:59.999Z"}) {
    ASSERT_TRUE(h->Record(Entry("s", t)).ok());
  }
  auto all = h->List({.scenario_name = "", .limit = 0});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(Times(*all), (std::vector<std::string>{"2024-05-03T00:00:00.000Z", "2024-05-02T00:00:00.000Z",
                                                   "2024-05-01T00:00:00.000Z", "2023-12-31T23:59:59.999Z"}));
  auto two = h->List({.scenario_name = "", .limit = 2});
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(Times(*two), (std::vector<std::string>{"2024-05-03T00:00:00.000Z", "2024-05-02T00:00:00.000Z"}));
}

TEST(RunHistory, BreaksTimestampTiesByRecordingOrder) {
  Result<RunHistory> h = RunHistory::Open(NewTempDir("ties") + "/history.sqlite");
  ASSERT_TRUE(h.ok());
  for (uint64_t offered : {1, 2, 3}) ASSERT_TRUE(h->Record(Entry("s", "2024-05-01T00:00:00.000Z", offered)).ok());
  auto got = h->List({});
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 3u);
  EXPECT_EQ((*got)[0].offered, 3u);
  EXPECT_EQ((*got)[2].offered, 1u);
}

TEST(RunHistory, FiltersByScenarioName) {
  Result<RunHistory> h = RunHistory::Open(NewTempDir("filter") + "/history.sqlite");
  ASSERT_TRUE(h.ok());
  ASSERT_TRUE(h->Record(Entry("a", "2024-01-01T00:00:00.000Z")).ok());
  ASSERT_TRUE(h->Record(Entry("b", "2024-01-02T00:00:00.000Z")).ok());
  ASSERT_TRUE(h->Record(Entry("a", "2024-01-03T00:00:00.000Z")).ok());
  auto a = h->List({.scenario_name = "a"});
  ASSERT_TRUE(a.ok());
  ASSERT_EQ(a->size(), 2u);
  for (const HistoryEntry& e : *a) EXPECT_EQ(e.scenario_name, "a");
  auto none = h->List({.scenario_name = "a' OR '1'='1"});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST(RunHistory, ReopeningAnExistingFileKeepsItsEntries) {
  const std::string path = NewTempDir("reopen") + "/history.sqlite";
  {
    Result<RunHistory> h = RunHistory::Open(path);
    ASSERT_TRUE(h.ok());
    ASSERT_TRUE(h->Record(Entry("a", "2024-01-01T00:00:00.000Z")).ok());
  }
  Result<RunHistory> again = RunHistory::Open(path);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  ASSERT_TRUE(again->Record(Entry("a", "2024-01-02T00:00:00.000Z")).ok());
  auto got = again->List({});
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->size(), 2u);
}

TEST(RunHistory, ConcurrentWritersBothSucceed) {
  const std::string path = NewTempDir("concurrent") + "/history.sqlite";
  ASSERT_TRUE(RunHistory::Open(path).ok());
  constexpr int kPerWriter = 40;
  auto writer = [&path](const std::string& scenario, bool* ok) {
    Result<RunHistory> h = RunHistory::Open(path);  // own connection, as a second process would have
    *ok = h.ok();
    for (int i = 0; *ok && i < kPerWriter; ++i) *ok = h->Record(Entry(scenario, "2024-01-01T00:00:00.000Z")).ok();
  };
  bool ok1 = false, ok2 = false;
  std::thread t1(writer, "one", &ok1), t2(writer, "two", &ok2);
  t1.join();
  t2.join();
  EXPECT_TRUE(ok1);
  EXPECT_TRUE(ok2);
  Result<RunHistory> h = RunHistory::Open(path);
  ASSERT_TRUE(h.ok());
  auto got = h->List({.scenario_name = "", .limit = 0});
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->size(), 2u * kPerWriter);
}

TEST(RunHistory, CorruptFileIsAnErrorAndIsLeftUntouched) {
  const std::string path = NewTempDir("corrupt") + "/history.sqlite";
  std::string garbage;
  for (int i = 0; i < 200; ++i) garbage += "this is not an SQLite database. ";
  std::ofstream(path, std::ios::binary) << garbage;
  Result<RunHistory> h = RunHistory::Open(path);
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.status().code(), StatusCode::kIOError);
  EXPECT_NE(h.status().message().find(path), std::string::npos) << h.status().message();
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_EQ(ss.str(), garbage);
}

TEST(RunHistory, RefusesAFileFromANewerSchema) {
  const std::string path = NewTempDir("newer") + "/history.sqlite";
  {
    Result<SqliteDb> db = SqliteDb::Open(path);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(db->Exec("CREATE TABLE runs (x); PRAGMA user_version = 99;").ok());
  }
  Result<RunHistory> h = RunHistory::Open(path);
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(h.status().message().find("99"), std::string::npos);
}

TEST(RunHistory, OpenFailsCleanlyUnderARegularFile) {
  const std::string root = NewTempDir("blocked");
  std::ofstream(root + "/file") << "x";
  Result<RunHistory> h = RunHistory::Open(root + "/file/history.sqlite");
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.status().code(), StatusCode::kIOError);
}

TEST(FromReport, TakesIdentityAndHeadlineMetricsFromTheReport) {
  const HistoryEntry e = FromReport(testing::SampleReport());
  EXPECT_EQ(e.scenario_name, "mm1-basic");
  EXPECT_EQ(e.scenario_hash, "sha256:0123abcd");
  EXPECT_EQ(e.mode, "sim");
  EXPECT_EQ(e.seed, 42u);
  EXPECT_DOUBLE_EQ(e.duration_s, 10.0);
  EXPECT_EQ(e.offered, 640u);
  EXPECT_EQ(e.completed, 630u);
  EXPECT_EQ(e.rejected, 8u);
  EXPECT_DOUBLE_EQ(e.latency_p50_ms, 35.1);
  EXPECT_DOUBLE_EQ(e.latency_p99_ms, 240.3);
  EXPECT_FALSE(e.passed);
  EXPECT_TRUE(e.started_at_utc.empty());
  EXPECT_TRUE(e.report_dir.empty());
}

TEST(FromReport, LeavesDefaultsForMissingOrMistypedFields) {
  EXPECT_EQ(FromReport(nlohmann::json::array()), HistoryEntry{});
  EXPECT_EQ(FromReport(nlohmann::json{{"scenario", {{"name", 5}, {"seed", "x"}}}, {"passed", "yes"}}), HistoryEntry{});
}

TEST(FormatIso8601Utc, IsFixedWidthUtcWithMilliseconds) {
  using namespace std::chrono;
  EXPECT_EQ(FormatIso8601Utc(system_clock::time_point{}), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatIso8601Utc(system_clock::time_point{milliseconds{1714564800123}}), "2024-05-01T12:00:00.123Z");
  EXPECT_EQ(FormatIso8601Utc(system_clock::time_point{milliseconds{-1}}), "1969-12-31T23:59:59.999Z");
}

}  // namespace
}  // namespace scaletwin::reports
