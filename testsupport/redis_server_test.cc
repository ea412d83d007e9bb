// The throwaway redis-server (the harness's RedisProcess) starts on a fresh
// port, answers, and is gone (process reaped, directory removed) after Stop;
// a crash and restart keep exactly what the persistence mode wrote.
#include "testsupport/redis_server.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>

#include "testsupport/redis_client.h"
#include "testsupport/temp_dir.h"

namespace scaletwin {
namespace {

TEST(RedisServer, StartsOnAFreePortAndAnswersCommands) {
  auto server = RedisServer::Start();
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  EXPECT_GT((*server)->port(), 0);
  auto client = RedisClient::Connect((*server)->host(), (*server)->port());
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  auto r = (*client)->Pipeline({{"SET", "k", "v"}, {"GET", "k"}, {"NOSUCHCMD"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0], Reply::Ok());
  EXPECT_EQ((*r)[1], Reply::Bulk("v"));
  EXPECT_TRUE((*r)[2].is_error());
}

TEST(RedisServer, TwoServersGetDifferentPorts) {
  auto a = RedisServer::Start();
  auto b = RedisServer::Start();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE((*a)->port(), (*b)->port());
}

TEST(RedisServer, StopReapsTheProcessAndRemovesTheDirectory) {
  auto server = RedisServer::Start();
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  const pid_t pid = (*server)->pid();
  const std::string dir = (*server)->dir();
  (*server)->Stop();
  EXPECT_NE(kill(pid, 0), 0);  // reaped: no such process
  EXPECT_FALSE(std::filesystem::exists(dir));
  EXPECT_FALSE(RedisClient::Connect("127.0.0.1", (*server)->port(), 200 * kNanosPerMilli).ok());
}

// SET k, crash, start again on the same port and directory, GET k.
Reply GetAfterACrash(RedisServer& server) {
  auto before = RedisClient::Connect(server.host(), server.port());
  EXPECT_TRUE(before.ok());
  if (!before.ok()) return Reply::Error("no client");
  Result<Reply> set = (*before)->Run({"SET", "k", "v"});
  EXPECT_TRUE(set.ok() && *set == Reply::Ok());
  const int port = server.port();
  server.Kill();
  EXPECT_FALSE(server.running());
  const Status up = server.StartAgain();
  EXPECT_TRUE(up.ok()) << up.ToString();
  EXPECT_EQ(server.port(), port);
  auto after = RedisClient::Connect(server.host(), server.port());
  EXPECT_TRUE(after.ok());
  if (!after.ok()) return Reply::Error("no client");
  Result<Reply> get = (*after)->Run({"GET", "k"});
  return get.ok() ? *get : Reply::Error(get.status().ToString());
}

TEST(RedisServer, ARestartWithoutPersistenceForgetsEverything) {
  auto server = RedisServer::Start();
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  EXPECT_TRUE(GetAfterACrash(**server).is_nil());
}

TEST(RedisServer, ARestartWithAofKeepsWhatWasWritten) {
  // fsync on every write, so the SET is on disk before the SIGKILL.
  auto server = RedisServer::Start({.config_args = {"--appendonly", "yes", "--appendfsync", "always"}});
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  EXPECT_EQ(GetAfterACrash(**server), Reply::Bulk("v"));
}

TEST(RedisServer, ParentDirHoldsTheServerDirectory) {
  TempDir parent("scaletwin-redis-parent");
  ASSERT_FALSE(parent.path().empty());
  auto server = RedisServer::Start({.parent_dir = parent.path()});
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  EXPECT_EQ(std::filesystem::path((*server)->dir()).parent_path(), std::filesystem::path(parent.path()));
  EXPECT_TRUE(std::filesystem::exists((*server)->dir() + "/redis.log"));
}

// `scaletwin real --work-dir wd`: a relative parent must work too, though
// redis-server resolves --logfile after chdir-ing into --dir.
TEST(RedisServer, ARelativeParentDirWorks) {
  TempDir parent("scaletwin-redis-relative");
  const std::filesystem::path cwd = std::filesystem::current_path();
  std::filesystem::current_path(parent.path());
  std::filesystem::create_directory("wd");
  auto server = RedisServer::Start({.parent_dir = "wd"});
  std::filesystem::current_path(cwd);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  EXPECT_TRUE(std::filesystem::path((*server)->dir()).is_absolute()) << (*server)->dir();
  EXPECT_EQ(std::filesystem::path((*server)->dir()).parent_path(), std::filesystem::path(parent.path()) / "wd");
  EXPECT_TRUE(std::filesystem::exists((*server)->dir() + "/redis.log"));
}

}  // namespace
}  // namespace scaletwin
