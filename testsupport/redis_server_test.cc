// The throwaway redis-server starts on a fresh port, answers, and is gone
// (process reaped, directory removed) after Stop.
#include "testsupport/redis_server.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>

#include "testsupport/redis_client.h"

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

}  // namespace
}  // namespace scaletwin
