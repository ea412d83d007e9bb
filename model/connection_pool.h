// ConnectionPool: the state machine of one pod's pool of connections to a
// server (PostgreSQL or Redis), shared by the simulator and the real pod.
//
// A hard cap (`size`) on open connections (idle + in use + being opened);
// callers that find no idle connection wait in FIFO order for one to be
// released or opened; the pool asks its driver to open connections on demand
// and to keep `min_idle` idle ones. The pool never touches a clock or a
// socket: it returns decisions, and the driver (sim world or real pool)
// performs them — opens a connection and reports the outcome, enforces each
// waiter's acquire_timeout and calls Cancel.
//
//   ConnectionPool pool({.size = 10, .min_idle = 0});
//   if (pool.Acquire(request_id) == ConnectionPool::Outcome::kQueued) { ...wait... }
//   for (int n = pool.ConnectionsToOpen(); n > 0; --n) StartConnect();   // driver
//   ... OnOpened(ok) / Release() return the waiter that now holds a connection.
//
// A failed open (e.g. PostgreSQL's "too many clients") fails the oldest waiter
// that no other pending open can still serve — the request that needed the
// new connection — rather than leaving it to time out: the caller sees the
// refusal immediately, as with Go's database/sql or node-postgres.
//
// Invariants (checked by tests): in_use + idle + opening <= size; a waiter
// exists only while no connection is idle; waiters are served in arrival order.
// Thread-safety: none; the real pool serialises calls under its mutex.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <unordered_map>
#include <utility>

#include "model/duration.h"

namespace scaletwin {

struct PoolConfig {
  int size = 10;                                 // max open connections
  int min_idle = 0;                              // idle connections kept open
  Nanos acquire_timeout = 30 * kNanosPerSecond;  // how long a caller waits (enforced by the driver)
  Nanos connect_time = 2 * kNanosPerMilli;       // cost of opening one (modelled; measured in the real pool)
};

class ConnectionPool {
 public:
  enum class Outcome { kGranted, kQueued };

  explicit ConnectionPool(const PoolConfig& config) : config_(config) {}

  // `waiter` (a caller-chosen id, unique among current waiters) asks for a
  // connection: kGranted means it holds one now; kQueued means it waits.
  Outcome Acquire(uint64_t waiter);

  // Gives a held connection back; returns the waiter that now holds it, if any.
  // REQUIRES: in_use() > 0.
  std::optional<uint64_t> Release();

  // Drops a held connection instead of returning it (it broke); the slot is free again.
  // REQUIRES: in_use() > 0.
  void Discard();

  // How many connections the driver should start opening now, to serve
  // waiters and keep min_idle; the pool counts them as opening.
  int ConnectionsToOpen();

  // A connection attempt finished. On success returns the waiter now holding
  // it (or nothing: it went idle). On failure returns the waiter that fails
  // with the connect error, if one can no longer be served.
  struct OpenResult {
    std::optional<uint64_t> granted;
    std::optional<uint64_t> failed;
  };
  OpenResult OnOpened(bool ok);

  // The waiter gave up (acquire_timeout). Returns true iff it was still waiting.
  bool Cancel(uint64_t waiter);

  int in_use() const { return in_use_; }
  int idle() const { return idle_; }
  int opening() const { return opening_; }
  int open() const { return in_use_ + idle_; }
  size_t waiting() const { return live_.size(); }
  const PoolConfig& config() const { return config_; }

 private:
  // Removes and returns the oldest live waiter.
  std::optional<uint64_t> PopWaiter();

  PoolConfig config_;
  int in_use_ = 0, idle_ = 0, opening_ = 0;
  // FIFO of (waiter, ticket); entries whose ticket no longer matches live_ were
  // cancelled and are skipped lazily, so Cancel is O(1) and a reused id is safe.
  std::deque<std::pair<uint64_t, uint64_t>> waiters_;
  std::unordered_map<uint64_t, uint64_t> live_;  // waiter -> ticket
  uint64_t next_ticket_ = 0;
};

}  // namespace scaletwin
