// BlockingPool<Conn>: the real pod's thread-safe driver of model/connection_pool.h.
//
// The pool *policy* — hard cap `size`, FIFO waiters, open on demand, which
// waiter a failed open fails — is the model's ConnectionPool, the same object
// the simulator drives, so a real pod and a simulated one queue and fail
// alike. This class performs its decisions with real threads and time:
//
//  * Acquire() blocks up to config.acquire_timeout. It gets an idle connection
//    at once, or waits in FIFO order for one to be released or opened; on
//    timeout it cancels its wait and fails with cause `pool_timeout`.
//  * Connections are opened on demand by short-lived background threads (one
//    per open, through the Opener), so a waiter's acquire_timeout runs
//    independently of how long a connect takes — as in the simulator, where
//    connects and timeouts are separate events.
//  * A failed open fails the oldest waiter that no other pending open can
//    serve, at once, with the Opener's error (e.g. `db_too_many_clients` when
//    PostgreSQL refuses: the caller sees the refusal, not a timeout later).
//  * A broken connection is replaced: the AliveCheck runs when an idle
//    connection is taken and when one is returned; a connection that fails it
//    (or that the holder marks broken) is closed and its slot freed, and the
//    next waiter gets a fresh one.
//
//   BlockingPool<Db> pool({.size = 4, .acquire_timeout = kNanosPerSecond}, OpenDb, IsHealthy);
//   Result<BlockingPool<Db>::Lease> lease = pool.Acquire();
//   if (!lease.ok()) return lease.status();          // pool_timeout or the open error
//   (*lease)->Query(...);                             // returned to the pool when the lease dies
//
// Invariants: idle_.size() == state_.idle(); a grant exists only for a waiter
// that is no longer in state_ (handed a connection or an error under mu_).
// Thread-safety: all methods may be called from any thread. The Opener and
// AliveCheck run without the lock held; the AliveCheck only on a connection
// the calling thread owns.
// REQUIRES at destruction: no Lease outstanding and no thread in Acquire. The
// destructor waits for opens in flight (bounded by the Opener's own timeout).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "model/connection_pool.h"
#include "model/duration.h"
#include "model/status.h"
#include "real/storage/storage_status.h"

namespace scaletwin {

// A snapshot of a pool, for /metrics and tests.
struct PoolCounters {
  int size = 0;
  int in_use = 0;
  int idle = 0;
  int opening = 0;
  int waiting = 0;
  uint64_t timeouts = 0;       // acquires that gave up after acquire_timeout
  uint64_t opened = 0;         // connections opened successfully
  uint64_t open_failures = 0;  // opens that failed (refused, unreachable, timed out)
  uint64_t discarded = 0;      // broken connections closed and replaced
};

template <typename Conn>
class BlockingPool {
 public:
  using Opener = std::function<Result<std::unique_ptr<Conn>>()>;
  using AliveCheck = std::function<bool(Conn&)>;

  // A held connection; gives it back (or discards it if broken) when destroyed.
  class Lease {
   public:
    Lease(Lease&& other) noexcept : pool_(other.pool_), conn_(std::move(other.conn_)), broken_(other.broken_) {}
    Lease& operator=(Lease&& other) noexcept {
      if (this != &other) {
        GiveBack();
        pool_ = other.pool_;
        conn_ = std::move(other.conn_);
        broken_ = other.broken_;
      }
      return *this;
    }
    ~Lease() { GiveBack(); }

    Conn& operator*() { return *conn_; }
    Conn* operator->() { return conn_.get(); }
    // The connection is unusable (or in an unknown state): close it instead of reusing it.
    void MarkBroken() { broken_ = true; }

   private:
    friend class BlockingPool;
    Lease(BlockingPool* pool, std::unique_ptr<Conn> conn) : pool_(pool), conn_(std::move(conn)) {}
    void GiveBack() {
      if (conn_) pool_->Return(std::move(conn_), broken_);
    }
    BlockingPool* pool_;
    std::unique_ptr<Conn> conn_;
    bool broken_ = false;
  };

  // REQUIRES: config.size >= 1; `open` non-empty. `alive` may be empty (never broken).
  BlockingPool(PoolConfig config, Opener open, AliveCheck alive = {})
      : state_(config), open_(std::move(open)), alive_(std::move(alive)) {}

  ~BlockingPool() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return opens_in_flight_ == 0; });
    idle_.clear();
  }
  BlockingPool(const BlockingPool&) = delete;
  BlockingPool& operator=(const BlockingPool&) = delete;

  // A connection within acquire_timeout, or: `pool_timeout`; or the error of
  // an open that was made for this caller and failed.
  Result<Lease> Acquire() {
    const auto deadline = Clock::now() + std::chrono::nanoseconds(state_.config().acquire_timeout);
    while (true) {
      std::unique_ptr<Conn> conn;
      bool from_idle = false;
      {
        std::unique_lock lock(mu_);
        const uint64_t id = next_waiter_++;
        if (state_.Acquire(id) == ConnectionPool::Outcome::kGranted) {
          conn = std::move(idle_.back());  // LIFO: the most recently used connection is the warmest
          idle_.pop_back();
          from_idle = true;
        } else {
          StartOpensLocked();
          const bool granted = cv_.wait_until(lock, deadline, [&] { return grants_.count(id) > 0; });
          // Cancel fails iff a grant was made under mu_ just before we looked.
          if (!granted && state_.Cancel(id)) {
            ++timeouts_;
            return StorageError(StorageCause::kPoolTimeout, "no connection within " +
                                                                FormatDuration(state_.config().acquire_timeout) +
                                                                " (pool size " + std::to_string(state_.config().size) +
                                                                ", " + std::to_string(state_.in_use()) + " in use, " +
                                                                std::to_string(state_.waiting()) + " waiting)");
          }
          auto node = grants_.extract(id);
          if (Status* failed = std::get_if<Status>(&node.mapped())) return *failed;
          conn = std::move(std::get<std::unique_ptr<Conn>>(node.mapped()));
        }
      }
      // An idle connection may have died while it sat in the pool (server
      // restart, pg_terminate_backend): replace it rather than fail the caller.
      if (from_idle && alive_ && !alive_(*conn)) {
        Discard(std::move(conn));
        continue;
      }
      return Lease(this, std::move(conn));
    }
  }

  PoolCounters Counters() const {
    std::lock_guard lock(mu_);
    PoolCounters c;
    c.size = state_.config().size;
    c.in_use = state_.in_use();
    c.idle = state_.idle();
    c.opening = state_.opening();
    c.waiting = static_cast<int>(state_.waiting());
    c.timeouts = timeouts_;
    c.opened = opened_;
    c.open_failures = open_failures_;
    c.discarded = discarded_;
    return c;
  }

 private:
  using Clock = std::chrono::steady_clock;
  using Grant = std::variant<std::unique_ptr<Conn>, Status>;

  void Return(std::unique_ptr<Conn> conn, bool broken) {
    if (!broken && alive_ && !alive_(*conn)) broken = true;
    if (broken) {
      Discard(std::move(conn));
      return;
    }
    std::lock_guard lock(mu_);
    if (std::optional<uint64_t> next = state_.Release()) {
      grants_.emplace(*next, std::move(conn));  // handed over: stays in use
      cv_.notify_all();
    } else {
      idle_.push_back(std::move(conn));
    }
  }

  void Discard(std::unique_ptr<Conn> conn) {
    {
      std::lock_guard lock(mu_);
      state_.Discard();
      ++discarded_;
      StartOpensLocked();  // a waiter may need the freed slot
    }
    conn.reset();  // closing may block briefly: not under the lock
  }

  void StartOpensLocked() {
    for (int n = state_.ConnectionsToOpen(); n > 0; --n) {
      ++opens_in_flight_;
      try {
        std::thread([this] { OpenOne(); }).detach();
      } catch (const std::system_error& e) {
        --opens_in_flight_;
        FinishOpenLocked(StorageError(StorageCause::kUnavailable, std::string("cannot start a thread: ") + e.what()));
      }
    }
  }

  void OpenOne() {
    Result<std::unique_ptr<Conn>> opened = open_();
    std::lock_guard lock(mu_);
    FinishOpenLocked(std::move(opened));
    --opens_in_flight_;
    cv_.notify_all();  // under the lock: the destructor may free cv_ right after we unlock
  }

  void FinishOpenLocked(Result<std::unique_ptr<Conn>> opened) {
    const ConnectionPool::OpenResult result = state_.OnOpened(opened.ok());
    if (opened.ok()) {
      ++opened_;
      if (result.granted) {
        grants_.emplace(*result.granted, std::move(*opened));
      } else {
        idle_.push_back(std::move(*opened));
      }
    } else {
      ++open_failures_;
      if (result.failed) grants_.emplace(*result.failed, opened.status());
    }
    cv_.notify_all();
  }

  mutable std::mutex mu_;
  std::condition_variable cv_;
  ConnectionPool state_;                        // guarded by mu_
  std::vector<std::unique_ptr<Conn>> idle_;     // guarded by mu_
  std::unordered_map<uint64_t, Grant> grants_;  // waiter -> connection or error; guarded by mu_
  uint64_t next_waiter_ = 0;
  int opens_in_flight_ = 0;
  uint64_t timeouts_ = 0, opened_ = 0, open_failures_ = 0, discarded_ = 0;
  const Opener open_;
  const AliveCheck alive_;
};

}  // namespace scaletwin
