// HttpTestClient: a small blocking HTTP/1.1 client for tests and benchmarks
// of the real pod — plain POSIX sockets with poll() deadlines, responses
// parsed by Beast's parser (so a malformed answer is an error, not a guess).
//
//   auto c = HttpTestClient::Connect(port);
//   Result<HttpReply> r = c->Request("POST", "/api/v1/links", R"({"url":"https://a.example/"})",
//                                    {{"Authorization", "Bearer " + key}});
//   EXPECT_EQ(r->status, 201);
//
// Keep-alive: requests on one client share its connection; after a
// `Connection: close` answer the next request reconnects. Transport errors
// (refused, reset, timeout, EOF before a whole answer) are IOError Statuses
// whose message says which (tests of graceful shutdown tell resets apart).
// Thread-safety: one client per thread.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "model/duration.h"
#include "model/status.h"

namespace scaletwin {

struct HttpReply {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  bool keep_alive = true;
  // The body as JSON (null when it is not JSON).
  nlohmann::json Json() const;
  // `error.code` of a JSON error body, or "".
  std::string ErrorCode() const;
  std::string Header(const std::string& lower_name) const;
};

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

class HttpTestClient {
 public:
  static Result<HttpTestClient> Connect(int port, std::string host = "127.0.0.1", Nanos timeout = 10 * kNanosPerSecond);
  HttpTestClient(HttpTestClient&& other) noexcept;
  HttpTestClient& operator=(HttpTestClient&& other) noexcept;
  ~HttpTestClient();

  Result<HttpReply> Request(const std::string& method, const std::string& target, const std::string& body = "",
                            const HttpHeaders& headers = {});
  // Writes raw bytes (a request in any shape) and reads one answer.
  Result<HttpReply> RawRequest(const std::string& bytes);
  // Writes raw bytes only. REQUIRES: connected.
  Status Send(const std::string& bytes);
  // Reads one answer (to a HEAD request when `head`: no body follows).
  Result<HttpReply> ReadReply(bool head = false);
  // True iff the server has closed the connection (EOF, readable with no
  // data), waiting at most `wait`.
  bool ClosedByPeer(Nanos wait);
  void Close();

 private:
  HttpTestClient() = default;
  Status Reconnect();

  std::string host_;
  int port_ = 0;
  Nanos timeout_ = 0;
  int fd_ = -1;
  std::string pending_;  // bytes read past the last answer
};

// One request on a fresh connection.
Result<HttpReply> HttpCall(int port, const std::string& method, const std::string& target, const std::string& body = "",
                           const HttpHeaders& headers = {});

}  // namespace scaletwin
