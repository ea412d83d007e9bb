// RapidCheck properties of the limiters inside the simulated world (pods,
// pools, network, the simulated Redis with expiry): the sliding-window
// counter never admits more than its documented bound (2L - 1 in any sliding
// window of length W, see limiter_plan.h), and with ttl_windows >= 2 (>= 3 for
// the sliding counter) and pod clocks skewed by less than a window no limiter
// state is lost to expiry — every decision is the same as with keys that
// never expire.
#include <string>

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "model/scenario.h"
#include "sim/run.h"

namespace scaletwin {
namespace {

std::string Ms(int ms) { return std::to_string(ms) + "ms"; }

struct Generated {
  nlohmann::json doc;
  int64_t limit = 0;
  int window_ms = 0;
};

rc::Gen<Generated> LimitedScenario(const std::vector<std::string>& algorithms) {
  return rc::gen::exec([algorithms] {
    Generated g;
    g.limit = *rc::gen::inRange<int64_t>(1, 40);
    g.window_ms = *rc::gen::inRange(200, 5000);
    const int skew = *rc::gen::inRange(0, g.window_ms / 2);  // pods up to one window apart
    nlohmann::json points = nlohmann::json::array();
    for (int k = 0; k < 4; ++k) {
      points.push_back({{"at", std::to_string(k * 5) + "s"}, {"qps", *rc::gen::inRange(1, 60)}});
    }
    nlohmann::json limiter = {{"algorithm", *rc::gen::elementOf(algorithms)},
                              {"time_source", *rc::gen::element<std::string>("pod_clock", "redis_time")}};
    if (limiter["algorithm"] == "sliding_log") limiter["strategy"] = "lua";
    g.doc = {{"version", 1},
             {"name", "limiter-prop"},
             {"seed", *rc::gen::arbitrary<uint32_t>()},
             {"duration", "20s"},
             {"tenants", {{{"id", "a"}, {"limit", {{"requests", g.limit}, {"window", Ms(g.window_ms)}}}}}},
             {"traffic", {{"arrivals", *rc::gen::element<std::string>("poisson", "uniform")}, {"rate", points}}},
             {"pods",
              {{"replicas", *rc::gen::inRange(1, 5)},
               {"workers", 4},
               {"service_time", {{"dist", "constant"}, {"value", "1ms"}}},
               {"clock_skew", nlohmann::json::array({Ms(-skew), Ms(skew)})}}},
             {"limiter", limiter}};
    return g;
  });
}

RunResult RunDoc(const nlohmann::json& doc) {
  Result<Scenario> s = ParseScenario(doc, [](const std::string& p) -> Result<std::string> { return Status::NotFound(p); });
  RC_ASSERT(s.ok());
  return sim::Run(*s);
}

RC_GTEST_PROP(LimiterInTheWorld, SlidingCounterStaysWithinItsBound, ()) {
  Generated g = *LimitedScenario({"sliding_counter"});
  // One clock: the bound is about the algorithm, not about skewed pods.
  g.doc["limiter"]["time_source"] = "redis_time";
  const RunResult r = RunDoc(g.doc);
  RC_ASSERT(r.limiter_audit.size() == 1u);
  // Cloudflare's estimate prev x (1 - f) + curr <= L lets at most L + prev x f
  // < 2L through in any sliding window.
  RC_ASSERT(r.limiter_audit[0].at("peak_in_window").get<int64_t>() <= 2 * g.limit - 1);
}

RC_GTEST_PROP(LimiterInTheWorld, TwoWindowTtlLosesNoStateUnderSkewBelowAWindow, ()) {
  Generated g = *LimitedScenario({"sliding_log", "sliding_counter", "fixed_window", "token_bucket", "gcra"});
  // The sliding counter needs its previous window's key until the end of the
  // next window by the slowest reader's clock, while the key's TTL runs from
  // the writer's clock: two windows are short by the relative skew, three are
  // enough for skew below a window (WorldLimiter.SlidingCounterTwoWindowTtlLosesStateUnderSkew).
  const bool counter = g.doc["limiter"]["algorithm"] == "sliding_counter";
  g.doc["limiter"]["ttl_windows"] = *rc::gen::inRange(counter ? 3 : 2, 5);
  RC_LOG() << g.doc.dump() << "\n";
  const RunResult with_ttl = RunDoc(g.doc);
  g.doc["limiter"]["ttl_windows"] = 100;  // keys that outlive the run
  const RunResult forever = RunDoc(g.doc);
  RC_ASSERT(with_ttl.limiter_audit == forever.limiter_audit);
  RC_ASSERT(with_ttl.summary.by_cause == forever.summary.by_cause);
}

}  // namespace
}  // namespace scaletwin
