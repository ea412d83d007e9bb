#include "real/pod/worker_pool.h"

#include <cassert>

#include "model/pod_admission.h"

namespace scaletwin {

WorkerPool::WorkerPool(int workers, int64_t queue_limit) : workers_(workers), queue_limit_(queue_limit) {
  assert(workers >= 1 && queue_limit >= 0);
  threads_.reserve(workers);
  for (int i = 0; i < workers; ++i) threads_.emplace_back([this] { Run(); });
}

WorkerPool::~WorkerPool() { Stop(); }

bool WorkerPool::TrySubmit(std::function<void()> job) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Queued jobs count as outstanding even before an idle worker wakes for them.
    const int64_t outstanding = busy_ + static_cast<int64_t>(queue_.size());
    if (stopping_ || AdmitToPod(outstanding, workers_, queue_limit_) == PodAdmission::kReject) {
      ++rejected_;
      return false;
    }
    queue_.push_back(std::move(job));
  }
  cv_.notify_one();
  return true;
}

void WorkerPool::Run() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      job = std::move(queue_.front());
      queue_.pop_front();
      ++busy_;
    }
    job();
    std::lock_guard<std::mutex> lock(mu_);
    --busy_;
  }
}

void WorkerPool::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  std::lock_guard<std::mutex> lock(mu_);
  threads_.clear();
}

size_t WorkerPool::Abandon() {
  std::deque<std::function<void()>> dropped;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    dropped.swap(queue_);
  }
  const size_t n = dropped.size();
  dropped.clear();  // outside the lock: a job's captures may take locks when destroyed
  Stop();
  return n;
}

int64_t WorkerPool::waiting() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int64_t>(queue_.size());
}

int64_t WorkerPool::busy() const {
  std::lock_guard<std::mutex> lock(mu_);
  return busy_;
}

uint64_t WorkerPool::rejected() const {
  std::lock_guard<std::mutex> lock(mu_);
  return rejected_;
}

}  // namespace scaletwin
