// Limiter plans, model versus real redis-server, and concurrency properties.
//
// 1. LimiterVsReal: random sequences of limiter decisions (random algorithm,
//    strategy, limit, window, ttl_windows, time source and member kind per
//    key), time advances and PTTL checks run through the same plans against
//    the model (RedisStore + native scripts) and a real redis-server (Lua
//    text). Every reply, every decision field and every TTL must agree.
//    Time: the plans' pod clock is the machine clock (the server's clock);
//    round trips run mid-slot (testsupport/real_time_slots.h); every TTL is
//    an odd multiple of half a slot (W = 20k + 10 ms for odd ttl_windows,
//    20k + 5 ms for ttl_windows 2), so expiries fall near slot boundaries.
//    The model runs each round trip at the time the server used when the
//    reply reveals it (TIME, or a redis_time script's returned now), else at
//    the time the round trip was sent. GCRA keys expire at their TAT, which
//    is anywhere in a slot, but an expired GCRA key and a present one whose
//    TAT has passed decide alike, so only its PTTL check is tolerant.
// 2. Interleavings (model only): several clients run plans on one key and one
//    RedisStore, their round trips interleaved at random with time advancing.
//    lua and multi_add_then_count (pod clock), token bucket and GCRA
//    (redis_time) never show excess admits while rule times are monotone in
//    Redis's execution order and no state expires early (the pod clock is
//    read as the first round trip runs; ZREM undos and check_then_add's
//    writes interleave freely); check_then_add's excess,
//    with every request inside one window, is at most c - 1 where c is the
//    largest number of admitted plans between their read and their write at
//    one moment.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "model/limiter_auditor.h"
#include "model/limiter_plan.h"
#include "model/redis_store.h"
#include "testsupport/real_time_slots.h"
#include "testsupport/redis_client.h"
#include "testsupport/redis_server.h"

namespace scaletwin {
namespace {

// Real-time cases cost ~0.1-0.3 s each; keep the binary under ~20 s unless
// the caller asks for more with RC_PARAMS.
const bool kParamsSet = [] { return setenv("RC_PARAMS", "max_success=40", /*overwrite=*/0) == 0; }();

RedisServer* g_server = nullptr;

struct Stats {
  int64_t cases = 0, decisions = 0, round_trips = 0, admitted = 0, refused = 0, ttl_checks = 0, advances = 0;
  int64_t noscript_reloads = 0;
  std::map<std::string, int64_t> by_kind;
};
Stats g_stats;

class RealRedisEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    auto server = RedisServer::Start();
    if (!server.ok()) {
      std::fprintf(stderr, "limiter_vs_real: %s\n", server.status().ToString().c_str());
      return;
    }
    server_ = std::move(*server);
    g_server = server_.get();
  }
  void TearDown() override {
    if (g_stats.cases > 0) {
      std::fprintf(stderr,
                   "limiter_vs_real: %lld sequences, %lld decisions agreed (%lld admitted, %lld refused) over %lld "
                   "round trips, %lld NOSCRIPT reloads, %lld TTL checks, %lld time advances\n",
                   (long long)g_stats.cases, (long long)g_stats.decisions, (long long)g_stats.admitted,
                   (long long)g_stats.refused, (long long)g_stats.round_trips, (long long)g_stats.noscript_reloads,
                   (long long)g_stats.ttl_checks, (long long)g_stats.advances);
      for (const auto& [kind, n] : g_stats.by_kind) std::fprintf(stderr, "  %-40s %lld\n", kind.c_str(), (long long)n);
    }
    g_server = nullptr;
    server_.reset();
  }

 private:
  std::unique_ptr<RedisServer> server_;
};

const auto* const kEnv = ::testing::AddGlobalTestEnvironment(new RealRedisEnvironment);

struct KeySetup {
  std::string key;
  LimiterConfig config;
  LimitSpec limit;
  std::string Describe() const {
    std::string s = LimiterAlgorithmName(config.algorithm);
    if (config.algorithm == LimiterAlgorithm::kSlidingLog) {
      s += std::string("/") + SlidingLogStrategyName(config.strategy) + "/" + LimiterMemberName(config.member);
    }
    return s + "/" + LimiterTimeSourceName(config.time_source);
  }
};

rc::Gen<KeySetup> GenKeySetup(int index, const SlotClock& clock) {
  return rc::gen::exec([index, clock] {
    KeySetup k;
    k.key = "rl:t" + std::to_string(index);
    k.config.algorithm = *rc::gen::element(LimiterAlgorithm::kSlidingLog, LimiterAlgorithm::kSlidingLog,
                                           LimiterAlgorithm::kSlidingCounter, LimiterAlgorithm::kFixedWindow,
                                           LimiterAlgorithm::kTokenBucket, LimiterAlgorithm::kGcra);
    if (k.config.algorithm == LimiterAlgorithm::kSlidingLog) {
      k.config.strategy = *rc::gen::element(SlidingLogStrategy::kCheckThenAdd, SlidingLogStrategy::kMultiAddThenCount,
                                            SlidingLogStrategy::kLua);
      k.config.member = *rc::gen::weightedElement<LimiterMember>({{4, LimiterMember::kUnique},
                                                                  {1, LimiterMember::kTimestamp}});
    }
    k.config.time_source = *rc::gen::element(LimiterTimeSource::kPodClock, LimiterTimeSource::kRedisTime);
    k.config.ttl_windows = *rc::gen::inRange(1, 4);
    const int64_t slots = *rc::gen::inRange(1, 4);
    const int64_t half = k.config.ttl_windows % 2 == 1 ? clock.slot_ms / 2 : clock.slot_ms / 4;
    k.limit = {*rc::gen::inRange<int64_t>(1, 5), (slots * clock.slot_ms + half) * kNanosPerMilli};
    return k;
  });
}

// The time the server used for this round trip, when its reply says so.
std::optional<Nanos> ServerTime(const KeySetup& k, const std::vector<Command>& commands,
                                const std::vector<Reply>& replies) {
  for (size_t i = 0; i < replies.size(); ++i) {
    const Reply& r = replies[i];
    if (r.kind() != Reply::Kind::kArray) continue;
    const auto& e = r.elements();
    if (commands[i].Name() == "TIME" && e.size() == 2) {
      int64_t s, us;
      if (ParseRedisInt(e[0].text(), &s) && ParseRedisInt(e[1].text(), &us)) return s * kNanosPerSecond + us * 1000;
    }
    if (k.config.time_source != LimiterTimeSource::kRedisTime) continue;
    size_t idx = 99;
    if (k.config.algorithm == LimiterAlgorithm::kSlidingLog && e.size() == 5) idx = 2;
    if (k.config.algorithm == LimiterAlgorithm::kTokenBucket && e.size() == 3) idx = 2;
    if (k.config.algorithm == LimiterAlgorithm::kGcra && e.size() == 5) idx = 4;
    if (idx < e.size() && e[idx].kind() == Reply::Kind::kInteger) return e[idx].integer() * kNanosPerMicro;
  }
  return std::nullopt;
}

std::string Show(const Decision& d) {
  return std::string(d.allowed ? "allowed" : "refused") + " count=" + std::to_string(d.count) +
         " remaining=" + std::to_string(d.remaining) + " retry_after=" + FormatDuration(d.retry_after) +
         " reset=" + FormatDuration(d.reset) + " rule_time=" + std::to_string(d.rule_time) +
         (d.redis_error ? " error=" + d.error : "") + " rts=" + std::to_string(d.round_trips);
}

RC_GTEST_PROP(LimiterVsReal, RandomDecisionSequencesAgreeWithRedisServer, ()) {
  RC_ASSERT(g_server != nullptr);  // CI installs redis-server: no server is a failure
  static std::unique_ptr<RedisClient> client;
  if (!client) {
    auto c = RedisClient::Connect(g_server->host(), g_server->port());
    RC_ASSERT(c.ok());
    client = std::move(*c);
  }
  RC_ASSERT(client->Run({"FLUSHALL"}).ok());
  RC_ASSERT(client->Run({"SCRIPT", "FLUSH"}).ok());
  const SlotClock clock;
  RedisConfig cfg;
  cfg.scripts = LimiterScriptRegistry();
  RedisStore model(cfg);
  RedisSession model_session;
  std::vector<KeySetup> keys;
  for (int i = *rc::gen::inRange(1, 3); i > 0; --i) keys.push_back(*GenKeySetup(static_cast<int>(keys.size()), clock));
  ++g_stats.cases;
  std::vector<std::string> transcript;
  auto fail = [&](const std::string& what) {
    std::string log;
    for (const std::string& l : transcript) log += "  " + l + "\n";
    RC_FAIL(what + "\ntranscript:\n" + log);
  };

  const int steps = *rc::gen::inRange(1, 25);
  int64_t seq = 0;
  for (int s = 0; s < steps; ++s) {
    const int kind = *rc::gen::weightedElement<int>({{12, 0}, {3, 1}, {2, 2}});
    const KeySetup& k = keys[*rc::gen::inRange<size_t>(0, keys.size())];
    if (kind == 1) {
      const int slots = *rc::gen::inRange(1, 4);
      clock.AdvanceSlots(slots);
      transcript.push_back("(advance " + std::to_string(slots) + " slots)");
      ++g_stats.advances;
      continue;
    }
    if (kind == 2) {  // PTTL of the key's main Redis key
      const std::string redis_key = k.key;
      clock.AlignToWindow();
      const Nanos before = WallNowNs();
      Result<Reply> real = client->Run({"PTTL", redis_key});
      const Nanos after = WallNowNs();
      RC_ASSERT(real.ok());
      if (clock.Overran(before, after)) RC_DISCARD("round trip overran its slot window");
      const Reply m = model.Execute({"PTTL", redis_key}, before);
      const int64_t rtt = (after - before) / kNanosPerMilli + 1;
      transcript.push_back("PTTL " + redis_key + " -> real " + real->ToString() + " | model " + m.ToString());
      bool ok = m == *real;
      if (!ok && m.integer() >= 0 && real->integer() >= 0) {
        ok = real->integer() >= m.integer() - rtt - 2 && real->integer() <= m.integer() + 2;
      }
      if (!ok && k.config.algorithm == LimiterAlgorithm::kGcra) {  // expiry anywhere in a slot
        ok = (m.integer() == -2 && real->integer() >= 0 && real->integer() <= 3) ||
             (real->integer() == -2 && m.integer() >= 0 && m.integer() <= rtt + 3);
      }
      if (!ok) fail("PTTL disagrees for " + k.Describe());
      ++g_stats.ttl_checks;
      continue;
    }
    clock.AlignToWindow();
    const LimiterRequest request{k.key, k.limit, WallNowNs(), "pod1-" + std::to_string(++seq), (uint64_t)seq};
    auto real_plan = MakeLimiterPlan(k.config, request);
    auto model_plan = MakeLimiterPlan(k.config, request);
    std::optional<RoundTrip> real_rt = real_plan->Start();
    std::optional<RoundTrip> model_rt = model_plan->Start();
    while (real_rt) {
      RC_ASSERT(model_rt.has_value());
      RC_ASSERT(real_rt->commands == model_rt->commands);
      clock.AlignToWindow();
      const Nanos before = WallNowNs();
      Result<std::vector<Reply>> real = client->Pipeline(real_rt->commands);
      const Nanos after = WallNowNs();
      RC_ASSERT(real.ok());
      if (clock.Overran(before, after)) RC_DISCARD("round trip overran its slot window");
      const Nanos model_now = ServerTime(k, real_rt->commands, *real).value_or(before);
      std::vector<Reply> mine = ExecutePipeline(model, model_session, model_rt->commands, model_now);
      for (size_t i = 0; i < mine.size(); ++i) {
        const Command& c = model_rt->commands[i];
        transcript.push_back(c.ToString().substr(0, 160) + "  -> real " + (*real)[i].ToString() + " | model " +
                             mine[i].ToString());
        if (!(mine[i] == (*real)[i])) fail("replies disagree for " + k.Describe());
        if (c.Name() == "SCRIPT") ++g_stats.noscript_reloads;
      }
      ++g_stats.round_trips;
      real_rt = real_plan->OnReplies(*real);
      model_rt = model_plan->OnReplies(mine);
    }
    RC_ASSERT(!model_rt.has_value());
    const Decision& r = real_plan->decision();
    const Decision& m = model_plan->decision();
    transcript.push_back("decision " + k.Describe() + ": real " + Show(r) + " | model " + Show(m));
    if (r.allowed != m.allowed || r.count != m.count || r.remaining != m.remaining ||
        r.retry_after != m.retry_after || r.reset != m.reset || r.redis_error != m.redis_error ||
        r.round_trips != m.round_trips || r.rule_time != m.rule_time) {
      fail("decisions disagree for " + k.Describe());
    }
    RC_ASSERT(!r.redis_error);
    ++g_stats.decisions;
    ++(r.allowed ? g_stats.admitted : g_stats.refused);
    ++g_stats.by_kind[k.Describe() + (r.allowed ? " admitted" : " refused")];
  }
}

// ---- interleavings on the model ----------------------------------------------

struct Client {
  std::unique_ptr<LimiterPlan> plan;
  std::optional<RoundTrip> next;
  RedisSession session;
  int read_step = -1;  // step of check_then_add's first round trip
  int write_step = -1;
  int round = 0;
};

struct InterleaveResult {
  LimiterAuditReport audit;
  int max_in_gap = 0;  // check_then_add: most admitted plans between read and write at once
};

InterleaveResult RunInterleaved(const LimiterConfig& config, const LimitSpec& limit, int clients, int decisions,
                                Nanos max_step, Nanos t0) {
  RedisConfig cfg;
  cfg.scripts = LimiterScriptRegistry();
  RedisStore store(cfg);
  for (const Command& c : LimiterScriptLoadCommands()) (void)store.Execute(c, t0);
  LimiterAuditor auditor(config.algorithm);
  std::vector<Client> cs(static_cast<size_t>(clients));
  std::vector<std::pair<int, int>> gaps;  // admitted check_then_add plans: [read, write)
  Nanos now = t0;
  int started = 0, finished = 0, step = 0;
  while (finished < decisions) {
    // Only clients that can move: a busy one, or an idle one while requests remain.
    std::vector<size_t> ready;
    for (size_t i = 0; i < cs.size(); ++i) {
      if (cs[i].plan || started < decisions) ready.push_back(i);
    }
    Client& c = cs[ready[*rc::gen::inRange<size_t>(0, ready.size())]];
    now += *rc::gen::inRange<Nanos>(0, max_step + 1);
    ++step;
    if (!c.plan) {
      ++started;
      // The pod clock is read as the first round trip runs, so rule times are
      // monotone in Redis's execution order. (With stale clocks a trim by a
      // later clock forgets entries an earlier clock still counts: the
      // clock-skew scenario's subject, not an atomicity failure.)
      c.plan = MakeLimiterPlan(config, {"k", limit, now, "c" + std::to_string(started), (uint64_t)started});
      c.next = c.plan->Start();
      c.round = 0;
    }
    ++c.round;
    if (c.round == 1) c.read_step = step;
    if (c.round == 2) c.write_step = step;
    c.next = c.plan->OnReplies(ExecutePipeline(store, c.session, c.next->commands, now));
    if (!c.next) {
      const Decision& d = c.plan->decision();
      RC_ASSERT(!d.redis_error);
      auditor.Record("k", "t", limit, d.rule_time, d.allowed);
      if (d.allowed && config.strategy == SlidingLogStrategy::kCheckThenAdd) gaps.push_back({c.read_step, c.write_step});
      c.plan.reset();
      ++finished;
    }
  }
  InterleaveResult out{auditor.Report(), 0};
  for (const auto& [read, write] : gaps) {
    int n = 0;
    for (const auto& [r2, w2] : gaps) n += r2 <= read && w2 > read;
    out.max_in_gap = std::max(out.max_in_gap, n);
  }
  return out;
}

constexpr Nanos kT0 = 1'700'000'000LL * kNanosPerSecond;

RC_GTEST_PROP(LimiterInterleavings, AtomicStrategiesNeverExcessAdmit, ()) {
  LimiterConfig config;
  const int which = *rc::gen::inRange(0, 4);
  if (which == 0) config.strategy = SlidingLogStrategy::kLua;
  if (which == 1) config.strategy = SlidingLogStrategy::kMultiAddThenCount;
  if (which >= 2) {
    config.algorithm = which == 2 ? LimiterAlgorithm::kTokenBucket : LimiterAlgorithm::kGcra;
    config.time_source = LimiterTimeSource::kRedisTime;  // times monotone in execution order
  }
  // Precondition of "never": no state is lost, i.e. a request's pod time lags
  // its execution by less than (ttl_windows - 1) x W. A run lasts at most
  // ~180 steps x 5 ms < 100 x 50 ms, so ttl_windows 100 guarantees it; with
  // a short TTL a starved client's stale `now` does find its history expired
  // (the ttl-one-vs-two-windows scenario's subject), which RapidCheck finds.
  config.ttl_windows = kMaxTtlWindows;
  const int clients = *rc::gen::inRange(1, 6);
  const int decisions = *rc::gen::inRange(1, 60);
  const LimitSpec limit{*rc::gen::inRange<int64_t>(1, 6), *rc::gen::inRange<int64_t>(50, 200) * kNanosPerMilli};
  const Nanos max_step = *rc::gen::inRange<int64_t>(0, 6) * kNanosPerMilli;
  const InterleaveResult r = RunInterleaved(config, limit, clients, decisions, max_step, kT0);
  RC_TAG(which);
  if (r.audit.excess_admits != 0) {
    RC_FAIL(std::string(LimiterAlgorithmName(config.algorithm)) + "/" + SlidingLogStrategyName(config.strategy) +
            " L=" + std::to_string(limit.requests) + " W=" + FormatDuration(limit.window) + " clients=" +
            std::to_string(clients) + " decisions=" + std::to_string(decisions) + ": " + r.audit.ToJson().dump());
  }
  if (config.algorithm == LimiterAlgorithm::kSlidingLog) RC_ASSERT(r.audit.strict_excess == 0);
}

RC_GTEST_PROP(LimiterInterleavings, CheckThenAddExcessIsBoundedByConcurrencyMinusOne, ()) {
  LimiterConfig config;
  config.strategy = SlidingLogStrategy::kCheckThenAdd;
  const LimitSpec limit{*rc::gen::inRange<int64_t>(1, 6), 3600 * kNanosPerSecond};  // every request in one window
  const InterleaveResult r = RunInterleaved(config, limit, *rc::gen::inRange(1, 8), *rc::gen::inRange(1, 60),
                                            *rc::gen::inRange<int64_t>(0, 5) * kNanosPerMilli, kT0);
  RC_CLASSIFY(r.audit.excess_admits > 0, "some excess");
  RC_ASSERT(r.audit.excess_admits <= std::max(0, r.max_in_gap - 1));
}

}  // namespace
}  // namespace scaletwin
