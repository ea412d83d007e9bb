// RunLoad: the real harness's open-loop HTTP/1.1 load generator — replays a
// precomputed arrival trace against a set of HTTP endpoints (the scenario's
// pods on loopback ports) and reports one outcome per request.
//
// Open loop: each request is sent at its scheduled time however many earlier
// ones are still unanswered, as the simulator's arrivals are, so an
// overloaded pod shows up as latency and errors, never as a slower arrival
// rate. A request goes out on an idle keep-alive connection to its endpoint
// when one exists, else on a new connection; nothing waits for a previous
// answer.
//
// Contract:
// - Timing: request i is dispatched when the steady clock reaches
//   start + schedule[i].at (start: options.start if set, else when RunLoad
//   begins). It is never sent
//   early; sent_at - at is the generator's own lag, reported per request and
//   summarised in LoadRunStats.
// - Endpoint choice: pick(i, now) is called exactly once per request, at its
//   dispatch, so a load-balancing policy with live state (in-flight counts
//   kept from pick and done, EWMAs of latency) decides with what it knows
//   then. A retry (below) goes to the same endpoint without asking again.
// - Completion: done(outcome) is called exactly once per request, in
//   completion order; RunLoad returns after the last one. All callbacks run
//   on the calling thread (RunLoad runs its own io_context there), so they
//   need no locking; they must not throw and must not call RunLoad.
// - Connections: per endpoint, a LIFO stack of idle keep-alive connections
//   (at most max_idle_per_endpoint; more are closed). A connection is reused
//   only after a complete response that allowed keep-alive; an answer with
//   `Connection: close`, any failure, and any timeout close it.
// - Stale keep-alive connections: the server may close an idle connection
//   (its idle timeout, a drain) at any time. An idle connection whose peer
//   has already closed is discarded before use; and a request whose reused
//   connection fails before any byte of the response arrived (EOF, reset,
//   broken pipe: the close crossed our request) is retried once, on a fresh
//   connection to the same endpoint and within the same request_timeout —
//   what HTTP/1.1 clients do. It is safe against the pod, which closes an
//   idle connection only before reading a request on it; a server that read
//   a request and then dropped the connection unanswered would see it twice,
//   whatever its method. The outcome then says retried = true and describes
//   the second attempt. Timeouts and answered requests are never retried.
// - Failures map to LoadTransport: a connect that is refused (or fails
//   otherwise) → kConnectRefused; a reset, EOF before the whole response, or
//   broken pipe → kReset; request_timeout or connect_timeout expiring →
//   kTimeout; an unparseable response → kProtocolError. Then status is 0.
// - Requests are HTTP/1.1 with Host, User-Agent, Authorization when given,
//   and with a body Content-Type: application/json and Content-Length.
// - Errors (the Status): InvalidArgument, before anything is sent, for an
//   empty endpoint list, an endpoint that is not an IP literal with a port in
//   1..65535, a schedule whose `at` decreases or is negative, a request
//   with an empty target or verb::unknown, a missing pick or done, or a
//   non-positive timeout (timeouts above kMaxDuration count as kMaxDuration).
//   An endpoint index out of range returned by pick is a caller bug: that
//   request's outcome is kProtocolError (status 0, endpoint = the bad index,
//   nothing sent), the run still completes so every request has an outcome,
//   and then RunLoad returns InvalidArgument.
// - Cancellation (options.cancel): the run stops within kCancelPollInterval
//   and returns Cancelled; done has been called for the requests that
//   completed before, and for no other.
// - SIGPIPE: Asio sends with MSG_NOSIGNAL on Linux, so writing to a closed
//   peer yields EPIPE, never the signal; the process needs no SIG_IGN.
//
//   std::vector<LoadEndpoint> pods = {{.port = 8081}, {.port = 8082}};
//   Result<LoadRunStats> stats = RunLoad(
//       pods, schedule,
//       [&](size_t i, Nanos now) { return balancer.Pick(now); },
//       [&](const RequestOutcome& o) { recorder.Add(o); });
//   if (!stats.ok()) return stats.status();
//
// Thread-safety: RunLoad may run on several threads at once (each call has
// its own io_context); one call's callbacks run only on its calling thread.
#pragma once

#include <boost/beast/http/verb.hpp>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "model/duration.h"
#include "model/status.h"

namespace scaletwin {

struct LoadEndpoint {
  std::string host = "127.0.0.1";  // an IPv4 or IPv6 literal (no name resolution)
  int port = 0;
};

struct ScheduledRequest {
  Nanos at = 0;  // offset from the run's start (steady clock); non-decreasing over the schedule
  boost::beast::http::verb method = boost::beast::http::verb::get;
  std::string target = {};         // "/abc123", "/api/v1/links"
  std::string authorization = {};  // the Authorization header's value; "" = none
  std::string body = {};           // "" = none; otherwise sent as application/json
};

enum class LoadTransport : uint8_t { kOk, kConnectRefused, kReset, kTimeout, kProtocolError };

// "ok", "connect_refused", "reset", "timeout", "protocol_error": for reports and logs.
const char* LoadTransportName(LoadTransport t);

struct RequestOutcome {
  size_t index = 0;       // into the schedule
  uint32_t endpoint = 0;  // what pick returned
  Nanos sent_at = 0;      // offset from start at dispatch (>= at; sent_at - at is the generator's lag)
  Nanos done_at = 0;      // offset when the whole response was read or the failure was known
  LoadTransport transport = LoadTransport::kOk;
  int status = 0;                    // HTTP status; 0 when there was no response
  std::string error_code = {};       // a 4xx/5xx answer's JSON {"error":{"code":"..."}}; else ""
  bool reused_connection = false;    // the attempt that produced this outcome used a kept-alive connection
  bool retried = false;              // the first attempt met a connection the server had closed
  std::string transport_error = {};  // the system's message when transport != kOk, for diagnosis
};

struct LoadGeneratorOptions {
  Nanos request_timeout = 30 * kNanosPerSecond;  // connect + write + read of one request, retry included
  Nanos connect_timeout = 2 * kNanosPerSecond;   // the TCP handshake alone (within request_timeout)
  size_t max_idle_per_endpoint = 256;            // idle keep-alive connections kept per endpoint; 0: none
  // The schedule's time origin. Unset: when RunLoad begins. A caller sets it
  // to share one origin with work on other threads (a fault schedule, a
  // sampler); a start already past makes the first requests late, not lost.
  std::optional<std::chrono::steady_clock::time_point> start = {};
  // Optional; called about once per second on the calling thread with the
  // offset from start and the counts of requests dispatched and completed.
  std::function<void(Nanos now, size_t sent, size_t done)> progress = {};
  // Optional; polled every kCancelPollInterval. Once it reads true nothing
  // more is dispatched, the requests in flight are abandoned (their
  // connections closed, done not called for them) and RunLoad returns
  // Cancelled. Set by another thread (a Ctrl-C handler).
  const std::atomic<bool>* cancel = nullptr;
};

// How soon a set cancel flag stops a run.
inline constexpr Nanos kCancelPollInterval = 20 * kNanosPerMilli;

struct LoadRunStats {
  size_t connections_opened = 0;  // TCP connects that succeeded, retries' included
  size_t retries = 0;             // requests retried after a stale keep-alive connection
  Nanos lag_max = 0;              // max over requests of sent_at - at
  Nanos lag_p99 = 0;              // nearest-rank 99th percentile of the same
  Nanos wall = 0;                 // start to the last completion
};

// Runs the whole schedule (see the contract above) and returns when every
// request has an outcome.
Result<LoadRunStats> RunLoad(const std::vector<LoadEndpoint>& endpoints, const std::vector<ScheduledRequest>& schedule,
                             const std::function<uint32_t(size_t index, Nanos now)>& pick,
                             const std::function<void(const RequestOutcome&)>& done,
                             const LoadGeneratorOptions& options = {});

}  // namespace scaletwin
