// Limiter plans: each rate-limiting algorithm as the Redis round trips it makes
// and the decision it takes from their replies.
//
// A plan is a small state machine. The caller (the simulated pod, or the real
// hiredis limiter) sends each RoundTrip's commands pipelined on ONE connection,
// in order, and hands back exactly one Reply per command (for a MULTI block:
// +OK, one +QUEUED per command, then the EXEC array). The plan never sees a
// clock, a socket or a thread, so the simulator and the real client execute
// the very same commands and decide the same way.
//
//   auto plan = MakeLimiterPlan(config, {key, limit, pod_now, "pod1-17", 17});
//   std::optional<RoundTrip> rt = plan->Start();
//   while (rt) rt = plan->OnReplies(SendPipelined(rt->commands));  // or OnTransportError(...)
//   const Decision& d = plan->decision();   // d.allowed, d.retry_after, ...
//
// Algorithms and their round trips (W = window in ms, L = requests, TTL =
// ttl_windows x W; "now" is the pod clock in ms, or Redis TIME — see below):
// - sliding_log, check_then_add: [ZREMRANGEBYSCORE k -inf now-W, ZCARD k,
//   ZRANGE k -L -L WITHSCORES, ZRANGE k -1 -1 WITHSCORES]; if count < L a
//   second pipeline [ZADD k now member, PEXPIRE k TTL]. Racy by design.
// - sliding_log, multi_add_then_count: MULTI ZREMRANGEBYSCORE, ZADD, ZCARD,
//   PEXPIRE, ZRANGE -(L+1), ZRANGE -1 EXEC; admitted iff ZCARD <= L, else a
//   second round trip ZREM k member. Never over-admits; may falsely refuse.
// - sliding_log, lua: one EVALSHA of kSlidingLogScript (trim, count, add iff
//   count < L, PEXPIRE).
// - sliding_counter: one EVALSHA of kSlidingCounterScript on k:<idx> and
//   k:<idx-1> (idx = floor(now/W)): admitted iff prev*(W-elapsed) + (curr+1)*W
//   <= L*W (Cloudflare's prev*(1-f) + curr + 1 <= L in exact integers).
//   Bound (one clock): a sliding window of length W holds at most
//   L + prev*f < 2L admitted requests (property-tests/limiter_sim_props.cc).
// - fixed_window: [INCR k:<idx>, PEXPIRE k:<idx> TTL NX]; admitted iff the
//   INCR result <= L (refused requests count too, as Envoy's).
// - token_bucket: one EVALSHA of kTokenBucketScript on k:tokens and k:ts;
//   capacity L, refill L per W, tokens kept x W as integers.
// - gcra: one EVALSHA of kGcraScript on k (go-redis/redis_rate's allow_n with
//   burst = L, emission interval T = floor(W*1000/L) µs, time in µs).
// Time boundaries: a sliding-log entry with score s counts at `now` iff
// now-W < s (ZREMRANGEBYSCORE is inclusive), i.e. the window is (now-W, now];
// fixed and counter windows are [idx*W, (idx+1)*W). limiter_auditor.h
// applies the same conventions.
//
// Time source: with pod_clock every "now" is request.now. With redis_time the
// scripts call TIME themselves; the plans that are not one script
// (check_then_add, multi_add_then_count, sliding_counter, fixed_window) first
// spend a round trip on TIME — the honest cost of one clock without a script.
//
// Errors: an error reply (anywhere, including inside EXEC) or a transport
// failure ends the plan with a decision per on_redis_error (fail_open admits,
// fail_closed refuses), flagged redis_error. NOSCRIPT is handled inside the
// plan: it answers with one round trip [SCRIPT LOAD <text>, EVALSHA ...]
// (once), so a caller never needs to know the scripts; a second NOSCRIPT is an
// error.
//
// Thread-safety: a plan belongs to one request; the registry is immutable.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/duration.h"
#include "model/limiter_config.h"
#include "model/redis_command.h"
#include "model/redis_script.h"

namespace scaletwin {

struct LimiterRequest {
  std::string key;         // LimiterKey(): the base key of the limited identity
  LimitSpec limit;
  Nanos now = 0;           // the pod's clock, Unix ns, skew already applied
  std::string member;      // unique per request, e.g. "<pod id>-<sequence>"
  uint64_t request_id = 0;
};

enum class RoundTripKind { kPipeline, kMulti, kScript };

// Commands to send back-to-back on one connection; one reply each comes back.
struct RoundTrip {
  RoundTripKind kind = RoundTripKind::kPipeline;
  std::vector<Command> commands;
};

struct Decision {
  bool allowed = false;
  int64_t remaining = 0;  // further requests admissible now (>= 0)
  Nanos retry_after = 0;  // when refused: earliest time a retry could pass; 0 when allowed
  Nanos reset = 0;        // time until the full limit is available again if nothing else arrives
  int64_t count = 0;      // what the algorithm counted before this request (entries, counter, estimate, used)
  Nanos rule_time = 0;    // Unix ns of the clock the rule used (pod clock or Redis TIME); feed the auditor this
  bool redis_error = false;  // decided by on_redis_error
  std::string error;
  int round_trips = 0;       // including TIME, NOSCRIPT reload and ZREM undo
};

class LimiterPlan {
 public:
  virtual ~LimiterPlan() = default;
  LimiterPlan(const LimiterPlan&) = delete;
  LimiterPlan& operator=(const LimiterPlan&) = delete;

  // The first round trip. REQUIRES: called once, first.
  RoundTrip Start();
  // Consumes the replies of the last round trip (one per command). Returns the
  // next round trip, or nullopt when decision() is final.
  std::optional<RoundTrip> OnReplies(const std::vector<Reply>& replies);
  // The last round trip failed in transport (timeout, broken connection, pool
  // exhausted): decides per on_redis_error. Always returns nullopt.
  std::optional<RoundTrip> OnTransportError(std::string_view what);

  bool done() const { return done_; }
  // REQUIRES: done().
  const Decision& decision() const { return decision_; }

 protected:
  LimiterPlan(const LimiterConfig& config, LimiterRequest request, bool script_reads_time);

  // `now_ns`: request.now or Redis TIME. Returns the algorithm's first round trip.
  virtual RoundTrip Begin(Nanos now_ns) = 0;
  // Replies of the algorithm's latest round trip (top-level error replies are
  // already handled). Return the next round trip, or call Finish/Fail and
  // return nullopt.
  virtual std::optional<RoundTrip> Continue(const std::vector<Reply>& replies) = 0;

  void Finish(Decision d);
  // Ends with the on_redis_error decision.
  void Fail(std::string error);

  int64_t limit() const { return request_.limit.requests; }
  int64_t window_ms() const { return request_.limit.window_ms(); }
  int64_t ttl_ms() const { return window_ms() * config_.ttl_windows; }
  // "now" to pass to a script: "redis" makes the script call TIME.
  std::string ScriptNowArg(int64_t now_value) const;

  LimiterConfig config_;
  LimiterRequest request_;

 private:
  std::optional<RoundTrip> Issue(RoundTrip rt);

  bool script_reads_time_;
  bool awaiting_time_ = false;
  bool reloaded_ = false;
  size_t strip_ = 0;  // SCRIPT LOAD replies to drop from the next replies
  RoundTrip last_;
  bool done_ = false;
  int round_trips_ = 0;
  Decision decision_;
};

std::unique_ptr<LimiterPlan> MakeLimiterPlan(const LimiterConfig& config, LimiterRequest request);

// ---- scripts -------------------------------------------------------------------
// The Lua text real Redis runs and the native twin the model runs, named by SHA1.

struct LimiterScript {
  std::string_view name;  // "sliding_log", "sliding_counter", "token_bucket", "gcra"
  std::string_view body;
  std::string sha1;
};
const std::vector<LimiterScript>& LimiterScripts();
const LimiterScript& LimiterScriptNamed(std::string_view name);
// A registry with every limiter script's native implementation, for RedisConfig::scripts.
std::shared_ptr<const RedisScriptRegistry> LimiterScriptRegistry();
// SCRIPT LOAD commands for every limiter script (what a pool sends on connect).
std::vector<Command> LimiterScriptLoadCommands();

// ---- shared helpers (also used by the auditor and tests) ----------------------
int64_t FloorDivInt(int64_t a, int64_t b);
int64_t CeilDivInt(int64_t a, int64_t b);
// GCRA emission interval in µs: floor(W_ms * 1000 / L), at least 1.
int64_t GcraIntervalMicros(const LimitSpec& limit);

namespace limiter_internal {
// Per-algorithm factories and natives (limiter_*.cc).
std::unique_ptr<LimiterPlan> MakeSlidingLogPlan(const LimiterConfig& c, LimiterRequest r);
std::unique_ptr<LimiterPlan> MakeFixedWindowPlan(const LimiterConfig& c, LimiterRequest r);
std::unique_ptr<LimiterPlan> MakeSlidingCounterPlan(const LimiterConfig& c, LimiterRequest r);
std::unique_ptr<LimiterPlan> MakeTokenBucketPlan(const LimiterConfig& c, LimiterRequest r);
std::unique_ptr<LimiterPlan> MakeGcraPlan(const LimiterConfig& c, LimiterRequest r);
extern const std::string_view kSlidingLogLua;
extern const std::string_view kSlidingCounterLua;
extern const std::string_view kTokenBucketLua;
extern const std::string_view kGcraLua;
Reply SlidingLogNative(RedisScriptContext& ctx, const std::vector<std::string>& keys, const std::vector<std::string>& argv);
Reply SlidingCounterNative(RedisScriptContext& ctx, const std::vector<std::string>& keys,
                           const std::vector<std::string>& argv);
Reply TokenBucketNative(RedisScriptContext& ctx, const std::vector<std::string>& keys, const std::vector<std::string>& argv);
Reply GcraNative(RedisScriptContext& ctx, const std::vector<std::string>& keys, const std::vector<std::string>& argv);
// Script-side "now": ARGV value or, when it is "redis", TIME in µs.
int64_t ScriptNowMicros(RedisScriptContext& ctx, const std::string& arg, int64_t arg_unit_us);
// Parses an integer-valued score or counter reply; nullopt when absent/invalid.
std::optional<int64_t> ReplyInt(const Reply& r);
}  // namespace limiter_internal

}  // namespace scaletwin
