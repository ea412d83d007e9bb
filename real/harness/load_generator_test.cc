// The load generator against real peers over loopback: in-process shortener
// pods (SQLite in a temp dir, Redis disabled) for the HTTP behaviour, and a
// small scripted TCP peer for the connection failures a healthy pod never
// produces on cue (a keep-alive close crossing a request, a reset, garbage).
// No mocks.
#include "real/harness/load_generator.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "model/distribution.h"
#include "real/pod/pod.h"
#include "real/pod/pod_config.h"
#include "real/storage/api_key_hash.h"
#include "testsupport/temp_dir.h"

namespace scaletwin {
namespace {

namespace fs = std::filesystem;
namespace http = boost::beast::http;
using Clock = std::chrono::steady_clock;

constexpr Nanos kMs = kNanosPerMilli;
const std::string kTenant = "acme";
const std::string kApiKey = "stk_acme-load-generator-test-key";

// A port on 127.0.0.1 where nothing listens: bound once by us, then released.
int ClosedPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// A real pod per test: SQLite in the temp dir, no Redis, logs to /dev/null,
// one tenant owning one link whose redirect runs the emulated work (unknown
// codes, health and readiness skip it).
class PodFixture {
 public:
  // `tweak` adjusts the config before the start.
  explicit PodFixture(const std::function<void(PodConfig&)>& tweak = {}) {
    log_fd_ = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    EXPECT_GE(log_fd_, 0);
    PodConfig c;
    c.pod = "lg-test";
    c.listen_port = 0;
    c.workers = 8;
    c.storage.path = dir_.path() + "/links.db";
    c.redis.enabled = false;
    c.tenants = {PodTenant{.id = kTenant, .api_key_sha256 = {ApiKeySha256Hex(kApiKey)}, .limit = std::nullopt}};
    c.shutdown.drain_delay = 0;
    c.shutdown.grace_period = 2 * kNanosPerSecond;
    if (tweak) tweak(c);
    auto pod = ShortenerPod::Start(c, {.log_fd = log_fd_});
    EXPECT_TRUE(pod.ok()) << pod.status().ToString();
    if (!pod.ok()) return;
    pod_ = std::move(*pod);
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    while (!pod_->ready() && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_TRUE(pod_->ready()) << "pod never became ready";
    const int64_t now_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    Result<Link> link = pod_->store().CreateLink(kTenant, {.url = "https://example.com/landing"}, now_ms);
    EXPECT_TRUE(link.ok()) << link.status().ToString();
    if (link.ok()) code_ = link->code;
  }
  ~PodFixture() {
    pod_.reset();
    if (log_fd_ >= 0) ::close(log_fd_);
  }

  bool ok() const { return pod_ != nullptr && !code_.empty(); }
  LoadEndpoint endpoint() const { return {.host = "127.0.0.1", .port = pod_->port()}; }
  // The path of the pod's one link: 302 after the emulated work.
  std::string link_path() const { return "/" + code_; }

 private:
  TempDir dir_{"scaletwin-lg"};
  int log_fd_ = -1;
  std::unique_ptr<ShortenerPod> pod_;
  std::string code_;
};

// A scripted HTTP peer on 127.0.0.1: the n-th accepted connection (from 0)
// runs script(n, fd) on its own thread; the fd is closed after the script.
class ScriptedPeer {
 public:
  explicit ScriptedPeer(std::function<void(int, int)> script) : script_(std::move(script)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(listen_fd_, 16), 0);
    socklen_t len = sizeof addr;
    EXPECT_EQ(::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len), 0);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { AcceptLoop(); });
  }
  ~ScriptedPeer() {
    stop_ = true;
    acceptor_.join();
    for (auto& t : connections_) t.join();
    ::close(listen_fd_);
  }

  LoadEndpoint endpoint() const { return {.host = "127.0.0.1", .port = port_}; }
  int accepted() const { return accepted_.load(); }

  // Reads one request head (no body); false on EOF or error.
  static bool ReadRequest(int fd) {
    std::string head;
    char c;
    while (head.size() < 4 || head.compare(head.size() - 4, 4, "\r\n\r\n") != 0) {
      if (::read(fd, &c, 1) != 1) return false;
      head.push_back(c);
    }
    return true;
  }
  static void Write(int fd, const std::string& s) { EXPECT_EQ(::write(fd, s.data(), s.size()), ssize_t(s.size())); }

 private:
  void AcceptLoop() {
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) != 1) continue;
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      const int n = accepted_++;
      connections_.emplace_back([this, n, fd] {
        script_(n, fd);
        ::close(fd);
      });
    }
  }

  std::function<void(int, int)> script_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::vector<std::thread> connections_;  // touched by the acceptor thread only, until it is joined
  std::thread acceptor_;
};

const std::string kOk = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok";

ScheduledRequest Get(Nanos at, std::string target) { return {.at = at, .target = std::move(target)}; }

// The run's outcomes indexed by request, plus checks every test wants: each
// request completes exactly once, and pick runs exactly once per request in
// schedule order.
struct Recorder {
  std::vector<RequestOutcome> outcomes;
  std::vector<int> completions;
  std::vector<size_t> picked;
  int in_flight = 0;
  int max_in_flight = 0;

  explicit Recorder(size_t n) : outcomes(n), completions(n, 0) {}

  std::function<uint32_t(size_t, Nanos)> Pick(const std::function<uint32_t(size_t)>& choose = {}) {
    return [this, choose](size_t i, Nanos) {
      picked.push_back(i);
      max_in_flight = std::max(max_in_flight, ++in_flight);
      return choose ? choose(i) : 0u;
    };
  }
  std::function<void(const RequestOutcome&)> Done() {
    return [this](const RequestOutcome& o) {
      --in_flight;
      EXPECT_LT(o.index, outcomes.size());
      if (o.index >= outcomes.size()) return;
      outcomes[o.index] = o;
      ++completions[o.index];
    };
  }
  void ExpectEachRequestOnce() const {
    for (size_t i = 0; i < completions.size(); ++i) EXPECT_EQ(completions[i], 1) << "request " << i;
    ASSERT_EQ(picked.size(), outcomes.size());
    for (size_t i = 0; i < picked.size(); ++i) EXPECT_EQ(picked[i], i);
    EXPECT_EQ(in_flight, 0);
  }
};

TEST(LoadGeneratorTest, SendsOnScheduleWithoutWaitingForEarlierAnswers) {
  PodFixture pod([](PodConfig& c) {
    c.workers = 64;
    c.work.service_time = DurationDistribution::Constant(20 * kMs);
  });
  ASSERT_TRUE(pod.ok());
  // 200 requests over 1 s, one every 5 ms, a third of them held 20 ms by
  // the pod's work: a closed loop on one connection could not keep up.
  std::vector<ScheduledRequest> schedule;
  for (Nanos i = 0; i < 200; ++i) {
    const char* kinds[] = {"/healthz", "/nosuchcode", nullptr};
    schedule.push_back(Get(i * 5 * kMs, kinds[i % 3] ? kinds[i % 3] : pod.link_path()));
  }
  Recorder rec(schedule.size());
  Result<LoadRunStats> stats = RunLoad({pod.endpoint()}, schedule, rec.Pick(), rec.Done());
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  rec.ExpectEachRequestOnce();
  for (size_t i = 0; i < schedule.size(); ++i) {
    const RequestOutcome& o = rec.outcomes[i];
    ASSERT_EQ(o.transport, LoadTransport::kOk) << i << ": " << o.transport_error;
    EXPECT_GE(o.sent_at, schedule[i].at);
    EXPECT_LT(o.sent_at - schedule[i].at, 50 * kMs) << "request " << i << " left late";
    EXPECT_GE(o.done_at, o.sent_at);
    switch (i % 3) {
      case 0:
        EXPECT_EQ(o.status, 200);
        EXPECT_EQ(o.error_code, "");
        break;
      case 1:
        EXPECT_EQ(o.status, 404);
        EXPECT_EQ(o.error_code, "not_found");
        break;
      default:
        EXPECT_EQ(o.status, 302);
        EXPECT_GE(o.done_at - o.sent_at, 20 * kMs) << "the pod's work is part of the latency";
    }
  }
  // A 20 ms answer overlaps the next arrival 5 ms later.
  EXPECT_GT(rec.max_in_flight, 1);
  EXPECT_GT(stats->connections_opened, 1u);
  EXPECT_LT(stats->lag_max, 50 * kMs);
  EXPECT_LE(stats->lag_p99, stats->lag_max);
  EXPECT_GE(stats->wall, schedule.back().at);
}

TEST(LoadGeneratorTest, SpacedRequestsReuseKeepAliveConnections) {
  PodFixture pod;
  ASSERT_TRUE(pod.ok());
  std::vector<ScheduledRequest> schedule;
  for (Nanos i = 0; i < 100; ++i) schedule.push_back(Get(i * 10 * kMs, "/healthz"));
  Recorder rec(schedule.size());
  Result<LoadRunStats> stats = RunLoad({pod.endpoint()}, schedule, rec.Pick(), rec.Done());
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  rec.ExpectEachRequestOnce();
  int reused = 0;
  for (const RequestOutcome& o : rec.outcomes) {
    EXPECT_EQ(o.status, 200);
    reused += o.reused_connection;
  }
  EXPECT_LE(stats->connections_opened, 3u);
  EXPECT_GE(reused, 97);
  EXPECT_EQ(stats->retries, 0u);
}

TEST(LoadGeneratorTest, SharedStartIsTheScheduleOriginFutureOrPast) {
  PodFixture pod;
  ASSERT_TRUE(pod.ok());
  const std::vector<ScheduledRequest> schedule = {Get(0, "/healthz"), Get(10 * kMs, "/healthz")};
  {
    // 150 ms ahead: nothing leaves before then, and the offsets count from it.
    Recorder rec(schedule.size());
    LoadGeneratorOptions options;
    const Clock::time_point start = Clock::now() + std::chrono::milliseconds(150);
    options.start = start;
    Result<LoadRunStats> stats = RunLoad({pod.endpoint()}, schedule, rec.Pick(), rec.Done(), options);
    ASSERT_TRUE(stats.ok()) << stats.status().ToString();
    EXPECT_GE(Clock::now(), start + std::chrono::milliseconds(10));
    for (size_t i = 0; i < schedule.size(); ++i) {
      EXPECT_EQ(rec.outcomes[i].status, 200);
      EXPECT_GE(rec.outcomes[i].sent_at, schedule[i].at);
      EXPECT_LT(rec.outcomes[i].sent_at - schedule[i].at, 50 * kMs);
    }
  }
  {
    // 300 ms behind: both requests go at once, late by about that much.
    Recorder rec(schedule.size());
    LoadGeneratorOptions options;
    options.start = Clock::now() - std::chrono::milliseconds(300);
    Result<LoadRunStats> stats = RunLoad({pod.endpoint()}, schedule, rec.Pick(), rec.Done(), options);
    ASSERT_TRUE(stats.ok()) << stats.status().ToString();
    for (const RequestOutcome& o : rec.outcomes) {
      EXPECT_EQ(o.status, 200);
      EXPECT_GE(o.sent_at, 300 * kMs);
    }
    EXPECT_GE(stats->lag_max, 290 * kMs);
  }
}

TEST(LoadGeneratorTest, RefusedConnectIsConnectRefusedWithoutStatus) {
  const LoadEndpoint nobody{.host = "127.0.0.1", .port = ClosedPort()};
  std::vector<ScheduledRequest> schedule = {Get(0, "/healthz"), Get(10 * kMs, "/healthz")};
  Recorder rec(schedule.size());
  Result<LoadRunStats> stats = RunLoad({nobody}, schedule, rec.Pick(), rec.Done());
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  rec.ExpectEachRequestOnce();
  for (const RequestOutcome& o : rec.outcomes) {
    EXPECT_EQ(o.transport, LoadTransport::kConnectRefused) << LoadTransportName(o.transport);
    EXPECT_EQ(o.status, 0);
    EXPECT_FALSE(o.transport_error.empty());
  }
  EXPECT_EQ(stats->connections_opened, 0u);
}

TEST(LoadGeneratorTest, RequestTimeoutCutsASlowAnswer) {
  PodFixture pod([](PodConfig& c) { c.work.service_time = DurationDistribution::Constant(1 * kNanosPerSecond); });
  ASSERT_TRUE(pod.ok());
  std::vector<ScheduledRequest> schedule = {Get(0, pod.link_path())};
  Recorder rec(schedule.size());
  LoadGeneratorOptions options;
  options.request_timeout = 200 * kMs;
  Result<LoadRunStats> stats = RunLoad({pod.endpoint()}, schedule, rec.Pick(), rec.Done(), options);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  rec.ExpectEachRequestOnce();
  const RequestOutcome& o = rec.outcomes[0];
  EXPECT_EQ(o.transport, LoadTransport::kTimeout) << LoadTransportName(o.transport);
  EXPECT_EQ(o.status, 0);
  EXPECT_GE(o.done_at - o.sent_at, 195 * kMs);
  EXPECT_LT(o.done_at - o.sent_at, 400 * kMs);
}

TEST(LoadGeneratorTest, FullWorkerQueueIsA503QueueFull) {
  PodFixture pod([](PodConfig& c) {
    c.workers = 1;
    c.queue_limit = 0;
    c.work.service_time = DurationDistribution::Constant(200 * kMs);
  });
  ASSERT_TRUE(pod.ok());
  // /healthz would be answered on the pod's I/O thread; the link needs a worker.
  std::vector<ScheduledRequest> schedule(5, Get(0, pod.link_path()));
  Recorder rec(schedule.size());
  Result<LoadRunStats> stats = RunLoad({pod.endpoint()}, schedule, rec.Pick(), rec.Done());
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  rec.ExpectEachRequestOnce();
  int served = 0, refused = 0;
  for (const RequestOutcome& o : rec.outcomes) {
    ASSERT_EQ(o.transport, LoadTransport::kOk) << o.transport_error;
    if (o.status == 302) ++served;
    if (o.status == 503) {
      EXPECT_EQ(o.error_code, "queue_full");
      ++refused;
    }
  }
  EXPECT_GE(served, 1);
  EXPECT_GE(refused, 1);
  EXPECT_EQ(served + refused, 5);
  EXPECT_EQ(stats->connections_opened, 5u) << "five simultaneous requests, five connections";
}

TEST(LoadGeneratorTest, PickChoosesTheEndpointOfEachRequestAtDispatch) {
  PodFixture a;
  PodFixture b;
  ASSERT_TRUE(a.ok() && b.ok());
  // Only pod a stores the link, so the status shows which pod answered.
  std::vector<ScheduledRequest> schedule;
  for (Nanos i = 0; i < 30; ++i) schedule.push_back(Get(i * 2 * kMs, a.link_path()));
  auto choose = [](size_t i) -> uint32_t { return (i * 7 / 3) % 2; };
  Recorder rec(schedule.size());
  Nanos last_now = -1;
  auto pick = rec.Pick(choose);
  Result<LoadRunStats> stats = RunLoad(
      {a.endpoint(), b.endpoint()}, schedule,
      [&](size_t i, Nanos now) {
        EXPECT_GE(now, schedule[i].at);
        EXPECT_GE(now, last_now);
        last_now = now;
        return pick(i, now);
      },
      rec.Done());
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  rec.ExpectEachRequestOnce();
  for (size_t i = 0; i < schedule.size(); ++i) {
    const RequestOutcome& o = rec.outcomes[i];
    EXPECT_EQ(o.endpoint, choose(i)) << i;
    EXPECT_EQ(o.status, o.endpoint == 0 ? 302 : 404) << "request " << i << " went elsewhere";
  }
}

TEST(LoadGeneratorTest, PostsJsonBodiesWithAuthorization) {
  PodFixture pod;
  ASSERT_TRUE(pod.ok());
  const std::string body = R"({"url":"https://example.com/created"})";
  std::vector<ScheduledRequest> schedule = {
      {.at = 0,
       .method = http::verb::post,
       .target = "/api/v1/links",
       .authorization = "Bearer " + kApiKey,
       .body = body},
      {.at = 5 * kMs, .method = http::verb::post, .target = "/api/v1/links", .body = body},
      {.at = 10 * kMs, .method = http::verb::post, .target = "/api/v1/links", .authorization = "Bearer " + kApiKey},
      {.at = 15 * kMs, .method = http::verb::head, .target = "/healthz"},
      {.at = 20 * kMs, .target = "/healthz"},
  };
  Recorder rec(schedule.size());
  Result<LoadRunStats> stats = RunLoad({pod.endpoint()}, schedule, rec.Pick(), rec.Done());
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  rec.ExpectEachRequestOnce();
  EXPECT_EQ(rec.outcomes[0].status, 201);
  EXPECT_EQ(rec.outcomes[1].status, 401);
  EXPECT_EQ(rec.outcomes[1].error_code, "unauthorized");
  EXPECT_EQ(rec.outcomes[2].status, 400) << "an empty POST is sent with Content-Length: 0";
  EXPECT_EQ(rec.outcomes[2].error_code, "invalid_json");
  EXPECT_EQ(rec.outcomes[3].status, 200);
  // The answer to HEAD has a length but no body; the next answer on the
  // connection still parses.
  EXPECT_EQ(rec.outcomes[4].status, 200);
  EXPECT_TRUE(rec.outcomes[4].reused_connection);
}

TEST(LoadGeneratorTest, ReusedConnectionClosedUnderARequestIsRetriedOnceOnAFreshOne) {
  // Connection 0 answers one request and closes on reading the second, as a
  // server whose idle timeout fires just as the request arrives.
  ScriptedPeer peer([](int n, int fd) {
    if (!ScriptedPeer::ReadRequest(fd)) return;
    if (n == 0) {
      ScriptedPeer::Write(fd, kOk);
      ScriptedPeer::ReadRequest(fd);
      return;
    }
    ScriptedPeer::Write(fd, kOk);
  });
  std::vector<ScheduledRequest> schedule = {Get(0, "/a"), Get(50 * kMs, "/b")};
  Recorder rec(schedule.size());
  Result<LoadRunStats> stats = RunLoad({peer.endpoint()}, schedule, rec.Pick(), rec.Done());
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  rec.ExpectEachRequestOnce();
  EXPECT_EQ(rec.outcomes[0].status, 200);
  EXPECT_FALSE(rec.outcomes[0].retried);
  const RequestOutcome& o = rec.outcomes[1];
  EXPECT_EQ(o.transport, LoadTransport::kOk) << o.transport_error;
  EXPECT_EQ(o.status, 200);
  EXPECT_TRUE(o.retried);
  EXPECT_FALSE(o.reused_connection) << "the outcome describes the retry, on a new connection";
  EXPECT_EQ(stats->retries, 1u);
  EXPECT_EQ(stats->connections_opened, 2u);
  EXPECT_EQ(peer.accepted(), 2);
}

TEST(LoadGeneratorTest, IdleConnectionTheServerClosedIsNotUsed) {
  // Every connection answers once with keep-alive and then closes at once.
  ScriptedPeer peer([](int, int fd) {
    if (ScriptedPeer::ReadRequest(fd)) ScriptedPeer::Write(fd, kOk);
  });
  std::vector<ScheduledRequest> schedule = {Get(0, "/a"), Get(50 * kMs, "/b")};
  Recorder rec(schedule.size());
  Result<LoadRunStats> stats = RunLoad({peer.endpoint()}, schedule, rec.Pick(), rec.Done());
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  rec.ExpectEachRequestOnce();
  for (const RequestOutcome& o : rec.outcomes) {
    EXPECT_EQ(o.status, 200);
    EXPECT_FALSE(o.reused_connection);
    EXPECT_FALSE(o.retried);
  }
  EXPECT_EQ(stats->retries, 0u);
  EXPECT_EQ(stats->connections_opened, 2u);
}

TEST(LoadGeneratorTest, CloseWithoutAnswerOnAFreshConnectionIsAResetNotRetried) {
  ScriptedPeer peer([](int, int fd) { ScriptedPeer::ReadRequest(fd); });
  std::vector<ScheduledRequest> schedule = {Get(0, "/a")};
  Recorder rec(schedule.size());
  Result<LoadRunStats> stats = RunLoad({peer.endpoint()}, schedule, rec.Pick(), rec.Done());
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  rec.ExpectEachRequestOnce();
  EXPECT_EQ(rec.outcomes[0].transport, LoadTransport::kReset) << LoadTransportName(rec.outcomes[0].transport);
  EXPECT_EQ(rec.outcomes[0].status, 0);
  EXPECT_FALSE(rec.outcomes[0].retried);
  EXPECT_EQ(peer.accepted(), 1);
}

TEST(LoadGeneratorTest, TruncatedAnswerIsAReset) {
  ScriptedPeer peer([](int, int fd) {
    if (ScriptedPeer::ReadRequest(fd)) ScriptedPeer::Write(fd, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort");
  });
  std::vector<ScheduledRequest> schedule = {Get(0, "/a")};
  Recorder rec(schedule.size());
  ASSERT_TRUE(RunLoad({peer.endpoint()}, schedule, rec.Pick(), rec.Done()).ok());
  EXPECT_EQ(rec.outcomes[0].transport, LoadTransport::kReset) << LoadTransportName(rec.outcomes[0].transport);
  EXPECT_EQ(rec.outcomes[0].status, 0);
}

TEST(LoadGeneratorTest, GarbageAnswerIsAProtocolError) {
  ScriptedPeer peer([](int, int fd) {
    if (ScriptedPeer::ReadRequest(fd)) ScriptedPeer::Write(fd, "HELLO THERE\r\n\r\n");
  });
  std::vector<ScheduledRequest> schedule = {Get(0, "/a")};
  Recorder rec(schedule.size());
  ASSERT_TRUE(RunLoad({peer.endpoint()}, schedule, rec.Pick(), rec.Done()).ok());
  EXPECT_EQ(rec.outcomes[0].transport, LoadTransport::kProtocolError) << LoadTransportName(rec.outcomes[0].transport);
  EXPECT_EQ(rec.outcomes[0].status, 0);
}

TEST(LoadGeneratorTest, OutOfRangePickFailsThatRequestAndTheRun) {
  PodFixture pod;
  ASSERT_TRUE(pod.ok());
  std::vector<ScheduledRequest> schedule = {Get(0, "/healthz"), Get(5 * kMs, "/healthz"), Get(10 * kMs, "/healthz")};
  Recorder rec(schedule.size());
  Result<LoadRunStats> stats =
      RunLoad({pod.endpoint()}, schedule, rec.Pick([](size_t i) -> uint32_t { return i == 1 ? 7 : 0; }), rec.Done());
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.status().code(), StatusCode::kInvalidArgument);
  rec.ExpectEachRequestOnce();
  EXPECT_EQ(rec.outcomes[0].status, 200);
  EXPECT_EQ(rec.outcomes[1].transport, LoadTransport::kProtocolError);
  EXPECT_EQ(rec.outcomes[1].endpoint, 7u);
  EXPECT_EQ(rec.outcomes[1].status, 0);
  EXPECT_EQ(rec.outcomes[2].status, 200);
}

TEST(LoadGeneratorTest, RejectsBadArgumentsBeforeSendingAnything) {
  int calls = 0;
  auto pick = [&](size_t, Nanos) -> uint32_t {
    ++calls;
    return 0;
  };
  auto done = [&](const RequestOutcome&) { ++calls; };
  const LoadEndpoint ep{.host = "127.0.0.1", .port = ClosedPort()};
  const std::vector<ScheduledRequest> one = {Get(0, "/")};
  auto code = [](const Result<LoadRunStats>& r) { return r.ok() ? StatusCode::kOk : r.status().code(); };
  EXPECT_EQ(code(RunLoad({}, one, pick, done)), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(RunLoad({{.host = "localhost", .port = 80}}, one, pick, done)), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(RunLoad({{.host = "127.0.0.1", .port = 0}}, one, pick, done)), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(RunLoad({ep}, {Get(10 * kMs, "/"), Get(5 * kMs, "/")}, pick, done)), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(RunLoad({ep}, {Get(0, "")}, pick, done)), StatusCode::kInvalidArgument);
  LoadGeneratorOptions no_timeout;
  no_timeout.request_timeout = 0;
  EXPECT_EQ(code(RunLoad({ep}, one, pick, done, no_timeout)), StatusCode::kInvalidArgument);
  EXPECT_EQ(calls, 0);
  // An empty schedule is a run with nothing to do.
  Result<LoadRunStats> empty = RunLoad({ep}, {}, pick, done);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->connections_opened, 0u);
  EXPECT_EQ(calls, 0);
}

TEST(LoadGeneratorTest, CancelStopsDispatchingAbandonsWhatIsInFlightAndReturnsCancelled) {
  // The peer answers every request at once except /hold, which it keeps
  // unanswered until the generator closes the connection.
  std::atomic<bool> hold_closed{false};
  ScriptedPeer peer([&](int, int fd) {
    std::string head;
    char c;
    while (::read(fd, &c, 1) == 1) {
      head.push_back(c);
      if (head.size() < 4 || head.compare(head.size() - 4, 4, "\r\n\r\n") != 0) continue;
      if (head.rfind("GET /hold ", 0) == 0) {
        while (::read(fd, &c, 1) == 1) {
        }
        hold_closed = true;
        return;
      }
      ScriptedPeer::Write(fd, kOk);
      head.clear();
    }
  });
  // 10 s of requests, one every 100 ms; the second one is held.
  std::vector<ScheduledRequest> schedule;
  for (Nanos i = 0; i < 100; ++i) schedule.push_back(Get(i * 100 * kMs, i == 1 ? "/hold" : "/a"));
  Recorder rec(schedule.size());
  std::atomic<bool> cancel{false};
  LoadGeneratorOptions options;
  options.cancel = &cancel;
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(450));
    cancel = true;
  });
  const auto began = Clock::now();
  Result<LoadRunStats> stats = RunLoad({peer.endpoint()}, schedule, rec.Pick(), rec.Done(), options);
  const auto took = Clock::now() - began;
  canceller.join();
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.status().code(), StatusCode::kCancelled) << stats.status().ToString();
  // It stopped at the flag, not at the end of the schedule...
  EXPECT_LT(took, std::chrono::seconds(5));
  EXPECT_LT(rec.picked.size(), schedule.size());
  EXPECT_GE(rec.picked.size(), 3u) << "requests before the flag were sent";
  // ...done ran for the answered requests only, once each, never for /hold...
  for (size_t i = 0; i < schedule.size(); ++i) {
    EXPECT_LE(rec.completions[i], 1) << "request " << i;
    if (rec.completions[i] == 1) {
      EXPECT_NE(i, 1u);
      EXPECT_EQ(rec.outcomes[i].status, 200);
    }
  }
  EXPECT_EQ(rec.completions[1], 0);
  EXPECT_EQ(rec.completions[0], 1);
  // ...and the held request's connection was closed, not left open.
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  while (!hold_closed && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_TRUE(hold_closed);
}

TEST(LoadGeneratorTest, ReportsProgressAboutOncePerSecond) {
  ScriptedPeer peer([](int, int fd) {
    while (ScriptedPeer::ReadRequest(fd)) ScriptedPeer::Write(fd, kOk);
  });
  std::vector<ScheduledRequest> schedule;
  for (Nanos i = 0; i <= 25; ++i) schedule.push_back(Get(i * 100 * kMs, "/a"));  // 2.5 s
  Recorder rec(schedule.size());
  std::vector<std::pair<size_t, size_t>> reports;
  std::vector<Nanos> times;
  LoadGeneratorOptions options;
  options.progress = [&](Nanos now, size_t sent, size_t done) {
    times.push_back(now);
    reports.emplace_back(sent, done);
  };
  ASSERT_TRUE(RunLoad({peer.endpoint()}, schedule, rec.Pick(), rec.Done(), options).ok());
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_NEAR(ToSeconds(times[0]), 1.0, 0.1);
  EXPECT_NEAR(ToSeconds(times[1]), 2.0, 0.1);
  for (auto [sent, done] : reports) {
    EXPECT_GE(sent, done);
    EXPECT_GE(sent, 10u);
    EXPECT_LT(sent, schedule.size());
  }
}

}  // namespace
}  // namespace scaletwin
