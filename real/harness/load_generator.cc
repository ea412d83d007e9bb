#include "real/harness/load_generator.h"

#include <sys/socket.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <cerrno>
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

namespace scaletwin {

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

constexpr Nanos kProgressInterval = kNanosPerSecond;
constexpr const char* kUserAgent = "scaletwin-loadgen";

std::chrono::nanoseconds Ns(Nanos n) { return std::chrono::nanoseconds(n); }

struct Connection {
  explicit Connection(net::io_context& io) : stream(io) {}
  beast::tcp_stream stream;
  beast::flat_buffer buffer;  // empty between responses: a reused connection starts clean
};

// One request from dispatch to outcome. The message is kept whole so that a
// retry can write it again.
struct Exchange {
  size_t index = 0;
  uint32_t endpoint = 0;
  Nanos sent_at = 0;
  SteadyClock::time_point deadline;  // request_timeout from dispatch; a retry keeps it
  http::request<http::string_body> request;
  std::optional<http::response_parser<http::string_body>> parser;
  std::shared_ptr<Connection> conn;
  bool reused = false;
  bool retried = false;
};

void Close(Connection& conn) {
  beast::error_code ignored;
  conn.stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  conn.stream.socket().close(ignored);
}

// True iff the peer has neither closed nor reset an idle connection, nor sent
// it anything unasked (which would be read as the next request's answer). A
// non-blocking peek costs one syscall and catches the common stale case —
// the server's idle timeout closed the connection long ago — before a
// request is spent on it.
bool IdleConnectionUsable(Connection& conn) {
  if (!conn.stream.socket().is_open()) return false;
  char byte;
  const ssize_t n = ::recv(conn.stream.socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

// The failures by which a kept-alive connection shows that the server closed
// it while our request was on its way.
bool IsStaleConnectionError(const beast::error_code& ec) {
  return ec == http::error::end_of_stream || ec == net::error::eof || ec == net::error::connection_reset ||
         ec == net::error::broken_pipe || ec == net::error::connection_aborted;
}

// Classifies a failure while writing the request or reading the response.
LoadTransport ExchangeFailure(const beast::error_code& ec) {
  if (ec == beast::error::timeout) return LoadTransport::kTimeout;
  if (ec == http::error::end_of_stream || ec == http::error::partial_message) return LoadTransport::kReset;
  if (ec.category() == http::make_error_code(http::error::bad_version).category()) return LoadTransport::kProtocolError;
  return LoadTransport::kReset;
}

// error.code of a JSON error body, or "" when the body is not one.
std::string ErrorCodeOf(const std::string& body) {
  const nlohmann::json doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) return "";
  const auto error = doc.find("error");
  if (error == doc.end() || !error->is_object()) return "";
  const auto code = error->find("code");
  if (code == error->end() || !code->is_string()) return "";
  return code->get<std::string>();
}

// Methods whose requests announce an empty body explicitly (RFC 9110 §8.6).
bool ExpectsBody(http::verb method) {
  return method == http::verb::post || method == http::verb::put || method == http::verb::patch;
}

class LoadRun {
 public:
  LoadRun(std::vector<tcp::endpoint> addresses, std::vector<std::string> host_headers,
          const std::vector<ScheduledRequest>& schedule, const std::function<uint32_t(size_t, Nanos)>& pick,
          const std::function<void(const RequestOutcome&)>& done, const LoadGeneratorOptions& options)
      : addresses_(std::move(addresses)),
        host_headers_(std::move(host_headers)),
        schedule_(schedule),
        pick_(pick),
        done_(done),
        options_(options),
        request_timeout_(std::min(options.request_timeout, kMaxDuration)),
        connect_timeout_(std::min(options.connect_timeout, kMaxDuration)),
        idle_(addresses_.size()),
        lags_(schedule.size(), 0) {}

  Result<LoadRunStats> Run() {
    start_ = options_.start.value_or(SteadyClock::now());
    ArmSchedule();
    if (options_.progress && !schedule_.empty()) ArmProgress();
    if (options_.cancel && !schedule_.empty()) ArmCancelPoll();
    io_.run();
    if (cancelled_) {
      // The handlers still queued hold the exchanges in flight; destroying
      // them unrun (with io_) closes their connections and calls no done.
      return Status::Cancelled("load generator: stopped after " + std::to_string(dispatched_) + " of " +
                               std::to_string(schedule_.size()) + " requests");
    }
    // Every exchange has ended, so no handler holds an idle connection.
    for (auto& stack : idle_)
      for (auto& conn : stack) Close(*conn);
    if (bad_pick_) {
      return Status::InvalidArgument("pick returned endpoint " + std::to_string(*bad_pick_) + " for request " +
                                     std::to_string(bad_pick_index_) + "; there are " +
                                     std::to_string(addresses_.size()) + " endpoints");
    }
    stats_.wall = last_done_at_;
    if (!lags_.empty()) {
      stats_.lag_max = *std::max_element(lags_.begin(), lags_.end());
      const size_t rank = (lags_.size() * 99 + 99) / 100;  // nearest rank: ceil(0.99 n)
      std::nth_element(lags_.begin(), lags_.begin() + static_cast<ptrdiff_t>(rank - 1), lags_.end());
      stats_.lag_p99 = lags_[rank - 1];
    }
    return stats_;
  }

 private:
  Nanos Now() const { return (SteadyClock::now() - start_).count(); }

  void ArmSchedule() {
    if (next_ >= schedule_.size()) return;
    timer_.expires_at(start_ + Ns(schedule_[next_].at));
    timer_.async_wait([this](beast::error_code ec) {
      if (ec) return;
      // A burst longer than the gap to the next arrival takes that one too:
      // the clock, not the timer, decides what is due.
      while (next_ < schedule_.size() && schedule_[next_].at <= Now()) Dispatch(next_++);
      ArmSchedule();
    });
  }

  void ArmProgress() {
    progress_timer_.expires_after(Ns(kProgressInterval));
    progress_timer_.async_wait([this](beast::error_code ec) {
      if (ec || completed_ == schedule_.size()) return;
      options_.progress(Now(), dispatched_, completed_);
      ArmProgress();
    });
  }

  void ArmCancelPoll() {
    cancel_timer_.expires_after(Ns(kCancelPollInterval));
    cancel_timer_.async_wait([this](beast::error_code ec) {
      if (ec || completed_ == schedule_.size()) return;
      if (options_.cancel->load()) {
        cancelled_ = true;
        io_.stop();
        return;
      }
      ArmCancelPoll();
    });
  }

  void Dispatch(size_t index) {
    const ScheduledRequest& r = schedule_[index];
    const Nanos now = Now();
    const uint32_t endpoint = pick_(index, now);
    lags_[index] = now - r.at;
    ++dispatched_;
    if (endpoint >= addresses_.size()) {
      if (!bad_pick_) {
        bad_pick_ = endpoint;
        bad_pick_index_ = index;
      }
      RequestOutcome o;
      o.index = index;
      o.endpoint = endpoint;
      o.sent_at = now;
      o.done_at = now;
      o.transport = LoadTransport::kProtocolError;
      o.transport_error = "pick returned an endpoint out of range";
      return Finish(o);
    }
    auto x = std::make_shared<Exchange>();
    x->index = index;
    x->endpoint = endpoint;
    x->sent_at = now;
    x->deadline = start_ + Ns(now + request_timeout_);
    http::request<http::string_body>& req = x->request;
    req.method(r.method);
    req.target(r.target);
    req.version(11);
    req.set(http::field::host, host_headers_[endpoint]);
    req.set(http::field::user_agent, kUserAgent);
    if (!r.authorization.empty()) req.set(http::field::authorization, r.authorization);
    if (!r.body.empty()) {
      req.set(http::field::content_type, "application/json");
      req.body() = r.body;
    }
    if (!r.body.empty() || ExpectsBody(r.method)) req.content_length(r.body.size());
    // With nowhere to keep the connection, say so: the server then closes
    // first and is spared a lingering half-closed socket.
    if (options_.max_idle_per_endpoint == 0) req.keep_alive(false);
    if (std::shared_ptr<Connection> conn = TakeIdle(endpoint)) {
      x->conn = std::move(conn);
      x->reused = true;
      return Send(x);
    }
    Connect(x);
  }

  // The most recently used idle connection to `endpoint` that is still
  // usable (LIFO keeps the warm set small and lets the rest idle out), or null.
  std::shared_ptr<Connection> TakeIdle(uint32_t endpoint) {
    auto& stack = idle_[endpoint];
    while (!stack.empty()) {
      std::shared_ptr<Connection> conn = std::move(stack.back());
      stack.pop_back();
      if (IdleConnectionUsable(*conn)) return conn;
      Close(*conn);
    }
    return nullptr;
  }

  void Release(uint32_t endpoint, std::shared_ptr<Connection> conn) {
    auto& stack = idle_[endpoint];
    if (stack.size() >= options_.max_idle_per_endpoint) return Close(*conn);
    stack.push_back(std::move(conn));
  }

  void Connect(const std::shared_ptr<Exchange>& x) {
    x->conn = std::make_shared<Connection>(io_);
    x->reused = false;
    x->conn->stream.expires_at(std::min(x->deadline, SteadyClock::now() + Ns(connect_timeout_)));
    x->conn->stream.async_connect(addresses_[x->endpoint], [this, x](beast::error_code ec) {
      if (ec) {
        return Fail(*x, ec == beast::error::timeout ? LoadTransport::kTimeout : LoadTransport::kConnectRefused, ec);
      }
      ++stats_.connections_opened;
      beast::error_code ignored;
      x->conn->stream.socket().set_option(tcp::no_delay(true), ignored);
      Send(x);
    });
  }

  void Send(const std::shared_ptr<Exchange>& x) {
    x->parser.emplace();
    // An answer to HEAD announces a length it does not send.
    if (x->request.method() == http::verb::head) x->parser->skip(true);
    x->conn->stream.expires_at(x->deadline);
    http::async_write(x->conn->stream, x->request, [this, x](beast::error_code ec, size_t) {
      if (ec) return OnAttemptFailed(x, ec, /*response_started=*/false);
      Receive(x);
    });
  }

  void Receive(const std::shared_ptr<Exchange>& x) {
    x->conn->stream.expires_at(x->deadline);
    http::async_read(x->conn->stream, x->conn->buffer, *x->parser, [this, x](beast::error_code ec, size_t) {
      if (ec) return OnAttemptFailed(x, ec, x->parser->got_some() || x->conn->buffer.size() > 0);
      OnResponse(*x);
    });
  }

  void OnAttemptFailed(const std::shared_ptr<Exchange>& x, const beast::error_code& ec, bool response_started) {
    if (x->reused && !x->retried && !response_started && IsStaleConnectionError(ec)) {
      Close(*x->conn);
      x->retried = true;
      ++stats_.retries;
      return Connect(x);
    }
    Fail(*x, ExchangeFailure(ec), ec);
  }

  void Fail(Exchange& x, LoadTransport transport, const beast::error_code& ec) {
    Close(*x.conn);
    RequestOutcome o = Outcome(x);
    o.transport = transport;
    o.transport_error = ec.message();
    Finish(o);
  }

  void OnResponse(Exchange& x) {
    const http::response<http::string_body>& res = x.parser->get();
    RequestOutcome o = Outcome(x);
    o.status = static_cast<int>(res.result_int());
    if (o.status >= 400) o.error_code = ErrorCodeOf(res.body());
    // Bytes beyond the response were never asked for; the connection's
    // framing can no longer be trusted.
    if (res.keep_alive() && x.conn->buffer.size() == 0) {
      Release(x.endpoint, std::move(x.conn));
    } else {
      Close(*x.conn);
    }
    Finish(o);
  }

  RequestOutcome Outcome(const Exchange& x) const {
    RequestOutcome o;
    o.index = x.index;
    o.endpoint = x.endpoint;
    o.sent_at = x.sent_at;
    o.done_at = Now();
    o.reused_connection = x.reused;
    o.retried = x.retried;
    return o;
  }

  void Finish(const RequestOutcome& o) {
    ++completed_;
    last_done_at_ = std::max(last_done_at_, o.done_at);
    done_(o);
    if (completed_ == schedule_.size()) {
      progress_timer_.cancel();
      cancel_timer_.cancel();
    }
  }

  // First member: I/O objects below must be destroyed before it.
  net::io_context io_{1};
  net::steady_timer timer_{io_};
  net::steady_timer progress_timer_{io_};
  net::steady_timer cancel_timer_{io_};
  const std::vector<tcp::endpoint> addresses_;
  const std::vector<std::string> host_headers_;
  const std::vector<ScheduledRequest>& schedule_;
  const std::function<uint32_t(size_t, Nanos)>& pick_;
  const std::function<void(const RequestOutcome&)>& done_;
  const LoadGeneratorOptions& options_;
  // "No timeout" spelled as a huge value must not overflow the clock.
  const Nanos request_timeout_;
  const Nanos connect_timeout_;
  std::vector<std::vector<std::shared_ptr<Connection>>> idle_;  // per endpoint, most recent last
  std::vector<Nanos> lags_;                                     // per request: sent_at - at
  SteadyClock::time_point start_;
  size_t next_ = 0;  // the first request not yet dispatched
  size_t dispatched_ = 0;
  size_t completed_ = 0;
  Nanos last_done_at_ = 0;
  bool cancelled_ = false;
  std::optional<uint32_t> bad_pick_;
  size_t bad_pick_index_ = 0;
  LoadRunStats stats_;
};

}  // namespace

const char* LoadTransportName(LoadTransport t) {
  switch (t) {
    case LoadTransport::kOk:
      return "ok";
    case LoadTransport::kConnectRefused:
      return "connect_refused";
    case LoadTransport::kReset:
      return "reset";
    case LoadTransport::kTimeout:
      return "timeout";
    case LoadTransport::kProtocolError:
      return "protocol_error";
  }
  return "unknown";
}

Result<LoadRunStats> RunLoad(const std::vector<LoadEndpoint>& endpoints, const std::vector<ScheduledRequest>& schedule,
                             const std::function<uint32_t(size_t index, Nanos now)>& pick,
                             const std::function<void(const RequestOutcome&)>& done,
                             const LoadGeneratorOptions& options) {
  if (endpoints.empty()) return Status::InvalidArgument("load generator: no endpoints");
  if (!pick || !done) return Status::InvalidArgument("load generator: pick and done are required");
  if (options.request_timeout <= 0 || options.connect_timeout <= 0)
    return Status::InvalidArgument("load generator: timeouts must be positive");
  std::vector<tcp::endpoint> addresses;
  std::vector<std::string> host_headers;
  for (const LoadEndpoint& e : endpoints) {
    beast::error_code ec;
    const net::ip::address address = net::ip::make_address(e.host, ec);
    if (ec) return Status::InvalidArgument("load generator: endpoint host is not an IP address: " + e.host);
    if (e.port < 1 || e.port > 65535)
      return Status::InvalidArgument("load generator: endpoint port out of range: " + std::to_string(e.port));
    addresses.emplace_back(address, static_cast<unsigned short>(e.port));
    const std::string host = address.is_v6() ? "[" + e.host + "]" : e.host;
    host_headers.push_back(host + ":" + std::to_string(e.port));
  }
  for (size_t i = 0; i < schedule.size(); ++i) {
    const ScheduledRequest& r = schedule[i];
    if (r.at < 0 || (i > 0 && r.at < schedule[i - 1].at))
      return Status::InvalidArgument("load generator: request " + std::to_string(i) +
                                     " is scheduled before its predecessor or before the start");
    if (r.target.empty())
      return Status::InvalidArgument("load generator: request " + std::to_string(i) + " has no target");
    if (r.method == http::verb::unknown)
      return Status::InvalidArgument("load generator: request " + std::to_string(i) + " has no method");
  }
  LoadRun run(std::move(addresses), std::move(host_headers), schedule, pick, done, options);
  return run.Run();
}

}  // namespace scaletwin
