// hiredis 0.14 context <-> Command/Reply, with transport failures as Status.
#include "real/redis/redis_connection.h"

#include <hiredis/hiredis.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "real/common/sigpipe_guard.h"

namespace scaletwin {

namespace {

Reply Convert(const redisReply* r) {
  switch (r->type) {
    case REDIS_REPLY_STRING:
      return Reply::Bulk(std::string(r->str, r->len));
    case REDIS_REPLY_INTEGER:
      return Reply::Integer(r->integer);
    case REDIS_REPLY_NIL:
      return Reply::Nil();
    case REDIS_REPLY_STATUS:
      return Reply::Simple(std::string(r->str, r->len));
    case REDIS_REPLY_ERROR:
      return Reply::Error(std::string(r->str, r->len));
    case REDIS_REPLY_ARRAY: {
      std::vector<Reply> elements;
      elements.reserve(r->elements);
      for (size_t i = 0; i < r->elements; ++i) elements.push_back(Convert(r->element[i]));
      return Reply::Array(std::move(elements));
    }
    default:
      // RESP2 has only the six types above; hiredis 0.14 knows no others.
      return Reply::Error("ERR scaletwin: unknown hiredis reply type " + std::to_string(r->type));
  }
}

timeval ToTimeval(Nanos t) {
  timeval tv;
  tv.tv_sec = static_cast<time_t>(t / kNanosPerSecond);
  tv.tv_usec = static_cast<suseconds_t>((t % kNanosPerSecond) / kNanosPerMicro);
  return tv;
}

}  // namespace

Result<std::unique_ptr<RedisConnection>> RedisConnection::Open(const RedisEndpoint& endpoint) {
  if (endpoint.connect_timeout <= 0 || endpoint.command_timeout <= 0) {
    return Status::InvalidArgument("redis connection: connect_timeout and command_timeout must be positive");
  }
  redisContext* ctx =
      redisConnectWithTimeout(endpoint.host.c_str(), endpoint.port, ToTimeval(endpoint.connect_timeout));
  if (ctx == nullptr) return Status::IOError("redis connect: out of memory");
  const std::string where = endpoint.host + ":" + std::to_string(endpoint.port);
  if (ctx->err) {
    std::string msg = "redis connect to " + where + ": " + ctx->errstr;
    redisFree(ctx);
    return Status::IOError(msg);
  }
  if (redisSetTimeout(ctx, ToTimeval(endpoint.command_timeout)) != REDIS_OK) {
    std::string msg = "redis connect to " + where + ": setting the command timeout: " + ctx->errstr;
    redisFree(ctx);
    return Status::IOError(msg);
  }
  std::unique_ptr<RedisConnection> c(new RedisConnection(ctx));
  c->where_ = where;
  c->command_timeout_ = endpoint.command_timeout;
  c->guard_sigpipe_ = !SigpipeIgnored();
  if (endpoint.added_one_way_delay) {
    static std::atomic<uint64_t> connections{0};
    c->added_delay_ = endpoint.added_one_way_delay;
    c->delay_rng_.emplace(endpoint.delay_seed, "redis-added-delay", connections.fetch_add(1));
  }
  return c;
}

void RedisConnection::SleepAddedDelay() {
  if (!added_delay_) return;
  const Nanos d = added_delay_->Sample(*delay_rng_);
  if (d <= 0) return;
  // Once per thread; only threads that use a delayed connection change theirs.
  thread_local const bool precise = prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0) == 0;
  (void)precise;
  std::this_thread::sleep_for(std::chrono::nanoseconds(d));
}

RedisConnection::RedisConnection(redisContext* ctx) : ctx_(ctx) {}

RedisConnection::~RedisConnection() { redisFree(ctx_); }

Status RedisConnection::TransportFailure(const char* stage) {
  const int saved_errno = errno;
  broken_ = true;
  // hiredis 0.14 has no REDIS_ERR_TIMEOUT: an SO_RCVTIMEO/SO_SNDTIMEO expiry
  // is REDIS_ERR_IO with errno EAGAIN ("Resource temporarily unavailable").
  timed_out_ = ctx_->err == REDIS_ERR_IO && (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK ||
                                             std::strstr(ctx_->errstr, "temporarily unavailable") != nullptr);
  std::string what = timed_out_ ? "timed out after " + FormatDuration(command_timeout_) : std::string(ctx_->errstr);
  if (what.empty()) what = "error " + std::to_string(ctx_->err);
  return Status::IOError("redis " + where_ + " " + stage + ": " + what);
}

Status RedisConnection::Flush() {
  ScopedSigpipeBlock guard(guard_sigpipe_);
  int done = 0;
  while (!done) {
    if (redisBufferWrite(ctx_, &done) != REDIS_OK) {
      const int saved_errno = errno;
      if (saved_errno == EPIPE) guard.Consume();
      errno = saved_errno;
      return TransportFailure("write");
    }
  }
  return Status::Ok();
}

Result<std::vector<Reply>> RedisConnection::Pipeline(const std::vector<Command>& commands) {
  if (broken_) return Status::IOError("redis " + where_ + ": connection is broken");
  SleepAddedDelay();  // the commands' way there
  for (const Command& command : commands) {
    argv_.clear();
    lens_.clear();
    for (const std::string& a : command.args) {
      argv_.push_back(a.data());
      lens_.push_back(a.size());
    }
    if (redisAppendCommandArgv(ctx_, static_cast<int>(argv_.size()), argv_.data(), lens_.data()) != REDIS_OK) {
      return TransportFailure("append");
    }
  }
  // Flush ourselves (rather than letting the first redisGetReply do it) so the
  // SIGPIPE guard covers exactly the write.
  if (Status s = Flush(); !s.ok()) return s;
  std::vector<Reply> replies;
  replies.reserve(commands.size());
  for (size_t i = 0; i < commands.size(); ++i) {
    void* raw = nullptr;
    if (redisGetReply(ctx_, &raw) != REDIS_OK || raw == nullptr) return TransportFailure("read");
    replies.push_back(Convert(static_cast<const redisReply*>(raw)));
    freeReplyObject(raw);
  }
  SleepAddedDelay();  // the replies' way back
  return replies;
}

Result<Reply> RedisConnection::Run(const Command& command) {
  Result<std::vector<Reply>> r = Pipeline({command});
  if (!r.ok()) return r.status();
  return std::move((*r)[0]);
}

bool RedisConnection::ProbeIdle() {
  if (broken_) return false;
  char byte;
  const ssize_t n = recv(ctx_->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return true;
  // 0: the server closed it (FIN). > 0: unsolicited bytes — the stream is out
  // of step with our requests. < 0: reset or another socket error.
  broken_ = true;
  return false;
}

}  // namespace scaletwin
