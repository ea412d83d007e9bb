#include "testsupport/http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>

namespace scaletwin {

namespace http = boost::beast::http;

nlohmann::json HttpReply::Json() const { return nlohmann::json::parse(body, nullptr, false); }

std::string HttpReply::ErrorCode() const {
  nlohmann::json j = Json();
  if (j.is_object() && j.contains("error") && j["error"].is_object() && j["error"].contains("code") &&
      j["error"]["code"].is_string())
    return j["error"]["code"].get<std::string>();
  return "";
}

std::string HttpReply::Header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? "" : it->second;
}

Result<HttpTestClient> HttpTestClient::Connect(int port, std::string host, Nanos timeout) {
  HttpTestClient c;
  c.host_ = std::move(host);
  c.port_ = port;
  c.timeout_ = timeout;
  if (Status s = c.Reconnect(); !s.ok()) return s;
  return c;
}

HttpTestClient::HttpTestClient(HttpTestClient&& o) noexcept
    : host_(std::move(o.host_)), port_(o.port_), timeout_(o.timeout_), fd_(o.fd_), pending_(std::move(o.pending_)) {
  o.fd_ = -1;
}

HttpTestClient& HttpTestClient::operator=(HttpTestClient&& o) noexcept {
  if (this != &o) {
    Close();
    host_ = std::move(o.host_);
    port_ = o.port_;
    timeout_ = o.timeout_;
    fd_ = o.fd_;
    pending_ = std::move(o.pending_);
    o.fd_ = -1;
  }
  return *this;
}

HttpTestClient::~HttpTestClient() { Close(); }

void HttpTestClient::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  pending_.clear();
}

Status HttpTestClient::Reconnect() {
  Close();
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return Status::IOError(std::string("socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port_));
  if (inet_pton(AF_INET, host_.c_str(), &addr.sin_addr) != 1) {
    Close();
    return Status::InvalidArgument("bad host " + host_);
  }
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    const int e = errno;
    Close();
    return Status::IOError(std::string(e == ECONNREFUSED ? "refused" : "connect") + ": " + std::strerror(e));
  }
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return Status::Ok();
}

Status HttpTestClient::Send(const std::string& bytes) {
  if (fd_ < 0) return Status::IOError("not connected");
  size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0)
      return Status::IOError(std::string(errno == ECONNRESET || errno == EPIPE ? "reset" : "write") + ": " +
                             std::strerror(errno));
    off += static_cast<size_t>(n);
  }
  return Status::Ok();
}

Result<HttpReply> HttpTestClient::ReadReply(bool head) {
  if (fd_ < 0) return Status::IOError("not connected");
  http::response_parser<http::string_body> parser;
  parser.eager(true);
  parser.skip(head);  // an answer to HEAD has a Content-Length but no body
  parser.body_limit(64u << 20);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::nanoseconds(timeout_);
  std::string buf = std::move(pending_);
  pending_.clear();
  for (;;) {
    boost::beast::error_code ec;
    while (!buf.empty() && !parser.is_done()) {
      size_t used = parser.put(boost::asio::buffer(buf), ec);
      if (ec == http::error::need_more) {
        ec = {};
        break;
      }
      if (ec) return Status::IOError("malformed answer: " + ec.message());
      buf.erase(0, used);
      if (used == 0) break;
    }
    if (parser.is_done()) break;
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return Status::IOError("timeout waiting for the answer");
    pollfd p{fd_, POLLIN, 0};
    int pr = ::poll(&p, 1, static_cast<int>(left.count()));
    if (pr < 0 && errno == EINTR) continue;
    if (pr == 0) return Status::IOError("timeout waiting for the answer");
    char chunk[16384];
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int e = errno;
      Close();
      return Status::IOError(std::string(e == ECONNRESET ? "reset" : "read") + ": " + std::strerror(e));
    }
    if (n == 0) {
      // EOF: a body delimited by the close is complete now.
      // EOF: a body delimited by the close is complete now; EOF before a
      // whole header is no answer at all (Beast would call it done).
      if (parser.is_header_done()) parser.put_eof(ec);
      if (parser.is_header_done() && !ec && parser.is_done()) break;
      Close();
      return Status::IOError("eof before a whole answer");
    }
    buf.append(chunk, static_cast<size_t>(n));
  }
  pending_ = std::move(buf);
  auto& res = parser.get();
  HttpReply reply;
  reply.status = static_cast<int>(res.result_int());
  for (const auto& f : res) {
    std::string name(f.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    reply.headers[name] = std::string(f.value());
  }
  reply.body = res.body();
  reply.keep_alive = res.keep_alive();
  if (!reply.keep_alive) Close();
  return reply;
}

Result<HttpReply> HttpTestClient::RawRequest(const std::string& bytes) {
  if (fd_ < 0)
    if (Status s = Reconnect(); !s.ok()) return s;
  if (Status s = Send(bytes); !s.ok()) return s;
  return ReadReply(bytes.rfind("HEAD ", 0) == 0);
}

Result<HttpReply> HttpTestClient::Request(const std::string& method, const std::string& target, const std::string& body,
                                          const HttpHeaders& headers) {
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: " + host_ + ":" + std::to_string(port_) + "\r\n";
  bool has_type = false;
  for (const auto& [k, v] : headers) {
    req += k + ": " + v + "\r\n";
    has_type = has_type || strcasecmp(k.c_str(), "content-type") == 0;
  }
  if (!body.empty() || method == "POST" || method == "PUT") {
    if (!has_type) req += "Content-Type: application/json\r\n";
    req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  req += "\r\n" + body;
  return RawRequest(req);
}

bool HttpTestClient::ClosedByPeer(Nanos wait) {
  if (fd_ < 0) return true;
  pollfd p{fd_, POLLIN, 0};
  const int pr = ::poll(&p, 1, static_cast<int>(wait / kNanosPerMilli));
  if (pr <= 0) return false;
  char c;
  const ssize_t n = ::recv(fd_, &c, 1, MSG_PEEK);
  return n <= 0;
}

Result<HttpReply> HttpCall(int port, const std::string& method, const std::string& target, const std::string& body,
                           const HttpHeaders& headers) {
  auto c = HttpTestClient::Connect(port);
  if (!c.ok()) return c.status();
  return c->Request(method, target, body, headers);
}

}  // namespace scaletwin
