// WorkerPool: the pod's request workers — a fixed number of threads and a
// bounded waiting room, the real counterpart of the simulator's
// `pods.workers` and `pods.queue_limit`.
//
// A job is accepted when a worker is free or fewer than `queue_limit` jobs
// are waiting; otherwise TrySubmit refuses it at once and the caller answers
// 503 queue_full, exactly as the simulated pod rejects an arrival (both call
// model/pod_admission.h). Jobs start in submission order (FIFO).
//
//   WorkerPool pool(/*workers=*/4, /*queue_limit=*/100);
//   if (!pool.TrySubmit([] { Handle(); })) Reject503();
//   pool.Stop();   // runs what was accepted, then joins
//
// Thread-safety: every method may be called from any thread. Jobs must not
// call Stop().
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace scaletwin {

class WorkerPool {
 public:
  // REQUIRES: workers >= 1, queue_limit >= 0.
  WorkerPool(int workers, int64_t queue_limit);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Accepts `job` iff a worker is idle or the waiting room has space, and the
  // pool is not stopping. Returns whether it was accepted.
  bool TrySubmit(std::function<void()> job);

  // Stops accepting, runs every accepted job, joins the threads. Idempotent.
  void Stop();
  // Like Stop, but drops the jobs that have not started (a pod cut short
  // by its grace period must not serve answers nobody will read). Returns
  // how many were dropped.
  size_t Abandon();

  int workers() const { return workers_; }
  int64_t queue_limit() const { return queue_limit_; }
  int64_t waiting() const;  // accepted, not started
  int64_t busy() const;     // running now
  uint64_t rejected() const;

 private:
  void Run();

  const int workers_;
  const int64_t queue_limit_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  int64_t busy_ = 0;
  uint64_t rejected_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace scaletwin
