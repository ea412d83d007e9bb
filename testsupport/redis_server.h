// RedisServer: a throwaway redis-server for tests, on a free loopback port in
// its own temp directory.
//
// Start() finds a free port by binding 127.0.0.1:0 (never a fixed port, never a
// shared instance), spawns `redis-server --port P --bind 127.0.0.1 --save ""
// --appendonly no --dir TMP` plus any extra arguments, and returns once PING
// answers. The destructor (or Stop()) sends SIGTERM, waits up to 2 s, then
// SIGKILL, reaps the child and deletes the directory. The child also gets
// PR_SET_PDEATHSIG, so a test that crashes still takes its server with it.
//
//   auto server = RedisServer::Start();
//   if (!server.ok()) GTEST_SKIP() << server.status().ToString();
//   auto client = RedisClient::Connect("127.0.0.1", (*server)->port());
//
// Thread-safety: none; one owner.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "model/duration.h"
#include "model/status.h"

namespace scaletwin {

struct RedisServerOptions {
  std::string binary = "redis-server";       // looked up on PATH
  std::vector<std::string> extra_args;       // e.g. {"--maxmemory", "3mb"}
  Nanos start_timeout = 5 * kNanosPerSecond;
  int attempts = 5;  // a new port each time, if another process grabs ours
};

class RedisServer {
 public:
  static Result<std::unique_ptr<RedisServer>> Start(RedisServerOptions options = {});
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  const std::string& host() const { return host_; }
  int port() const { return port_; }
  const std::string& dir() const { return dir_; }
  pid_t pid() const { return pid_; }
  // Stops the server and removes its directory. Idempotent.
  void Stop();

 private:
  RedisServer() = default;
  std::string host_ = "127.0.0.1";
  int port_ = 0;
  std::string dir_;
  pid_t pid_ = -1;
};

// A port that was free a moment ago on 127.0.0.1 (bind to port 0, read it back).
Result<int> FindFreeLoopbackPort();

}  // namespace scaletwin
