// RedisConnectionPool against a throwaway redis-server: the size bound (as the
// server counts clients), acquire timeout, FIFO hand-over, replacement of
// connections that timed out or that the server closed, connect failures.
#include "real/redis/redis_connection_pool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "testsupport/redis_client.h"
#include "testsupport/redis_server.h"

namespace scaletwin {
namespace {

using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

std::unique_ptr<RedisServer> StartServer(std::vector<std::string> extra = {}) {
  RedisServerOptions o;
  o.config_args = std::move(extra);
  auto server = RedisServer::Start(o);
  EXPECT_TRUE(server.ok()) << server.status().ToString();
  return server.ok() ? std::move(*server) : nullptr;
}

std::unique_ptr<RedisConnectionPool> MakePool(const RedisServer& s, int size, Nanos acquire_timeout,
                                              Nanos command_timeout = 2 * kNanosPerSecond) {
  RedisPoolOptions o;
  o.endpoint = {s.host(), s.port(), 2 * kNanosPerSecond, command_timeout};
  o.size = size;
  o.acquire_timeout = acquire_timeout;
  auto pool = RedisConnectionPool::Create(o);
  EXPECT_TRUE(pool.ok()) << pool.status().ToString();
  return pool.ok() ? std::move(*pool) : nullptr;
}

// Client connections the server sees, minus the admin connection asking.
int64_t ServerClients(const RedisServer& s) {
  auto admin = RedisClient::Connect(s.host(), s.port());
  if (!admin.ok()) return -1;
  Result<Reply> list = (*admin)->Run({"CLIENT", "LIST"});
  if (!list.ok()) return -1;
  return std::count(list->text().begin(), list->text().end(), '\n') - 1;
}

void Ping(RedisLease& lease) {
  Result<Reply> pong = lease->Run({"PING"});
  ASSERT_TRUE(pong.ok()) << pong.status().ToString();
  EXPECT_EQ(*pong, Reply::Simple("PONG"));
}

TEST(RedisConnectionPool, CreateRejectsInvalidOptions) {
  RedisPoolOptions o;
  o.size = 0;
  EXPECT_EQ(RedisConnectionPool::Create(o).status().code(), StatusCode::kInvalidArgument);
  o.size = 1;
  o.acquire_timeout = -1;
  EXPECT_EQ(RedisConnectionPool::Create(o).status().code(), StatusCode::kInvalidArgument);
  o.acquire_timeout = 0;
  o.endpoint.command_timeout = 0;
  EXPECT_EQ(RedisConnectionPool::Create(o).status().code(), StatusCode::kInvalidArgument);
}

TEST(RedisConnectionPool, OpensLazilyAndNeverMoreThanSizeConnections) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  auto pool = MakePool(*server, 3, 5 * kNanosPerSecond);
  ASSERT_NE(pool, nullptr);
  EXPECT_EQ(ServerClients(*server), 0);  // nothing opened before the first acquire

  std::atomic<int64_t> max_in_use{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        Result<RedisLease> lease = pool->Acquire();
        if (!lease.ok() || !(*lease)->Run({"INCR", "n"}).ok()) {
          ++failures;
          continue;
        }
        const int64_t in_use = pool->stats().in_use;
        int64_t seen = max_in_use.load();
        while (in_use > seen && !max_in_use.compare_exchange_weak(seen, in_use)) {
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_LE(max_in_use.load(), 3);
  const RedisPoolStats s = pool->stats();
  EXPECT_EQ(s.acquires, 400);
  EXPECT_EQ(s.opened, 3) << "8 threads on a pool of 3 should open exactly 3 connections";
  EXPECT_EQ(s.in_use, 0);
  EXPECT_EQ(s.idle, 3);
  EXPECT_EQ(s.waiting, 0);
  EXPECT_EQ(s.timeouts, 0);
  EXPECT_EQ(ServerClients(*server), 3);
  auto admin = RedisClient::Connect(server->host(), server->port());
  ASSERT_TRUE(admin.ok());
  EXPECT_EQ(*(*admin)->Run({"GET", "n"}), Reply::Bulk("400"));
}

TEST(RedisConnectionPool, AcquireTimesOutWhenEveryConnectionIsLeased) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  auto pool = MakePool(*server, 2, 60 * kNanosPerMilli);
  ASSERT_NE(pool, nullptr);
  Result<RedisLease> a = pool->Acquire();
  Result<RedisLease> b = pool->Acquire();
  ASSERT_TRUE(a.ok() && b.ok());
  const auto start = SteadyClock::now();
  Result<RedisLease> c = pool->Acquire();
  const auto elapsed = SteadyClock::now() - start;
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kIOError);
  EXPECT_NE(c.status().message().find("acquire timed out"), std::string::npos) << c.status().message();
  EXPECT_GE(elapsed, milliseconds(59));
  EXPECT_LT(elapsed, milliseconds(1000));
  RedisPoolStats s = pool->stats();
  EXPECT_EQ(s.timeouts, 1);
  EXPECT_EQ(s.waiting, 0);
  EXPECT_EQ(s.in_use, 2);
  EXPECT_EQ(ServerClients(*server), 2);
  // Once one comes back, the next acquire gets it without opening another.
  a->Release();
  Result<RedisLease> d = pool->Acquire();
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  Ping(*d);
  EXPECT_EQ(pool->stats().opened, 2);
}

TEST(RedisConnectionPool, ReleasedConnectionGoesToTheOldestWaiter) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  auto pool = MakePool(*server, 1, 10 * kNanosPerSecond);
  ASSERT_NE(pool, nullptr);
  Result<RedisLease> held = pool->Acquire();
  ASSERT_TRUE(held.ok());

  std::mutex mu;
  std::vector<int> order;
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      Result<RedisLease> lease = pool->Acquire();
      ASSERT_TRUE(lease.ok()) << lease.status().ToString();
      std::lock_guard<std::mutex> lock(mu);
      order.push_back(i);
    });
    // Queue the threads one after another, so arrival order is known.
    const auto deadline = SteadyClock::now() + std::chrono::seconds(5);
    while (pool->stats().waiting < i + 1 && SteadyClock::now() < deadline) std::this_thread::sleep_for(milliseconds(1));
    ASSERT_EQ(pool->stats().waiting, i + 1);
  }
  held->Release();
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(pool->stats().opened, 1);
}

TEST(RedisConnectionPool, ConnectionThatTimedOutIsDiscardedAndReplacedOnNextAcquire) {
  auto server = StartServer({"--enable-debug-command", "local"});
  ASSERT_NE(server, nullptr);
  auto pool = MakePool(*server, 1, kNanosPerSecond, 100 * kNanosPerMilli);
  ASSERT_NE(pool, nullptr);
  {
    Result<RedisLease> lease = pool->Acquire();
    ASSERT_TRUE(lease.ok());
    EXPECT_FALSE((*lease)->Run({"DEBUG", "SLEEP", "0.3"}).ok());
    EXPECT_TRUE((*lease)->broken());
  }
  RedisPoolStats s = pool->stats();
  EXPECT_EQ(s.broken_replaced, 1);
  EXPECT_EQ(s.command_timeouts, 1);
  EXPECT_EQ(s.in_use + s.idle, 0) << "a broken connection must not go back to the idle list";
  std::this_thread::sleep_for(milliseconds(300));  // let the server wake up
  Result<RedisLease> next = pool->Acquire();
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  Ping(*next);
  EXPECT_EQ(pool->stats().opened, 2);
}

TEST(RedisConnectionPool, SlotOfABrokenConnectionGoesToAWaiter) {
  auto server = StartServer({"--enable-debug-command", "local"});
  ASSERT_NE(server, nullptr);
  auto pool = MakePool(*server, 1, 5 * kNanosPerSecond, 100 * kNanosPerMilli);
  ASSERT_NE(pool, nullptr);
  Result<RedisLease> held = pool->Acquire();
  ASSERT_TRUE(held.ok());
  Status waiter_status = Status::Internal("not run");
  std::thread waiter([&] {
    Result<RedisLease> lease = pool->Acquire();
    if (!lease.ok()) {
      waiter_status = lease.status();
      return;
    }
    // The server may still be inside DEBUG SLEEP (the new connection was
    // accepted by the kernel): let it wake before using the connection.
    std::this_thread::sleep_for(milliseconds(250));
    Result<Reply> pong = (*lease)->Run({"PING"});
    waiter_status = pong.ok() ? Status::Ok() : pong.status();
  });
  const auto deadline = SteadyClock::now() + std::chrono::seconds(5);
  while (pool->stats().waiting < 1 && SteadyClock::now() < deadline) std::this_thread::sleep_for(milliseconds(1));
  ASSERT_EQ(pool->stats().waiting, 1);
  EXPECT_FALSE((*held)->Run({"DEBUG", "SLEEP", "0.2"}).ok());
  held->Release();  // broken: discarded; the waiter opens a new one in its slot
  waiter.join();
  EXPECT_TRUE(waiter_status.ok()) << waiter_status.ToString();
  const RedisPoolStats s = pool->stats();
  EXPECT_EQ(s.opened, 2);
  EXPECT_EQ(s.broken_replaced, 1);
  EXPECT_EQ(s.timeouts, 0);
}

TEST(RedisConnectionPool, IdleConnectionsKilledByTheServerAreReplacedBeforeUse) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  auto pool = MakePool(*server, 2, kNanosPerSecond);
  ASSERT_NE(pool, nullptr);
  {
    Result<RedisLease> a = pool->Acquire();
    Result<RedisLease> b = pool->Acquire();
    ASSERT_TRUE(a.ok() && b.ok());
    Ping(*a);
    Ping(*b);
  }
  ASSERT_EQ(pool->stats().idle, 2);
  {
    auto admin = RedisClient::Connect(server->host(), server->port());
    ASSERT_TRUE(admin.ok());
    Result<Reply> killed = (*admin)->Run({"CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"});
    ASSERT_TRUE(killed.ok());
    EXPECT_EQ(*killed, Reply::Integer(2));
  }
  std::this_thread::sleep_for(milliseconds(50));
  // Both idle connections are dead; the first acquire probes and drops both,
  // then opens a fresh one — the caller never sees the dead ones.
  Result<RedisLease> fresh = pool->Acquire();
  ASSERT_TRUE(fresh.ok()) << fresh.status().ToString();
  Ping(*fresh);
  const RedisPoolStats s = pool->stats();
  EXPECT_EQ(s.broken_replaced, 2);
  EXPECT_EQ(s.opened, 3);
  EXPECT_EQ(s.idle, 0);
  EXPECT_EQ(s.in_use, 1);
}

TEST(RedisConnectionPool, ConnectFailureFailsTheAcquirerAtOnce) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  auto pool = MakePool(*server, 2, 2 * kNanosPerSecond);
  ASSERT_NE(pool, nullptr);
  { ASSERT_TRUE(pool->Acquire().ok()); }  // one idle connection to a live server
  server->Stop();
  std::this_thread::sleep_for(milliseconds(20));
  for (int i = 0; i < 3; ++i) {
    const auto start = SteadyClock::now();
    Result<RedisLease> lease = pool->Acquire();
    const auto elapsed = SteadyClock::now() - start;
    ASSERT_FALSE(lease.ok());
    EXPECT_EQ(lease.status().code(), StatusCode::kIOError);
    EXPECT_EQ(lease.status().message().find("timed out"), std::string::npos)
        << "a refused connect must fail at once, not wait out acquire_timeout: " << lease.status().message();
    EXPECT_LT(elapsed, milliseconds(500));
  }
  const RedisPoolStats s = pool->stats();
  EXPECT_EQ(s.connect_failures, 3);
  EXPECT_EQ(s.broken_replaced, 1);  // the idle connection, found dead by the probe
  EXPECT_EQ(s.in_use + s.idle + s.opening + s.waiting, 0) << "failed opens must free their slots";
}

}  // namespace
}  // namespace scaletwin
