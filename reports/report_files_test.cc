#include "reports/report_files.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "reports/atomic_file.h"
#include "reports/test_report.h"

namespace scaletwin::reports {
namespace {

namespace fs = std::filesystem;
using testing::NewTempDir;
using testing::SampleReport;

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> Listing(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

TEST(WriteReportFiles, WritesJsonThatParsesBackToTheInputAndAPage) {
  const std::string dir = NewTempDir("write") + "/out/run-1";  // parents are created
  const nlohmann::json report = SampleReport();
  const Status s = WriteReportFiles(dir, report, {});
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(Listing(dir), (std::vector<std::string>{"report.html", "report.json"}));  // no temp files left

  const std::string text = ReadAll(fs::path(dir) / "report.json");
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n');
  EXPECT_EQ(text.rfind("{\n  \"", 0), 0u) << "2-space indent";
  EXPECT_EQ(nlohmann::json::parse(text), report);
  EXPECT_EQ(text, report.dump(2) + "\n");

  const std::string html = ReadAll(fs::path(dir) / "report.html");
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_NE(html.find("mm1-basic"), std::string::npos);
}

TEST(WriteReportFiles, KeepsWallClockFactsOutOfReportJson) {
  const std::string dir = NewTempDir("ctx");
  HtmlContext ctx;
  ctx.generated_at_utc = "2031-01-02T03:04:05.000Z";
  ASSERT_TRUE(WriteReportFiles(dir, SampleReport(), ctx).ok());
  EXPECT_EQ(ReadAll(fs::path(dir) / "report.json").find("2031-01-02"), std::string::npos);
  EXPECT_NE(ReadAll(fs::path(dir) / "report.html").find("2031-01-02"), std::string::npos);
}

TEST(WriteReportFiles, ReplacesAnEarlierReport) {
  const std::string dir = NewTempDir("replace");
  nlohmann::json report = SampleReport();
  ASSERT_TRUE(WriteReportFiles(dir, report, {}).ok());
  report["scenario"]["name"] = "second";
  ASSERT_TRUE(WriteReportFiles(dir, report, {}).ok());
  EXPECT_EQ(nlohmann::json::parse(ReadAll(fs::path(dir) / "report.json"))["scenario"]["name"], "second");
  EXPECT_EQ(Listing(dir).size(), 2u);
}

TEST(WriteReportFiles, FailsWithIOErrorUnderARegularFile) {
  const std::string root = NewTempDir("blocked");
  const fs::path file = fs::path(root) / "not-a-dir";
  std::ofstream(file) << "x";
  const std::string dir = (file / "run").string();
  const Status s = WriteReportFiles(dir, SampleReport(), {});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kIOError);
  EXPECT_NE(s.message().find(dir), std::string::npos) << s.message();
  EXPECT_EQ(ReadAll(file), "x");
}

TEST(WriteReportFiles, FailsWithIOErrorWhenTheDirectoryIsAFile) {
  const std::string root = NewTempDir("isfile");
  const fs::path file = fs::path(root) / "report-dir";
  std::ofstream(file) << "x";
  const Status s = WriteReportFiles(file.string(), SampleReport(), {});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kIOError);
  EXPECT_NE(s.message().find(file.string()), std::string::npos) << s.message();
}

TEST(WriteReportFiles, RefusesInvalidUtf8WithoutWritingAnything) {
  const std::string dir = NewTempDir("utf8");
  nlohmann::json report = SampleReport();
  report["scenario"]["description"] = std::string("bad \xff byte");
  const Status s = WriteReportFiles(dir, report, {});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Listing(dir).empty());
}

TEST(WriteFileAtomically, FailsCleanlyWhenTheDirectoryIsMissing) {
  const std::string path = NewTempDir("atomic") + "/missing/report.json";
  const Status s = WriteFileAtomically(path, "{}\n");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kIOError);
  EXPECT_NE(s.message().find("missing"), std::string::npos) << s.message();
}

TEST(WriteFileAtomically, LeavesTheOldContentsWhenTheRenameFails) {
  // Renaming a file over a non-empty directory fails: the target survives intact.
  const std::string root = NewTempDir("rename");
  const fs::path target = fs::path(root) / "report.json";
  fs::create_directories(target / "occupied");
  const Status s = WriteFileAtomically(target.string(), "{}\n");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kIOError);
  EXPECT_TRUE(fs::is_directory(target / "occupied"));
  EXPECT_EQ(Listing(root), (std::vector<std::string>{"report.json"}));  // temp file removed
}

}  // namespace
}  // namespace scaletwin::reports
