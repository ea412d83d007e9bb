// The EVALSHA extension point: the project's Lua scripts, implemented natively.
//
// Real Redis runs the script text; the model runs a C++ function registered
// under the same SHA1 with the same semantics (the limiter step writes both
// and a state-machine test holds them together). A registry is shared by every
// store of a run; each store keeps its own script cache, so after a restart
// EVALSHA answers NOSCRIPT until the client sends SCRIPT LOAD again — as Redis.
//
//   RedisScriptRegistry reg;
//   reg.Register({kSlidingLogSha, kSlidingLogLua,
//                 [](RedisScriptContext& ctx, const auto& keys, const auto& argv) {
//                   ctx.Call({"ZREMRANGEBYSCORE", keys[0], "-inf", argv[0]});
//                   return ctx.Call({"ZCARD", keys[0]});
//                 }});
//   RedisConfig cfg; cfg.scripts = std::make_shared<const RedisScriptRegistry>(reg);
//
// Inside a script, time is frozen (one `now` for every call, so keys cannot
// expire half-way) and, as in Redis 7.0, memory-growing writes fail with the
// OOM error iff the server was over maxmemory when the script started.
//
// Thread-safety: a registry is immutable once shared; contexts live on one stack.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "model/duration.h"
#include "model/redis_command.h"
#include "model/status.h"

namespace scaletwin {

class RedisStore;

// What a native script sees: redis.call over the same store, at a frozen time.
class RedisScriptContext {
 public:
  RedisScriptContext(RedisStore& store, Nanos now, bool oom_at_start)
      : store_(store), now_(now), oom_at_start_(oom_at_start) {}
  // redis.call / redis.pcall: the reply (errors as error replies; the script
  // decides whether to abort, as Lua's redis.call would raise).
  Reply Call(const Command& command);
  Nanos now() const { return now_; }

 private:
  RedisStore& store_;
  Nanos now_;
  bool oom_at_start_;
};

using NativeScript = std::function<Reply(RedisScriptContext& ctx, const std::vector<std::string>& keys,
                                         const std::vector<std::string>& argv)>;

struct RedisScript {
  std::string sha1;  // 40 lower-case hex digits of SHA1(body), as SCRIPT LOAD returns
  std::string body;  // the Lua text real Redis runs
  NativeScript run;
};

class RedisScriptRegistry {
 public:
  // Fails on a malformed SHA or a duplicate.
  Status Register(RedisScript script);
  const RedisScript* FindBySha(std::string_view sha1) const;
  const RedisScript* FindByBody(std::string_view body) const;

 private:
  std::map<std::string, RedisScript, std::less<>> by_sha_;
};

}  // namespace scaletwin
