// hiredis <-> Command/Reply.
#include "testsupport/redis_client.h"

#include <hiredis/hiredis.h>
#include <sys/time.h>

namespace scaletwin {

namespace {

Reply Convert(const redisReply* r) {
  switch (r->type) {
    case REDIS_REPLY_STRING: return Reply::Bulk(std::string(r->str, r->len));
    case REDIS_REPLY_INTEGER: return Reply::Integer(r->integer);
    case REDIS_REPLY_NIL: return Reply::Nil();
    case REDIS_REPLY_STATUS: return Reply::Simple(std::string(r->str, r->len));
    case REDIS_REPLY_ERROR: return Reply::Error(std::string(r->str, r->len));
    case REDIS_REPLY_ARRAY: {
      std::vector<Reply> elements;
      elements.reserve(r->elements);
      for (size_t i = 0; i < r->elements; ++i) elements.push_back(Convert(r->element[i]));
      return Reply::Array(std::move(elements));
    }
    default: return Reply::Error("testsupport: unknown hiredis reply type " + std::to_string(r->type));
  }
}

timeval ToTimeval(Nanos t) {
  timeval tv;
  tv.tv_sec = static_cast<time_t>(t / kNanosPerSecond);
  tv.tv_usec = static_cast<suseconds_t>((t % kNanosPerSecond) / kNanosPerMicro);
  return tv;
}

}  // namespace

Result<std::unique_ptr<RedisClient>> RedisClient::Connect(const std::string& host, int port, Nanos timeout) {
  redisContext* ctx = redisConnectWithTimeout(host.c_str(), port, ToTimeval(timeout));
  if (ctx == nullptr) return Status::IOError("redis connect: out of memory");
  if (ctx->err) {
    std::string msg = "redis connect to " + host + ":" + std::to_string(port) + ": " + ctx->errstr;
    redisFree(ctx);
    return Status::IOError(msg);
  }
  // 0.14 applies the connect timeout to connect only; set a command timeout too.
  redisSetTimeout(ctx, ToTimeval(timeout));
  return std::unique_ptr<RedisClient>(new RedisClient(ctx));
}

RedisClient::~RedisClient() { redisFree(ctx_); }

Status RedisClient::Append(const Command& command) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const std::string& a : command.args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  if (redisAppendCommandArgv(ctx_, static_cast<int>(argv.size()), argv.data(), lens.data()) != REDIS_OK) {
    return Status::IOError(std::string("redis append: ") + ctx_->errstr);
  }
  return Status::Ok();
}

Result<Reply> RedisClient::ReadReply() {
  void* raw = nullptr;
  if (redisGetReply(ctx_, &raw) != REDIS_OK || raw == nullptr) {
    return Status::IOError(std::string("redis reply: ") + ctx_->errstr);
  }
  Reply r = Convert(static_cast<redisReply*>(raw));
  freeReplyObject(raw);
  return r;
}

Result<Reply> RedisClient::Run(const Command& command) {
  if (Status s = Append(command); !s.ok()) return s;
  return ReadReply();
}

Result<std::vector<Reply>> RedisClient::Pipeline(const std::vector<Command>& commands) {
  for (const Command& c : commands) {
    if (Status s = Append(c); !s.ok()) return s;
  }
  std::vector<Reply> out;
  out.reserve(commands.size());
  for (size_t i = 0; i < commands.size(); ++i) {
    Result<Reply> r = ReadReply();
    if (!r.ok()) return r.status();
    out.push_back(std::move(*r));
  }
  return out;
}

}  // namespace scaletwin
