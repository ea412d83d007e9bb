// Spawning, probing and reaping a throwaway redis-server.
#include "testsupport/redis_server.h"

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
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <thread>

#include "testsupport/redis_client.h"

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

Result<std::unique_ptr<RedisServer>> RedisServer::Start(RedisServerOptions options) {
  Status last = Status::Internal("no attempt made");
  for (int attempt = 0; attempt < options.attempts; ++attempt) {
    Result<int> port = FindFreeLoopbackPort();
    if (!port.ok()) return port.status();
    std::string tmpl = (std::filesystem::temp_directory_path() / "scaletwin-redis-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) return Status::IOError(std::string("mkdtemp: ") + std::strerror(errno));

    std::unique_ptr<RedisServer> server(new RedisServer());
    server->port_ = *port;
    server->dir_ = tmpl;
    std::vector<std::string> args = {options.binary, "--port",       std::to_string(*port), "--bind", "127.0.0.1",
                                     "--save",       "",             "--appendonly",        "no",     "--dir",
                                     tmpl,           "--logfile",    tmpl + "/redis.log",   "--daemonize", "no"};
    args.insert(args.end(), options.extra_args.begin(), options.extra_args.end());
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);

    const pid_t parent = getpid();
    const pid_t pid = fork();
    if (pid < 0) return Status::IOError(std::string("fork: ") + std::strerror(errno));
    if (pid == 0) {
      // Child: die with the test process, whatever way it ends.
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(127);
      const int devnull = open("/dev/null", O_RDWR);
      if (devnull >= 0) {
        dup2(devnull, STDIN_FILENO);
        dup2(devnull, STDOUT_FILENO);
        dup2(devnull, STDERR_FILENO);
      }
      execvp(argv[0], argv.data());
      _exit(127);
    }
    server->pid_ = pid;

    // Wait until PING answers, or the child dies (port stolen, bad args).
    const auto deadline = Clock::now() + std::chrono::nanoseconds(options.start_timeout);
    bool exited = false;
    while (Clock::now() < deadline) {
      int status;
      if (waitpid(pid, &status, WNOHANG) == pid) {
        exited = true;
        server->pid_ = -1;
        break;
      }
      Result<std::unique_ptr<RedisClient>> client =
          RedisClient::Connect(server->host_, server->port_, 200 * kNanosPerMilli);
      if (client.ok()) {
        Result<Reply> pong = (*client)->Run({"PING"});
        if (pong.ok() && *pong == Reply::Simple("PONG")) return server;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    last = Status::IOError(std::string(exited ? "redis-server exited during start-up" : "redis-server did not answer PING") +
                           " on port " + std::to_string(*port) + " (log: " + tmpl + "/redis.log)");
    // `server` going out of scope stops the child and removes the directory,
    // unless it exited: keep the log of the last attempt for diagnosis.
    if (exited && attempt + 1 == options.attempts) server->dir_.clear();
  }
  return last;
}

void RedisServer::Stop() {
  if (pid_ > 0) {
    if (!SignalAndReap(pid_, SIGTERM, 2 * kNanosPerSecond)) SignalAndReap(pid_, SIGKILL, 2 * kNanosPerSecond);
    pid_ = -1;
  }
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    dir_.clear();
  }
}

RedisServer::~RedisServer() { Stop(); }

}  // namespace scaletwin
