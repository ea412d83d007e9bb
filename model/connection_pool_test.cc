#include "model/connection_pool.h"

#include <gtest/gtest.h>

#include <deque>
#include <vector>

#include "model/rng.h"

namespace scaletwin {
namespace {

TEST(ConnectionPool, OpensOnDemandAndHandsReleasedConnectionsToTheOldestWaiter) {
  ConnectionPool pool({.size = 2});
  EXPECT_EQ(pool.Acquire(1), ConnectionPool::Outcome::kQueued);
  EXPECT_EQ(pool.Acquire(2), ConnectionPool::Outcome::kQueued);
  EXPECT_EQ(pool.Acquire(3), ConnectionPool::Outcome::kQueued);
  EXPECT_EQ(pool.ConnectionsToOpen(), 2) << "capped by size";
  EXPECT_EQ(pool.ConnectionsToOpen(), 0) << "already opening";
  EXPECT_EQ(pool.OnOpened(true).granted, 1u);
  EXPECT_EQ(pool.OnOpened(true).granted, 2u);
  EXPECT_EQ(pool.in_use(), 2);
  EXPECT_EQ(pool.waiting(), 1u);
  EXPECT_EQ(pool.Release(), 3u) << "handed over in FIFO order";
  EXPECT_EQ(pool.Release(), std::nullopt);
  EXPECT_EQ(pool.idle(), 1);
  EXPECT_EQ(pool.Acquire(4), ConnectionPool::Outcome::kGranted);
}

TEST(ConnectionPool, CancelledWaitersAreSkippedAndIdsMayBeReused) {
  ConnectionPool pool({.size = 1});
  pool.Acquire(1);
  ASSERT_EQ(pool.ConnectionsToOpen(), 1);
  ASSERT_EQ(pool.OnOpened(true).granted, 1u);
  pool.Acquire(2);
  pool.Acquire(3);
  EXPECT_TRUE(pool.Cancel(2));
  EXPECT_FALSE(pool.Cancel(2));
  pool.Acquire(2);  // the same id waits again, now behind 3
  EXPECT_EQ(pool.waiting(), 2u);
  EXPECT_EQ(pool.Release(), 3u);
  EXPECT_EQ(pool.Release(), 2u);
}

TEST(ConnectionPool, AFailedOpenFailsTheWaiterItWasFor) {
  ConnectionPool pool({.size = 5});
  pool.Acquire(1);
  pool.Acquire(2);
  ASSERT_EQ(pool.ConnectionsToOpen(), 2);
  ConnectionPool::OpenResult first = pool.OnOpened(false);
  EXPECT_EQ(first.failed, 1u) << "two waiters, one pending open: the oldest cannot be served";
  EXPECT_FALSE(first.granted);
  ConnectionPool::OpenResult second = pool.OnOpened(true);
  EXPECT_EQ(second.granted, 2u);
  EXPECT_EQ(pool.open(), 1);
}

TEST(ConnectionPool, KeepsMinIdleOpen) {
  ConnectionPool pool({.size = 10, .min_idle = 3});
  EXPECT_EQ(pool.ConnectionsToOpen(), 3);
  for (int i = 0; i < 3; ++i) pool.OnOpened(true);
  EXPECT_EQ(pool.idle(), 3);
  EXPECT_EQ(pool.ConnectionsToOpen(), 0);
  EXPECT_EQ(pool.Acquire(1), ConnectionPool::Outcome::kGranted);
  EXPECT_EQ(pool.ConnectionsToOpen(), 1) << "back to three idle";
}

// Random operations against a trivially correct model of the rules: the cap
// holds, nobody waits while a connection is idle, and service is FIFO.
TEST(ConnectionPool, RandomOperationsKeepTheCapAndFifoOrder) {
  for (uint64_t seed = 0; seed < 20; ++seed) {
    Rng rng(seed, "pool-test");
    const int size = 1 + static_cast<int>(rng.UniformInt(6));
    ConnectionPool pool({.size = size, .min_idle = static_cast<int>(rng.UniformInt(3))});
    std::deque<uint64_t> expected_order;  // live waiters in arrival order
    int held = 0;
    uint64_t next_id = 0;
    for (int step = 0; step < 5000; ++step) {
      const uint64_t op = rng.UniformInt(5);
      if (op == 0) {
        const uint64_t id = next_id++;
        if (pool.Acquire(id) == ConnectionPool::Outcome::kGranted) ++held;
        else expected_order.push_back(id);
      } else if (op == 1 && held > 0) {
        std::optional<uint64_t> next = pool.Release();
        if (next) {
          ASSERT_EQ(*next, expected_order.front());
          expected_order.pop_front();
        } else {
          --held;
        }
      } else if (op == 2 && pool.opening() > 0) {
        ConnectionPool::OpenResult r = pool.OnOpened(rng.UniformInt(4) != 0);
        if (r.granted) {
          ASSERT_EQ(*r.granted, expected_order.front());
          expected_order.pop_front();
          ++held;
        }
        if (r.failed) {
          ASSERT_EQ(*r.failed, expected_order.front());
          expected_order.pop_front();
        }
      } else if (op == 3 && !expected_order.empty()) {
        const size_t k = rng.UniformInt(expected_order.size());
        ASSERT_TRUE(pool.Cancel(expected_order[k]));
        expected_order.erase(expected_order.begin() + static_cast<long>(k));
      } else {
        pool.ConnectionsToOpen();
      }
      ASSERT_EQ(pool.in_use(), held);
      ASSERT_LE(pool.in_use() + pool.idle() + pool.opening(), size);
      ASSERT_EQ(pool.waiting(), expected_order.size());
      if (pool.waiting() > 0) {
        ASSERT_EQ(pool.idle(), 0);
      }
    }
  }
}

}  // namespace
}  // namespace scaletwin
