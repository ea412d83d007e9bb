// The plan driver shared by every algorithm: TIME pre-round-trip, NOSCRIPT
// reload, error handling per on_redis_error; and the script catalogue.
#include "model/limiter_plan.h"

#include <cmath>

#include "model/sha1.h"

namespace scaletwin {

using limiter_internal::ReplyInt;

int64_t FloorDivInt(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

int64_t CeilDivInt(int64_t a, int64_t b) { return -FloorDivInt(-a, b); }

int64_t GcraIntervalMicros(const LimitSpec& limit) {
  const int64_t t = limit.window_ms() * 1000 / std::max<int64_t>(1, limit.requests);
  return t < 1 ? 1 : t;
}

LimiterPlan::LimiterPlan(const LimiterConfig& config, LimiterRequest request, bool script_reads_time)
    : config_(config), request_(std::move(request)), script_reads_time_(script_reads_time) {}

std::string LimiterPlan::ScriptNowArg(int64_t now_value) const {
  return config_.time_source == LimiterTimeSource::kRedisTime ? "redis" : std::to_string(now_value);
}

std::optional<RoundTrip> LimiterPlan::Issue(RoundTrip rt) {
  ++round_trips_;
  last_ = rt;
  return rt;
}

RoundTrip LimiterPlan::Start() {
  if (config_.time_source == LimiterTimeSource::kRedisTime && !script_reads_time_) {
    awaiting_time_ = true;
    return *Issue({RoundTripKind::kPipeline, {Command{"TIME"}}});
  }
  return *Issue(Begin(request_.now));
}

std::optional<RoundTrip> LimiterPlan::OnTransportError(std::string_view what) {
  if (!done_) Fail("transport: " + std::string(what));
  return std::nullopt;
}

std::optional<RoundTrip> LimiterPlan::OnReplies(const std::vector<Reply>& in) {
  if (done_) return std::nullopt;
  if (in.size() != last_.commands.size()) {
    Fail("expected " + std::to_string(last_.commands.size()) + " replies, got " + std::to_string(in.size()));
    return std::nullopt;
  }
  std::vector<Reply> replies(in.begin() + static_cast<std::ptrdiff_t>(strip_), in.end());
  for (size_t i = 0; i < strip_; ++i) {
    if (in[i].is_error()) {
      Fail("SCRIPT LOAD: " + in[i].text());
      return std::nullopt;
    }
  }
  // The script cache is volatile (restart, failover, SCRIPT FLUSH): reload the
  // scripts of this round trip and resend it, once.
  bool noscript = false;
  for (const Reply& r : replies) noscript |= r.is_error() && r.text().rfind("NOSCRIPT", 0) == 0;
  if (noscript && !reloaded_) {
    reloaded_ = true;
    RoundTrip retry{last_.kind, {}};
    std::vector<Command> original(last_.commands.begin() + static_cast<std::ptrdiff_t>(strip_), last_.commands.end());
    for (const Command& c : original) {
      if (c.Name() != "EVALSHA" || c.args.size() < 2) continue;
      for (const LimiterScript& s : LimiterScripts()) {
        if (s.sha1 == c.args[1]) retry.commands.push_back(Command{"SCRIPT", "LOAD", std::string(s.body)});
      }
    }
    strip_ = retry.commands.size();
    retry.commands.insert(retry.commands.end(), original.begin(), original.end());
    return Issue(std::move(retry));
  }
  strip_ = 0;
  for (const Reply& r : replies) {
    if (r.is_error()) {
      Fail(r.text());
      return std::nullopt;
    }
    for (const Reply& e : r.elements()) {
      if (e.is_error()) {
        Fail(e.text());
        return std::nullopt;
      }
    }
  }
  if (awaiting_time_) {
    awaiting_time_ = false;
    const Reply& t = replies[0];
    std::optional<int64_t> sec, usec;
    if (t.kind() == Reply::Kind::kArray && t.elements().size() == 2) {
      sec = ReplyInt(t.elements()[0]);
      usec = ReplyInt(t.elements()[1]);
    }
    if (!sec || !usec) {
      Fail("unexpected TIME reply " + t.ToString());
      return std::nullopt;
    }
    return Issue(Begin(*sec * kNanosPerSecond + *usec * kNanosPerMicro));
  }
  std::optional<RoundTrip> next = Continue(replies);
  if (next) return Issue(std::move(*next));
  if (!done_) Fail("limiter plan ended without a decision");
  return std::nullopt;
}

void LimiterPlan::Finish(Decision d) {
  d.round_trips = round_trips_;
  decision_ = std::move(d);
  done_ = true;
}

void LimiterPlan::Fail(std::string error) {
  Decision d;
  d.allowed = config_.on_redis_error == OnRedisError::kFailOpen;
  d.redis_error = true;
  d.error = std::move(error);
  d.rule_time = request_.now;
  Finish(std::move(d));
}

std::unique_ptr<LimiterPlan> MakeLimiterPlan(const LimiterConfig& config, LimiterRequest request) {
  using namespace limiter_internal;
  switch (config.algorithm) {
    case LimiterAlgorithm::kSlidingLog: return MakeSlidingLogPlan(config, std::move(request));
    case LimiterAlgorithm::kSlidingCounter: return MakeSlidingCounterPlan(config, std::move(request));
    case LimiterAlgorithm::kFixedWindow: return MakeFixedWindowPlan(config, std::move(request));
    case LimiterAlgorithm::kTokenBucket: return MakeTokenBucketPlan(config, std::move(request));
    case LimiterAlgorithm::kGcra: return MakeGcraPlan(config, std::move(request));
  }
  return nullptr;
}

// ---- scripts -------------------------------------------------------------------

const std::vector<LimiterScript>& LimiterScripts() {
  using namespace limiter_internal;
  static const std::vector<LimiterScript> kScripts = {
      {"sliding_log", kSlidingLogLua, Sha1Hex(kSlidingLogLua)},
      {"sliding_counter", kSlidingCounterLua, Sha1Hex(kSlidingCounterLua)},
      {"token_bucket", kTokenBucketLua, Sha1Hex(kTokenBucketLua)},
      {"gcra", kGcraLua, Sha1Hex(kGcraLua)},
  };
  return kScripts;
}

const LimiterScript& LimiterScriptNamed(std::string_view name) {
  for (const LimiterScript& s : LimiterScripts()) {
    if (s.name == name) return s;
  }
  return LimiterScripts().front();
}

std::shared_ptr<const RedisScriptRegistry> LimiterScriptRegistry() {
  using namespace limiter_internal;
  static const std::shared_ptr<const RedisScriptRegistry> kRegistry = [] {
    auto reg = std::make_shared<RedisScriptRegistry>();
    const NativeScript natives[] = {SlidingLogNative, SlidingCounterNative, TokenBucketNative, GcraNative};
    for (size_t i = 0; i < LimiterScripts().size(); ++i) {
      const LimiterScript& s = LimiterScripts()[i];
      Status st = reg->Register({s.sha1, std::string(s.body), natives[i]});
      (void)st;  // SHAs are well-formed and distinct by construction
    }
    return std::shared_ptr<const RedisScriptRegistry>(std::move(reg));
  }();
  return kRegistry;
}

std::vector<Command> LimiterScriptLoadCommands() {
  std::vector<Command> out;
  for (const LimiterScript& s : LimiterScripts()) out.push_back(Command{"SCRIPT", "LOAD", std::string(s.body)});
  return out;
}

namespace limiter_internal {

std::optional<int64_t> ReplyInt(const Reply& r) {
  if (r.kind() == Reply::Kind::kInteger) return r.integer();
  if (r.kind() != Reply::Kind::kBulk) return std::nullopt;
  int64_t v;
  if (ParseRedisInt(r.text(), &v)) return v;
  double d;
  if (ParseRedisDouble(r.text(), &d) && std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.0e15) {
    return static_cast<int64_t>(d);
  }
  return std::nullopt;
}

int64_t ScriptNowMicros(RedisScriptContext& ctx, const std::string& arg, int64_t arg_unit_us) {
  if (arg == "redis") {
    const Reply t = ctx.Call({"TIME"});
    return *ReplyInt(t.elements()[0]) * 1'000'000 + *ReplyInt(t.elements()[1]);
  }
  int64_t v = 0;
  ParseRedisInt(arg, &v);
  return v * arg_unit_us;
}

}  // namespace limiter_internal

}  // namespace scaletwin
