// The simulator against queueing theory: closed forms from
// shared/reference/queueing.md must lie inside the 99 % confidence interval of
// independent replications (different seeds). These are the oracles the
// simulator is trusted by; they do not compare the simulator with itself.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <vector>

#include "model/scenario.h"
#include "sim/run.h"

namespace scaletwin::sim {
namespace {

constexpr Nanos S = kNanosPerSecond, ms = kNanosPerMilli;

// Erlang B by the stable recursion; Erlang C from it.
double ErlangB(int c, double a) {
  double b = 1;
  for (int m = 1; m <= c; ++m) b = a * b / (m + a * b);
  return b;
}
double ErlangC(int c, double a) {
  const double b = ErlangB(c, a);
  return c * b / (c - a * (1 - b));
}

TEST(Oracles, FormulasMatchTheReferenceTestVectors) {
  EXPECT_NEAR(ErlangC(3, 2), 0.444444, 1e-6);
  EXPECT_NEAR(ErlangC(2, 1.5), 0.642857, 1e-6);
  EXPECT_NEAR(ErlangC(10, 8), 0.409180, 1e-6);
  EXPECT_NEAR(ErlangB(30, 25), 0.052603, 1e-6);
  EXPECT_NEAR(ErlangB(5, 2.5), 0.069731, 1e-6);
}

Scenario Queue(double qps, int replicas, int workers, int64_t queue, DurationDistribution service, Nanos duration) {
  Scenario s;
  s.name = "oracle";
  s.duration = duration;
  s.warmup = duration / 20;
  s.tenants = {{"t", 1}};
  s.traffic.profile = RateProfile::FromPoints({{0, qps, 0}});
  s.pods.replicas = replicas;
  s.pods.workers = workers;
  s.pods.queue_limit = queue;
  s.pods.service_time = std::move(service);
  return s;
}

struct Estimate {
  double mean, half_width;  // 99 % confidence interval of the replication mean
};

// Runs `replications` seeds and estimates E[metric(result)].
Estimate Replicate(Scenario s, int replications, const std::function<double(const RunResult&)>& metric) {
  std::vector<double> xs;
  for (int r = 0; r < replications; ++r) {
    s.seed = 1000 + static_cast<uint64_t>(r);
    xs.push_back(metric(sim::Run(s)));
  }
  double mean = 0;
  for (double x : xs) mean += x;
  mean /= xs.size();
  double var = 0;
  for (double x : xs) var += (x - mean) * (x - mean);
  var /= (xs.size() - 1);
  // Student t, 99 % two-sided, 9 degrees of freedom.
  constexpr double kT99 = 3.250;
  EXPECT_EQ(replications, 10);
  return {mean, kT99 * std::sqrt(var / xs.size())};
}

// The closed form lies in the interval, and the interval is tight enough that
// a wrong model would fall outside it.
void ExpectInside(const Estimate& e, double theory, double max_relative_half_width, const char* what) {
  EXPECT_LE(std::fabs(e.mean - theory), e.half_width)
      << what << ": simulated " << e.mean << " ± " << e.half_width << ", theory " << theory;
  EXPECT_LE(e.half_width, max_relative_half_width * theory) << what << ": interval too wide to mean anything";
}

double MeanLatencySeconds(const RunResult& r) { return r.latency.Mean() / S; }
double MeanWaitSeconds(const RunResult& r) { return r.queue_wait.Mean() / S; }
double PWait(const RunResult& r) { return static_cast<double>(r.waited) / r.summary.completed; }
double Blocking(const RunResult& r) { return static_cast<double>(r.summary.rejected) / r.summary.offered; }

TEST(MM1, MeanTimeInSystemAndWaitProbabilityMatchTheory) {
  // lambda = 80/s, mu = 100/s: W = 1/(mu - lambda) = 50 ms, P(wait) = rho = 0.8.
  Scenario s = Queue(80, 1, 1, -1, DurationDistribution::Exponential(10 * ms), 2000 * S);
  ExpectInside(Replicate(s, 10, MeanLatencySeconds), 0.050, 0.05, "M/M/1 W");
  ExpectInside(Replicate(s, 10, PWait), 0.8, 0.01, "M/M/1 P(wait)");
}

TEST(MMc, ErlangCWaitProbabilityAndMeanWaitMatchTheory) {
  // c = 10, a = 8: C = 0.409180, Wq = C / (c mu - lambda) = 2.04590 ms, W = 12.04590 ms.
  Scenario s = Queue(800, 1, 10, -1, DurationDistribution::Exponential(10 * ms), 600 * S);
  ExpectInside(Replicate(s, 10, PWait), ErlangC(10, 8), 0.03, "M/M/c P(wait)");
  ExpectInside(Replicate(s, 10, MeanWaitSeconds), ErlangC(10, 8) / (1000.0 - 800.0), 0.06, "M/M/c Wq");
  ExpectInside(Replicate(s, 10, MeanLatencySeconds), 0.010 + ErlangC(10, 8) / 200.0, 0.02, "M/M/c W");
}

TEST(MD1, PollaczekKhinchineWaitIsHalfOfMM1) {
  // rho = 0.8, D = 10 ms: Wq = rho D / (2 (1 - rho)) = 20 ms.
  Scenario s = Queue(80, 1, 1, -1, DurationDistribution::Constant(10 * ms), 2000 * S);
  ExpectInside(Replicate(s, 10, MeanWaitSeconds), 0.020, 0.06, "M/D/1 Wq");
}

TEST(MG1, LognormalServiceFollowsPollaczekKhinchine) {
  // Wq = lambda E[S^2] / (2 (1 - rho)) for any service distribution.
  const auto service = DurationDistribution::Lognormal(4 * ms, 20 * ms);
  const double lambda = 0.7 / service.MeanSeconds();
  const double wq = lambda * service.SecondMomentSeconds() / (2 * (1 - 0.7));
  Scenario s = Queue(lambda, 1, 1, -1, service, 2000 * S);
  ExpectInside(Replicate(s, 10, MeanWaitSeconds), wq, 0.08, "M/G/1 Wq");
}

TEST(ErlangB, NoWaitingRoomBlocksAsPredictedForAnyServiceDistribution) {
  // a = 25 Erlangs on 30 workers: B = 0.052603; insensitive to the service law.
  Scenario exp = Queue(2500, 1, 30, 0, DurationDistribution::Exponential(10 * ms), 300 * S);
  ExpectInside(Replicate(exp, 10, Blocking), ErlangB(30, 25), 0.03, "M/M/c/c blocking");
  Scenario uni = Queue(2500, 1, 30, 0, DurationDistribution::Uniform(0, 20 * ms), 300 * S);
  ExpectInside(Replicate(uni, 10, Blocking), ErlangB(30, 25), 0.03, "M/G/c/c blocking");
}

TEST(RandomSplit, RandomIngressOverPodsBehavesLikeIndependentMM1Queues) {
  // 4 pods with one worker each behind a random ingress: a random split of a
  // Poisson stream stays Poisson, so each pod is M/M/1 at lambda/4 = 70/s.
  Scenario s = Queue(280, 4, 1, -1, DurationDistribution::Exponential(10 * ms), 1000 * S);
  s.ingress.policy = IngressPolicy::kRandom;
  ExpectInside(Replicate(s, 10, MeanLatencySeconds), 1.0 / (100 - 70), 0.05, "random split W");
}

TEST(LittlesLaw, TimeAverageInSystemEqualsThroughputTimesMeanLatency) {
  for (const auto& service : {DurationDistribution::Exponential(10 * ms), DurationDistribution::Constant(10 * ms)}) {
    Scenario s = Queue(700, 1, 8, 20, service, 600 * S);
    s.seed = 3;
    const RunResult r = sim::Run(s);
    const double lambda = static_cast<double>(r.summary.completed) / ToSeconds(s.duration - s.warmup);
    EXPECT_NEAR(r.mean_in_system, lambda * r.latency.Mean() / S, 0.01 * r.mean_in_system);
  }
}

}  // namespace
}  // namespace scaletwin::sim
