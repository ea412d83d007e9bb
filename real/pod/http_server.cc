#include "real/pod/http_server.h"

#include <algorithm>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <chrono>
#include <mutex>
#include <optional>
#include <set>

namespace scaletwin {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

struct HttpServer::State {
  State(HttpHandler& h, WorkerPool& w, HttpServerOptions o) : handler(h), workers(w), options(o) {}
  HttpHandler& handler;
  WorkerPool& workers;
  const HttpServerOptions options;
  std::atomic<bool> draining{false};
  std::atomic<int64_t> active{0};
  std::atomic<uint64_t> accepted{0}, refused{0}, bad_requests{0}, read_timeouts{0};
  std::mutex mu;
  std::set<std::weak_ptr<Session>, std::owner_less<std::weak_ptr<Session>>> sessions;
};

namespace {

std::chrono::nanoseconds Ns(Nanos n) { return std::chrono::nanoseconds(n); }

// How long a closing connection waits for the client's FIN after our own:
// closing with unread bytes in the receive buffer would send an RST, which
// can destroy the answer (a 400 or 413) before the client reads it. Each
// burst of discarded input buys another kLingerAfterClose (a client still
// uploading the body we refused), up to kMaxLinger in all.
constexpr Nanos kLingerAfterClose = 500 * kNanosPerMilli;
constexpr Nanos kMaxLinger = 5 * kNanosPerSecond;

// An idle keep-alive connection gives back a read buffer larger than this
// (one that grew for a large body): thousands of idle clients must not pin
// a body-sized buffer each.
constexpr size_t kIdleBufferBytes = 16 * 1024;

}  // namespace

class HttpServer::Session : public std::enable_shared_from_this<HttpServer::Session> {
 public:
  Session(std::shared_ptr<State> state, tcp::socket socket) : state_(std::move(state)), stream_(std::move(socket)) {
    state_->active.fetch_add(1);
  }
  ~Session() { state_->active.fetch_sub(1); }

  void Start() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->WaitForRequest(); });
  }

  // Drain: an idle connection is closed now; a busy one after its answer.
  void CloseIfIdle() {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      if (!self->idle_ || self->closing_) return;
      self->BeginClose();
      // The pending idle read keeps the deadline it started with; cancel it
      // so that Drain's reads run under the linger deadline.
      beast::error_code ignored;
      self->stream_.socket().cancel(ignored);
    });
  }

 private:
  void WaitForRequest() {
    if (buffer_.size() > 0) return ReadRequest();  // a pipelined request is already here
    // A connection that served a request and is now idle closes when the pod
    // drains; a new one (accepted during the drain) is served once first.
    if (state_->draining.load() && served_ > 0) return CloseGracefully();
    idle_ = true;
    if (buffer_.capacity() > kIdleBufferBytes) buffer_.shrink_to_fit();  // idle connections keep no large buffer
    stream_.expires_after(Ns(state_->options.idle_timeout));
    stream_.async_read_some(buffer_.prepare(4096), [self = shared_from_this()](beast::error_code ec, size_t n) {
      self->idle_ = false;
      if (ec == net::error::operation_aborted && self->closing_) return self->Drain();
      if (ec) return self->Close();
      self->buffer_.commit(n);
      if (self->closing_) return self->Drain();
      self->ReadRequest();
    });
  }

  void ReadRequest() {
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(state_->options.max_header_bytes));
    parser_->body_limit(static_cast<uint64_t>(state_->options.max_body_bytes));
    stream_.expires_after(Ns(state_->options.read_timeout));
    http::async_read_header(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec || self->parser_->is_done()) return self->OnRead(ec);
      // A client that asked to be told before sending its body (curl, Java,
      // .NET for larger bodies) gets 100 Continue; the body limit was
      // already checked against Content-Length by the header read.
      const auto expect = self->parser_->get()[http::field::expect];
      if (beast::iequals(expect, "100-continue") && self->parser_->get().version() >= 11) {  // no 1xx to HTTP/1.0
        auto cont = std::make_shared<std::string>("HTTP/1.1 100 Continue\r\n\r\n");
        net::async_write(self->stream_, net::buffer(*cont), [self, cont](beast::error_code wec, size_t) {
          if (wec) return self->Close();
          self->ReadBody();
        });
        return;
      }
      self->ReadBody();
    });
  }

  void ReadBody() {
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    if (ec == beast::error::timeout) {
      state_->read_timeouts.fetch_add(1);
      return Close();
    }
    if (ec == http::error::end_of_stream || ec == net::error::eof || ec == net::error::connection_reset ||
        ec == net::error::operation_aborted) {
      return Close();
    }
    if (ec) {
      state_->bad_requests.fetch_add(1);
      const unsigned version = parser_->get().version() ? parser_->get().version() : 11;
      if (ec == http::error::header_limit) {
        return WriteError(state_->handler.Error(
            431, "header_too_large",
            "request headers exceed " + std::to_string(state_->options.max_header_bytes) + " bytes", version));
      }
      if (ec == http::error::body_limit) {
        return WriteError(state_->handler.Error(
            413, "body_too_large", "request body exceeds " + std::to_string(state_->options.max_body_bytes) + " bytes",
            version));
      }
      if (ec.category() == http::make_error_code(http::error::bad_target).category()) {
        // A parse error: the stream cannot be resynchronised, so answer and close.
        return WriteError(
            state_->handler.Error(400, "bad_request", "malformed HTTP request: " + ec.message(), version));
      }
      return Close();
    }
    const auto received = std::chrono::steady_clock::now();
    auto req = std::make_shared<HttpRequest>(parser_->release());
    parser_.reset();
    keep_alive_ = req->keep_alive();
    ++served_;
    if (state_->handler.IsInline(*req)) return Write(SafeHandle(*state_, *req, received));
    auto self = shared_from_this();
    const bool accepted = state_->workers.TrySubmit([self, req, received] {
      auto res = std::make_shared<HttpResponse>(SafeHandle(*self->state_, *req, received));
      net::post(self->stream_.get_executor(), [self, res] { self->Write(std::move(*res)); });
    });
    if (!accepted) Write(state_->handler.Overloaded(*req, received));
  }

  // The handler's answer; a 500 instead of a dead process if it throws.
  static HttpResponse SafeHandle(State& state, const HttpRequest& req, std::chrono::steady_clock::time_point t) {
    try {
      return state.handler.Handle(req, t);
    } catch (const std::exception& e) {
      return state.handler.Error(500, "internal", std::string("unexpected failure: ") + e.what(), req.version());
    }
  }

  void WriteError(HttpResponse res) {
    keep_alive_ = false;
    if (parser_ && parser_->is_header_done() && parser_->get().method() == http::verb::head) {
      res.content_length(res.body().size());  // an answer to HEAD has no body
      res.body().clear();
    }
    Write(std::move(res));
  }

  void Write(HttpResponse res) {
    res.keep_alive(keep_alive_ && !state_->draining.load());
    if (!res.has_content_length() && !res.chunked()) res.prepare_payload();
    response_ = std::make_shared<HttpResponse>(std::move(res));
    stream_.expires_after(Ns(state_->options.write_timeout));
    http::async_write(stream_, *response_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->Close();
      const bool keep = self->response_->keep_alive();
      self->response_.reset();
      if (!keep) return self->CloseGracefully();
      self->WaitForRequest();
    });
  }

  // FIN first, then discard whatever the client still sends until its own
  // FIN or the linger deadline: closing a socket with unread input sends an
  // RST, which can destroy an answer (a 400, a 413, the last keep-alive
  // answer before a drain) before the client has read it. A request that
  // crosses our FIN is never read; its client sees EOF — the keep-alive race
  // HTTP/1.1 clients retry.
  void CloseGracefully() {
    BeginClose();
    Drain();
  }

  void BeginClose() {
    closing_ = true;
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    const auto now = std::chrono::steady_clock::now();
    linger_until_ = now + Ns(kLingerAfterClose);
    linger_cap_ = now + Ns(kMaxLinger);
  }

  // Discards input until EOF or linger_until_. The deadline is set per
  // read: Beast applies an expiry only to operations started after it.
  void Drain() {
    buffer_.consume(buffer_.size());
    stream_.expires_at(linger_until_);
    stream_.async_read_some(buffer_.prepare(4096), [self = shared_from_this()](beast::error_code ec, size_t n) {
      if (ec) return self->Close();
      self->buffer_.commit(n);
      self->linger_until_ = std::min(self->linger_cap_, std::chrono::steady_clock::now() + Ns(kLingerAfterClose));
      self->Drain();
    });
  }

  void Close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
  }

  std::shared_ptr<State> state_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<HttpResponse> response_;
  bool keep_alive_ = true;
  bool idle_ = false;
  bool closing_ = false;  // FIN sent; reading only to discard
  uint64_t served_ = 0;   // requests read on this connection
  std::chrono::steady_clock::time_point linger_until_, linger_cap_;
};

HttpServer::HttpServer(net::io_context& io, HttpHandler& handler, WorkerPool& workers, HttpServerOptions options)
    : io_(io),
      acceptor_(net::make_strand(io)),
      retry_timer_(acceptor_.get_executor()),
      state_(std::make_shared<State>(handler, workers, options)) {}

HttpServer::~HttpServer() {
  beast::error_code ignored;
  acceptor_.close(ignored);
}

Status HttpServer::Listen(const std::string& host, int port) {
  beast::error_code ec;
  const auto address = net::ip::make_address(host, ec);
  if (ec) return Status::InvalidArgument("listen: not an IP address: " + host);
  const tcp::endpoint endpoint(address, static_cast<unsigned short>(port));
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    acceptor_.close();
    return Status::IOError("listen on " + host + ":" + std::to_string(port) + ": " + ec.message());
  }
  port_ = acceptor_.local_endpoint().port();
  return Status::Ok();
}

void HttpServer::Start() {
  net::dispatch(acceptor_.get_executor(), [this] { Accept(); });
}

// Runs on the acceptor's strand, as does everything else touching acceptor_.
void HttpServer::Accept() {
  acceptor_.async_accept(net::make_strand(io_), [this](beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;  // StopAccepting
    if (ec) {
      // Out of descriptors or memory: retry shortly instead of spinning.
      retry_timer_.expires_after(std::chrono::milliseconds(100));
      retry_timer_.async_wait([this](beast::error_code wec) {
        if (!wec && acceptor_.is_open()) Accept();
      });
      return;
    }
    Admit(std::move(socket));
    Accept();
  });
}

void HttpServer::Admit(tcp::socket socket) {
  State& state = *state_;
  state.accepted.fetch_add(1);
  beast::error_code ec;
  if (state.active.load() >= state.options.max_connections) {
    state.refused.fetch_add(1);
    socket.close(ec);
    return;
  }
  socket.set_option(tcp::no_delay(true), ec);
  auto session = std::make_shared<Session>(state_, std::move(socket));
  {
    std::lock_guard<std::mutex> lock(state.mu);
    // Forget sessions that ended, so the set stays as small as the live ones.
    for (auto it = state.sessions.begin(); it != state.sessions.end();)
      it = it->expired() ? state.sessions.erase(it) : std::next(it);
    state.sessions.insert(session);
  }
  session->Start();
}

void HttpServer::StopAccepting() {
  if (state_->draining.exchange(true)) return;
  net::post(acceptor_.get_executor(), [this] {
    // Connections the kernel already completed are in the accept queue;
    // closing the listener would reset them. Take them first — each is
    // served once with Connection: close — then close.
    beast::error_code ec;
    acceptor_.cancel(ec);
    acceptor_.non_blocking(true, ec);
    for (int i = 0; i < 4096 && !ec; ++i) {
      tcp::socket socket(net::make_strand(io_));
      acceptor_.accept(socket, ec);
      if (!ec) Admit(std::move(socket));
    }
    acceptor_.close(ec);
    retry_timer_.cancel();
  });
  std::vector<std::shared_ptr<Session>> live;
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    for (auto& w : state_->sessions)
      if (auto s = w.lock()) live.push_back(std::move(s));
  }
  for (auto& s : live) s->CloseIfIdle();
}

bool HttpServer::draining() const { return state_->draining.load(); }
int64_t HttpServer::active() const { return state_->active.load(); }

HttpServerStats HttpServer::stats() const {
  HttpServerStats s;
  s.accepted = state_->accepted.load();
  s.refused_connections = state_->refused.load();
  s.bad_requests = state_->bad_requests.load();
  s.read_timeouts = state_->read_timeouts.load();
  s.active = state_->active.load();
  return s;
}

}  // namespace scaletwin
