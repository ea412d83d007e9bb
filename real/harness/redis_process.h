// RedisProcess: a redis-server child process on a free loopback port in its
// own directory — the real world's Redis, which the harness can crash and
// bring back the way a scenario's `redis_kill` / `redis_restart` events ask.
//
// Start() picks a free port (bind 127.0.0.1:0), spawns
// `redis-server --port P --bind 127.0.0.1 --dir DIR --save "" --appendonly no`
// followed by the caller's `config_args` (later arguments win, so a scenario's
// persistence settings override the quiet defaults), and returns once PING
// answers. The child gets PR_SET_PDEATHSIG, so it never outlives us — nor
// the *thread* that spawned it (Linux ties the signal to the forking thread):
// call Start and StartAgain from a thread that lives as long as the server.
//
// - Kill(): SIGKILL and reap — a crash: nothing is flushed beyond what the
//   persistence mode already wrote (AOF everysec loses up to ~1 s, RDB what
//   changed since the last save, none everything).
// - StartAgain(): the same binary, arguments, port and directory, so the
//   server loads whatever the dead one left on disk (appendonly.aof or
//   dump.rdb), as a restarted container with a persistent volume does.
// - Stop() / the destructor: SIGTERM (2 s), then SIGKILL; removes the
//   directory unless `keep_dir`.
//
//   auto redis = RedisProcess::Start({.config_args = RedisServerArgs(scenario.redis)});
//   (*redis)->Kill();  ...  (*redis)->StartAgain();
//
// Thread-safety: none; one owner.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "model/duration.h"
#include "model/scenario_redis.h"
#include "model/status.h"

namespace scaletwin {

struct RedisProcessOptions {
  std::string binary = "redis-server";  // looked up on PATH
  std::vector<std::string> config_args = {};  // e.g. {"--maxmemory", "64mb"}
  Nanos start_timeout = 5 * kNanosPerSecond;
  int attempts = 5;       // a new port each time, if another process grabs ours
  bool keep_dir = false;  // leave the directory (and redis.log) behind on Stop
  std::string parent_dir = {};  // where the server's scaletwin-redis-XXXXXX directory goes; "": the system temp dir
};

class RedisProcess {
 public:
  static Result<std::unique_ptr<RedisProcess>> Start(RedisProcessOptions options = {});
  ~RedisProcess();
  RedisProcess(const RedisProcess&) = delete;
  RedisProcess& operator=(const RedisProcess&) = delete;

  const std::string& host() const { return host_; }
  int port() const { return port_; }
  const std::string& dir() const { return dir_; }
  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }

  // SIGKILL and reap. No-op when not running.
  void Kill();
  // Starts the server again on the same port and directory; waits for PING.
  // REQUIRES: !running().
  Status StartAgain();
  // Stops the server and removes its directory (unless keep_dir). Idempotent.
  void Stop();

 private:
  explicit RedisProcess(RedisProcessOptions options) : options_(std::move(options)) {}
  // Spawns the child on port_ / dir_ and waits for PING. On failure the
  // child is gone and `exited` says whether it died by itself.
  Status Spawn(bool& exited);

  RedisProcessOptions options_;
  std::string host_ = "127.0.0.1";
  int port_ = 0;
  std::string dir_;
  pid_t pid_ = -1;
};

// A port that was free a moment ago on 127.0.0.1 (bind to port 0, read it back).
Result<int> FindFreeLoopbackPort();

// The redis-server arguments that make a real server behave as `spec` says:
// maxmemory and its policy, samples and LFU knobs, hz, active-expire-effort,
// maxclients, and the persistence mode (none: no RDB, no AOF; rdb: the save
// points; aof_everysec: appendonly with fsync every second and no RDB, so a
// restart loads exactly the AOF).
std::vector<std::string> RedisServerArgs(const RedisScenarioSpec& spec);

}  // namespace scaletwin
