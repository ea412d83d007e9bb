#include "cli/scenario_file.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace scaletwin::cli {
namespace {

namespace fs = std::filesystem;

class ScenarioFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("scenario_file_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  std::string Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
    return (dir_ / name).string();
  }
  fs::path dir_;
};

constexpr const char* kGood = R"({"version": 1, "name": "x", "duration": "10s",
  "traffic": {"rate": [{"at": "0s", "qps": 5}]}})";

TEST_F(ScenarioFileTest, LoadsAndHashesCanonically) {
  Result<LoadedScenario> a = LoadScenarioFile(Write("a.json", kGood), {});
  ASSERT_TRUE(a.ok()) << a.status().message();
  EXPECT_EQ(a->hash.size(), 64u);
  // Same content, other whitespace and key order: same hash.
  Result<LoadedScenario> b = LoadScenarioFile(
      Write("b.json", R"({"traffic":{"rate":[{"qps":5,"at":"0s"}]},"duration":"10s","name":"x","version":1})"), {});
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(a->hash, b->hash);
  Result<LoadedScenario> c = LoadScenarioFile(Write("c.json", kGood), {"seed=9"});
  ASSERT_TRUE(c.ok());
  EXPECT_NE(a->hash, c->hash);
  EXPECT_EQ(c->scenario.seed, 9u);
}

TEST_F(ScenarioFileTest, TruncatedJsonNamesLineAndColumn) {
  Result<LoadedScenario> r = LoadScenarioFile(Write("t.json", "{\n  \"version\": 1,\n  \"name\": \"x"), {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("not valid JSON (line 3"), std::string::npos) << r.status().message();
}

TEST_F(ScenarioFileTest, MissingFilesAndDirectoriesAreClearErrors) {
  Result<LoadedScenario> r = LoadScenarioFile((dir_ / "nope.json").string(), {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("no such file"), std::string::npos);
  r = LoadScenarioFile(dir_.string(), {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("is a directory"), std::string::npos);
}

TEST_F(ScenarioFileTest, OverridesAreValidatedLikeTheFile) {
  const std::string path = Write("s.json", kGood);
  Result<LoadedScenario> r = LoadScenarioFile(path, {"pods.workers=-2"});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("/pods/workers"), std::string::npos);
  r = LoadScenarioFile(path, {"noequals"});
  ASSERT_FALSE(r.ok());
  r = LoadScenarioFile(path, {"duration=20s", "pods.workers=3"});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->scenario.duration, 20 * kNanosPerSecond);
  EXPECT_EQ(r->scenario.pods.workers, 3);
}

TEST_F(ScenarioFileTest, TraceFilesResolveRelativeToTheScenario) {
  fs::create_directories(dir_ / "traces");
  Write("traces/t.txt", "0.1\n0.2\n");
  const std::string path = Write("s.json", R"({"version": 1, "name": "x", "duration": "1s",
    "traffic": {"arrivals": "trace", "trace_file": "traces/t.txt"}})");
  Result<LoadedScenario> r = LoadScenarioFile(path, {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->scenario.traffic.trace.size(), 2u);
}

}  // namespace
}  // namespace scaletwin::cli
