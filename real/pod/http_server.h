// HttpServer: the pod's HTTP/1.1 front end on Boost.Beast — accepts
// connections, reads requests within size and time bounds, runs each on the
// WorkerPool, writes the answer, keeps connections alive, and drains on
// shutdown.
//
// Contract:
// - Bounds: a request's header block is at most max_header_bytes (else 431)
//   and its body at most max_body_bytes (else 413); a connection waits at
//   most idle_timeout for the first byte of its next request, then
//   read_timeout for the whole request (a slow-loris sender is cut off
//   there), and write_timeout for the whole answer. A malformed request gets
//   400 and the connection is closed; every such answer is a JSON error body
//   made by the handler (HttpHandler::Error) with a stable code.
// - One request at a time per connection (pipelined requests wait in the
//   buffer); the next one is read only after the answer is written.
// - Requests the handler marks `inline` (health, readiness, metrics) run on
//   the I/O thread so probes and scrapes answer while every worker is busy;
//   every other request goes through WorkerPool::TrySubmit and, when it is
//   refused, is answered by HttpHandler::Overloaded (503 queue_full).
// - Drain: StopAccepting() takes the connections already in the kernel's
//   accept queue, closes the listener (new connections are refused by the
//   kernel from then on), closes every idle keep-alive connection with a
//   FIN (never an RST), and marks answers still to be written
//   `Connection: close`. A request already being read or handled is
//   finished and answered; a connection accepted during the drain is served
//   once. active() counts open connections; the pod waits for it to reach 0.
// - `Expect: 100-continue` is answered before the body is read.
// - More than max_connections open connections: new ones are closed at once.
//
//   HttpServer server(io, handler, workers, options);
//   Status s = server.Listen("127.0.0.1", 0);   // server.port() is the bound port
//   server.Start();                           // accept loop on `io`
//   ... io.run() on io_threads threads ...
//   server.StopAccepting();                   // SIGTERM + drain_delay
//
// Thread-safety: Listen/Start before io.run(); StopAccepting, active(),
// port() from any thread. The handler is called concurrently from many
// threads.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "model/duration.h"
#include "model/status.h"
#include "real/pod/worker_pool.h"

namespace scaletwin {

using HttpRequest = boost::beast::http::request<boost::beast::http::string_body>;
using HttpResponse = boost::beast::http::response<boost::beast::http::string_body>;

// What the server calls. Implementations must be thread-safe.
class HttpHandler {
 public:
  virtual ~HttpHandler() = default;
  // True iff `req` is cheap and non-blocking (answered on the I/O thread).
  virtual bool IsInline(const HttpRequest& req) const = 0;
  // Answers `req`, read completely at `received` (so the time it waited
  // for a worker counts in its latency, as in the simulator). Called on a
  // worker (or the I/O thread when inline). An exception becomes a 500.
  virtual HttpResponse Handle(const HttpRequest& req, std::chrono::steady_clock::time_point received) = 0;
  // The answer when no worker and no queue slot was free.
  virtual HttpResponse Overloaded(const HttpRequest& req, std::chrono::steady_clock::time_point received) = 0;
  // The answer to a request that could not be read: `status` 400, 413 or
  // 431, `code` a stable error code, `message` for humans.
  virtual HttpResponse Error(unsigned status, const std::string& code, const std::string& message,
                             unsigned version) = 0;
};

struct HttpServerOptions {
  int64_t max_header_bytes = 8 * 1024;
  int64_t max_body_bytes = 64 * 1024;
  Nanos read_timeout = 10 * kNanosPerSecond;
  Nanos write_timeout = 10 * kNanosPerSecond;
  Nanos idle_timeout = 60 * kNanosPerSecond;
  int64_t max_connections = 10'000;
};

struct HttpServerStats {
  uint64_t accepted = 0;
  uint64_t refused_connections = 0;  // over max_connections
  uint64_t bad_requests = 0;         // 400/413/431 from the reader
  uint64_t read_timeouts = 0;        // connections cut while a request was incomplete
  int64_t active = 0;                // open connections
};

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& io, HttpHandler& handler, WorkerPool& workers, HttpServerOptions options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens (SO_REUSEADDR). Port 0 picks a free port.
  Status Listen(const std::string& host, int port);
  int port() const { return port_; }
  // Starts the accept loop. REQUIRES: Listen succeeded.
  void Start();
  // Begins the drain described above. Idempotent.
  void StopAccepting();
  bool draining() const;
  int64_t active() const;
  HttpServerStats stats() const;

  struct State;   // shared with the sessions, which may outlive the server object
  class Session;  // one connection

 private:
  void Accept();
  void Admit(boost::asio::ip::tcp::socket socket);

  boost::asio::io_context& io_;
  boost::asio::ip::tcp::acceptor acceptor_;  // on its own strand: accept, retry and close never race
  boost::asio::steady_timer retry_timer_;
  std::shared_ptr<State> state_;
  int port_ = 0;
};

}  // namespace scaletwin
