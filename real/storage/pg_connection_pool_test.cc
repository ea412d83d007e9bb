// The PostgreSQL pool's failure modes against a real server: acquire timeout
// (pool_timeout), max_connections reached (db_too_many_clients, at once, not
// after a timeout), connect timeout, unreachable server, and broken
// connections replaced after pg_terminate_backend and after a server restart.
#include "real/storage/pg_connection_pool.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "real/storage/postgres_link_store.h"
#include "testsupport/postgres_server.h"
#include "testsupport/redis_server.h"  // FindFreeLoopbackPort

namespace scaletwin {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

template <typename T>
StorageCause CauseOf(const Result<T>& r) {
  return StorageCauseOf(r.status());
}

std::unique_ptr<PostgresServer> StartServer(int max_connections = 20, int reserved = 3) {
  PostgresServerOptions options;
  options.max_connections = max_connections;
  options.superuser_reserved_connections = reserved;
  Result<std::unique_ptr<PostgresServer>> pg = PostgresServer::Start(options);
  EXPECT_TRUE(pg.ok()) << pg.status().ToString();
  return pg.ok() ? std::move(*pg) : nullptr;
}

// Polls `sql` until it returns `want` or 5 s pass.
bool WaitForValue(const PostgresServer& pg, const std::string& sql, const std::string& want) {
  const auto t0 = Clock::now();
  while (SecondsSince(t0) < 5) {
    Result<std::string> v = pg.QueryValue(sql);
    if (v.ok() && *v == want) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

TEST(PgConnectionPool, AcquireTimesOutWithPoolTimeoutWhenAllConnectionsAreHeld) {
  auto pg = StartServer();
  ASSERT_NE(pg, nullptr);
  PgConnectionPool pool({.conninfo = pg->ConnInfo(), .size = 1, .acquire_timeout = 300 * kNanosPerMilli});
  Result<PgConnectionPool::Lease> held = pool.Acquire();
  ASSERT_TRUE(held.ok()) << held.status().ToString();

  const auto t0 = Clock::now();
  Result<PgConnectionPool::Lease> second = pool.Acquire();
  const double waited = SecondsSince(t0);
  EXPECT_EQ(CauseOf(second), StorageCause::kPoolTimeout) << second.status().ToString();
  EXPECT_GE(waited, 0.29);
  EXPECT_LT(waited, 2.0);
  PoolCounters c = pool.Counters();
  EXPECT_EQ(c.timeouts, 1u);
  EXPECT_EQ(c.in_use, 1);
  EXPECT_EQ(c.waiting, 0) << "the timed-out waiter left the queue";
  EXPECT_EQ(c.opened, 1u) << "never more than size connections";
}

TEST(PgConnectionPool, AReleasedConnectionGoesToTheWaiter) {
  auto pg = StartServer();
  ASSERT_NE(pg, nullptr);
  PgConnectionPool pool({.conninfo = pg->ConnInfo(), .size = 1, .acquire_timeout = 5 * kNanosPerSecond});
  std::optional<Result<PgConnectionPool::Lease>> held(pool.Acquire());
  ASSERT_TRUE(held->ok());
  const int backend = (**held)->backend_pid();

  int waiter_backend = 0;
  std::thread waiter([&] {
    Result<PgConnectionPool::Lease> c = pool.Acquire();
    if (c.ok()) waiter_backend = (*c)->backend_pid();
  });
  const auto t0 = Clock::now();
  while (pool.Counters().waiting != 1 && SecondsSince(t0) < 5)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(pool.Counters().waiting, 1);
  held.reset();  // release
  waiter.join();
  EXPECT_EQ(waiter_backend, backend) << "the same connection, handed over";
  EXPECT_EQ(pool.Counters().opened, 1u);
}

TEST(PgConnectionPool, MaxConnectionsReachedFailsAtOnceWithDbTooManyClients) {
  // An ordinary role gets max_connections - superuser_reserved_connections = 3 slots.
  auto pg = StartServer(/*max_connections=*/5, /*reserved=*/2);
  ASSERT_NE(pg, nullptr);
  ASSERT_TRUE(pg->Execute("CREATE ROLE app LOGIN").ok());
  PgConnectionPool pool(
      {.conninfo = pg->ConnInfo("postgres", "app"), .size = 6, .acquire_timeout = 10 * kNanosPerSecond});
  std::vector<PgConnectionPool::Lease> held;
  for (int i = 0; i < 3; ++i) {
    Result<PgConnectionPool::Lease> c = pool.Acquire();
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    held.push_back(std::move(*c));
  }
  const auto t0 = Clock::now();
  Result<PgConnectionPool::Lease> refused = pool.Acquire();
  EXPECT_EQ(CauseOf(refused), StorageCause::kDbTooManyClients) << refused.status().ToString();
  EXPECT_NE(refused.status().message().find("reserved"), std::string::npos) << refused.status().message();
  EXPECT_LT(SecondsSince(t0), 3.0) << "the refusal reaches the caller at once, not after acquire_timeout";
  EXPECT_EQ(pool.too_many_clients(), 1u);
  PoolCounters c = pool.Counters();
  EXPECT_EQ(c.open_failures, 1u);
  EXPECT_EQ(c.in_use, 3);
  EXPECT_EQ(c.waiting, 0);

  held.pop_back();  // a slot in the pool is idle again: the next caller gets it
  Result<PgConnectionPool::Lease> reused = pool.Acquire();
  EXPECT_TRUE(reused.ok()) << reused.status().ToString();
}

TEST(PgConnectionPool, TooManyClientsForTheSuperuserIsTheSameCause) {
  auto pg = StartServer(/*max_connections=*/3, /*reserved=*/1);
  ASSERT_NE(pg, nullptr);
  PgConnectionPool pool({.conninfo = pg->ConnInfo(), .size = 5, .acquire_timeout = 10 * kNanosPerSecond});
  std::vector<PgConnectionPool::Lease> held;
  for (int i = 0; i < 3; ++i) {
    Result<PgConnectionPool::Lease> c = pool.Acquire();
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    held.push_back(std::move(*c));
  }
  Result<PgConnectionPool::Lease> refused = pool.Acquire();
  EXPECT_EQ(CauseOf(refused), StorageCause::kDbTooManyClients) << refused.status().ToString();
  EXPECT_NE(refused.status().message().find("too many clients"), std::string::npos) << refused.status().message();
}

TEST(PgConnectionPool, AStoreOpenedOnAFullServerReportsDbTooManyClients) {
  auto pg = StartServer(/*max_connections=*/4, /*reserved=*/1);
  ASSERT_NE(pg, nullptr);
  ASSERT_TRUE(pg->Execute("CREATE ROLE app LOGIN").ok());
  ASSERT_TRUE(pg->Execute("CREATE DATABASE links OWNER app").ok());  // not in one implicit transaction
  std::vector<PGconn*> hogs;                                         // other pods holding every ordinary slot
  for (int i = 0; i < 3; ++i) {
    hogs.push_back(PQconnectdb(pg->ConnInfo("links", "app").c_str()));
    ASSERT_EQ(PQstatus(hogs.back()), CONNECTION_OK) << PQerrorMessage(hogs.back());
  }
  Result<std::unique_ptr<PostgresLinkStore>> store =
      PostgresLinkStore::Open({.conninfo = pg->ConnInfo("links", "app"), .size = 4});
  EXPECT_EQ(CauseOf(store), StorageCause::kDbTooManyClients) << store.status().ToString();
  PQfinish(hogs.back());
  hogs.pop_back();
  // PQfinish does not wait for the backend to exit, and any connection a
  // check of ours made would hold a slot while it exits too: the slot comes
  // back eventually, so Open is retried (a few seconds at most).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  do {
    store = PostgresLinkStore::Open({.conninfo = pg->ConnInfo("links", "app"), .size = 4});
    if (store.ok() || CauseOf(store) != StorageCause::kDbTooManyClients) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  } while (std::chrono::steady_clock::now() < deadline);
  EXPECT_TRUE(store.ok()) << "with a slot free again: " << store.status().ToString();
  for (PGconn* c : hogs) PQfinish(c);
}

TEST(PgConnectionPool, ConnectGivesUpAfterConnectTimeout) {
  // A listening socket that never answers: TCP connects, the startup packet gets no reply.
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(fd, 8), 0);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const std::string conninfo = "host=127.0.0.1 port=" + std::to_string(ntohs(addr.sin_port)) + " dbname=x user=x";

  const auto t0 = Clock::now();
  Result<std::unique_ptr<PgConnection>> c = PgConnection::Connect(conninfo, 300 * kNanosPerMilli);
  const double took = SecondsSince(t0);
  EXPECT_EQ(CauseOf(c), StorageCause::kUnavailable) << c.status().ToString();
  EXPECT_NE(c.status().message().find("timed out"), std::string::npos) << c.status().message();
  EXPECT_GE(took, 0.29);
  EXPECT_LT(took, 2.0);
  close(fd);
}

TEST(PgConnectionPool, NoServerIsUnavailable) {
  Result<int> port = FindFreeLoopbackPort();
  ASSERT_TRUE(port.ok());
  PgConnectionPool pool({.conninfo = "host=127.0.0.1 dbname=x user=x port=" + std::to_string(*port),
                         .size = 2,
                         .acquire_timeout = 5 * kNanosPerSecond});
  const auto t0 = Clock::now();
  Result<PgConnectionPool::Lease> c = pool.Acquire();
  EXPECT_EQ(CauseOf(c), StorageCause::kUnavailable) << c.status().ToString();
  EXPECT_LT(SecondsSince(t0), 2.0) << "a refused connect fails the caller at once";
}

class BrokenConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pg_ = StartServer();
    ASSERT_NE(pg_, nullptr);
    ASSERT_TRUE(pg_->Execute("CREATE DATABASE links").ok());
    Result<std::unique_ptr<PostgresLinkStore>> s = PostgresLinkStore::Open(
        {.conninfo = pg_->ConnInfo("links"), .size = 3, .acquire_timeout = 5 * kNanosPerSecond});
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
    ASSERT_TRUE(store_->SyncTenants({{"acme", {std::string(64, 'a')}}}).ok());
    Result<Link> link = store_->CreateLink("acme", {.url = "https://e.com/"}, 1);
    ASSERT_TRUE(link.ok()) << link.status().ToString();
    code_ = link->code;
    // Put three connections in the pool: three concurrent callers.
    std::vector<std::thread> callers;
    for (int i = 0; i < 3; ++i) callers.emplace_back([&] { (void)store_->GetLink("acme", code_); });
    for (std::thread& t : callers) t.join();
  }

  // Every operation after the break must succeed: broken connections are replaced, not handed out.
  void ExpectEveryOperationSucceeds() {
    for (int i = 0; i < 10; ++i) {
      Result<ResolvedLink> r = store_->Resolve(code_, 2);
      EXPECT_TRUE(r.ok()) << "attempt " << i << ": " << r.status().ToString();
    }
    EXPECT_GE(store_->Stats().pool.discarded, 1u);
    EXPECT_EQ(store_->GetLink("acme", code_)->clicks, 10);
  }

  static constexpr const char* kOurBackends =
      "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'scaletwin-shortener'";
  std::unique_ptr<PostgresServer> pg_;
  std::unique_ptr<PostgresLinkStore> store_;
  std::string code_;
};

TEST_F(BrokenConnectionTest, TerminatedBackendsAreReplaced) {
  ASSERT_TRUE(pg_->QueryValue(kOurBackends).ok());
  const std::string before = pg_->QueryValue(kOurBackends).value();
  EXPECT_NE(before, "0");
  ASSERT_TRUE(pg_->Execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                           "WHERE application_name = 'scaletwin-shortener'")
                  .ok());
  ASSERT_TRUE(WaitForValue(*pg_, kOurBackends, "0"));
  ExpectEveryOperationSucceeds();
}

TEST_F(BrokenConnectionTest, ConnectionsAreReplacedAfterAServerRestart) {
  ASSERT_TRUE(pg_->Restart().ok());
  ExpectEveryOperationSucceeds();
}

TEST_F(BrokenConnectionTest, WhileTheServerIsDownCallersGetUnavailableThenRecover) {
  pg_->Shutdown();
  for (int i = 0; i < 3; ++i) {
    const auto t0 = Clock::now();
    Result<ResolvedLink> r = store_->Resolve(code_, 2);
    EXPECT_EQ(CauseOf(r), StorageCause::kUnavailable) << r.status().ToString();
    EXPECT_LT(SecondsSince(t0), 2.0) << "a refused connect is reported at once";
  }
  EXPECT_EQ(store_->Stats().pool.in_use, 0);
  EXPECT_EQ(StorageCauseOf(store_->Ping()), StorageCause::kUnavailable);
  ASSERT_TRUE(pg_->Resume().ok());
  EXPECT_TRUE(store_->Ping().ok());
  ExpectEveryOperationSucceeds();
}

}  // namespace
}  // namespace scaletwin
