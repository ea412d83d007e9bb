// LimiterAuditor: reference rules, excess, false refusals, peaks, JSON shape.
#include "model/limiter_auditor.h"

#include <gtest/gtest.h>

namespace scaletwin {
namespace {

constexpr Nanos kMs = kNanosPerMilli;
const LimitSpec kLimit{2, 1000 * kMs};

TEST(LimiterAuditor, CorrectAtomicSlidingLogScoresZero) {
  LimiterAuditor a(LimiterAlgorithm::kSlidingLog);
  // admit, admit, refuse, (first leaves at 1000) admit, refuse
  a.Record("k", "t", kLimit, 0, true);
  a.Record("k", "t", kLimit, 10 * kMs, true);
  a.Record("k", "t", kLimit, 999 * kMs, false);
  a.Record("k", "t", kLimit, 1000 * kMs, true);
  a.Record("k", "t", kLimit, 1001 * kMs, false);
  const LimiterAuditReport r = a.Report();
  ASSERT_EQ(r.keys.size(), 1u);
  EXPECT_EQ(r.keys[0].admitted, 3);
  EXPECT_EQ(r.keys[0].refused, 2);
  EXPECT_EQ(r.keys[0].peak_in_window, 2);
  EXPECT_EQ(r.excess_admits, 0);
  EXPECT_EQ(r.false_refusals, 0);
  EXPECT_EQ(r.strict_excess, 0);
}

TEST(LimiterAuditor, InjectedRaceShowsAsExcessAndStrictExcess) {
  LimiterAuditor a(LimiterAlgorithm::kSlidingLog);
  for (int i = 0; i < 5; ++i) a.Record("k", "t", kLimit, i * kMs, true);  // 3 over a limit of 2
  const LimiterAuditReport r = a.Report();
  EXPECT_EQ(r.excess_admits, 3);
  EXPECT_EQ(r.strict_excess, 3);
  EXPECT_EQ(r.keys[0].peak_in_window, 5);
}

TEST(LimiterAuditor, FixedWindowAdmitsTwiceTheLimitAcrossABoundaryWithoutExcess) {
  LimiterAuditor a(LimiterAlgorithm::kFixedWindow);
  for (Nanos t : {998 * kMs, 999 * kMs, 1000 * kMs, 1001 * kMs}) a.Record("k", "t", kLimit, t, true);
  a.Record("k", "t", kLimit, 1002 * kMs, false);
  const LimiterAuditReport r = a.Report();
  EXPECT_EQ(r.excess_admits, 0);   // its own rule: 2 per aligned window
  EXPECT_EQ(r.false_refusals, 0);
  EXPECT_EQ(r.strict_excess, 2);   // but 4 in one sliding second
  EXPECT_EQ(r.keys[0].peak_in_window, 4);
}

TEST(LimiterAuditor, GcraAndTokenBucketReplayTheirArithmetic) {
  for (LimiterAlgorithm alg : {LimiterAlgorithm::kGcra, LimiterAlgorithm::kTokenBucket}) {
    LimiterAuditor a(alg);
    a.Record("k", "t", kLimit, 0, true);
    a.Record("k", "t", kLimit, 0, true);
    a.Record("k", "t", kLimit, 100 * kMs, false);
    a.Record("k", "t", kLimit, 500 * kMs, true);
    a.Record("k", "t", kLimit, 600 * kMs, true);  // too early: next token at 1000
    a.Record("k", "t", kLimit, 1500 * kMs, false);  // would have passed
    const LimiterAuditReport r = a.Report();
    EXPECT_EQ(r.excess_admits, 1) << LimiterAlgorithmName(alg);
    EXPECT_EQ(r.false_refusals, 1) << LimiterAlgorithmName(alg);
  }
}

TEST(LimiterAuditor, JsonHasTheReportFieldNames) {
  LimiterAuditor a(LimiterAlgorithm::kSlidingLog);
  a.Record("rl:acme", "acme", kLimit, 0, true);
  const nlohmann::json j = a.Report().ToJson();
  EXPECT_EQ(j["audit"][0]["key"], "rl:acme");
  EXPECT_EQ(j["audit"][0]["tenant"], "acme");
  EXPECT_EQ(j["audit"][0]["window_ms"], 1000);
  for (const char* f : {"limit", "admitted", "refused", "peak_in_window", "excess_admits", "false_refusals",
                        "strict_excess"}) {
    EXPECT_TRUE(j["audit"][0].contains(f)) << f;
  }
  EXPECT_EQ(j["summary"], (nlohmann::json{{"excess_admits", 0}, {"false_refusals", 0}, {"strict_excess", 0}}));
}

}  // namespace
}  // namespace scaletwin
