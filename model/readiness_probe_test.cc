#include "model/readiness_probe.h"

#include <gtest/gtest.h>

#include <vector>

namespace scaletwin {
namespace {

constexpr Nanos kS = kNanosPerSecond;

TEST(ReadinessProbe, DefaultsAreKubernetesDefaults) {
  ProbeSpec spec;
  EXPECT_EQ(spec.initial_delay, 0);
  EXPECT_EQ(spec.period, 10 * kS);
  EXPECT_EQ(spec.timeout, 1 * kS);
  EXPECT_EQ(spec.success_threshold, 1);
  EXPECT_EQ(spec.failure_threshold, 3);
}

// platform.md §2.2: "a 1 s boot still waits for the next 10 s tick unless the
// first probe at t≈0 already succeeds".
TEST(ReadinessProbe, AOneSecondBootWaitsForTheNextTenSecondTick) {
  ProbeSpec spec;
  EXPECT_EQ(ReadyFlipTime(spec, 100 * kS, 101 * kS), 110 * kS);
  EXPECT_EQ(ReadyFlipTime(spec, 100 * kS, 100 * kS), 100 * kS);
}

TEST(ReadinessProbe, TicksStayAlignedToTheWorkerStartNotToTheInitialDelay) {
  ProbeSpec spec;
  spec.initial_delay = 5 * kS;
  EXPECT_EQ(ReadyFlipTime(spec, 0, 0), 10 * kS)
      << "the tick at 0 s is inside the delay; the next one is at 10 s";
  spec.initial_delay = 20 * kS;
  EXPECT_EQ(ReadyFlipTime(spec, 0, 0), 20 * kS);
  EXPECT_TRUE(ProbeCounts(spec, 0, 20 * kS));
  EXPECT_FALSE(ProbeCounts(spec, 0, 20 * kS - 1));
}

TEST(ReadinessProbe, SuccessThresholdNeedsConsecutiveSuccesses) {
  ProbeSpec spec;
  spec.success_threshold = 3;
  EXPECT_EQ(ReadyFlipTime(spec, 0, 15 * kS), 40 * kS);
  ProbeState s(spec);
  EXPECT_FALSE(s.passing()) << "readiness starts as Failure";
  std::vector<bool> outcomes = {true, true, false, true, true};
  for (bool o : outcomes) EXPECT_EQ(s.Record(o), ProbeState::Change::kNone);
  EXPECT_EQ(s.Record(true), ProbeState::Change::kBecamePassing);
  EXPECT_TRUE(s.passing());
}

TEST(ReadinessProbe, ReadyPodTurnsUnreadyAfterFailureThresholdConsecutiveFailures) {
  ProbeState s(ProbeSpec{});
  ASSERT_EQ(s.Record(true), ProbeState::Change::kBecamePassing);
  EXPECT_EQ(s.Record(false), ProbeState::Change::kNone);
  EXPECT_EQ(s.Record(false), ProbeState::Change::kNone);
  EXPECT_EQ(s.Record(true), ProbeState::Change::kNone) << "a success resets the failure run";
  EXPECT_EQ(s.Record(false), ProbeState::Change::kNone);
  EXPECT_EQ(s.Record(false), ProbeState::Change::kNone);
  EXPECT_EQ(s.Record(false), ProbeState::Change::kBecameFailing);
  EXPECT_EQ(s.Record(false), ProbeState::Change::kNone) << "readiness keeps probing, nothing new to report";
  EXPECT_EQ(s.Record(true), ProbeState::Change::kBecamePassing);
}

// platform.md §2.2: detection of a hung app takes up to ~3·P + timeout.
TEST(ReadinessProbe, AHungAppIsDetectedAfterThreePeriodsPlusTheTimeout) {
  ProbeSpec spec;
  EXPECT_EQ(NotReadyFlipTime(spec, 0, 100 * kS + 1), 131 * kS);
  EXPECT_EQ(NotReadyFlipTime(spec, 0, 100 * kS), 121 * kS);
}

TEST(ReadinessProbe, LivenessFailureHoldsProbingUntilANewContainer) {
  ProbeState s(ProbeSpec{}, ProbeKind::kLiveness);
  EXPECT_TRUE(s.passing()) << "liveness starts as Success";
  s.Record(false);
  s.Record(false);
  EXPECT_EQ(s.Record(false), ProbeState::Change::kBecameFailing);
  EXPECT_TRUE(s.on_hold());
  EXPECT_EQ(s.Record(true), ProbeState::Change::kNone);
  s.NewContainer();
  EXPECT_TRUE(s.passing());
  EXPECT_FALSE(s.on_hold());
}

TEST(ReadinessProbe, TimeoutDecidesSuccess) {
  ProbeSpec spec;
  EXPECT_TRUE(ProbeSucceeds(spec, 1 * kS));
  EXPECT_FALSE(ProbeSucceeds(spec, 1 * kS + 1));
}

TEST(RestartBackoff, FirstRestartIsImmediateThenTenSecondsDoublingToFiveMinutes) {
  RestartBackoff b;
  Nanos t = 0;
  std::vector<Nanos> delays;
  for (int i = 0; i < 9; ++i) {
    const Nanos exit = t + 1 * kS;  // crashes one second after each start
    const Nanos restart = b.OnContainerExit(exit);
    delays.push_back((restart - exit) / kS);
    t = restart;
  }
  EXPECT_EQ(delays, (std::vector<Nanos>{0, 10, 20, 40, 80, 160, 300, 300, 300}));
}

TEST(RestartBackoff, TenMinutesOfCleanRunResetsTheBackoff) {
  RestartBackoff b;
  Nanos restart = b.OnContainerExit(0);
  restart = b.OnContainerExit(restart + kS);
  restart = b.OnContainerExit(restart + kS);
  ASSERT_EQ(b.DelayFor(restart + kS), 40 * kS);
  EXPECT_EQ(b.DelayFor(restart + 600 * kS), 40 * kS) << "exactly 2 × max is not yet expired";
  EXPECT_EQ(b.DelayFor(restart + 601 * kS), 0);
  const Nanos exit = restart + 601 * kS;
  EXPECT_EQ(b.OnContainerExit(exit), exit);
  EXPECT_EQ(b.DelayFor(exit + kS), 10 * kS);
  EXPECT_TRUE(b.InBackOff(exit + kS, exit + 5 * kS));
  EXPECT_FALSE(b.InBackOff(exit + kS, exit + 11 * kS));
}

TEST(ParseProbe, ReadsKubernetesFieldsAndTreatsZeroAsDefault) {
  ParseErrors errors;
  auto p = ParseProbe(nlohmann::json::parse(R"({"initialDelaySeconds": 5, "periodSeconds": 0, "timeoutSeconds": 2,
      "successThreshold": 2, "failureThreshold": 0, "httpGet": {"path": "/readyz", "port": 8080}})"),
                      "/pods/readinessProbe", errors);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->initial_delay, 5 * kS);
  EXPECT_EQ(p->period, 10 * kS);
  EXPECT_EQ(p->timeout, 2 * kS);
  EXPECT_EQ(p->success_threshold, 2);
  EXPECT_EQ(p->failure_threshold, 3);
  EXPECT_TRUE(errors.empty());
}

TEST(ParseProbe, RejectsNegativesUnknownKeysAndRulesOfTheProbeKind) {
  ParseErrors errors;
  EXPECT_FALSE(ParseProbe(nlohmann::json::parse(R"({"periodSeconds": -1, "periodSecond": 3})"), "/p", errors).ok());
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_NE(errors.lines()[0].find("/p/periodSeconds"), std::string::npos);
  EXPECT_NE(errors.lines()[1].find("periodSecond"), std::string::npos);

  ParseErrors liveness;
  EXPECT_FALSE(ParseProbe(nlohmann::json::parse(R"({"successThreshold": 2})"), "/l", liveness, ProbeKind::kLiveness).ok());
  ParseErrors readiness;
  EXPECT_FALSE(ParseProbe(nlohmann::json::parse(R"({"terminationGracePeriodSeconds": 5})"), "/r", readiness).ok());
  ParseErrors ok;
  auto l = ParseProbe(nlohmann::json::parse(R"({"terminationGracePeriodSeconds": 5})"), "/l", ok, ProbeKind::kLiveness);
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->termination_grace_period, 5 * kS);
  ParseErrors not_object;
  EXPECT_FALSE(ParseProbe(nlohmann::json(3), "/x", not_object).ok());
}

}  // namespace
}  // namespace scaletwin
