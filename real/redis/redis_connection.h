// RedisConnection: one blocking hiredis 0.14 connection that speaks the
// model's Command/Reply values — the transport the real limiter (and later the
// pod's cache) sends its round trips over.
//
//   Result<std::unique_ptr<RedisConnection>> c = RedisConnection::Open(endpoint);
//   Result<std::vector<Reply>> r = (*c)->Pipeline({{"MULTI"}, {"INCR", "n"}, {"EXEC"}});
//   if (!r.ok()) { /* transport failure: (*c)->broken() is now true */ }
//
// Contract:
// - Pipeline() writes every command in one buffer (redisAppendCommandArgv, then
//   one flush) and reads exactly one reply per command, in order. That is the
//   unit a limiter plan calls a RoundTrip (model/limiter_plan.h); a MULTI block
//   is just such a pipeline of MULTI, the commands and EXEC.
// - Error REPLIES (-ERR, -NOSCRIPT, -OOM, -EXECABORT, ...) are values: they come
//   back inside an ok Result. Only transport failures — connect refused, a read
//   or write that timed out, EOF, a protocol error — are a non-OK Status, and
//   they mark the connection broken() for good: hiredis cannot resynchronise a
//   stream after a partial read, so a broken connection is never reused (the
//   pool discards it).
// - Timeouts: `connect_timeout` bounds the TCP connect (redisConnectWithTimeout);
//   `command_timeout` is SO_RCVTIMEO/SO_SNDTIMEO (redisSetTimeout), i.e. it
//   bounds each blocking read or write, so a reply that trickles in can take
//   longer in total. In hiredis 0.14 the connect timeout does not cover
//   commands, hence both (reference/redis.md §4.3, §5).
// - An added one-way delay (RedisEndpoint::added_one_way_delay) is slept in
//   Pipeline() before the write and after the replies, with the thread's
//   timer slack at 1 ns so a 250 µs sleep is not rounded up by Linux's
//   default 50 µs slack. It does not count against command_timeout.
// - SIGPIPE: hiredis 0.14 writes with write(2), which raises SIGPIPE when the
//   server has reset the connection. Unless the process already ignores
//   SIGPIPE (checked once per connection), the flush runs with SIGPIPE blocked
//   in the calling thread and a SIGPIPE it caused is consumed, so a server
//   restart turns into an EPIPE Status, not a dead process. A process that
//   ignores SIGPIPE (as a server process should) pays nothing for this.
//
// Thread-safety: none — a hiredis context belongs to one thread at a time;
// RedisConnectionPool hands each connection to one holder.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model/distribution.h"
#include "model/duration.h"
#include "model/redis_command.h"
#include "model/status.h"

struct redisContext;

namespace scaletwin {

// Where and how to connect. Plain value.
struct RedisEndpoint {
  std::string host = "127.0.0.1";
  int port = 6379;
  Nanos connect_timeout = 1 * kNanosPerSecond;
  Nanos command_timeout = 1 * kNanosPerSecond;
  // An emulated network on top of the real one: each round trip sleeps one
  // draw before its write and another after its last reply, so the server
  // sees the commands a draw later and the caller its replies a draw after
  // that — how `scaletwin real` gives loopback a scenario's
  // redis.network_delay. Unset: nothing added. Each connection draws from
  // its own stream of delay_seed.
  std::optional<DurationDistribution> added_one_way_delay = std::nullopt;
  uint64_t delay_seed = 1;
};

class RedisConnection {
 public:
  // Connects and sets the command timeout. IOError when the server cannot be
  // reached within connect_timeout; InvalidArgument on a non-positive timeout.
  static Result<std::unique_ptr<RedisConnection>> Open(const RedisEndpoint& endpoint);
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  // Sends `commands` in one write and returns one reply per command, in order.
  // A non-OK Status means a transport failure; broken() is then true.
  // REQUIRES: !commands.empty(); every command has a name.
  Result<std::vector<Reply>> Pipeline(const std::vector<Command>& commands);
  // One command, one round trip.
  Result<Reply> Run(const Command& command);

  // True after any transport failure; every later call fails at once.
  bool broken() const { return broken_; }
  // True iff the last transport failure was a read/write timeout.
  bool timed_out() const { return timed_out_; }
  // A cheap liveness probe for an idle connection (one non-blocking
  // recv(MSG_PEEK)): false iff the server has closed it (CLIENT KILL, restart,
  // timeout), or bytes arrived that nobody asked for. Marks it broken when false.
  bool ProbeIdle();

 private:
  explicit RedisConnection(redisContext* ctx);
  Status TransportFailure(const char* stage);
  Status Flush();
  void SleepAddedDelay();

  redisContext* ctx_;
  std::string where_;  // "host:port", for messages
  Nanos command_timeout_ = 0;
  bool broken_ = false;
  bool timed_out_ = false;
  bool guard_sigpipe_ = true;
  std::optional<DurationDistribution> added_delay_;
  std::optional<Rng> delay_rng_;  // set iff added_delay_ is
  // Scratch for redisAppendCommandArgv, kept to spare two allocations a command.
  std::vector<const char*> argv_;
  std::vector<size_t> lens_;
};

}  // namespace scaletwin
