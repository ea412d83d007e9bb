// initdb, spawning and reaping a throwaway PostgreSQL postmaster, as root or not.
#include "testsupport/postgres_server.h"

#include <fcntl.h>
#include <grp.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "testsupport/redis_server.h"  // FindFreeLoopbackPort

namespace scaletwin {

namespace {

using Clock = std::chrono::steady_clock;

struct SpawnSpec {
  std::vector<std::string> argv;
  std::string cwd;
  std::string log_path;  // stdout and stderr, appended
  bool drop_privileges = false;
  uid_t uid = 0;
  gid_t gid = 0;
  int death_signal = SIGKILL;  // sent to the child when the spawning thread dies
};

// Forks and execs spec.argv; returns the child's pid.
Result<pid_t> Spawn(const SpawnSpec& spec) {
  const int log_fd = open(spec.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) return Status::IOError("open " + spec.log_path + ": " + std::strerror(errno));
  if (spec.drop_privileges && fchown(log_fd, spec.uid, spec.gid) != 0) {
    const std::string err = std::strerror(errno);
    close(log_fd);
    return Status::IOError("chown " + spec.log_path + ": " + err);
  }
  // Everything the child needs is prepared here: between fork and exec only
  // async-signal-safe calls are allowed (the test process may have threads).
  std::vector<std::string> args = spec.argv;
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    const std::string err = std::strerror(errno);
    close(log_fd);
    return Status::IOError("fork: " + err);
  }
  if (pid == 0) {
    // Credentials first: changing them clears the parent-death signal.
    if (spec.drop_privileges) {
      if (setgroups(0, nullptr) != 0 || setgid(spec.gid) != 0 || setuid(spec.uid) != 0) _exit(126);
    }
    prctl(PR_SET_PDEATHSIG, spec.death_signal);
    if (getppid() != parent) _exit(127);
    if (chdir(spec.cwd.c_str()) != 0) _exit(126);
    const int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, STDIN_FILENO);
    dup2(log_fd, STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
    // Do not leak the test's sockets and files into a long-lived server.
#ifdef SYS_close_range
    if (syscall(SYS_close_range, 3U, ~0U, 0U) != 0)
#endif
    {
      for (int fd = 3; fd < 4096; ++fd) close(fd);
    }
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(log_fd);
  return pid;
}

// Sends `sig` and waits up to `grace` for the child to exit; true iff reaped.
bool SignalAndReap(pid_t pid, int sig, Nanos grace, int* wait_status = nullptr) {
  if (sig != 0) kill(pid, sig);
  const auto deadline = Clock::now() + std::chrono::nanoseconds(grace);
  while (true) {
    int status = 0;
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid || (r < 0 && errno == ECHILD)) {
      if (wait_status != nullptr) *wait_status = status;
      return true;
    }
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

// The last `max_bytes` of a log file, for error messages.
std::string LogTail(const std::string& path, size_t max_bytes = 1500) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "(no log at " + path + ")";
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  if (s.size() > max_bytes) s = "..." + s.substr(s.size() - max_bytes);
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// Quotes a libpq conninfo value: 'value' with \ and ' escaped.
std::string QuoteConnValue(std::string_view v) {
  std::string out = "'";
  for (char c : v) {
    if (c == '\\' || c == '\'') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

std::string ExitDescription(int status) {
  if (WIFEXITED(status)) return "exit code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "signal " + std::to_string(WTERMSIG(status));
  return "status " + std::to_string(status);
}

}  // namespace

Result<std::unique_ptr<PostgresServer>> PostgresServer::Start(PostgresServerOptions options) {
  const std::string initdb = options.bin_dir + "/initdb";
  const std::string postgres = options.bin_dir + "/postgres";
  for (const std::string& bin : {initdb, postgres}) {
    if (access(bin.c_str(), X_OK) != 0) {
      return Status(StatusCode::kFailedPrecondition, bin +
                                                         " not found or not executable: install the Debian package "
                                                         "`postgresql` (scripts/install-deps.sh does)");
    }
  }
  if (options.superuser_reserved_connections < 0 || options.superuser_reserved_connections >= options.max_connections) {
    return Status::InvalidArgument("superuser_reserved_connections must be in [0, max_connections)");
  }

  std::unique_ptr<PostgresServer> server(new PostgresServer());
  server->options_ = options;
  if (geteuid() == 0) {
    // getpwnam is not reentrant: servers are started from the test's main thread (see the header).
    const passwd* pw = getpwnam(options.os_user.c_str());
    if (pw == nullptr) {
      return Status(StatusCode::kFailedPrecondition,
                    "running as root, and PostgreSQL refuses root: need the OS user \"" + options.os_user +
                        "\" (created by the Debian package `postgresql`)");
    }
    server->drop_privileges_ = true;
    server->uid_ = pw->pw_uid;
    server->gid_ = pw->pw_gid;
  }

  std::string tmpl = (std::filesystem::temp_directory_path() / "scaletwin-pg-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) return Status::IOError(std::string("mkdtemp: ") + std::strerror(errno));
  server->dir_ = tmpl;  // from here on the destructor removes it
  if (server->drop_privileges_ && chown(tmpl.c_str(), server->uid_, server->gid_) != 0) {
    return Status::IOError("chown " + tmpl + " to " + options.os_user + ": " + std::strerror(errno));
  }

  // initdb: trust auth for local and loopback connections keeps tests free of passwords.
  SpawnSpec init;
  init.argv = {initdb, "-D",   tmpl + "/data", "-U",        std::string(kSuperuser), "-A", "trust",
               "-E",   "UTF8", "--locale=C",   "--no-sync", "--no-instructions"};
  init.cwd = tmpl;
  init.log_path = tmpl + "/initdb.log";
  init.drop_privileges = server->drop_privileges_;
  init.uid = server->uid_;
  init.gid = server->gid_;
  Result<pid_t> init_pid = Spawn(init);
  if (!init_pid.ok()) return init_pid.status();
  int init_status = 0;
  if (!SignalAndReap(*init_pid, 0, options.start_timeout, &init_status)) {
    SignalAndReap(*init_pid, SIGKILL, 2 * kNanosPerSecond);
    return Status::IOError("initdb did not finish within the start timeout: " + LogTail(init.log_path));
  }
  if (!WIFEXITED(init_status) || WEXITSTATUS(init_status) != 0) {
    return Status::IOError("initdb failed (" + ExitDescription(init_status) + "): " + LogTail(init.log_path));
  }

  Status last = Status::Internal("no attempt made");
  for (int attempt = 0; attempt < options.attempts; ++attempt) {
    Result<int> port = FindFreeLoopbackPort();
    if (!port.ok()) return port.status();
    server->port_ = *port;
    last = server->StartPostmaster();
    if (last.ok()) return server;
  }
  return last;
}

Status PostgresServer::StartPostmaster() {
  SpawnSpec spec;
  // One flag and its value per line.
  // clang-format off
  spec.argv = {options_.bin_dir + "/postgres",
               "-D", dir_ + "/data",
               "-p", std::to_string(port_),
               "-k", dir_,
               "-c", "listen_addresses=127.0.0.1",
               "-c", "max_connections=" + std::to_string(options_.max_connections),
               "-c", "superuser_reserved_connections=" + std::to_string(options_.superuser_reserved_connections),
               // Non-durable settings from the PostgreSQL docs: nothing here must survive an OS crash.
               "-c", "fsync=off",
               "-c", "synchronous_commit=off",
               "-c", "full_page_writes=off",
               "-c", "wal_level=minimal",
               "-c", "max_wal_senders=0",
               "-c", "shared_buffers=16MB",
               "-c", "autovacuum=off",
               "-c", "jit=off",
               "-c", "timezone=UTC",
               "-c", "logging_collector=off",
               // %e puts the SQLSTATE in every log line (53300 for refused connections).
               "-c", "log_line_prefix=%m [%p] %e "};
  // clang-format on
  for (const std::string& s : options_.settings) {
    spec.argv.push_back("-c");
    spec.argv.push_back(s);
  }
  spec.cwd = dir_;
  spec.log_path = log_path();
  spec.drop_privileges = drop_privileges_;
  spec.uid = uid_;
  spec.gid = gid_;
  // SIGQUIT is PostgreSQL's immediate shutdown: unlike SIGKILL it still
  // removes the shared memory segment when the test dies.
  spec.death_signal = SIGQUIT;
  Result<pid_t> pid = Spawn(spec);
  if (!pid.ok()) return pid.status();
  pid_ = *pid;

  const std::string ping = ConnInfo() + " connect_timeout=2";
  const auto deadline = Clock::now() + std::chrono::nanoseconds(options_.start_timeout);
  while (Clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return Status::IOError("postgres exited during start-up on port " + std::to_string(port_) + " (" +
                             ExitDescription(status) + "): " + LogTail(log_path()));
    }
    if (PQping(ping.c_str()) == PQPING_OK) return Status::Ok();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  StopPostmaster();
  return Status::IOError("postgres did not accept connections on port " + std::to_string(port_) + " within " +
                         FormatDuration(options_.start_timeout) + ": " + LogTail(log_path()));
}

void PostgresServer::StopPostmaster() {
  if (pid_ <= 0) return;
  // SIGINT = fast shutdown (SIGTERM would wait for every client to disconnect),
  // SIGQUIT = immediate shutdown, SIGKILL as the last resort.
  if (!SignalAndReap(pid_, SIGINT, 5 * kNanosPerSecond) && !SignalAndReap(pid_, SIGQUIT, 2 * kNanosPerSecond)) {
    SignalAndReap(pid_, SIGKILL, 2 * kNanosPerSecond);
  }
  pid_ = -1;
}

Status PostgresServer::Restart() {
  Shutdown();
  return Resume();
}

void PostgresServer::Shutdown() { StopPostmaster(); }

Status PostgresServer::Resume() {
  if (dir_.empty()) return Status(StatusCode::kFailedPrecondition, "server was stopped and its directory removed");
  if (pid_ > 0) return Status::Ok();
  return StartPostmaster();
}

std::string PostgresServer::ConnInfo(std::string_view dbname, std::string_view user) const {
  return "host=" + host_ + " port=" + std::to_string(port_) + " dbname=" + QuoteConnValue(dbname) +
         " user=" + QuoteConnValue(user);
}

Result<std::string> PostgresServer::QueryValue(std::string_view sql, std::string_view dbname) const {
  PGconn* conn = PQconnectdb((ConnInfo(dbname) + " connect_timeout=5").c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    const std::string err = PQerrorMessage(conn);
    PQfinish(conn);
    return Status::IOError("connect to " + std::string(dbname) + ": " + err);
  }
  PGresult* res = PQexec(conn, std::string(sql).c_str());
  const ExecStatusType st = PQresultStatus(res);
  Result<std::string> out = Status::IOError("");
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    out = Status::IOError(std::string(sql) + ": " + PQresultErrorMessage(res));
  } else if (st == PGRES_TUPLES_OK && PQntuples(res) > 0 && PQnfields(res) > 0) {
    out = std::string(PQgetisnull(res, 0, 0) ? "" : PQgetvalue(res, 0, 0));
  } else {
    out = Status::NotFound(std::string(sql) + ": no row");
  }
  PQclear(res);
  PQfinish(conn);
  return out;
}

Status PostgresServer::Execute(std::string_view sql, std::string_view dbname) const {
  Result<std::string> r = QueryValue(sql, dbname);
  if (!r.ok() && r.status().code() != StatusCode::kNotFound) return r.status();
  return Status::Ok();
}

void PostgresServer::Stop() {
  StopPostmaster();
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    dir_.clear();
  }
}

PostgresServer::~PostgresServer() { Stop(); }

}  // namespace scaletwin
