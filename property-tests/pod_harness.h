// PodHarness: one real ShortenerPod started in-process for a RapidCheck suite
// — SQLite in a fresh temp directory, a throwaway redis-server on a free
// loopback port (testsupport/redis_server.h), logs to /dev/null — plus
// CheckScaled, which runs a property with a case count scaled from the
// binary's RapidCheck configuration (so a slow property can run fewer cases
// than a fast one in the same binary, and RC_PARAMS still scales both).
//
//   Result<std::unique_ptr<PodHarness>> h = PodHarness::Start({{"tenants", ...}, {"http", ...}});
//   HttpCall((*h)->port(), "GET", "/healthz");
//
// The document passed to Start is merged (JSON merge patch) over a base config
// that listens on 127.0.0.1:0 and points storage and Redis at the harness's own.
// Thread-safety: one owner; the pod itself serves any number of clients.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>

#include "model/status.h"
#include "real/pod/pod.h"
#include "real/pod/pod_config.h"
#include "testsupport/http_client.h"
#include "testsupport/redis_server.h"

namespace scaletwin {

class PodHarness {
 public:
  static Result<std::unique_ptr<PodHarness>> Start(const nlohmann::json& patch) {
    std::unique_ptr<PodHarness> h(new PodHarness);
    std::string t = (std::filesystem::temp_directory_path() / "scaletwin-podprops-XXXXXX").string();
    if (::mkdtemp(t.data()) == nullptr) return Status::IOError("mkdtemp failed");
    h->dir_ = t;
    auto redis = RedisServer::Start();
    if (!redis.ok()) return redis.status();
    h->redis_ = std::move(*redis);
    h->log_fd_ = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (h->log_fd_ < 0) return Status::IOError("cannot open /dev/null");
    nlohmann::json doc = {{"pod", "pod-props"},
                          {"listen", "127.0.0.1:0"},
                          {"storage", {{"backend", "sqlite"}, {"path", h->dir_ + "/links.db"}}},
                          {"redis", {{"url", "redis://127.0.0.1:" + std::to_string(h->redis_->port())}}},
                          {"shutdown", {{"grace_period", "5s"}, {"drain_delay", "0s"}}}};
    doc.merge_patch(patch);
    Result<PodConfig> cfg = ParsePodConfig(doc, h->dir_);
    if (!cfg.ok()) return cfg.status();
    PodStartOptions options;
    options.log_fd = h->log_fd_;
    auto pod = ShortenerPod::Start(*cfg, options);
    if (!pod.ok()) return pod.status();
    h->pod_ = std::move(*pod);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      auto r = HttpCall(h->port(), "GET", "/readyz");
      if (r.ok() && r->status == 200) return h;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return Status::IOError("the pod never became ready");
  }

  ~PodHarness() {
    pod_.reset();  // Terminate twice + Wait: stops at once
    if (log_fd_ >= 0) ::close(log_fd_);
    redis_.reset();
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }

  int port() const { return pod_->port(); }
  const std::string& dir() const { return dir_; }
  ShortenerPod& pod() { return *pod_; }

 private:
  PodHarness() = default;
  std::string dir_;
  std::unique_ptr<RedisServer> redis_;
  int log_fd_ = -1;
  std::unique_ptr<ShortenerPod> pod_;
};

// Runs `testable` as the current GoogleTest's property with max_success =
// percent% of the configured one (RC_PARAMS, else 100), at least 1. Reports
// a failure like RC_GTEST_PROP does.
template <typename Testable>
void CheckScaled(Testable&& testable, int percent) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  rc::detail::TestMetadata metadata;
  metadata.id = std::string(info->test_suite_name()) + "/" + info->name();
  metadata.description = info->name();
  rc::detail::TestParams params = rc::detail::configuration().testParams;
  params.maxSuccess = std::max(1, params.maxSuccess * percent / 100);
  const auto result = rc::detail::checkTestable(std::forward<Testable>(testable), metadata, params);
  if (!result.template is<rc::detail::SuccessResult>()) {
    std::ostringstream ss;
    rc::detail::printResultMessage(result, ss);
    FAIL() << ss.str();
  }
}

// A uniform draw from [lo, hi). rc::gen::inRange scales its range with the
// case's size (always `lo` at size 0), which would make branch choices
// lopsided in the small early cases; this shrinks towards `lo` all the same.
template <typename T>
T Uniform(T lo, T hi) {
  return *rc::gen::resize(100, rc::gen::inRange<T>(lo, hi));
}

// True one time in n; shrinks to false (so rare branches drop out of counterexamples).
inline bool OneIn(int n) { return Uniform(0, n) == n - 1; }

// `s` with every byte outside printable ASCII (and backslash) escaped, for failure messages.
inline std::string Escaped(const std::string& s, size_t max = 600) {
  std::string out;
  for (size_t i = 0; i < s.size() && i < max; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c < 0x20 || c >= 0x7f) {
      static const char* kHex = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (s.size() > max) out += "...(" + std::to_string(s.size()) + " bytes)";
  return out;
}

}  // namespace scaletwin
