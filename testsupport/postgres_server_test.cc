// The throwaway PostgreSQL server starts on a fresh port with the requested
// settings, refuses connections past max_connections with SQLSTATE 53300,
// survives a restart with its data, and is gone after Stop.
#include "testsupport/postgres_server.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <vector>

namespace scaletwin {
namespace {

struct ConnCloser {
  void operator()(PGconn* c) const { PQfinish(c); }
};
using Conn = std::unique_ptr<PGconn, ConnCloser>;

TEST(PostgresServer, StartsQuicklyOnAFreePortWithTestSettings) {
  const auto t0 = std::chrono::steady_clock::now();
  auto pg = PostgresServer::Start();
  ASSERT_TRUE(pg.ok()) << pg.status().ToString();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(seconds, 10.0) << "initdb + start should take a couple of seconds";
  EXPECT_GT((*pg)->port(), 0);
  EXPECT_EQ((*pg)->QueryValue("SELECT 1 + 1").value(), "2");
  EXPECT_EQ((*pg)->QueryValue("SHOW fsync").value(), "off");
  EXPECT_EQ((*pg)->QueryValue("SHOW max_connections").value(), "20");
  EXPECT_EQ((*pg)->QueryValue("SHOW listen_addresses").value(), "127.0.0.1");
  EXPECT_EQ((*pg)->QueryValue("SELECT current_user").value(), "postgres");
  EXPECT_FALSE((*pg)->Execute("SELEC nonsense").ok());
}

TEST(PostgresServer, TwoServersGetDifferentPorts) {
  auto a = PostgresServer::Start();
  auto b = PostgresServer::Start();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE((*a)->port(), (*b)->port());
}

TEST(PostgresServer, RefusesConnectionsBeyondMaxConnectionsWithSqlstate53300) {
  PostgresServerOptions options;
  options.max_connections = 5;
  options.superuser_reserved_connections = 2;
  auto pg = PostgresServer::Start(options);
  ASSERT_TRUE(pg.ok()) << pg.status().ToString();
  ASSERT_TRUE((*pg)->Execute("CREATE ROLE app LOGIN").ok());
  std::vector<Conn> held;
  // An ordinary role gets max_connections - superuser_reserved_connections = 3 slots ...
  for (int i = 0; i < 3; ++i) {
    held.emplace_back(PQconnectdb((*pg)->ConnInfo("postgres", "app").c_str()));
    ASSERT_EQ(PQstatus(held.back().get()), CONNECTION_OK) << PQerrorMessage(held.back().get());
  }
  Conn refused(PQconnectdb((*pg)->ConnInfo("postgres", "app").c_str()));
  EXPECT_EQ(PQstatus(refused.get()), CONNECTION_BAD);
  EXPECT_NE(std::string(PQerrorMessage(refused.get())).find("reserved"), std::string::npos)
      << PQerrorMessage(refused.get());
  // ... the superuser the other 2, then "too many clients".
  for (int i = 0; i < 2; ++i) {
    held.emplace_back(PQconnectdb((*pg)->ConnInfo().c_str()));
    ASSERT_EQ(PQstatus(held.back().get()), CONNECTION_OK) << PQerrorMessage(held.back().get());
  }
  Conn full(PQconnectdb((*pg)->ConnInfo().c_str()));
  EXPECT_EQ(PQstatus(full.get()), CONNECTION_BAD);
  EXPECT_NE(std::string(PQerrorMessage(full.get())).find("too many clients"), std::string::npos)
      << PQerrorMessage(full.get());
}

TEST(PostgresServer, RestartKeepsDataAndBreaksOpenConnections) {
  auto pg = PostgresServer::Start();
  ASSERT_TRUE(pg.ok()) << pg.status().ToString();
  ASSERT_TRUE((*pg)->Execute("CREATE TABLE t(x int); INSERT INTO t VALUES (42)").ok());
  Conn held(PQconnectdb((*pg)->ConnInfo().c_str()));
  ASSERT_EQ(PQstatus(held.get()), CONNECTION_OK);
  const pid_t before = (*pg)->pid();
  ASSERT_TRUE((*pg)->Restart().ok());
  EXPECT_NE((*pg)->pid(), before);
  EXPECT_EQ((*pg)->QueryValue("SELECT x FROM t").value(), "42");
  PGresult* r = PQexec(held.get(), "SELECT 1");
  EXPECT_NE(PQresultStatus(r), PGRES_TUPLES_OK) << "the old backend is gone";
  PQclear(r);
}

TEST(PostgresServer, StopReapsThePostmasterAndRemovesTheDirectory) {
  auto pg = PostgresServer::Start();
  ASSERT_TRUE(pg.ok()) << pg.status().ToString();
  const pid_t pid = (*pg)->pid();
  const std::string dir = (*pg)->dir();
  EXPECT_TRUE(std::filesystem::exists(dir + "/data/PG_VERSION"));
  (*pg)->Stop();
  EXPECT_NE(kill(pid, 0), 0);
  EXPECT_FALSE(std::filesystem::exists(dir));
  EXPECT_EQ(PQping(((*pg)->ConnInfo() + " connect_timeout=2").c_str()), PQPING_NO_RESPONSE);
}

TEST(PostgresServer, ReportsAMissingInstallationClearly) {
  PostgresServerOptions options;
  options.bin_dir = "/nonexistent/bin";
  auto pg = PostgresServer::Start(options);
  ASSERT_FALSE(pg.ok());
  EXPECT_NE(pg.status().message().find("postgresql"), std::string::npos) << pg.status().ToString();
}

TEST(PostgresServer, BadSettingsFailWithTheServerLog) {
  PostgresServerOptions options;
  options.settings = {"no_such_setting=1"};
  options.attempts = 1;
  auto pg = PostgresServer::Start(options);
  ASSERT_FALSE(pg.ok());
  EXPECT_NE(pg.status().message().find("no_such_setting"), std::string::npos) << pg.status().ToString();
}

}  // namespace
}  // namespace scaletwin
