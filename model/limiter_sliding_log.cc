// Sliding-window log on a sorted set: check_then_add, multi_add_then_count,
// lua. See limiter_plan.h for the command sequences and reference/redis.md §1.
#include <algorithm>

#include "model/limiter_plan.h"

namespace scaletwin {
namespace limiter_internal {

// KEYS[1] zset; ARGV: now_ms | "redis", window_ms, limit, member ("" = the ms
// timestamp), ttl_ms. Returns {allowed, count before, now_us, score of the
// L-th newest entry or "", newest score or ""}. Numbers go to redis.call via
// %d because Lua's default number format (%.14g) would mangle 16-digit values.
const std::string_view kSlidingLogLua = R"lua(-- scaletwin sliding_log (lua): trim, count, add iff under the limit
local key = KEYS[1]
local now
if ARGV[1] == 'redis' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
else
  now = tonumber(ARGV[1]) * 1000
end
local now_ms = math.floor(now / 1000)
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local member = ARGV[4]
if member == '' then member = string.format('%d', now_ms) end
redis.call('ZREMRANGEBYSCORE', key, '-inf', string.format('%d', now_ms - window))
local count = redis.call('ZCARD', key)
local allowed = 0
if count < limit then
  redis.call('ZADD', key, string.format('%d', now_ms), member)
  redis.call('PEXPIRE', key, ARGV[5])
  allowed = 1
end
local nth = redis.call('ZRANGE', key, string.format('%d', -limit), string.format('%d', -limit), 'WITHSCORES')
local newest = redis.call('ZRANGE', key, '-1', '-1', 'WITHSCORES')
return {allowed, count, now, nth[2] or '', newest[2] or ''}
)lua";

namespace {

int64_t ArgInt(const std::string& s) {
  int64_t v = 0;
  ParseRedisInt(s, &v);
  return v;
}

// The score of a one-element ZRANGE ... WITHSCORES reply, if any.
std::optional<int64_t> OneScore(const Reply& r) {
  if (r.kind() != Reply::Kind::kArray || r.elements().size() != 2) return std::nullopt;
  return ReplyInt(r.elements()[1]);
}

std::optional<int64_t> OptionalScore(const Reply& r) {
  if (r.kind() == Reply::Kind::kBulk && r.text().empty()) return std::nullopt;
  return ReplyInt(r);
}

}  // namespace

Reply SlidingLogNative(RedisScriptContext& ctx, const std::vector<std::string>& keys,
                       const std::vector<std::string>& argv) {
  if (keys.size() != 1 || argv.size() != 5) return Reply::Error("ERR sliding_log script: wrong arguments");
  const std::string& key = keys[0];
  const int64_t now_us = ScriptNowMicros(ctx, argv[0], 1000);
  const int64_t now_ms = FloorDivInt(now_us, 1000);
  const int64_t window = ArgInt(argv[1]);
  const int64_t limit = ArgInt(argv[2]);
  const std::string member = argv[3].empty() ? std::to_string(now_ms) : argv[3];
  Reply r = ctx.Call({"ZREMRANGEBYSCORE", key, "-inf", std::to_string(now_ms - window)});
  if (r.is_error()) return r;
  const Reply card = ctx.Call({"ZCARD", key});
  if (card.is_error()) return card;
  int64_t allowed = 0;
  if (card.integer() < limit) {
    if (Reply z = ctx.Call({"ZADD", key, std::to_string(now_ms), member}); z.is_error()) return z;
    ctx.Call({"PEXPIRE", key, argv[4]});
    allowed = 1;
  }
  const Reply nth = ctx.Call({"ZRANGE", key, std::to_string(-limit), std::to_string(-limit), "WITHSCORES"});
  const Reply newest = ctx.Call({"ZRANGE", key, "-1", "-1", "WITHSCORES"});
  auto score_or_empty = [](const Reply& z) {
    return z.kind() == Reply::Kind::kArray && z.elements().size() == 2 ? z.elements()[1] : Reply::Bulk("");
  };
  return Reply::Array({Reply::Integer(allowed), card, Reply::Integer(now_us), score_or_empty(nth),
                       score_or_empty(newest)});
}

namespace {

class SlidingLogPlan : public LimiterPlan {
 public:
  SlidingLogPlan(const LimiterConfig& c, LimiterRequest r)
      : LimiterPlan(c, std::move(r), c.strategy == SlidingLogStrategy::kLua) {}

 protected:
  RoundTrip Begin(Nanos now) override {
    rule_time_ = now;
    now_ms_ = FloorDivInt(now, kNanosPerMilli);
    const bool ts_member = config_.member == LimiterMember::kTimestamp;
    member_ = ts_member ? std::to_string(now_ms_) : request_.member;
    const std::string& k = request_.key;
    const std::string now_s = std::to_string(now_ms_);
    const std::string trim_to = std::to_string(now_ms_ - window_ms());
    switch (config_.strategy) {
      case SlidingLogStrategy::kCheckThenAdd:
        return {RoundTripKind::kPipeline,
                {{"ZREMRANGEBYSCORE", k, "-inf", trim_to},
                 {"ZCARD", k},
                 {"ZRANGE", k, std::to_string(-limit()), std::to_string(-limit()), "WITHSCORES"},
                 {"ZRANGE", k, "-1", "-1", "WITHSCORES"}}};
      case SlidingLogStrategy::kMultiAddThenCount:
        return {RoundTripKind::kMulti,
                {{"MULTI"},
                 {"ZREMRANGEBYSCORE", k, "-inf", trim_to},
                 {"ZADD", k, now_s, member_},
                 {"ZCARD", k},
                 {"PEXPIRE", k, std::to_string(ttl_ms())},
                 {"ZRANGE", k, std::to_string(-limit() - 1), std::to_string(-limit() - 1), "WITHSCORES"},
                 {"ZRANGE", k, "-1", "-1", "WITHSCORES"},
                 {"EXEC"}}};
      case SlidingLogStrategy::kLua:
        return {RoundTripKind::kScript,
                {{"EVALSHA", LimiterScriptNamed("sliding_log").sha1, "1", k, ScriptNowArg(now_ms_),
                  std::to_string(window_ms()), std::to_string(limit()), ts_member ? "" : member_,
                  std::to_string(ttl_ms())}}};
    }
    return {};
  }

  std::optional<RoundTrip> Continue(const std::vector<Reply>& r) override {
    switch (config_.strategy) {
      case SlidingLogStrategy::kCheckThenAdd: return ContinueCheckThenAdd(r);
      case SlidingLogStrategy::kMultiAddThenCount: return ContinueMulti(r);
      case SlidingLogStrategy::kLua: return ContinueLua(r);
    }
    return std::nullopt;
  }

 private:
  std::optional<RoundTrip> ContinueCheckThenAdd(const std::vector<Reply>& r) {
    if (phase_ == 1) {  // ZADD + PEXPIRE done
      Finish(pending_);
      return std::nullopt;
    }
    if (r.size() != 4 || r[1].kind() != Reply::Kind::kInteger) return Bad(r);
    const int64_t count = r[1].integer();
    const bool allowed = count < limit();
    pending_ = Decide(allowed, count, OneScore(r[2]), OneScore(r[3]));
    if (!allowed) {
      Finish(pending_);
      return std::nullopt;
    }
    phase_ = 1;
    return RoundTrip{RoundTripKind::kPipeline,
                     {{"ZADD", request_.key, std::to_string(now_ms_), member_},
                      {"PEXPIRE", request_.key, std::to_string(ttl_ms())}}};
  }

  std::optional<RoundTrip> ContinueMulti(const std::vector<Reply>& r) {
    if (phase_ == 1) {  // ZREM undo done
      Finish(pending_);
      return std::nullopt;
    }
    if (r.size() != 8 || r[7].kind() != Reply::Kind::kArray || r[7].elements().size() != 6) return Bad(r);
    const std::vector<Reply>& e = r[7].elements();
    if (e[1].kind() != Reply::Kind::kInteger || e[2].kind() != Reply::Kind::kInteger) return Bad(r);
    const int64_t card = e[2].integer();
    const bool allowed = card <= limit();
    // The transaction cannot branch, so the count includes this request's own
    // entry (if ZADD created one); report what was there before it.
    pending_ = Decide(allowed, card - e[1].integer(), OneScore(e[4]), OneScore(e[5]));
    if (allowed) {
      pending_.remaining = std::max<int64_t>(0, limit() - card);
      Finish(pending_);
      return std::nullopt;
    }
    phase_ = 1;
    return RoundTrip{RoundTripKind::kPipeline, {{"ZREM", request_.key, member_}}};
  }

  std::optional<RoundTrip> ContinueLua(const std::vector<Reply>& r) {
    if (r.size() != 1 || r[0].kind() != Reply::Kind::kArray || r[0].elements().size() != 5) return Bad(r);
    const std::vector<Reply>& e = r[0].elements();
    if (e[0].kind() != Reply::Kind::kInteger || e[1].kind() != Reply::Kind::kInteger ||
        e[2].kind() != Reply::Kind::kInteger) {
      return Bad(r);
    }
    rule_time_ = e[2].integer() * kNanosPerMicro;
    now_ms_ = FloorDivInt(e[2].integer(), 1000);
    Finish(Decide(e[0].integer() == 1, e[1].integer(), OptionalScore(e[3]), OptionalScore(e[4])));
    return std::nullopt;
  }

  // `nth`: score of the entry whose leaving frees a slot; `newest`: the newest score seen.
  Decision Decide(bool allowed, int64_t count, std::optional<int64_t> nth, std::optional<int64_t> newest) const {
    Decision d;
    d.allowed = allowed;
    d.count = count;
    d.rule_time = rule_time_;
    const int64_t w = window_ms();
    if (allowed) {
      d.remaining = std::max<int64_t>(0, limit() - count - 1);
      newest = std::max(newest.value_or(now_ms_), now_ms_);
    } else {
      d.retry_after = std::max<int64_t>(1, nth ? *nth + w - now_ms_ : w) * kNanosPerMilli;
    }
    if (newest) d.reset = std::max<int64_t>(0, *newest + w - now_ms_) * kNanosPerMilli;
    return d;
  }

  std::optional<RoundTrip> Bad(const std::vector<Reply>& r) {
    std::string text;
    for (const Reply& x : r) text += x.ToString() + " ";
    Fail("unexpected replies: " + text);
    return std::nullopt;
  }

  Nanos rule_time_ = 0;
  int64_t now_ms_ = 0;
  std::string member_;
  int phase_ = 0;
  Decision pending_;
};

}  // namespace

std::unique_ptr<LimiterPlan> MakeSlidingLogPlan(const LimiterConfig& c, LimiterRequest r) {
  return std::make_unique<SlidingLogPlan>(c, std::move(r));
}

}  // namespace limiter_internal
}  // namespace scaletwin
