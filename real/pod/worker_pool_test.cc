#include "real/pod/worker_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <vector>

namespace scaletwin {
namespace {

// A latch the test opens: jobs block on it so the pool's state is known.
class Gate {
 public:
  void Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return open_; });
  }
  void Open() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

TEST(WorkerPool, AcceptsWorkersPlusQueueLimitThenRefusesLikeTheSimulatedPod) {
  WorkerPool pool(/*workers=*/2, /*queue_limit=*/3);
  Gate gate;
  std::atomic<int> ran{0};
  int accepted = 0;
  for (int i = 0; i < 10; ++i)
    accepted += pool.TrySubmit([&] {
      gate.Wait();
      ran.fetch_add(1);
    });
  EXPECT_EQ(accepted, 5);
  EXPECT_EQ(pool.rejected(), 5u);
  gate.Open();
  pool.Stop();
  EXPECT_EQ(ran.load(), 5);
}

TEST(WorkerPool, ZeroQueueLimitMeansNoWaitingRoom) {
  WorkerPool pool(1, 0);
  Gate gate;
  EXPECT_TRUE(pool.TrySubmit([&] { gate.Wait(); }));
  EXPECT_FALSE(pool.TrySubmit([] {}));
  gate.Open();
  pool.Stop();
}

TEST(WorkerPool, JobsStartInSubmissionOrder) {
  WorkerPool pool(1, 100);
  Gate gate;
  std::mutex mu;
  std::vector<int> order;
  ASSERT_TRUE(pool.TrySubmit([&] { gate.Wait(); }));
  for (int i = 0; i < 50; ++i)
    ASSERT_TRUE(pool.TrySubmit([&, i] {
      std::lock_guard<std::mutex> lock(mu);
      order.push_back(i);
    }));
  gate.Open();
  pool.Stop();
  ASSERT_EQ(order.size(), 50u);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(order[i], i);
}

TEST(WorkerPool, StopRunsEveryAcceptedJobAndRefusesNewOnes) {
  WorkerPool pool(3, 1000);
  std::atomic<int> ran{0};
  for (int i = 0; i < 500; ++i) ASSERT_TRUE(pool.TrySubmit([&] { ran.fetch_add(1); }));
  pool.Stop();
  EXPECT_EQ(ran.load(), 500);
  EXPECT_FALSE(pool.TrySubmit([] {}));
}

}  // namespace
}  // namespace scaletwin
