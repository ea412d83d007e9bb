// Spawning, probing, crashing and reaping a redis-server child.
#include "real/harness/redis_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>

#include "model/redis_memory.h"
#include "model/redis_persistence.h"
#include "real/redis/redis_connection.h"

namespace scaletwin {

namespace {

using Clock = std::chrono::steady_clock;

// Sends `sig` and waits up to `grace` for the child to exit; true iff reaped.
bool SignalAndReap(pid_t pid, int sig, Nanos grace) {
  kill(pid, sig);
  const auto deadline = Clock::now() + std::chrono::nanoseconds(grace);
  while (Clock::now() < deadline) {
    int status;
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid || (r < 0 && errno == ECHILD)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

bool AnswersPing(const std::string& host, int port) {
  Result<std::unique_ptr<RedisConnection>> conn =
      RedisConnection::Open({.host = host, .port = port, .connect_timeout = 200 * kNanosPerMilli,
                             .command_timeout = 200 * kNanosPerMilli});
  if (!conn.ok()) return false;
  Result<Reply> pong = (*conn)->Run({"PING"});
  return pong.ok() && *pong == Reply::Simple("PONG");
}

std::string Seconds(Nanos n) { return std::to_string(n / kNanosPerSecond); }

}  // namespace

Result<int> FindFreeLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return Status::IOError(std::string("socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    const std::string err = std::strerror(errno);
    close(fd);
    return Status::IOError("bind 127.0.0.1:0: " + err);
  }
  close(fd);
  return static_cast<int>(ntohs(addr.sin_port));
}

Result<std::unique_ptr<RedisProcess>> RedisProcess::Start(RedisProcessOptions options) {
  Status last = Status::Internal("no attempt made");
  for (int attempt = 0; attempt < options.attempts; ++attempt) {
    Result<int> port = FindFreeLoopbackPort();
    if (!port.ok()) return port.status();
    // Absolute: redis-server chdirs into --dir before it opens --logfile, so a
    // relative path would be resolved twice.
    std::error_code ec;
    const std::filesystem::path parent = std::filesystem::absolute(
        options.parent_dir.empty() ? std::filesystem::temp_directory_path() : std::filesystem::path(options.parent_dir),
        ec);
    if (ec) return Status::IOError("cannot resolve " + options.parent_dir + ": " + ec.message());
    std::string tmpl = (parent / "scaletwin-redis-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) return Status::IOError(std::string("mkdtemp: ") + std::strerror(errno));

    std::unique_ptr<RedisProcess> server(new RedisProcess(options));
    server->port_ = *port;
    server->dir_ = tmpl;
    bool exited = false;
    last = server->Spawn(exited);
    if (last.ok()) return server;
    // `server` going out of scope removes the directory — unless the child
    // died by itself on the last attempt: keep its log for diagnosis.
    if (exited && attempt + 1 == options.attempts) server->dir_.clear();
  }
  return last;
}

Status RedisProcess::Spawn(bool& exited) {
  exited = false;
  std::vector<std::string> args = {options_.binary, "--port",  std::to_string(port_), "--bind",    "127.0.0.1",
                                   "--save",        "",        "--appendonly",         "no",        "--dir",
                                   dir_,            "--logfile", dir_ + "/redis.log",  "--daemonize", "no"};
  args.insert(args.end(), options_.config_args.begin(), options_.config_args.end());
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) return Status::IOError(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    // Child: die with the parent, whatever way it ends.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    // Our own process group, so a terminal's Ctrl-C reaches only the parent,
    // which stops the server in its own time; and the signals the parent may
    // have blocked for a signal thread unblocked (the mask survives exec, and
    // a server that cannot take SIGTERM cannot shut down).
    setpgid(0, 0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    const int devnull = open("/dev/null", O_RDWR);
    if (devnull >= 0) {
      dup2(devnull, STDIN_FILENO);
      dup2(devnull, STDOUT_FILENO);
      dup2(devnull, STDERR_FILENO);
    }
    execvp(argv[0], argv.data());
    _exit(127);
  }
  pid_ = pid;

  // Wait until PING answers, or the child dies (port stolen, bad arguments).
  const auto deadline = Clock::now() + std::chrono::nanoseconds(options_.start_timeout);
  while (Clock::now() < deadline) {
    int status;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      exited = true;
      pid_ = -1;
      break;
    }
    if (AnswersPing(host_, port_)) return Status::Ok();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (!exited) Kill();
  return Status::IOError(std::string(exited ? "redis-server exited during start-up" : "redis-server did not answer PING") +
                         " on port " + std::to_string(port_) + " (log: " + dir_ + "/redis.log)");
}

void RedisProcess::Kill() {
  if (pid_ <= 0) return;
  SignalAndReap(pid_, SIGKILL, 5 * kNanosPerSecond);
  pid_ = -1;
}

Status RedisProcess::StartAgain() {
  if (running()) return Status(StatusCode::kFailedPrecondition, "redis-server is still running");
  bool exited = false;
  return Spawn(exited);
}

void RedisProcess::Stop() {
  if (pid_ > 0) {
    if (!SignalAndReap(pid_, SIGTERM, 2 * kNanosPerSecond)) SignalAndReap(pid_, SIGKILL, 2 * kNanosPerSecond);
    pid_ = -1;
  }
  if (!dir_.empty() && !options_.keep_dir) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  dir_.clear();
}

RedisProcess::~RedisProcess() { Stop(); }

std::vector<std::string> RedisServerArgs(const RedisScenarioSpec& spec) {
  const MemoryConfig& m = spec.memory;
  std::vector<std::string> args = {
      "--maxmemory",        std::to_string(m.maxmemory),
      "--maxmemory-policy", std::string(MaxmemoryPolicyName(m.policy)),
      "--maxmemory-samples", std::to_string(m.samples),
      "--lfu-log-factor",   std::to_string(m.lfu_log_factor),
      "--lfu-decay-time",   std::to_string(m.lfu_decay_time),
      "--hz",               std::to_string(spec.hz),
      "--active-expire-effort", std::to_string(spec.active_expire_effort),
      "--maxclients",       std::to_string(spec.maxclients),
  };
  switch (spec.persistence.mode) {
    case PersistenceMode::kNone:
      args.insert(args.end(), {"--save", "", "--appendonly", "no"});
      break;
    case PersistenceMode::kRdb: {
      std::string points;
      for (const SavePoint& p : spec.persistence.save_points) {
        if (!points.empty()) points += ' ';
        points += Seconds(p.after) + ' ' + std::to_string(p.changes);
      }
      args.insert(args.end(), {"--save", points, "--appendonly", "no"});
      break;
    }
    case PersistenceMode::kAofEverysec:
      args.insert(args.end(), {"--save", "", "--appendonly", "yes", "--appendfsync", "everysec"});
      break;
  }
  return args;
}

}  // namespace scaletwin
