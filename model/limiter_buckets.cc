// Token bucket and GCRA, each one atomic script. reference/redis.md §2.3, §2.4.
#include <algorithm>

#include "model/limiter_plan.h"

namespace scaletwin {
namespace limiter_internal {

// KEYS[1] tokens, KEYS[2] last refill (ms); ARGV: now_ms | "redis", window_ms,
// limit, ttl_ms. Tokens are kept multiplied by W so refill (L per W ms) is an
// integer: capacity L*W, +L per ms, a request costs W. Elapsed time is
// clamped to [0, W] (a full refill; and a clock behind the stored one refills
// nothing — but still rewrites the timestamp, as Spring Cloud Gateway's
// script does). State is written only when a token is taken. Returns
// {allowed, tokens after (x W), now_us}.
const std::string_view kTokenBucketLua = R"lua(-- scaletwin token_bucket: capacity L, refill L per window
local now_us
if ARGV[1] == 'redis' then
  local t = redis.call('TIME')
  now_us = tonumber(t[1]) * 1000000 + tonumber(t[2])
else
  now_us = tonumber(ARGV[1]) * 1000
end
local now = math.floor(now_us / 1000)
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local capacity = limit * window
local tokens = tonumber(redis.call('GET', KEYS[1]) or '')
local last = tonumber(redis.call('GET', KEYS[2]) or '')
if tokens == nil or last == nil then
  tokens = capacity
  last = now
end
local elapsed = now - last
if elapsed < 0 then elapsed = 0 end
if elapsed > window then elapsed = window end
tokens = tokens + elapsed * limit
if tokens > capacity then tokens = capacity end
local allowed = 0
if tokens >= window then
  tokens = tokens - window
  allowed = 1
  redis.call('SET', KEYS[1], string.format('%d', tokens), 'PX', ARGV[4])
  redis.call('SET', KEYS[2], string.format('%d', now), 'PX', ARGV[4])
end
return {allowed, tokens, now_us}
)lua";

// KEYS[1] TAT (µs); ARGV: now_us | "redis", interval_us, burst, extra_ttl_ms.
// go-redis/redis_rate's allow_n with n = 1 in integer µs: new_tat =
// max(tat, now) + T; admitted iff now >= new_tat - burst*T. The key lives
// until its TAT passes (ceil to ms) plus (ttl_windows - 1) windows of margin
// for clock skew. Returns {allowed, remaining, retry_after_us, reset_after_us, now_us}.
const std::string_view kGcraLua = R"lua(-- scaletwin gcra: generic cell rate algorithm (redis_rate allow_n, n = 1)
local now
if ARGV[1] == 'redis' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
else
  now = tonumber(ARGV[1])
end
local interval = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '')
if tat == nil or tat < now then tat = now end
local new_tat = tat + interval
local diff = now - (new_tat - burst * interval)
if diff < 0 then
  return {0, 0, -diff, tat - now, now}
end
local reset_after = new_tat - now
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX',
           string.format('%d', math.ceil(reset_after / 1000) + tonumber(ARGV[4])))
return {1, math.floor(diff / interval), 0, reset_after, now}
)lua";

namespace {

int64_t ArgInt(const std::string& s) {
  int64_t v = 0;
  ParseRedisInt(s, &v);
  return v;
}

std::optional<int64_t> GetInt(RedisScriptContext& ctx, const std::string& key) {
  const Reply r = ctx.Call({"GET", key});
  if (r.is_nil()) return std::nullopt;
  return ReplyInt(r);
}

}  // namespace

Reply TokenBucketNative(RedisScriptContext& ctx, const std::vector<std::string>& keys,
                        const std::vector<std::string>& argv) {
  if (keys.size() != 2 || argv.size() != 4) return Reply::Error("ERR token_bucket script: wrong arguments");
  const int64_t now_us = ScriptNowMicros(ctx, argv[0], 1000);
  const int64_t now = FloorDivInt(now_us, 1000);
  const int64_t window = ArgInt(argv[1]);
  const int64_t limit = ArgInt(argv[2]);
  const int64_t capacity = limit * window;
  std::optional<int64_t> tokens = GetInt(ctx, keys[0]);
  std::optional<int64_t> last = GetInt(ctx, keys[1]);
  if (!tokens || !last) {
    tokens = capacity;
    last = now;
  }
  const int64_t elapsed = std::clamp<int64_t>(now - *last, 0, window);
  int64_t t = std::min(capacity, *tokens + elapsed * limit);
  int64_t allowed = 0;
  if (t >= window) {
    t -= window;
    allowed = 1;
    if (Reply s = ctx.Call({"SET", keys[0], std::to_string(t), "PX", argv[3]}); s.is_error()) return s;
    ctx.Call({"SET", keys[1], std::to_string(now), "PX", argv[3]});
  }
  return Reply::Array({Reply::Integer(allowed), Reply::Integer(t), Reply::Integer(now_us)});
}

Reply GcraNative(RedisScriptContext& ctx, const std::vector<std::string>& keys, const std::vector<std::string>& argv) {
  if (keys.size() != 1 || argv.size() != 4) return Reply::Error("ERR gcra script: wrong arguments");
  const int64_t now = ScriptNowMicros(ctx, argv[0], 1);
  const int64_t interval = ArgInt(argv[1]);
  const int64_t burst = ArgInt(argv[2]);
  int64_t tat = GetInt(ctx, keys[0]).value_or(now);
  if (tat < now) tat = now;
  const int64_t new_tat = tat + interval;
  const int64_t diff = now - (new_tat - burst * interval);
  if (diff < 0) {
    return Reply::Array({Reply::Integer(0), Reply::Integer(0), Reply::Integer(-diff), Reply::Integer(tat - now),
                         Reply::Integer(now)});
  }
  const int64_t reset_after = new_tat - now;
  const Reply s = ctx.Call({"SET", keys[0], std::to_string(new_tat), "PX",
                            std::to_string(CeilDivInt(reset_after, 1000) + ArgInt(argv[3]))});
  if (s.is_error()) return s;
  return Reply::Array({Reply::Integer(1), Reply::Integer(FloorDivInt(diff, interval)), Reply::Integer(0),
                       Reply::Integer(reset_after), Reply::Integer(now)});
}

namespace {

class TokenBucketPlan : public LimiterPlan {
 public:
  TokenBucketPlan(const LimiterConfig& c, LimiterRequest r) : LimiterPlan(c, std::move(r), true) {}

 protected:
  RoundTrip Begin(Nanos now) override {
    return {RoundTripKind::kScript,
            {{"EVALSHA", LimiterScriptNamed("token_bucket").sha1, "2", request_.key, request_.key + ":ts",
              ScriptNowArg(FloorDivInt(now, kNanosPerMilli)), std::to_string(window_ms()), std::to_string(limit()),
              std::to_string(ttl_ms())}}};
  }

  std::optional<RoundTrip> Continue(const std::vector<Reply>& r) override {
    if (r.size() != 1 || r[0].elements().size() != 3) {
      Fail("unexpected reply " + (r.empty() ? std::string() : r[0].ToString()));
      return std::nullopt;
    }
    const auto& e = r[0].elements();
    const int64_t w = window_ms(), l = limit();
    const bool allowed = e[0].integer() == 1;
    const int64_t tokens = e[1].integer();  // x W, after this request
    Decision d;
    d.allowed = allowed;
    d.rule_time = e[2].integer() * kNanosPerMicro;
    d.count = l - (tokens + (allowed ? w : 0)) / w;  // tokens used before this request
    d.remaining = tokens / w;
    if (!allowed) d.retry_after = std::max<int64_t>(1, CeilDivInt(w - tokens, l)) * kNanosPerMilli;
    d.reset = CeilDivInt(l * w - tokens, l) * kNanosPerMilli;
    Finish(d);
    return std::nullopt;
  }
};

class GcraPlan : public LimiterPlan {
 public:
  GcraPlan(const LimiterConfig& c, LimiterRequest r) : LimiterPlan(c, std::move(r), true) {}

 protected:
  RoundTrip Begin(Nanos now) override {
    return {RoundTripKind::kScript,
            {{"EVALSHA", LimiterScriptNamed("gcra").sha1, "1", request_.key,
              ScriptNowArg(FloorDivInt(now, kNanosPerMicro)), std::to_string(GcraIntervalMicros(request_.limit)),
              std::to_string(limit()), std::to_string(window_ms() * (config_.ttl_windows - 1))}}};
  }

  std::optional<RoundTrip> Continue(const std::vector<Reply>& r) override {
    if (r.size() != 1 || r[0].elements().size() != 5) {
      Fail("unexpected reply " + (r.empty() ? std::string() : r[0].ToString()));
      return std::nullopt;
    }
    const auto& e = r[0].elements();
    Decision d;
    d.allowed = e[0].integer() == 1;
    d.remaining = e[1].integer();
    d.retry_after = e[2].integer() * kNanosPerMicro;
    d.reset = e[3].integer() * kNanosPerMicro;
    d.rule_time = e[4].integer() * kNanosPerMicro;
    d.count = d.allowed ? limit() - 1 - d.remaining : limit();  // slots in use before this request
    Finish(d);
    return std::nullopt;
  }
};

}  // namespace

std::unique_ptr<LimiterPlan> MakeTokenBucketPlan(const LimiterConfig& c, LimiterRequest r) {
  return std::make_unique<TokenBucketPlan>(c, std::move(r));
}
std::unique_ptr<LimiterPlan> MakeGcraPlan(const LimiterConfig& c, LimiterRequest r) {
  return std::make_unique<GcraPlan>(c, std::move(r));
}

}  // namespace limiter_internal
}  // namespace scaletwin
