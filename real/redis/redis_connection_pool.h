// RedisConnectionPool: a bounded, thread-safe pool of RedisConnections to one
// Redis server, with FIFO waiters, an acquire timeout and lazy replacement of
// broken connections. The real pod's limiter (and later its cache) leases a
// connection per request from it.
//
//   RedisPoolOptions o;
//   o.endpoint = {"127.0.0.1", 6379};
//   o.size = 8;
//   o.acquire_timeout = 50 * kNanosPerMilli;
//   auto pool = RedisConnectionPool::Create(o);            // connects lazily
//   Result<RedisLease> lease = (*pool)->Acquire();
//   if (!lease.ok()) return lease.status();                // timeout or connect failure
//   Result<Reply> r = lease->connection().Run({"PING"});   // returned when `lease` dies
//
// The policy is model/connection_pool.h's ConnectionPool — the same state
// machine the simulated pods use — driven under one mutex; this class only
// performs what it decides (opens connections, wakes waiters, enforces each
// waiter's deadline). Hence, as in the simulator:
// - open + opening <= size: at most `size` connections to the server exist at
//   any time (what "pods x pool size vs maxclients" needs);
// - a caller that finds no idle connection waits; waiters are served strictly
//   in arrival order (a released connection is handed to the oldest waiter,
//   never to a newcomer);
// - connections are opened on demand, one per waiter not covered by an open
//   already under way; a failed open fails the oldest waiter that no pending
//   open can still serve, at once, with the connect error (no retry: the
//   caller's policy decides, e.g. the limiter's on_redis_error);
// - a connection that had a transport failure (I/O error, timeout, EOF) is
//   discarded on release, never reused; its slot is reopened lazily when an
//   acquire needs it.
// One addition the model does not need: an idle connection is probed (one
// non-blocking recv, under the mutex, ~1 us) before it is leased, so a
// connection the server closed while idle (CLIENT KILL, restart, idle
// timeout) is discarded and replaced instead of failing the request that
// would have drawn it. In the model's terms that is a Discard followed by the
// same caller's Acquire.
//
// Who opens: the thread that queued (or any waiting thread, when a discard
// freed a slot while others wait) opens the connection outside the mutex; the
// result goes to the oldest waiter, which need not be the opener.
// Timeouts: acquire_timeout bounds the wait; an open already started by the
// caller can add up to endpoint.connect_timeout. Commands are bounded by
// endpoint.command_timeout per blocking read/write (redis_connection.h).
//
// Thread-safety: every method may be called from any thread. A RedisLease
// and its connection belong to one thread at a time. REQUIRES: the pool
// outlives its leases and no thread is inside Acquire when it is destroyed.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "model/connection_pool.h"
#include "model/duration.h"
#include "model/status.h"
#include "real/redis/redis_connection.h"

namespace scaletwin {

struct RedisPoolOptions {
  RedisEndpoint endpoint;
  int size = 8;                                  // connections at most, >= 1
  Nanos acquire_timeout = 100 * kNanosPerMilli;  // wait for a connection, >= 0 (0: no waiting beyond an open)
};

// A snapshot for metrics (/metrics gauges and counters).
struct RedisPoolStats {
  int64_t size = 0;
  int64_t in_use = 0;  // leased
  int64_t idle = 0;
  int64_t opening = 0;  // connects under way (or owed to waiters)
  int64_t waiting = 0;  // threads blocked in Acquire
  // Counters since creation:
  int64_t acquires = 0;          // successful
  int64_t timeouts = 0;          // Acquire calls that gave up after their timeout
  int64_t opened = 0;            // connections opened successfully
  int64_t connect_failures = 0;  // opens that failed (one waiter got that error)
  int64_t broken_replaced = 0;   // connections discarded after a transport failure or a failed idle
                                 // probe; each slot is reopened lazily by a later Acquire
  int64_t command_timeouts = 0;  // of those, discarded because a read or write timed out
};

class RedisConnectionPool;

// A leased connection; returns it to the pool when destroyed (or Release()d).
// Move-only. A broken connection is discarded instead of being returned.
class RedisLease {
 public:
  RedisLease() = default;
  RedisLease(RedisLease&& other) noexcept;
  RedisLease& operator=(RedisLease&& other) noexcept;
  RedisLease(const RedisLease&) = delete;
  RedisLease& operator=(const RedisLease&) = delete;
  ~RedisLease() { Release(); }

  // REQUIRES: holds a connection (from a successful Acquire, not released).
  RedisConnection& connection() { return *conn_; }
  RedisConnection* operator->() { return conn_.get(); }
  explicit operator bool() const { return conn_ != nullptr; }
  // Gives the connection back now. Idempotent.
  void Release();

 private:
  friend class RedisConnectionPool;
  RedisLease(RedisConnectionPool* pool, std::unique_ptr<RedisConnection> conn) : pool_(pool), conn_(std::move(conn)) {}
  RedisConnectionPool* pool_ = nullptr;
  std::unique_ptr<RedisConnection> conn_;
};

class RedisConnectionPool {
 public:
  // Validates the options; opens no connection yet (a pod may start before
  // Redis is reachable). InvalidArgument on size < 1, a negative
  // acquire_timeout or non-positive endpoint timeouts.
  static Result<std::unique_ptr<RedisConnectionPool>> Create(const RedisPoolOptions& options);
  ~RedisConnectionPool();
  RedisConnectionPool(const RedisConnectionPool&) = delete;
  RedisConnectionPool& operator=(const RedisConnectionPool&) = delete;

  // A connection within options().acquire_timeout: an idle one that passes
  // the probe, else one opened for this caller or released by another (FIFO).
  // IOError naming the cause: "acquire timed out" or the connect error.
  Result<RedisLease> Acquire();
  // Same with an explicit wait bound for this call (>= 0).
  Result<RedisLease> Acquire(Nanos timeout);

  RedisPoolStats stats() const;
  const RedisPoolOptions& options() const { return options_; }

 private:
  friend class RedisLease;
  struct Waiter;

  explicit RedisConnectionPool(const RedisPoolOptions& options);
  // A lease gives its connection back (or discards it when broken).
  void Return(std::unique_ptr<RedisConnection> conn);
  // Records the outcome of one open with the state machine and hands the
  // connection (or the error) to the waiter it names. REQUIRES: mu_ held.
  void OnOpenedLocked(Result<std::unique_ptr<RedisConnection>> opened);
  // Asks the state machine how many opens to start and, if any, wakes the
  // waiters so one of them runs each. REQUIRES: mu_ held.
  void ScheduleOpensLocked();

  const RedisPoolOptions options_;
  mutable std::mutex mu_;
  ConnectionPool policy_;                               // the model's pool state machine
  std::vector<std::unique_ptr<RedisConnection>> idle_;  // policy_.idle() of them; most recent last
  std::unordered_map<uint64_t, Waiter*> waiters_;       // policy_'s live waiters, by id
  uint64_t next_waiter_id_ = 0;
  int open_jobs_ = 0;        // opens the policy asked for that no thread has started yet
  RedisPoolStats counters_;  // the counter fields only; gauges come from policy_
};

}  // namespace scaletwin
