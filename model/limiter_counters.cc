// Counter algorithms: fixed window (INCR + PEXPIRE NX, pipelined) and the
// sliding-window counter (Cloudflare's two weighted windows, one script).
// reference/redis.md §2.1, §2.2.
#include <algorithm>

#include "model/limiter_plan.h"

namespace scaletwin {
namespace limiter_internal {

// KEYS[1] counter of window idx, KEYS[2] of idx-1; ARGV: now_ms, window_ms,
// limit, ttl_ms. Admits iff prev*(W-elapsed) + (curr+1)*W <= L*W, i.e.
// prev*(1-f) + curr + 1 <= L without fractions (every product < 2^53 for
// L <= 1e6 and W <= 30 days, so Lua doubles are exact). Returns
// {allowed, curr (after the INCR when admitted), prev}.
const std::string_view kSlidingCounterLua = R"lua(-- scaletwin sliding_counter: two fixed windows weighted by overlap
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local elapsed = now - math.floor(now / window) * window
local curr = tonumber(redis.call('GET', KEYS[1]) or '0')
local prev = tonumber(redis.call('GET', KEYS[2]) or '0')
local allowed = 0
if prev * (window - elapsed) + (curr + 1) * window <= limit * window then
  curr = redis.call('INCR', KEYS[1])
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
  allowed = 1
end
return {allowed, curr, prev}
)lua";

namespace {

int64_t ArgInt(const std::string& s) {
  int64_t v = 0;
  ParseRedisInt(s, &v);
  return v;
}

int64_t GetCounter(RedisScriptContext& ctx, const std::string& key) {
  const Reply r = ctx.Call({"GET", key});
  return r.is_nil() ? 0 : ReplyInt(r).value_or(0);
}

}  // namespace

Reply SlidingCounterNative(RedisScriptContext& ctx, const std::vector<std::string>& keys,
                           const std::vector<std::string>& argv) {
  if (keys.size() != 2 || argv.size() != 4) return Reply::Error("ERR sliding_counter script: wrong arguments");
  const int64_t now = ArgInt(argv[0]);
  const int64_t window = ArgInt(argv[1]);
  const int64_t limit = ArgInt(argv[2]);
  const int64_t elapsed = now - FloorDivInt(now, window) * window;
  int64_t curr = GetCounter(ctx, keys[0]);
  const int64_t prev = GetCounter(ctx, keys[1]);
  int64_t allowed = 0;
  if (prev * (window - elapsed) + (curr + 1) * window <= limit * window) {
    const Reply incr = ctx.Call({"INCR", keys[0]});
    if (incr.is_error()) return incr;
    curr = incr.integer();
    ctx.Call({"PEXPIRE", keys[0], argv[3]});
    allowed = 1;
  }
  return Reply::Array({Reply::Integer(allowed), Reply::Integer(curr), Reply::Integer(prev)});
}

namespace {

class SlidingCounterPlan : public LimiterPlan {
 public:
  SlidingCounterPlan(const LimiterConfig& c, LimiterRequest r) : LimiterPlan(c, std::move(r), false) {}

 protected:
  RoundTrip Begin(Nanos now) override {
    rule_time_ = now;
    now_ms_ = FloorDivInt(now, kNanosPerMilli);
    const int64_t idx = FloorDivInt(now_ms_, window_ms());
    elapsed_ = now_ms_ - idx * window_ms();
    return {RoundTripKind::kScript,
            {{"EVALSHA", LimiterScriptNamed("sliding_counter").sha1, "2", request_.key + ":" + std::to_string(idx),
              request_.key + ":" + std::to_string(idx - 1), std::to_string(now_ms_), std::to_string(window_ms()),
              std::to_string(limit()), std::to_string(ttl_ms())}}};
  }

  std::optional<RoundTrip> Continue(const std::vector<Reply>& r) override {
    if (r.size() != 1 || r[0].elements().size() != 3) {
      Fail("unexpected reply " + (r.empty() ? std::string() : r[0].ToString()));
      return std::nullopt;
    }
    const auto& e = r[0].elements();
    const bool allowed = e[0].integer() == 1;
    const int64_t curr_before = e[1].integer() - (allowed ? 1 : 0);
    const int64_t prev = e[2].integer();
    const int64_t w = window_ms(), l = limit();
    Decision d;
    d.allowed = allowed;
    d.rule_time = rule_time_;
    const int64_t weighted = prev * (w - elapsed_) + curr_before * w;  // estimate x W
    d.count = weighted / w;
    if (allowed) {
      d.remaining = std::max<int64_t>(0, (l * w - weighted - w) / w);
    } else if (curr_before + 1 <= l && prev > 0) {
      // Later in this window prev's weight shrinks: admit once
      // prev*(W-e) <= (L-curr-1)*W, i.e. e >= W - floor((L-curr-1)*W/prev).
      d.retry_after = std::max<int64_t>(1, w - (l - curr_before - 1) * w / prev - elapsed_) * kNanosPerMilli;
    } else {
      // Not in this window: in the next one prev' = curr, curr' = 0.
      const int64_t next = curr_before > 0 ? std::max<int64_t>(0, w - (l - 1) * w / curr_before) : 0;
      d.retry_after = std::max<int64_t>(1, w - elapsed_ + next) * kNanosPerMilli;
    }
    const int64_t curr_after = curr_before + (allowed ? 1 : 0);
    d.reset = (curr_after > 0 ? 2 * w - elapsed_ : prev > 0 ? w - elapsed_ : 0) * kNanosPerMilli;
    Finish(d);
    return std::nullopt;
  }

 private:
  Nanos rule_time_ = 0;
  int64_t now_ms_ = 0;
  int64_t elapsed_ = 0;
};

class FixedWindowPlan : public LimiterPlan {
 public:
  FixedWindowPlan(const LimiterConfig& c, LimiterRequest r) : LimiterPlan(c, std::move(r), false) {}

 protected:
  // One pipeline: INCR, then PEXPIRE ... NX so the TTL is set once, by the
  // first request of the window, without a second round trip (and without
  // the "INCR succeeded, EXPIRE never ran" leak of the two-step pattern).
  RoundTrip Begin(Nanos now) override {
    rule_time_ = now;
    now_ms_ = FloorDivInt(now, kNanosPerMilli);
    idx_ = FloorDivInt(now_ms_, window_ms());
    const std::string key = request_.key + ":" + std::to_string(idx_);
    return {RoundTripKind::kPipeline, {{"INCR", key}, {"PEXPIRE", key, std::to_string(ttl_ms()), "NX"}}};
  }

  std::optional<RoundTrip> Continue(const std::vector<Reply>& r) override {
    if (r.size() != 2 || r[0].kind() != Reply::Kind::kInteger) {
      Fail("unexpected reply " + (r.empty() ? std::string() : r[0].ToString()));
      return std::nullopt;
    }
    const int64_t n = r[0].integer();
    Decision d;
    d.allowed = n <= limit();
    d.count = n - 1;
    d.rule_time = rule_time_;
    d.remaining = std::max<int64_t>(0, limit() - n);
    const int64_t to_end = (idx_ + 1) * window_ms() - now_ms_;
    d.retry_after = d.allowed ? 0 : to_end * kNanosPerMilli;
    d.reset = to_end * kNanosPerMilli;
    Finish(d);
    return std::nullopt;
  }

 private:
  Nanos rule_time_ = 0;
  int64_t now_ms_ = 0;
  int64_t idx_ = 0;
};

}  // namespace

std::unique_ptr<LimiterPlan> MakeSlidingCounterPlan(const LimiterConfig& c, LimiterRequest r) {
  return std::make_unique<SlidingCounterPlan>(c, std::move(r));
}
std::unique_ptr<LimiterPlan> MakeFixedWindowPlan(const LimiterConfig& c, LimiterRequest r) {
  return std::make_unique<FixedWindowPlan>(c, std::move(r));
}

}  // namespace limiter_internal
}  // namespace scaletwin
