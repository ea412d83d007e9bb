// The real driver of model::ConnectionPool: connections, waiters, deadlines.
#include "real/redis/redis_connection_pool.h"

#include <cassert>
#include <chrono>
#include <condition_variable>
#include <utility>

namespace scaletwin {

namespace {
using Clock = std::chrono::steady_clock;
}  // namespace

// One thread blocked in Acquire. Filled in under mu_ by whoever serves it.
struct RedisConnectionPool::Waiter {
  std::condition_variable cv;
  bool served = false;
  std::unique_ptr<RedisConnection> conn;  // set when served with a connection
  Status error;                           // set when served with a connect failure
};

// ---- RedisLease -----------------------------------------------------------------

RedisLease::RedisLease(RedisLease&& other) noexcept
    : pool_(std::exchange(other.pool_, nullptr)), conn_(std::move(other.conn_)) {}

RedisLease& RedisLease::operator=(RedisLease&& other) noexcept {
  if (this != &other) {
    Release();
    pool_ = std::exchange(other.pool_, nullptr);
    conn_ = std::move(other.conn_);
  }
  return *this;
}

void RedisLease::Release() {
  if (conn_ != nullptr && pool_ != nullptr) pool_->Return(std::move(conn_));
  conn_.reset();
  pool_ = nullptr;
}

// ---- RedisConnectionPool ----------------------------------------------------------

Result<std::unique_ptr<RedisConnectionPool>> RedisConnectionPool::Create(const RedisPoolOptions& options) {
  if (options.size < 1) return Status::InvalidArgument("redis pool: size must be >= 1");
  if (options.acquire_timeout < 0) return Status::InvalidArgument("redis pool: acquire_timeout must be >= 0");
  if (options.endpoint.connect_timeout <= 0 || options.endpoint.command_timeout <= 0) {
    return Status::InvalidArgument("redis pool: connect_timeout and command_timeout must be positive");
  }
  return std::unique_ptr<RedisConnectionPool>(new RedisConnectionPool(options));
}

RedisConnectionPool::RedisConnectionPool(const RedisPoolOptions& options)
    : options_(options),
      // The driver enforces acquire_timeout itself; min_idle 0 = open on demand only.
      policy_(PoolConfig{options.size, /*min_idle=*/0, options.acquire_timeout, /*connect_time=*/0}) {}

RedisConnectionPool::~RedisConnectionPool() {
  assert(waiters_.empty());
  assert(policy_.in_use() == 0);
}

Result<RedisLease> RedisConnectionPool::Acquire() { return Acquire(options_.acquire_timeout); }

Result<RedisLease> RedisConnectionPool::Acquire(Nanos timeout) {
  const Clock::time_point deadline = Clock::now() + std::chrono::nanoseconds(std::max<Nanos>(0, timeout));
  std::unique_lock<std::mutex> lock(mu_);
  const uint64_t id = next_waiter_id_++;
  // Granted means an idle connection is ours; probe it first (under the lock:
  // one non-blocking syscall) so one the server closed is replaced, not used.
  while (policy_.Acquire(id) == ConnectionPool::Outcome::kGranted) {
    assert(!idle_.empty());
    std::unique_ptr<RedisConnection> conn = std::move(idle_.back());
    idle_.pop_back();
    if (conn->ProbeIdle()) {
      ++counters_.acquires;
      return RedisLease(this, std::move(conn));
    }
    policy_.Discard();
    ++counters_.broken_replaced;
  }

  Waiter self;
  waiters_.emplace(id, &self);
  ScheduleOpensLocked();
  // The first open job is run whatever the deadline (usually it is the one
  // this thread's arrival asked for, and timeout 0 must still be able to
  // connect); later ones only before the deadline, so a caller is late by at
  // most one connect_timeout.
  bool may_open_late = true;
  while (!self.served) {
    const bool before_deadline = Clock::now() < deadline;
    if (open_jobs_ > 0 && (before_deadline || may_open_late)) {
      // Run one open the policy asked for; its result goes to the oldest
      // waiter, which may or may not be this thread.
      may_open_late = false;
      --open_jobs_;
      lock.unlock();
      Result<std::unique_ptr<RedisConnection>> opened = RedisConnection::Open(options_.endpoint);
      lock.lock();
      OnOpenedLocked(std::move(opened));
      continue;
    }
    if (!before_deadline) {
      // served is only set under mu_, so the policy still lists this waiter.
      const bool was_waiting = policy_.Cancel(id);
      assert(was_waiting);
      (void)was_waiting;
      waiters_.erase(id);
      ++counters_.timeouts;
      return Status::IOError("redis pool: acquire timed out after " + FormatDuration(timeout) + " (size " +
                             std::to_string(options_.size) + ", " + std::to_string(policy_.in_use()) + " in use, " +
                             std::to_string(policy_.waiting()) + " waiting)");
    }
    self.cv.wait_until(lock, deadline);
  }
  waiters_.erase(id);
  if (self.conn == nullptr) return self.error;
  ++counters_.acquires;
  return RedisLease(this, std::move(self.conn));
}

void RedisConnectionPool::OnOpenedLocked(Result<std::unique_ptr<RedisConnection>> opened) {
  if (opened.ok()) {
    ++counters_.opened;
    const ConnectionPool::OpenResult r = policy_.OnOpened(true);
    if (r.granted) {
      Waiter* w = waiters_.at(*r.granted);
      w->conn = std::move(*opened);
      w->served = true;
      w->cv.notify_one();
    } else {
      idle_.push_back(std::move(*opened));
    }
  } else {
    ++counters_.connect_failures;
    const ConnectionPool::OpenResult r = policy_.OnOpened(false);
    if (r.failed) {
      Waiter* w = waiters_.at(*r.failed);
      w->error = opened.status();
      w->served = true;
      w->cv.notify_one();
    }
  }
  ScheduleOpensLocked();
}

void RedisConnectionPool::ScheduleOpensLocked() {
  const int n = policy_.ConnectionsToOpen();
  if (n <= 0) return;
  open_jobs_ += n;
  // Any waiter may run an open; wake them all (rare: only when a slot frees
  // up or a thread queues with a free slot, where the queuing thread usually
  // takes the job itself before anyone wakes).
  for (auto& [id, w] : waiters_) w->cv.notify_one();
}

void RedisConnectionPool::Return(std::unique_ptr<RedisConnection> conn) {
  std::unique_ptr<RedisConnection> discarded;  // closed after the lock is released
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (conn->broken()) {
      policy_.Discard();
      ++counters_.broken_replaced;
      if (conn->timed_out()) ++counters_.command_timeouts;
      discarded = std::move(conn);
      ScheduleOpensLocked();
    } else if (std::optional<uint64_t> next = policy_.Release()) {
      Waiter* w = waiters_.at(*next);
      w->conn = std::move(conn);
      w->served = true;
      w->cv.notify_one();
    } else {
      idle_.push_back(std::move(conn));
    }
  }
}

RedisPoolStats RedisConnectionPool::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  RedisPoolStats s = counters_;
  s.size = options_.size;
  s.in_use = policy_.in_use();
  s.idle = policy_.idle();
  s.opening = policy_.opening();
  s.waiting = static_cast<int64_t>(policy_.waiting());
  return s;
}

}  // namespace scaletwin
