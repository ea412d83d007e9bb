// PostgresServer: a throwaway PostgreSQL 15 server for tests, on a free
// loopback port with its data directory and Unix socket in its own temp directory.
//
// Start() runs `initdb` (trust authentication, superuser "postgres", C locale,
// no fsync) and then the `postgres` postmaster itself with
// `-c listen_addresses=127.0.0.1 -p PORT -k TMP` plus the test-only
// non-durable settings (fsync, synchronous_commit and full_page_writes off),
// and returns once a libpq ping answers — about a second on 2 vCPUs. The port
// comes from binding 127.0.0.1:0; if another process takes it first the
// postmaster exits and Start tries a new port (the cluster is kept).
//
// PostgreSQL refuses to run as root. When the test runs as root, the temp
// directory is chowned to the `postgres` OS user (options.os_user) and the
// forked child switches to that user (setgroups/setgid/setuid) before exec.
// This is what `runuser -u postgres --` does, minus the watching parent
// runuser keeps: without it PR_SET_PDEATHSIG lands on the postmaster itself,
// so a crashed test takes its server with it (SIGQUIT: immediate shutdown,
// which also removes the server's shared memory). Not root: runs as the caller.
// The temp directory lives under $TMPDIR (default /tmp), which that user
// must be able to traverse.
//
// The destructor (or Stop()) sends SIGINT (fast shutdown: disconnects clients,
// unlike SIGTERM which waits for them), escalates to SIGQUIT and SIGKILL,
// reaps the postmaster and removes the directory. Restart() (or Shutdown()
// then Resume()) stops and starts the postmaster on the same port and data —
// connections held by clients break, which is how tests check that pools
// replace broken connections and report an unreachable server.
//
//   PostgresServerOptions options;
//   options.max_connections = 5;              // provoke "too many clients" cheaply
//   auto pg = PostgresServer::Start(options);
//   ASSERT_TRUE(pg.ok()) << pg.status().ToString();
//   ASSERT_TRUE((*pg)->Execute("CREATE DATABASE t1").ok());
//   PGconn* c = PQconnectdb((*pg)->ConnInfo("t1").c_str());
//
// Thread-safety: none; one owner. PR_SET_PDEATHSIG fires when the *thread*
// that started the server exits, so start servers from the test's main thread.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "model/duration.h"
#include "model/status.h"

namespace scaletwin {

struct PostgresServerOptions {
  std::string bin_dir = "/usr/lib/postgresql/15/bin";  // Debian: `pg_config --bindir` of the server package
  int max_connections = 20;
  int superuser_reserved_connections = 3;  // must be < max_connections
  std::vector<std::string> settings = {};  // extra "name=value" server settings, passed as -c
  std::string os_user = "postgres";        // the account initdb and postgres run as when we are root
  Nanos start_timeout = 20 * kNanosPerSecond;
  int attempts = 3;  // postmaster starts, each on a new port
};

class PostgresServer {
 public:
  static constexpr std::string_view kSuperuser = "postgres";

  static Result<std::unique_ptr<PostgresServer>> Start(PostgresServerOptions options = {});
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  const std::string& host() const { return host_; }
  int port() const { return port_; }
  const std::string& dir() const { return dir_; }  // data in dir/data, socket in dir, log in dir/postgres.log
  pid_t pid() const { return pid_; }               // the postmaster
  std::string log_path() const { return dir_ + "/postgres.log"; }

  // A libpq connection string for `dbname` as `user` over TCP loopback.
  std::string ConnInfo(std::string_view dbname = "postgres", std::string_view user = kSuperuser) const;

  // Runs `sql` (one or more statements, simple query protocol) as the superuser in `dbname`.
  Status Execute(std::string_view sql, std::string_view dbname = "postgres") const;
  // Runs `sql` and returns the first column of its first row ("" for NULL).
  // Fails if the query fails or returns no row.
  Result<std::string> QueryValue(std::string_view sql, std::string_view dbname = "postgres") const;

  // Fast shutdown, then start again on the same port and data directory.
  // Returns once the server answers again.
  Status Restart();
  // Fast shutdown of the postmaster, keeping port and data directory: clients
  // are refused until Resume(). Idempotent.
  void Shutdown();
  // Starts the postmaster again after Shutdown(); OK at once if it is running.
  Status Resume();

  // Stops the server and removes its directory. Idempotent.
  void Stop();

 private:
  PostgresServer() = default;
  // Spawns the postmaster on port_ and waits until it answers.
  Status StartPostmaster();
  // Stops the postmaster (SIGINT, then SIGQUIT, then SIGKILL) and reaps it.
  void StopPostmaster();

  PostgresServerOptions options_;
  std::string host_ = "127.0.0.1";
  int port_ = 0;
  std::string dir_;
  pid_t pid_ = -1;
  bool drop_privileges_ = false;  // we are root: children run as options_.os_user
  uid_t uid_ = 0;
  gid_t gid_ = 0;
};

}  // namespace scaletwin
