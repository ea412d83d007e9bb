#include "model/metrics_pipeline.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "model/replica_calculator.h"

namespace scaletwin {
namespace {

constexpr Nanos kS = kNanosPerSecond;

MetricsPipelineConfig Aligned() {
  MetricsPipelineConfig c;
  c.hash_scrape_offset = false;
  return c;
}

HpaPod ReadyPod(const std::string& name, Nanos start) {
  HpaPod pod;
  pod.name = name;
  pod.start_time = start;
  pod.ready = PodReadyCondition{ConditionStatus::kTrue, start};
  return pod;
}

// Scrapes a pod serving `qps` from `start` (counter 0 then) every interval up to `until`.
void ScrapeSteady(MetricsPipeline& p, const std::string& pod, double qps, Nanos start, Nanos until) {
  for (Nanos t = p.NextScrapeAt(pod, start); t <= until; t = p.NextScrapeAt(pod, t + 1)) {
    p.RecordScrape(pod, t, qps * ToSeconds(t - start));
  }
}

TEST(MetricsPipeline, DefaultsFollowTheReference) {
  MetricsPipelineConfig c;
  EXPECT_EQ(c.scrape_interval, 15 * kS);
  EXPECT_EQ(c.rate_window, 120 * kS);
  EXPECT_EQ(c.metric_resolution, 15 * kS);
  EXPECT_TRUE(c.hash_scrape_offset);
}

TEST(MetricsPipeline, ScrapeOffsetsAreStablePerPodAndInsideTheInterval) {
  MetricsPipeline p{MetricsPipelineConfig{}};
  for (const char* pod : {"web-0", "web-1", "web-2"}) {
    const Nanos off = p.ScrapeOffset(pod);
    EXPECT_GE(off, 0);
    EXPECT_LT(off, 15 * kS);
    EXPECT_EQ(p.NextScrapeAt(pod, 100 * kS) % (15 * kS), off % (15 * kS));
    EXPECT_GE(p.NextScrapeAt(pod, 100 * kS), 100 * kS);
    EXPECT_LT(p.NextScrapeAt(pod, 100 * kS), 115 * kS);
  }
  EXPECT_NE(p.ScrapeOffset("web-0"), p.ScrapeOffset("web-1"));
  MetricsPipeline aligned(Aligned());
  EXPECT_EQ(aligned.NextScrapeAt("web-0", 100 * kS), 105 * kS);
  EXPECT_EQ(aligned.NextScrapeAt("web-0", 105 * kS), 105 * kS);
}

TEST(MetricsPipeline, ANewPodIsMissingUntilTwoScrapesFallInTheWindow) {
  MetricsPipeline p(Aligned());
  p.RecordScrape("web-0", 15 * kS, 0);
  EXPECT_FALSE(p.PodsMetricSample("web-0", 20 * kS).has_value());
  EXPECT_TRUE(p.PodsMetricReading({"web-0"}, 20 * kS).pod_samples.empty());
  p.RecordScrape("web-0", 30 * kS, 300);
  auto s = p.PodsMetricSample("web-0", 30 * kS);
  ASSERT_TRUE(s.has_value());
  // The pod serves 20 req/s, but rate(x[2m]) divides by the whole window: 300
  // requests (no extrapolation before a counter's zero point) / 120 s.
  EXPECT_EQ(s->value_milli, 2'500);
  EXPECT_EQ(s->timestamp, 30 * kS) << "the adapter stamps the query time";
  EXPECT_EQ(s->window, kDefaultCustomMetricWindow);
}

TEST(MetricsPipeline, PodsValueIsTheRateInMilliUnitsTruncated) {
  MetricsPipeline p(Aligned());
  ScrapeSteady(p, "web-0", 3.3336, 0, 300 * kS);
  auto s = p.PodsMetricSample("web-0", 300 * kS);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->value_milli, 3333) << "int64(3333.6), not rounded";
}

TEST(MetricsPipeline, ARateLagsAStepChangeAcrossItsWindow) {
  MetricsPipeline p(Aligned());
  // 10 req/s until 600 s, then 20 req/s; the HPA queries as time goes on.
  std::map<Nanos, int64_t> seen;
  for (Nanos t = 0; t <= 900 * kS; t += 15 * kS) {
    const double c = t <= 600 * kS ? 10 * ToSeconds(t) : 6000 + 20 * ToSeconds(t - 600 * kS);
    p.RecordScrape("web-0", t, c);
    if (auto s = p.PodsMetricSample("web-0", t)) seen[t] = s->value_milli;
  }
  ASSERT_TRUE(seen.count(600 * kS) && seen.count(660 * kS) && seen.count(735 * kS));
  EXPECT_NEAR(seen[600 * kS], 10'000, 1);
  EXPECT_GT(seen[660 * kS], 10'000);
  EXPECT_LT(seen[660 * kS], 20'000);
  EXPECT_NEAR(seen[735 * kS], 20'000, 1) << "a full window after the step";
}

TEST(MetricsPipeline, KeepsOnlyWhatTheWindowCanSee) {
  MetricsPipeline p(Aligned());
  ScrapeSteady(p, "web-0", 1, 0, 3600 * kS);
  ASSERT_NE(p.Series("web-0"), nullptr);
  EXPECT_LE(p.Series("web-0")->size(), 10u);
  p.RemovePod("web-0");
  EXPECT_EQ(p.Series("web-0"), nullptr);
}

TEST(MetricsServer, NoCpuValueUntilTheSecondScrape) {
  MetricsPipeline p(Aligned());
  p.StoreResourceBatch(60 * kS, {{"web-0", 0, 10 * kS}});
  EXPECT_FALSE(p.CpuSample("web-0").has_value());
  // 7.5 CPU-seconds over 15 s = 0.5 cores = 500m.
  p.StoreResourceBatch(75 * kS, {{"web-0", 0, 17'500'000'000}});
  auto s = p.CpuSample("web-0");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->value_milli, 500);
  EXPECT_EQ(s->timestamp, 75 * kS);
  EXPECT_EQ(s->window, 15 * kS);
}

TEST(MetricsServer, MilliCoresRoundUpLikeQuantityMilliValue) {
  MetricsPipeline p(Aligned());
  p.StoreResourceBatch(60 * kS, {{"web-0", 0, 0}});
  p.StoreResourceBatch(75 * kS, {{"web-0", 0, 15 * 1'000'001}});  // 1'000'001 nanocores
  EXPECT_EQ(p.CpuSample("web-0")->value_milli, 2);
}

TEST(MetricsServer, AFreshContainerGetsAZeroPointAtItsStart) {
  MetricsPipeline p(Aligned());
  // Started 12 s before the scrape: between 10 s and one resolution (15 s).
  p.StoreResourceBatch(60 * kS, {{"web-0", 48 * kS, 6 * kS}});
  auto s = p.CpuSample("web-0");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->value_milli, 500);
  EXPECT_EQ(s->window, 12 * kS);
  // Started 5 s before: too young, no value yet.
  p.StoreResourceBatch(75 * kS, {{"web-1", 70 * kS, kS}});
  EXPECT_FALSE(p.CpuSample("web-1").has_value());
}

TEST(MetricsServer, ARestartedContainerOrAMissedScrapeStartsOver) {
  MetricsPipeline p(Aligned());
  p.StoreResourceBatch(60 * kS, {{"web-0", 0, 10 * kS}, {"web-1", 0, 10 * kS}});
  p.StoreResourceBatch(75 * kS, {{"web-0", 0, 11 * kS}, {"web-1", 0, 11 * kS}});
  ASSERT_TRUE(p.CpuSample("web-0").has_value());
  // web-0 restarted at 80 s; web-1 was not in this scrape.
  p.StoreResourceBatch(90 * kS, {{"web-0", 85 * kS, kS}});
  EXPECT_FALSE(p.CpuSample("web-0").has_value());
  EXPECT_FALSE(p.CpuSample("web-1").has_value());
  EXPECT_TRUE(p.CpuReading({"web-0", "web-1"}).pod_samples.empty());
  EXPECT_EQ(p.NextResourceScrapeAt(91 * kS), 105 * kS);
}

// What the pipeline hands over goes to the HPA unchanged: 3 pods at 20 req/s
// against a target of 10 per pod ask for 6 replicas; a new pod without two
// scrapes is missing and held at 0 on scale-up.
TEST(MetricsPipeline, FeedsTheReplicaCalculatorDirectly) {
  MetricsPipeline p(Aligned());
  std::vector<HpaPod> pods;
  std::vector<std::string> names;
  for (int i = 0; i < 3; ++i) {
    names.push_back("web-" + std::to_string(i));
    ScrapeSteady(p, names.back(), 20, 0, 300 * kS);
    pods.push_back(ReadyPod(names.back(), 0));
  }
  MetricReading reading = p.PodsMetricReading(names, 300 * kS);
  ASSERT_EQ(reading.pod_samples.size(), 3u);
  ReadinessTiming timing{.now = 300 * kS};
  auto r = PlainMetricReplicas(3, 10'000, "", pods, reading.pod_samples, Tolerances{}, timing);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->replicas, 6);

  names.push_back("web-3");
  pods.push_back(ReadyPod("web-3", 290 * kS));
  p.RecordScrape("web-3", 300 * kS, 0);
  reading = p.PodsMetricReading(names, 300 * kS);
  EXPECT_EQ(reading.pod_samples.count("web-3"), 0u);
  auto r2 = PlainMetricReplicas(4, 10'000, "", pods, reading.pod_samples, Tolerances{}, timing);
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2->replicas, 6) << "ratio (60 + 0) / 4 / 10 = 1.5 → ceil(1.5 · 4)";
}

TEST(ParseMetricsPipeline, ReadsDurationsAndKeepsDefaults) {
  ParseErrors errors;
  auto c = ParseMetricsPipeline(nlohmann::json::parse(R"({"scrape_interval": "30s", "scrape_offset": "none"})"),
                                "/metrics", errors);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->scrape_interval, 30 * kS);
  EXPECT_FALSE(c->hash_scrape_offset);
  EXPECT_EQ(c->rate_window, 120 * kS);
  EXPECT_EQ(c->metric_resolution, 15 * kS);
  ASSERT_TRUE(ParseMetricsPipeline(nlohmann::json::object(), "/metrics", errors).ok());
}

TEST(ParseMetricsPipeline, RejectsTyposTooFineResolutionAndAWindowWithoutTwoSamples) {
  ParseErrors errors;
  EXPECT_FALSE(ParseMetricsPipeline(nlohmann::json::parse(R"({"scrape_intervall": "30s"})"), "/m", errors).ok());
  ParseErrors resolution;
  EXPECT_FALSE(ParseMetricsPipeline(nlohmann::json::parse(R"({"metric_resolution": "5s"})"), "/m", resolution).ok());
  EXPECT_NE(resolution.lines()[0].find("/m/metric_resolution"), std::string::npos);
  ParseErrors window;
  EXPECT_FALSE(
      ParseMetricsPipeline(nlohmann::json::parse(R"({"scrape_interval": "1m", "rate_window": "1m"})"), "/m", window).ok());
  EXPECT_NE(window.lines()[0].find("/m/rate_window"), std::string::npos);
  ParseErrors offset;
  EXPECT_FALSE(ParseMetricsPipeline(nlohmann::json::parse(R"({"scrape_offset": "random"})"), "/m", offset).ok());
}

}  // namespace
}  // namespace scaletwin
