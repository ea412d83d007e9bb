// Limiter plans driven over pooled hiredis connections.
#include "real/redis/redis_limiter.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <random>
#include <utility>

namespace scaletwin {

namespace {

Nanos SystemNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string RandomMemberPrefix() {
  std::random_device rd;
  char buf[48];
  std::snprintf(buf, sizeof(buf), "p%ld-%08x", static_cast<long>(getpid()), static_cast<unsigned>(rd()));
  return buf;
}

Status ValidateRequest(const LimiterRequest& r) {
  if (r.key.empty()) return Status::InvalidArgument("limiter request: empty key");
  if (r.member.empty()) return Status::InvalidArgument("limiter request: empty member");
  if (r.limit.requests < 1 || r.limit.requests > kMaxLimitRequests) {
    return Status::InvalidArgument("limiter request: limit.requests " + std::to_string(r.limit.requests) +
                                   " outside 1.." + std::to_string(kMaxLimitRequests));
  }
  if (r.limit.window < kNanosPerMilli || r.limit.window > kMaxDuration) {
    return Status::InvalidArgument("limiter request: limit.window " + FormatDuration(r.limit.window) +
                                   " outside 1ms..30d");
  }
  return Status::Ok();
}

bool CarriesScriptLoad(const RoundTrip& rt) {
  return !rt.commands.empty() && !rt.commands[0].args.empty() && rt.commands[0].args[0] == "SCRIPT";
}

}  // namespace

int RunLimiterPlan(LimiterPlan& plan, RedisConnection& conn) {
  int reloads = 0;
  std::optional<RoundTrip> rt = plan.Start();
  while (rt) {
    if (CarriesScriptLoad(*rt)) ++reloads;
    Result<std::vector<Reply>> replies = conn.Pipeline(rt->commands);
    rt = replies.ok() ? plan.OnReplies(*replies) : plan.OnTransportError(replies.status().message());
  }
  return reloads;
}

RedisLimiter::RedisLimiter(RedisConnectionPool& pool, LimiterConfig config, RedisLimiterOptions options)
    : pool_(pool),
      clock_(options.clock ? std::move(options.clock) : std::function<Nanos()>(SystemNowNs)),
      member_prefix_(options.member_prefix.empty() ? RandomMemberPrefix() : std::move(options.member_prefix)),
      config_(std::make_shared<const LimiterConfig>(std::move(config))) {}

std::shared_ptr<const LimiterConfig> RedisLimiter::Snapshot() const {
  std::lock_guard<std::mutex> lock(config_mu_);
  return config_;
}

LimiterConfig RedisLimiter::config() const { return *Snapshot(); }

void RedisLimiter::set_config(LimiterConfig config) {
  auto next = std::make_shared<const LimiterConfig>(std::move(config));
  std::lock_guard<std::mutex> lock(config_mu_);
  config_.swap(next);
}

Result<Decision> RedisLimiter::Decide(std::string key, const LimitSpec& limit) {
  const uint64_t seq = sequence_.fetch_add(1, std::memory_order_relaxed) + 1;
  LimiterRequest request{std::move(key), limit, clock_(), member_prefix_ + "-" + std::to_string(seq), seq};
  return Decide(request);
}

Result<Decision> RedisLimiter::Decide(const LimiterRequest& request) {
  if (Status s = ValidateRequest(request); !s.ok()) {
    invalid_requests_.fetch_add(1, std::memory_order_relaxed);
    return s;
  }
  const std::shared_ptr<const LimiterConfig> config = Snapshot();
  std::unique_ptr<LimiterPlan> plan = MakeLimiterPlan(*config, request);
  int reloads = 0;
  {
    Result<RedisLease> lease = pool_.Acquire();
    if (lease.ok()) {
      reloads = RunLimiterPlan(*plan, lease->connection());
    } else {
      // No round trip was sent: the plan fails before Start(), with 0 round trips.
      pool_unavailable_.fetch_add(1, std::memory_order_relaxed);
      plan->OnTransportError(lease.status().message());
    }
  }  // the lease goes back (or, broken, is discarded) here
  Decision d = plan->decision();
  decisions_.fetch_add(1, std::memory_order_relaxed);
  (d.allowed ? allowed_ : refused_).fetch_add(1, std::memory_order_relaxed);
  if (d.redis_error) redis_errors_.fetch_add(1, std::memory_order_relaxed);
  round_trips_.fetch_add(d.round_trips, std::memory_order_relaxed);
  if (reloads > 0) script_reloads_.fetch_add(reloads, std::memory_order_relaxed);
  return d;
}

RedisLimiterStats RedisLimiter::stats() const {
  RedisLimiterStats s;
  s.decisions = decisions_.load(std::memory_order_relaxed);
  s.allowed = allowed_.load(std::memory_order_relaxed);
  s.refused = refused_.load(std::memory_order_relaxed);
  s.redis_errors = redis_errors_.load(std::memory_order_relaxed);
  s.pool_unavailable = pool_unavailable_.load(std::memory_order_relaxed);
  s.round_trips = round_trips_.load(std::memory_order_relaxed);
  s.script_reloads = script_reloads_.load(std::memory_order_relaxed);
  s.invalid_requests = invalid_requests_.load(std::memory_order_relaxed);
  return s;
}

}  // namespace scaletwin
