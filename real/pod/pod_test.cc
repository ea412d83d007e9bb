// The real pod end to end, in-process: real HTTP over loopback, a real
// redis-server and a real PostgreSQL 15 started by testsupport/ on free
// ports, SQLite in a temp dir. No mocks.
#include "real/pod/pod.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "real/auth/jwt_hs256.h"
#include "real/storage/api_key_hash.h"
#include "testsupport/http_client.h"
#include "testsupport/postgres_server.h"
#include "testsupport/redis_server.h"
#include "testsupport/temp_dir.h"

namespace scaletwin {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

const std::string kAcmeKey = "stk_acme-secret-key-0123456789";
const std::string kGlobexKey = "stk_globex-secret-key-9876543210";
const std::string kJwtSecret = "a-test-hmac-secret-of-reasonable-length";

HttpHeaders Auth(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }

RedisServer* SharedRedis() {
  static Result<std::unique_ptr<RedisServer>> server = RedisServer::Start();
  if (!server.ok()) {
    ADD_FAILURE() << "cannot start redis-server: " << server.status().ToString();
    return nullptr;
  }
  return server->get();
}

class PodTest : public ::testing::Test {
 protected:
  void SetUp() override {
    redis_ = SharedRedis();
    ASSERT_NE(redis_, nullptr);
    log_path_ = dir_.path() + "/pod.log";
    log_fd_ = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    ASSERT_GE(log_fd_, 0);
    std::ofstream(dir_.path() + "/jwt.key") << kJwtSecret << "\n";
  }
  void TearDown() override {
    pod_.reset();
    if (log_fd_ >= 0) ::close(log_fd_);
  }

  // A config document: SQLite in the temp dir, the shared Redis, two tenants.
  nlohmann::json BaseConfig() {
    static std::atomic<int> n{0};
    return {
        {"pod", "pod-test"},
        {"listen", "127.0.0.1:0"},
        {"workers", 4},
        {"storage", {{"backend", "sqlite"}, {"path", dir_.path() + "/links.db"}}},
        {"redis", {{"url", "redis://127.0.0.1:" + std::to_string(redis_->port())}}},
        // Each test its own key space in the shared Redis.
        {"limiter", {{"key_prefix", "rl" + std::to_string(getpid()) + "-" + std::to_string(n++)}}},
        {"cache", {{"key_prefix", "url" + std::to_string(getpid()) + "-" + std::to_string(n++)}}},
        {"auth", {{"jwt", {{"secret_file", dir_.path() + "/jwt.key"}, {"issuer", "idp"}, {"audience", "shortener"}}}}},
        {"tenants",
         {{{"id", "acme"}, {"api_key_sha256", {ApiKeySha256Hex(kAcmeKey)}}},
          {{"id", "globex"}, {"api_key_sha256", {ApiKeySha256Hex(kGlobexKey)}}}}},
        {"shutdown", {{"grace_period", "5s"}, {"drain_delay", "0s"}}}};
  }

  void StartPod(const nlohmann::json& doc, const std::string& config_path = "") {
    Result<PodConfig> cfg = ParsePodConfig(doc, dir_.path());
    ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
    PodStartOptions o;
    o.config_path = config_path;
    o.log_fd = log_fd_;
    auto pod = ShortenerPod::Start(*cfg, o);
    ASSERT_TRUE(pod.ok()) << pod.status().ToString();
    pod_ = std::move(*pod);
    WaitReady();
  }

  void WaitReady() {
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    while (Clock::now() < deadline) {
      auto r = HttpCall(port(), "GET", "/readyz");
      if (r.ok() && r->status == 200) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    FAIL() << "pod never became ready";
  }

  int port() const { return pod_->port(); }

  std::string CreateLink(const std::string& key, const std::string& url, int expect_status = 201) {
    auto r = HttpCall(port(), "POST", "/api/v1/links", nlohmann::json{{"url", url}}.dump(), Auth(key));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return "";
    EXPECT_EQ(r->status, expect_status) << r->body;
    return r->Json().value("code", "");
  }

  std::string Logs() {
    std::ifstream in(log_path_);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  TempDir dir_{"scaletwin-pod"};
  RedisServer* redis_ = nullptr;
  std::string log_path_;
  int log_fd_ = -1;
  std::unique_ptr<ShortenerPod> pod_;
};

TEST_F(PodTest, CreateRedirectGetDeleteRoundTrip) {
  StartPod(BaseConfig());
  auto created = HttpCall(port(), "POST", "/api/v1/links", R"({"url":"https://example.com/a?b=c"})", Auth(kAcmeKey));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  ASSERT_EQ(created->status, 201) << created->body;
  const std::string code = created->Json()["code"];
  EXPECT_EQ(code.size(), 7u);
  EXPECT_EQ(created->Json()["short_url"], "http://127.0.0.1:" + std::to_string(port()) + "/" + code);
  EXPECT_FALSE(created->Header("x-request-id").empty());

  auto redirect = HttpCall(port(), "GET", "/" + code);
  ASSERT_TRUE(redirect.ok());
  EXPECT_EQ(redirect->status, 302);
  EXPECT_EQ(redirect->Header("location"), "https://example.com/a?b=c");

  auto got = HttpCall(port(), "GET", "/api/v1/links/" + code, "", Auth(kAcmeKey));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->status, 200) << got->body;
  EXPECT_EQ(got->Json()["url"], "https://example.com/a?b=c");
  EXPECT_EQ(got->Json()["clicks"], 1);

  auto deleted = HttpCall(port(), "DELETE", "/api/v1/links/" + code, "", Auth(kAcmeKey));
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(deleted->status, 204);
  auto gone = HttpCall(port(), "GET", "/" + code);
  ASSERT_TRUE(gone.ok());
  EXPECT_EQ(gone->status, 404) << "a deleted link must not linger in the cache";
  EXPECT_EQ(gone->ErrorCode(), "not_found");
}

TEST_F(PodTest, AStartThatFailsReturnsAnErrorAndCleansUp) {
  nlohmann::json doc = BaseConfig();
  doc["storage"]["path"] = dir_.path() + "/no-such-dir/links.db";
  Result<PodConfig> cfg = ParsePodConfig(doc, dir_.path());
  ASSERT_TRUE(cfg.ok());
  auto pod = ShortenerPod::Start(*cfg, {.log_fd = log_fd_});
  ASSERT_FALSE(pod.ok());
  EXPECT_NE(pod.status().message().find("storage"), std::string::npos) << pod.status().ToString();

  doc = BaseConfig();
  doc["auth"]["jwt"]["secret_file"] = dir_.path() + "/missing.key";
  cfg = ParsePodConfig(doc, dir_.path());
  ASSERT_TRUE(cfg.ok());
  pod = ShortenerPod::Start(*cfg, {.log_fd = log_fd_});
  ASSERT_FALSE(pod.ok());
  EXPECT_NE(pod.status().message().find("secret_file"), std::string::npos) << pod.status().ToString();
}

TEST_F(PodTest, RequestIdIsEchoedWhenAcceptableAndReplacedWhenNot) {
  StartPod(BaseConfig());
  auto ok = HttpCall(port(), "GET", "/healthz", "", {{"X-Request-Id", "abc-123"}});
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->Header("x-request-id"), "abc-123");
  auto forged = HttpCall(port(), "GET", "/healthz", "", {{"X-Request-Id", "a\"b"}});
  ASSERT_TRUE(forged.ok());
  EXPECT_NE(forged->Header("x-request-id"), "a\"b");
  EXPECT_EQ(forged->Header("x-request-id").size(), 32u);
}

TEST_F(PodTest, AnotherTenantCannotReadOrDeleteALinkButRedirectsArePublic) {
  StartPod(BaseConfig());
  const std::string code = CreateLink(kAcmeKey, "https://acme.example/");
  auto read = HttpCall(port(), "GET", "/api/v1/links/" + code, "", Auth(kGlobexKey));
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->status, 404);
  auto del = HttpCall(port(), "DELETE", "/api/v1/links/" + code, "", Auth(kGlobexKey));
  ASSERT_TRUE(del.ok());
  EXPECT_EQ(del->status, 404);
  auto still = HttpCall(port(), "GET", "/api/v1/links/" + code, "", Auth(kAcmeKey));
  ASSERT_TRUE(still.ok());
  EXPECT_EQ(still->status, 200);
  auto redirect = HttpCall(port(), "GET", "/" + code);
  ASSERT_TRUE(redirect.ok());
  EXPECT_EQ(redirect->status, 302);
}

TEST_F(PodTest, CustomCodesConflictsAndBadLinksGetStableErrors) {
  StartPod(BaseConfig());
  auto post = [&](const std::string& body) {
    auto r = HttpCall(port(), "POST", "/api/v1/links", body, Auth(kAcmeKey));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : HttpReply{};
  };
  HttpReply first = post(R"({"url":"https://a.example/","code":"spring-sale"})");
  EXPECT_EQ(first.status, 201) << first.body;
  EXPECT_EQ(first.Json()["code"], "spring-sale");
  HttpReply taken = post(R"({"url":"https://b.example/","code":"spring-sale"})");
  EXPECT_EQ(taken.status, 409);
  EXPECT_EQ(taken.ErrorCode(), "code_taken");
  for (const char* body : {R"j({"url":"javascript:alert(1)"})j", R"({"url":"ftp://a.example/"})",
                           R"({"url":"https://a.example/","code":"x'; DROP TABLE links;--"})",
                           R"({"url":"https://a.example/","ttl":"-5s"})", R"({"url":"https://a.example/","extra":1})",
                           R"({"url":42})", R"({})"}) {
    HttpReply r = post(body);
    EXPECT_EQ(r.status, 400) << body << " -> " << r.body;
    EXPECT_EQ(r.ErrorCode(), "invalid_argument") << body;
  }
  for (const char* body : {"{not json", "[1,2]", "", "\"just a string\""}) {
    HttpReply r = post(body);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_EQ(r.ErrorCode(), "invalid_json") << body;
  }
  auto sql = HttpCall(port(), "GET", "/x'%20OR%201=1--");
  ASSERT_TRUE(sql.ok());
  EXPECT_EQ(sql->status, 404);
  auto ttl = post(R"({"url":"https://t.example/","ttl":"1h"})");
  EXPECT_EQ(ttl.status, 201);
  EXPECT_TRUE(ttl.Json().contains("expires_at"));
}

TEST_F(PodTest, MissingOrWrongCredentialsAre401) {
  StartPod(BaseConfig());
  const std::string body = R"({"url":"https://a.example/"})";
  for (const HttpHeaders& h : std::vector<HttpHeaders>{{},
                                                       {{"Authorization", "Bearer"}},
                                                       {{"Authorization", "Basic dXNlcjpwYXNz"}},
                                                       {{"Authorization", "Bearer wrong-key"}},
                                                       {{"Authorization", "Bearer " + ApiKeySha256Hex(kAcmeKey)}}}) {
    auto r = HttpCall(port(), "POST", "/api/v1/links", body, h);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 401) << (h.empty() ? "no header" : h[0].second);
    EXPECT_EQ(r->ErrorCode(), "unauthorized");
    EXPECT_EQ(r->Header("www-authenticate"), "Bearer");
  }
}

TEST_F(PodTest, JwtIsTheSecondWayInAndEveryBadTokenIs401) {
  StartPod(BaseConfig());
  const int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  const nlohmann::json good = {{"tenant", "globex"}, {"iss", "idp"}, {"aud", "shortener"}, {"exp", now + 600}};
  auto create = [&](const std::string& token) {
    auto r = HttpCall(port(), "POST", "/api/v1/links", R"({"url":"https://jwt.example/"})", Auth(token));
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : HttpReply{};
  };
  HttpReply ok = create(SignJwtHs256(good, kJwtSecret));
  EXPECT_EQ(ok.status, 201) << ok.body;

  auto with = [&](const char* key, nlohmann::json value) {
    nlohmann::json p = good;
    if (value.is_null())
      p.erase(key);
    else
      p[key] = value;
    return SignJwtHs256(p, kJwtSecret);
  };
  const std::string token = SignJwtHs256(good, kJwtSecret);
  const std::string header_none = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0";  // {"alg":"none","typ":"JWT"}
  const std::string payload = token.substr(token.find('.') + 1, token.rfind('.') - token.find('.') - 1);
  std::string tampered = token;
  tampered[tampered.size() - 3] = tampered[tampered.size() - 3] == 'A' ? 'B' : 'A';
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"expired", with("exp", now - 10)},
      {"not yet valid", with("nbf", now + 600)},
      {"wrong audience", with("aud", "someone-else")},
      {"wrong issuer", with("iss", "evil")},
      {"no issuer", with("iss", nullptr)},
      {"no expiry", with("exp", nullptr)},
      {"unknown tenant", with("tenant", "initech")},
      {"alg none", header_none + "." + payload + "."},
      {"wrong algorithm", SignJwtHs256(good, kJwtSecret, {{"alg", "HS512"}})},
      {"bad signature", tampered},
      {"wrong secret", SignJwtHs256(good, "another-secret")},
      {"malformed", "a.b.c"},
  };
  for (const auto& [what, t] : bad) {
    HttpReply r = create(t);
    EXPECT_EQ(r.status, 401) << what << ": " << r.body;
    EXPECT_EQ(r.ErrorCode(), "unauthorized") << what;
  }
}

TEST_F(PodTest, OverTheLimitIs429WithRetryAfterAndRateLimitHeaders) {
  nlohmann::json doc = BaseConfig();
  doc["tenants"][0]["limit"] = {{"requests", 3}, {"window", "10s"}};
  StartPod(doc);
  auto c = HttpTestClient::Connect(port());
  ASSERT_TRUE(c.ok());
  int created = 0;
  HttpReply last;
  for (int i = 0; i < 5; ++i) {
    auto r = c->Request("POST", "/api/v1/links", R"({"url":"https://a.example/"})", Auth(kAcmeKey));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    if (r->status == 201) ++created;
    last = *r;
  }
  EXPECT_EQ(created, 3);
  EXPECT_EQ(last.status, 429);
  EXPECT_EQ(last.ErrorCode(), "rate_limited");
  const int retry_after = std::stoi(last.Header("retry-after"));
  EXPECT_GE(retry_after, 1);
  EXPECT_LE(retry_after, 10);
  EXPECT_EQ(last.Header("ratelimit-limit"), "3");
  EXPECT_EQ(last.Header("ratelimit-remaining"), "0");
  // globex has no limit: unaffected.
  auto other = c->Request("POST", "/api/v1/links", R"({"url":"https://g.example/"})", Auth(kGlobexKey));
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->status, 201);
  auto metrics = HttpCall(port(), "GET", "/metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_NE(metrics->body.find("shortener_limiter_decisions_total{tenant=\"acme\",decision=\"refused\"} 2"),
            std::string::npos)
      << metrics->body;
}

TEST_F(PodTest, RedirectsChargeTheLinkOwnersLimit) {
  nlohmann::json doc = BaseConfig();
  doc["tenants"][0]["limit"] = {{"requests", 2}, {"window", "10s"}};
  StartPod(doc);
  const std::string code = CreateLink(kAcmeKey, "https://owner.example/");  // 1 of 2
  auto a = HttpCall(port(), "GET", "/" + code);
  auto b = HttpCall(port(), "GET", "/" + code);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->status, 302);
  EXPECT_EQ(b->status, 429);
}

TEST_F(PodTest, CacheHitsSkipTheDatabaseAndClicksStillAddUp) {
  StartPod(BaseConfig());
  const std::string code = CreateLink(kAcmeKey, "https://cached.example/");
  for (int i = 0; i < 5; ++i) {
    auto r = HttpCall(port(), "GET", "/" + code);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 302);
  }
  auto metrics = HttpCall(port(), "GET", "/metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_NE(metrics->body.find("shortener_cache_events_total{event=\"hit\"} 4"), std::string::npos) << metrics->body;
  EXPECT_NE(metrics->body.find("shortener_cache_events_total{event=\"miss\"} 1"), std::string::npos);
  auto got = HttpCall(port(), "GET", "/api/v1/links/" + code, "", Auth(kAcmeKey));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->Json()["clicks"], 5) << "1 counted by the database on the miss, 4 in Redis on hits";
}

TEST_F(PodTest, ACachedLinkStopsRedirectingWhenItExpires) {
  StartPod(BaseConfig());  // cache.ttl 5 min: only the link's own expiry can end the entry
  auto created =
      HttpCall(port(), "POST", "/api/v1/links", R"({"url":"https://brief.example/","ttl":"1s"})", Auth(kAcmeKey));
  ASSERT_TRUE(created.ok());
  ASSERT_EQ(created->status, 201) << created->body;
  const std::string code = created->Json()["code"];
  for (int i = 0; i < 2; ++i) {  // a miss that fills the cache, then a hit
    auto r = HttpCall(port(), "GET", "/" + code);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 302);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  auto expired = HttpCall(port(), "GET", "/" + code);
  ASSERT_TRUE(expired.ok());
  EXPECT_EQ(expired->status, 404) << "the cache entry outlived the link";
}

TEST_F(PodTest, ProbesAndMetricsAnswerAndReadinessFailsFromSigterm) {
  nlohmann::json doc = BaseConfig();
  doc["shutdown"] = {{"grace_period", "5s"}, {"drain_delay", "300ms"}};
  StartPod(doc);
  auto health = HttpCall(port(), "GET", "/healthz");
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(health->status, 200);
  auto metrics = HttpCall(port(), "GET", "/metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_EQ(metrics->status, 200);
  EXPECT_EQ(metrics->Header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  for (const char* family :
       {"# TYPE shortener_requests_total counter", "# TYPE shortener_request_duration_seconds histogram",
        "shortener_db_pool_connections{state=\"in_use\"}", "shortener_redis_pool_connections{state=\"idle\"}",
        "shortener_config_version 1", "process_start_time_seconds", "shortener_workers{state=\"busy\"}",
        "shortener_ready 1", "shortener_request_part_seconds_total"}) {
    EXPECT_NE(metrics->body.find(family), std::string::npos) << family;
  }
  pod_->Terminate();
  auto ready = HttpCall(port(), "GET", "/readyz");  // still accepting during drain_delay
  ASSERT_TRUE(ready.ok()) << ready.status().ToString();
  EXPECT_EQ(ready->status, 503);
  EXPECT_EQ(ready->ErrorCode(), "not_ready");
  EXPECT_EQ(pod_->Wait(), 0);
}

TEST_F(PodTest, MalformedOversizedAndSlowRequestsAreRefusedWithoutHarm) {
  nlohmann::json doc = BaseConfig();
  doc["http"] = {{"max_header_bytes", 2048}, {"max_body_bytes", 4096}, {"read_timeout", "300ms"}};
  StartPod(doc);
  auto raw = [&](const std::string& bytes) {
    auto c = HttpTestClient::Connect(port());
    EXPECT_TRUE(c.ok());
    auto r = c->RawRequest(bytes);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : HttpReply{};
  };
  HttpReply garbage = raw("HELLO WORLD\r\n\r\n");
  EXPECT_EQ(garbage.status, 400);
  EXPECT_EQ(garbage.ErrorCode(), "bad_request");
  EXPECT_FALSE(garbage.keep_alive);
  HttpReply bad_version = raw("GET / HTTP/9.9x\r\n\r\n");
  EXPECT_EQ(bad_version.status, 400);
  HttpReply big_header = raw("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(4000, 'a') + "\r\n\r\n");
  EXPECT_EQ(big_header.status, 431);
  EXPECT_EQ(big_header.ErrorCode(), "header_too_large");
  const std::string body(8000, 'x');
  HttpReply big_body = raw("POST /api/v1/links HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(body.size()) +
                           "\r\n\r\n" + body);
  EXPECT_EQ(big_body.status, 413);
  EXPECT_EQ(big_body.ErrorCode(), "body_too_large");
  HttpReply bad_target = raw("GET nowhere HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(bad_target.status, 400);
  HttpReply absolute = raw("GET http://pod.example/healthz HTTP/1.1\r\nHost: pod.example\r\n\r\n");
  EXPECT_EQ(absolute.status, 200) << "the absolute form names the same resource";

  // Slow loris: half a request, then silence — cut at read_timeout.
  auto slow = HttpTestClient::Connect(port());
  ASSERT_TRUE(slow.ok());
  ASSERT_TRUE(slow->Send("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ").ok());
  const auto t0 = Clock::now();
  EXPECT_TRUE(slow->ClosedByPeer(3 * kNanosPerSecond));
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds(2));

  auto health = HttpCall(port(), "GET", "/healthz");  // the pod is unharmed
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(health->status, 200);
}

TEST_F(PodTest, WhenEveryWorkerIsBusyAndTheQueueIsFullRequestsGet503QueueFull) {
  nlohmann::json doc = BaseConfig();
  doc["workers"] = 1;
  doc["queue_limit"] = 0;
  doc["work"] = {{"service_time", {{"dist", "constant"}, {"value", "400ms"}}}};
  StartPod(doc);
  const std::string code = CreateLink(kAcmeKey, "https://slow.example/");  // takes 400 ms itself
  // The create's answer can reach us a moment before its worker is free.
  const auto wait_for_busy = [&](int n) {
    const std::string line = "shortener_workers{state=\"busy\"} " + std::to_string(n) + "\n";
    const auto deadline = Clock::now() + std::chrono::seconds(5);
    while (Clock::now() < deadline) {
      auto m = HttpCall(port(), "GET", "/metrics");
      if (m.ok() && m->body.find(line) != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
  };
  ASSERT_TRUE(wait_for_busy(0));
  std::thread busy([&] {
    auto r = HttpCall(port(), "GET", "/" + code);
    EXPECT_TRUE(r.ok());
    if (r.ok()) {
      EXPECT_EQ(r->status, 302);
    }
  });
  // Wait until the one worker is taken (a sleep would race on a loaded machine).
  EXPECT_TRUE(wait_for_busy(1));
  auto refused = HttpCall(port(), "GET", "/" + code);
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->status, 503);
  EXPECT_EQ(refused->ErrorCode(), "queue_full");
  auto health = HttpCall(port(), "GET", "/healthz");  // probes bypass the workers
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(health->status, 200);
  busy.join();
}

TEST_F(PodTest, RedisDownFailsOpenOrClosedAsConfigured) {
  auto down = FindFreeLoopbackPort();
  ASSERT_TRUE(down.ok());
  for (const char* mode : {"fail_open", "fail_closed"}) {
    nlohmann::json doc = BaseConfig();
    doc["redis"] = {{"url", "redis://127.0.0.1:" + std::to_string(*down)}, {"connect_timeout", "100ms"}};
    doc["limiter"]["on_redis_error"] = mode;
    doc["tenants"][0]["limit"] = {{"requests", 100}, {"window", "1s"}};
    Result<PodConfig> cfg = ParsePodConfig(doc, dir_.path());
    ASSERT_TRUE(cfg.ok());
    auto pod = ShortenerPod::Start(*cfg, {.log_fd = log_fd_});
    ASSERT_TRUE(pod.ok()) << pod.status().ToString();
    auto ready = HttpCall((*pod)->port(), "GET", "/readyz");
    ASSERT_TRUE(ready.ok());
    EXPECT_EQ(ready->status, 503) << "not ready while Redis does not answer";
    auto r = HttpCall((*pod)->port(), "POST", "/api/v1/links", R"({"url":"https://a.example/"})", Auth(kAcmeKey));
    ASSERT_TRUE(r.ok());
    if (std::string(mode) == "fail_open") {
      EXPECT_EQ(r->status, 201) << r->body;
    } else {
      EXPECT_EQ(r->status, 503) << r->body;
      EXPECT_EQ(r->ErrorCode(), "redis_error");
    }
  }
}

TEST_F(PodTest, HeadHttp10PipeliningAndExpectContinueAreServedCorrectly) {
  StartPod(BaseConfig());
  const std::string code = CreateLink(kAcmeKey, "https://proto.example/");
  auto c = HttpTestClient::Connect(port());
  ASSERT_TRUE(c.ok());
  // HEAD: the GET's status and headers, Content-Length kept, no body.
  auto head = c->RawRequest("HEAD /" + code + " HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_EQ(head->status, 302);
  EXPECT_EQ(head->Header("location"), "https://proto.example/");
  EXPECT_NE(head->Header("content-length"), "0");
  EXPECT_TRUE(head->body.empty());
  auto after = c->Request("GET", "/healthz");  // the connection is still in step
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->status, 200);

  // Two requests in one write: two answers, in order.
  ASSERT_TRUE(c->Send("GET /" + code + " HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").ok());
  auto first = c->ReadReply();
  auto second = c->ReadReply();
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(first->status, 302);
  EXPECT_EQ(second->status, 200);

  // 204 carries no body.
  auto del = c->Request("DELETE", "/api/v1/links/" + code, "", Auth(kAcmeKey));
  ASSERT_TRUE(del.ok());
  EXPECT_EQ(del->status, 204);
  EXPECT_TRUE(del->body.empty());

  // HTTP/1.0 without keep-alive: answered as 1.0, then closed.
  auto c10 = HttpTestClient::Connect(port());
  ASSERT_TRUE(c10.ok());
  auto old = c10->RawRequest("GET /healthz HTTP/1.0\r\n\r\n");
  ASSERT_TRUE(old.ok()) << old.status().ToString();
  EXPECT_EQ(old->status, 200);
  EXPECT_FALSE(old->keep_alive);

  // Expect: 100-continue: the pod says so before the client sends the body.
  auto ce = HttpTestClient::Connect(port());
  ASSERT_TRUE(ce.ok());
  const std::string body = R"({"url":"https://continue.example/"})";
  ASSERT_TRUE(ce->Send("POST /api/v1/links HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + kAcmeKey +
                       "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nExpect: 100-continue\r\n\r\n")
                  .ok());
  auto cont = ce->ReadReply();
  ASSERT_TRUE(cont.ok()) << cont.status().ToString();
  EXPECT_EQ(cont->status, 100);
  ASSERT_TRUE(ce->Send(body).ok());
  auto created = ce->ReadReply();
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(created->status, 201) << created->body;
}

// Writes a ConfigMap volume the way kubelet's AtomicWriter does: the data in
// a timestamped dir, `..data` -> it, `config.json` -> ..data/config.json; an
// update renames a new `..data_tmp` symlink over `..data`.
class ConfigMapVolume {
 public:
  explicit ConfigMapVolume(std::string dir) : dir_(std::move(dir)) { fs::create_directories(dir_); }
  void Write(const nlohmann::json& doc) {
    const std::string gen = "..2026_12_03_18_00_00." + std::to_string(++generation_);
    fs::create_directory(dir_ + "/" + gen);
    std::ofstream(dir_ + "/" + gen + "/config.json") << doc.dump(2);
    fs::create_symlink(gen, dir_ + "/..data_tmp");
    fs::rename(dir_ + "/..data_tmp", dir_ + "/..data");
    if (!fs::exists(fs::symlink_status(dir_ + "/config.json")))
      fs::create_symlink("..data/config.json", dir_ + "/config.json");
    if (!previous_.empty()) fs::remove_all(dir_ + "/" + previous_);
    previous_ = gen;
  }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  std::string previous_;
  int generation_ = 0;
};

TEST_F(PodTest, HotReloadBySymlinkSwapChangesTheLimitWithoutDroppingRequests) {
  ConfigMapVolume volume(dir_.path() + "/config");
  nlohmann::json doc = BaseConfig();
  doc["tenants"][0]["limit"] = {{"requests", 100000}, {"window", "60s"}};
  doc["reload"] = {{"poll_interval", "5s"}};  // only inotify can make the test's deadline
  volume.Write(doc);
  Result<PodConfig> cfg = LoadPodConfig(volume.dir());
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  auto started = ShortenerPod::Start(*cfg, {.config_path = volume.dir(), .log_fd = log_fd_});
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  pod_ = std::move(*started);
  WaitReady();
  const std::string code = CreateLink(kAcmeKey, "https://reload.example/");

  // Load while the config changes: every answer is a redirect or a 429.
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, limited{0}, other{0};
  std::thread load([&] {
    auto c = HttpTestClient::Connect(port());
    ASSERT_TRUE(c.ok());
    while (!stop.load()) {
      auto r = c->Request("GET", "/" + code);
      if (r.ok() && r->status == 302)
        ok++;
      else if (r.ok() && r->status == 429)
        limited++;
      else
        other++;
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  doc["tenants"][0]["limit"] = {{"requests", 1}, {"window", "60s"}};
  volume.Write(doc);
  const auto deadline = Clock::now() + std::chrono::seconds(3);
  while (pod_->service().config_version() < 2 && Clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(pod_->service().config_version(), 2u);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  stop = true;
  load.join();
  EXPECT_GT(ok.load(), 0);
  EXPECT_GT(limited.load(), 0) << "the new limit of 1 per minute took effect";
  EXPECT_EQ(other.load(), 0) << "no request failed or was dropped during the swap";

  // An invalid config is logged and rejected; the old one keeps serving.
  doc["tenants"][0]["limit"] = {{"requests", -1}, {"window", "60s"}};
  volume.Write(doc);
  const auto log_deadline = Clock::now() + std::chrono::seconds(3);
  while (Logs().find("config rejected") == std::string::npos && Clock::now() < log_deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_NE(Logs().find("config rejected"), std::string::npos);
  EXPECT_NE(Logs().find("/tenants/0/limit/requests"), std::string::npos) << "the log names the bad key";
  EXPECT_EQ(pod_->service().config_version(), 2u);
  auto r = HttpCall(port(), "GET", "/" + code);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 429) << "still the version-2 limit";
  auto health = HttpCall(port(), "GET", "/readyz");
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(health->status, 200);
}

TEST_F(PodTest, LogsAreOneJsonObjectPerLineWithTheRequestFields) {
  StartPod(BaseConfig());
  const std::string code = CreateLink(kAcmeKey, "https://log.example/");
  ASSERT_TRUE(HttpCall(port(), "GET", "/" + code, "", {{"X-Request-Id", "trace-42"}}).ok());
  pod_.reset();
  std::istringstream lines(Logs());
  std::string line;
  bool found = false;
  while (std::getline(lines, line)) {
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    ASSERT_TRUE(j.is_object()) << line;
    for (const char* k : {"ts", "level", "msg", "pod"}) EXPECT_TRUE(j.contains(k)) << k << " in " << line;
    if (j.value("request_id", "") == "trace-42") {
      found = true;
      EXPECT_EQ(j["tenant"], "acme");
      EXPECT_EQ(j["route"], "redirect");
      EXPECT_EQ(j["status"], 302);
      EXPECT_TRUE(j["latency_ms"].is_number());
      EXPECT_EQ(j["pod"], "pod-test");
    }
  }
  EXPECT_TRUE(found);
}

// ---- PostgreSQL ------------------------------------------------------------

TEST_F(PodTest, OnPostgresTheSameRoutesWorkAndAFullServerIs503DbTooManyClients) {
  PostgresServerOptions po;
  po.max_connections = 6;
  po.superuser_reserved_connections = 3;  // an ordinary role gets 3 slots
  auto pg = PostgresServer::Start(po);
  ASSERT_TRUE(pg.ok()) << pg.status().ToString();
  ASSERT_TRUE((*pg)->Execute("CREATE ROLE app LOGIN").ok());
  ASSERT_TRUE((*pg)->Execute("CREATE DATABASE links OWNER app").ok());
  nlohmann::json doc = BaseConfig();
  doc["storage"] = {{"backend", "postgres"}, {"url", (*pg)->ConnInfo("links", "app")}, {"pool_size", 4}};
  StartPod(doc);
  const std::string code = CreateLink(kAcmeKey, "https://pg.example/");
  auto redirect = HttpCall(port(), "GET", "/" + code);
  ASSERT_TRUE(redirect.ok());
  EXPECT_EQ(redirect->status, 302);

  // Other pods take every remaining ordinary slot; then the pod's own
  // connection dies (as in a failover), so it must open a new one.
  std::vector<PGconn*> hogs;
  for (;;) {
    PGconn* c = PQconnectdb((*pg)->ConnInfo("links", "app").c_str());
    if (PQstatus(c) != CONNECTION_OK) {
      PQfinish(c);
      break;
    }
    hogs.push_back(c);
  }
  std::string hog_pids = "0";
  for (PGconn* h : hogs) hog_pids += "," + std::to_string(PQbackendPID(h));
  ASSERT_TRUE((*pg)
                  ->Execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'app' AND "
                            "pid NOT IN (" +
                            hog_pids + ")")
                  .ok());
  // The freed slot goes to another pod at once.
  PGconn* c = PQconnectdb((*pg)->ConnInfo("links", "app").c_str());
  if (PQstatus(c) == CONNECTION_OK)
    hogs.push_back(c);
  else
    PQfinish(c);

  std::string codes;
  bool saw_refusal = false;
  for (int i = 0; i < 4 && !saw_refusal; ++i) {
    auto r = HttpCall(port(), "POST", "/api/v1/links", R"({"url":"https://full.example/"})", Auth(kAcmeKey));
    ASSERT_TRUE(r.ok());
    codes += std::to_string(r->status) + ":" + r->ErrorCode() + " ";
    EXPECT_NE(r->status, 500) << r->body;
    saw_refusal = r->status == 503 && r->ErrorCode() == "db_too_many_clients";
  }
  EXPECT_TRUE(saw_refusal) << codes;
  auto metrics = HttpCall(port(), "GET", "/metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_EQ(metrics->body.find("shortener_db_too_many_clients_total 0\n"), std::string::npos);
  for (PGconn* h : hogs) PQfinish(h);
  pod_.reset();
}

TEST_F(PodTest, OnPostgresAnExhaustedPoolIs503PoolTimeout) {
  auto pg = PostgresServer::Start();
  ASSERT_TRUE(pg.ok()) << pg.status().ToString();
  nlohmann::json doc = BaseConfig();
  doc["storage"] = {
      {"backend", "postgres"}, {"url", (*pg)->ConnInfo()}, {"pool_size", 1}, {"acquire_timeout", "200ms"}};
  StartPod(doc);
  // Another client locks the links table: the pod's one connection blocks
  // inside an INSERT, so the next request finds the pool empty.
  PGconn* locker = PQconnectdb((*pg)->ConnInfo().c_str());
  ASSERT_EQ(PQstatus(locker), CONNECTION_OK);
  PQclear(PQexec(locker, "BEGIN"));
  PGresult* locked = PQexec(locker, "LOCK TABLE links IN ACCESS EXCLUSIVE MODE");
  ASSERT_EQ(PQresultStatus(locked), PGRES_COMMAND_OK) << PQerrorMessage(locker);
  PQclear(locked);
  std::thread blocked([&] {
    auto r = HttpCall(port(), "POST", "/api/v1/links", R"({"url":"https://held.example/"})", Auth(kAcmeKey));
    EXPECT_TRUE(r.ok());
    if (r.ok()) {
      EXPECT_EQ(r->status, 201) << "served once the lock is gone: " << r->body;
    }
  });
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  while (Clock::now() < deadline) {
    auto m = HttpCall(port(), "GET", "/metrics");
    if (m.ok() && m->body.find("shortener_db_pool_connections{state=\"in_use\"} 1\n") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  auto refused = HttpCall(port(), "GET", "/api/v1/links/whatever", "", Auth(kAcmeKey));
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->status, 503) << refused->body;
  EXPECT_EQ(refused->ErrorCode(), "pool_timeout");
  PQclear(PQexec(locker, "COMMIT"));
  blocked.join();
  PQfinish(locker);
  auto metrics = HttpCall(port(), "GET", "/metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_NE(metrics->body.find("shortener_db_pool_timeouts_total 1\n"), std::string::npos) << metrics->body;
  pod_.reset();
}

}  // namespace
}  // namespace scaletwin
