// RedisConnection against a throwaway redis-server: pipelines, error replies
// as values, transport failures (refused, timeout, closed by the server) as
// Status with the connection marked broken, and no SIGPIPE on a dead socket.
#include "real/redis/redis_connection.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <string>
#include <thread>

#include "testsupport/redis_client.h"
#include "testsupport/redis_server.h"

namespace scaletwin {
namespace {

std::unique_ptr<RedisServer> StartServer(std::vector<std::string> extra = {}) {
  RedisServerOptions o;
  o.config_args = std::move(extra);
  auto server = RedisServer::Start(o);
  EXPECT_TRUE(server.ok()) << server.status().ToString();
  return server.ok() ? std::move(*server) : nullptr;
}

RedisEndpoint EndpointOf(const RedisServer& s, Nanos command_timeout = 2 * kNanosPerSecond) {
  return {s.host(), s.port(), 2 * kNanosPerSecond, command_timeout};
}

std::unique_ptr<RedisConnection> OpenOrDie(const RedisEndpoint& e) {
  auto c = RedisConnection::Open(e);
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? std::move(*c) : nullptr;
}

// CLIENT KILL every normal client but the admin connection, and wait until
// the kill has reached our sockets.
void KillAllClients(const RedisServer& server) {
  auto admin = RedisClient::Connect(server.host(), server.port());
  ASSERT_TRUE(admin.ok());
  Result<Reply> killed = (*admin)->Run({"CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"});
  ASSERT_TRUE(killed.ok());
  ASSERT_EQ(killed->kind(), Reply::Kind::kInteger) << killed->ToString();
  ASSERT_GE(killed->integer(), 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
}

TEST(RedisConnection, PipelineReturnsOneReplyPerCommandInOrder) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  auto c = OpenOrDie(EndpointOf(*server));
  ASSERT_NE(c, nullptr);
  Result<std::vector<Reply>> r = c->Pipeline(
      {{"MULTI"}, {"INCR", "n"}, {"INCR", "n"}, {"EXEC"}, {"GET", "n"}, {"GET", "missing"}, {"ZADD", "z", "1", "a"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 7u);
  EXPECT_EQ((*r)[0], Reply::Ok());
  EXPECT_EQ((*r)[1], Reply::Simple("QUEUED"));
  EXPECT_EQ((*r)[2], Reply::Simple("QUEUED"));
  EXPECT_EQ((*r)[3], Reply::Array({Reply::Integer(1), Reply::Integer(2)}));
  EXPECT_EQ((*r)[4], Reply::Bulk("2"));
  EXPECT_EQ((*r)[5], Reply::Nil());
  EXPECT_EQ((*r)[6], Reply::Integer(1));
}

// Redis's TIME is the machine's real-time clock, so the server's view of when
// a command ran can be put between our own readings of the same clock.
Nanos UnixNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}
Nanos TimeReplyNs(const Reply& r) {
  EXPECT_EQ(r.kind(), Reply::Kind::kArray) << r.ToString();
  if (r.kind() != Reply::Kind::kArray || r.elements().size() != 2) return 0;
  return std::stoll(r.elements()[0].text()) * kNanosPerSecond + std::stoll(r.elements()[1].text()) * kNanosPerMicro;
}

TEST(RedisConnection, AnAddedOneWayDelayIsSleptOnTheWayThereAndBack) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  constexpr Nanos kDelay = 20 * kNanosPerMilli;
  RedisEndpoint e = EndpointOf(*server);
  e.added_one_way_delay = DurationDistribution::Constant(kDelay);
  auto c = OpenOrDie(e);
  ASSERT_NE(c, nullptr);
  constexpr Nanos kMicro = kNanosPerMicro;  // TIME's resolution
  for (int i = 0; i < 3; ++i) {
    const Nanos sent = UnixNowNs();
    Result<Reply> r = c->Run({"TIME"});
    const Nanos back = UnixNowNs();
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    const Nanos ran = TimeReplyNs(*r);
    EXPECT_GE(ran - sent, kDelay - kMicro) << "the command reached Redis before the delay there";
    EXPECT_GE(back - ran, kDelay - kMicro) << "the reply came back before the delay back";
  }
  // A pipeline is one round trip: one delay each way, however many commands.
  const Nanos sent = UnixNowNs();
  Result<std::vector<Reply>> p = c->Pipeline({{"TIME"}, {"INCR", "n"}, {"TIME"}});
  const Nanos back = UnixNowNs();
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  const Nanos first = TimeReplyNs((*p)[0]), last = TimeReplyNs((*p)[2]);
  EXPECT_GE(first - sent, kDelay - kMicro);
  EXPECT_LT(last - first, kDelay) << "no delay between the commands of one pipeline";
  EXPECT_GE(back - last, kDelay - kMicro);
}

TEST(RedisConnection, ErrorRepliesAreValuesAndKeepTheConnectionUsable) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  auto c = OpenOrDie(EndpointOf(*server));
  ASSERT_NE(c, nullptr);
  Result<std::vector<Reply>> r =
      c->Pipeline({{"SET", "s", "x"}, {"INCR", "s"}, {"EVALSHA", std::string(40, 'a'), "0"}, {"PING"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[1], Reply::Error(std::string(kErrNotInteger)));
  EXPECT_EQ((*r)[2], Reply::Error(std::string(kErrNoScript)));
  EXPECT_EQ((*r)[3], Reply::Simple("PONG"));
  EXPECT_FALSE(c->broken());
  // Binary-safe arguments survive the round trip.
  const std::string binary("a\0b\r\nc", 6);
  ASSERT_TRUE(c->Run({"SET", "bin", binary}).ok());
  Result<Reply> back = c->Run({"GET", "bin"});
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, Reply::Bulk(binary));
}

TEST(RedisConnection, RefusedConnectIsAnIOError) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  const RedisEndpoint e = EndpointOf(*server);
  server->Stop();
  auto c = RedisConnection::Open(e);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kIOError);
  EXPECT_NE(c.status().message().find(std::to_string(e.port)), std::string::npos) << c.status().message();
}

TEST(RedisConnection, CommandTimeoutBreaksTheConnection) {
  auto server = StartServer({"--enable-debug-command", "local"});
  ASSERT_NE(server, nullptr);
  auto c = OpenOrDie(EndpointOf(*server, 100 * kNanosPerMilli));
  ASSERT_NE(c, nullptr);
  const auto start = std::chrono::steady_clock::now();
  Result<Reply> r = c->Run({"DEBUG", "SLEEP", "0.5"});
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r.ok()) << "DEBUG SLEEP 0.5 answered within a 100 ms command timeout: " << r->ToString();
  EXPECT_NE(r.status().message().find("timed out"), std::string::npos) << r.status().message();
  EXPECT_TRUE(c->broken());
  EXPECT_TRUE(c->timed_out());
  EXPECT_GE(elapsed, std::chrono::milliseconds(90));
  EXPECT_LT(elapsed, std::chrono::milliseconds(450));
  // A broken connection fails at once, without touching the socket.
  Result<Reply> after = c->Run({"PING"});
  EXPECT_FALSE(after.ok());
  EXPECT_NE(after.status().message().find("broken"), std::string::npos) << after.status().message();
}

TEST(RedisConnection, ProbeDetectsAConnectionTheServerClosed) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  auto c = OpenOrDie(EndpointOf(*server));
  ASSERT_NE(c, nullptr);
  ASSERT_TRUE(c->Run({"PING"}).ok());
  EXPECT_TRUE(c->ProbeIdle());
  KillAllClients(*server);
  EXPECT_FALSE(c->ProbeIdle());
  EXPECT_TRUE(c->broken());
  EXPECT_FALSE(c->timed_out());
}

TEST(RedisConnection, WritingToAResetConnectionIsAnErrorNotASigpipe) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  auto c = OpenOrDie(EndpointOf(*server));
  ASSERT_NE(c, nullptr);
  KillAllClients(*server);
  // 8 MiB does not fit in the socket buffers: after the server's RST the
  // later write(2)s fail with EPIPE, which would raise SIGPIPE and kill the
  // test process if the connection did not guard against it.
  Result<Reply> r = c->Run({"SET", "big", std::string(8 << 20, 'x')});
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(c->broken());
  sigset_t pending;
  ASSERT_EQ(sigpending(&pending), 0);
  EXPECT_FALSE(sigismember(&pending, SIGPIPE)) << "a SIGPIPE was left pending";
}

}  // namespace
}  // namespace scaletwin
