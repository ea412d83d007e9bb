// RedisLimiter: the real rate limiter — the model's limiter plans
// (model/limiter_plan.h) executed on a real Redis over a RedisConnectionPool.
// It is what the real shortener pod calls once per request.
//
//   auto pool = RedisConnectionPool::Create(pool_options);
//   RedisLimiter limiter(**pool, config, {.member_prefix = "pod-3"});
//   Result<Decision> d = limiter.Decide(LimiterKey(config, tenant, route), tenant_limit);
//   if (!d.ok()) return 400;                  // the request itself was invalid
//   if (!d->allowed) return 429 with Retry-After = d->retry_after;
//
// Contract:
// - Decide sends exactly the commands MakeLimiterPlan(config, request) asks
//   for, round trip by round trip, each round trip pipelined on one leased
//   connection (a MULTI block is a pipeline of MULTI .. EXEC; the plan
//   recovers NOSCRIPT by itself), and returns the plan's decision. No policy
//   lives here: algorithm, strategy, TTL, clock choice and the reaction to
//   Redis failures are the plan's, so the simulator decides the same way.
// - One connection is leased for the whole decision (check_then_add's read
//   and write go on the same connection) and given back before Decide
//   returns.
// - Failures are decisions, not errors: a pool that yields no connection
//   (acquire timeout, connect refused) or a round trip that fails in
//   transport (timeout, EOF) ends the plan through OnTransportError, so
//   on_redis_error decides (fail_open admits, fail_closed refuses) and the
//   decision has redis_error set. A connection that failed is discarded by
//   the pool. Nothing is retried: a retry would be policy the model lacks.
// - A non-OK Result means the request was invalid (empty key, a limit
//   outside ParseLimit's range); Redis was not contacted.
// - Time: Decide(key, limit) stamps the request with options.clock (the
//   pod's Unix clock; tests inject skew here) and a member
//   "<member_prefix>-<sequence>" unique within this limiter. Members must be
//   unique across every pod sharing the Redis: give each pod its own
//   member_prefix (the default is random per limiter).
// - Config: set_config() swaps the configuration (hot reload); a decision
//   uses one configuration from start to end.
//
// Thread-safety: Decide, set_config, config and stats may be called from
// any number of threads at once. REQUIRES: the pool outlives the limiter.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "model/duration.h"
#include "model/limiter_config.h"
#include "model/limiter_plan.h"
#include "model/status.h"
#include "real/redis/redis_connection.h"
#include "real/redis/redis_connection_pool.h"

namespace scaletwin {

struct RedisLimiterOptions {
  // Prefix of the sorted-set members this limiter writes; "" = a random one
  // per limiter ("p<pid>-<8 hex digits>").
  std::string member_prefix;
  // The pod's clock, Unix ns. Empty = std::chrono::system_clock (the clock
  // Redis TIME reads on the same host).
  std::function<Nanos()> clock;
};

// Counters since construction, for /metrics. allowed + refused = decisions;
// redis_errors counts the decisions on_redis_error took (they are also in
// allowed or refused), pool_unavailable those among them where no connection
// could be leased at all. Each counter is exact; a snapshot taken while
// decisions run may be a few decisions apart between counters.
struct RedisLimiterStats {
  int64_t decisions = 0;
  int64_t allowed = 0;
  int64_t refused = 0;
  int64_t redis_errors = 0;
  int64_t pool_unavailable = 0;
  int64_t round_trips = 0;       // including TIME, NOSCRIPT reloads and ZREM undos
  int64_t script_reloads = 0;    // round trips that carried SCRIPT LOAD after NOSCRIPT
  int64_t invalid_requests = 0;  // Decide calls rejected before reaching Redis
};

class RedisLimiter {
 public:
  RedisLimiter(RedisConnectionPool& pool, LimiterConfig config, RedisLimiterOptions options = {});
  RedisLimiter(const RedisLimiter&) = delete;
  RedisLimiter& operator=(const RedisLimiter&) = delete;

  // Decides `request` as described above. InvalidArgument iff the request is
  // invalid (Redis untouched); otherwise a decision, possibly redis_error.
  Result<Decision> Decide(const LimiterRequest& request);
  // Stamps now = options.clock() and a fresh member, then Decide(request).
  Result<Decision> Decide(std::string key, const LimitSpec& limit);

  LimiterConfig config() const;
  // Takes effect for decisions that start afterwards.
  void set_config(LimiterConfig config);

  RedisLimiterStats stats() const;
  const std::string& member_prefix() const { return member_prefix_; }

 private:
  std::shared_ptr<const LimiterConfig> Snapshot() const;

  RedisConnectionPool& pool_;
  std::function<Nanos()> clock_;
  std::string member_prefix_;
  mutable std::mutex config_mu_;  // guards config_ (the pointer, not the value)
  std::shared_ptr<const LimiterConfig> config_;
  std::atomic<uint64_t> sequence_{0};
  std::atomic<int64_t> decisions_{0}, allowed_{0}, refused_{0}, redis_errors_{0}, pool_unavailable_{0}, round_trips_{0},
      script_reloads_{0}, invalid_requests_{0};
};

// Runs `plan` from Start() to its decision on `conn`: each RoundTrip is sent
// with RedisConnection::Pipeline; a transport failure (which marks `conn`
// broken) goes to plan.OnTransportError. Returns the number of round trips
// that carried SCRIPT LOAD. REQUIRES: plan not started.
int RunLimiterPlan(LimiterPlan& plan, RedisConnection& conn);

}  // namespace scaletwin
