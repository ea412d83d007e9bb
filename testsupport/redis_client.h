// RedisClient: a blocking hiredis 0.14 connection that sends the model's
// Command values and returns Reply values, so a test can put a real server's
// answer next to RedisStore's with ==.
//
//   auto c = RedisClient::Connect("127.0.0.1", port);
//   Result<Reply> r = (*c)->Run({"ZADD", "k", "1", "a"});
//   Result<std::vector<Reply>> rs = (*c)->Pipeline({{"MULTI"}, {"INCR", "n"}, {"EXEC"}});
//
// An I/O or protocol error is a non-OK Status and leaves the client unusable.
// Thread-safety: none (hiredis contexts are single-threaded).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "model/duration.h"
#include "model/redis_command.h"
#include "model/status.h"

struct redisContext;

namespace scaletwin {

class RedisClient {
 public:
  static Result<std::unique_ptr<RedisClient>> Connect(const std::string& host, int port,
                                                      Nanos timeout = 2 * kNanosPerSecond);
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  // One command, one round trip.
  Result<Reply> Run(const Command& command);
  // All commands in one write, then one reply each, in order.
  Result<std::vector<Reply>> Pipeline(const std::vector<Command>& commands);

 private:
  explicit RedisClient(redisContext* ctx) : ctx_(ctx) {}
  Status Append(const Command& command);
  Result<Reply> ReadReply();
  redisContext* ctx_;
};

}  // namespace scaletwin
