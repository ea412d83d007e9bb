// The registry renders exactly the text format 0.0.4 that Prometheus parses:
// whole expected expositions, escaping, ordering, callbacks, exact counts
// under contention, and refusal of names Prometheus would reject.
#include "real/telemetry/metrics_registry.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <limits>
#include <string>
#include <thread>
#include <vector>

namespace scaletwin {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Runs `body` on a thread; if it does not finish in 10 s (a lock held across a
// callback deadlocks), fails the whole binary instead of hanging it.
void RunWithDeadlockWatchdog(const std::function<void()>& body) {
  std::promise<void> done;
  std::future<void> finished = done.get_future();
  std::thread t([&] {
    body();
    done.set_value();
  });
  if (finished.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
    std::fprintf(stderr, "deadlock: the body did not finish within 10 s\n");
    std::_Exit(1);
  }
  t.join();
}

TEST(MetricsRegistry, RendersCountersGaugesAndHistogramsInTheTextFormat) {
  MetricsRegistry registry;
  CounterFamily& requests = registry.AddCounter("http_requests_total", "Requests answered.", {"route", "code"});
  requests.WithLabels({"/r", "302"}).Inc(3);
  requests.WithLabels({"/a", "200"}).Inc();
  requests.WithLabels({"/r", "404"}).Inc(2);
  registry.AddGauge("pod_ready", "1 when the pod takes traffic.", {}).WithLabels({}).Set(1);
  Histogram& latency =
      registry.AddHistogram("request_seconds", "Time to answer.", {"route"}, {0.25, 1}).WithLabels({"/r"});
  latency.Observe(0.25);  // on a bound: counted in that bound's bucket (le is inclusive)
  latency.Observe(0.5);
  latency.Observe(2);

  EXPECT_EQ(registry.Render(),
            "# HELP http_requests_total Requests answered.\n"
            "# TYPE http_requests_total counter\n"
            "http_requests_total{route=\"/a\",code=\"200\"} 1\n"
            "http_requests_total{route=\"/r\",code=\"302\"} 3\n"
            "http_requests_total{route=\"/r\",code=\"404\"} 2\n"
            "# HELP pod_ready 1 when the pod takes traffic.\n"
            "# TYPE pod_ready gauge\n"
            "pod_ready 1\n"
            "# HELP request_seconds Time to answer.\n"
            "# TYPE request_seconds histogram\n"
            "request_seconds_bucket{route=\"/r\",le=\"0.25\"} 1\n"
            "request_seconds_bucket{route=\"/r\",le=\"1\"} 2\n"
            "request_seconds_bucket{route=\"/r\",le=\"+Inf\"} 3\n"
            "request_seconds_sum{route=\"/r\"} 2.75\n"
            "request_seconds_count{route=\"/r\"} 3\n");
}

TEST(MetricsRegistry, HistogramBucketsAreCumulativeAndInfEqualsCount) {
  MetricsRegistry registry;
  // A trailing +Inf bound is accepted and not doubled: the +Inf bucket is implicit.
  Histogram& h = registry.AddHistogram("size_bytes", "Sizes.", {}, {10, 100, 1000, kInf}).WithLabels({});
  for (double v : {1.0, 5.0, 10.0, 50.0, 5000.0, 7000.0}) h.Observe(v);
  h.Observe(kNaN);  // as in the Go client: only in +Inf (and the sum becomes NaN)

  EXPECT_EQ(h.CumulativeCounts(), (std::vector<uint64_t>{3, 4, 4, 7}));
  EXPECT_EQ(h.Count(), 7u);
  EXPECT_EQ(registry.Render(),
            "# HELP size_bytes Sizes.\n"
            "# TYPE size_bytes histogram\n"
            "size_bytes_bucket{le=\"10\"} 3\n"
            "size_bytes_bucket{le=\"100\"} 4\n"
            "size_bytes_bucket{le=\"1000\"} 4\n"
            "size_bytes_bucket{le=\"+Inf\"} 7\n"
            "size_bytes_sum NaN\n"
            "size_bytes_count 7\n");
}

TEST(MetricsRegistry, HistogramSumIsTheSumOfObservations) {
  MetricsRegistry registry;
  Histogram& h = registry.AddHistogram("d_seconds", "D.", {}, {0.1}).WithLabels({});
  h.Observe(0.125);
  h.Observe(0.0625);
  EXPECT_EQ(h.Sum(), 0.1875);
  EXPECT_NE(registry.Render().find("d_seconds_sum 0.1875\n"), std::string::npos) << registry.Render();
}

TEST(MetricsRegistry, LabelValuesAndHelpAreEscaped) {
  MetricsRegistry registry;
  registry.AddCounter("weird_total", "Help with \\ backslash, \"quotes\"\nand a newline.", {"path"})
      .WithLabels({"a\\b\"c\nd"})
      .Inc();
  EXPECT_EQ(registry.Render(),
            "# HELP weird_total Help with \\\\ backslash, \"quotes\"\\nand a newline.\n"
            "# TYPE weird_total counter\n"
            "weird_total{path=\"a\\\\b\\\"c\\nd\"} 1\n");
}

TEST(MetricsRegistry, FamiliesKeepRegistrationOrderAndSeriesSortByLabelValues) {
  MetricsRegistry registry;
  GaugeFamily& zeta = registry.AddGauge("zeta", "Z.", {"a", "b"});
  registry.AddGauge("alpha", "A.", {}).WithLabels({}).Set(-2.5);
  zeta.WithLabels({"y", "1"}).Set(1);
  zeta.WithLabels({"x", "2"}).Set(2);
  zeta.WithLabels({"x", "10"}).Set(3);  // strings: "10" < "2"
  EXPECT_EQ(registry.Render(),
            "# HELP zeta Z.\n"
            "# TYPE zeta gauge\n"
            "zeta{a=\"x\",b=\"10\"} 3\n"
            "zeta{a=\"x\",b=\"2\"} 2\n"
            "zeta{a=\"y\",b=\"1\"} 1\n"
            "# HELP alpha A.\n"
            "# TYPE alpha gauge\n"
            "alpha -2.5\n");
}

TEST(MetricsRegistry, UnlabelledFamiliesRenderZeroBeforeFirstUseLabelledOnesOnlyTheirHeader) {
  MetricsRegistry registry;
  registry.AddCounter("started_total", "S.", {});
  registry.AddCounter("by_route_total", "R.", {"route"});
  registry.AddHistogram("h_seconds", "H.", {}, {1});
  EXPECT_EQ(registry.Render(),
            "# HELP started_total S.\n"
            "# TYPE started_total counter\n"
            "started_total 0\n"
            "# HELP by_route_total R.\n"
            "# TYPE by_route_total counter\n"
            "# HELP h_seconds H.\n"
            "# TYPE h_seconds histogram\n"
            "h_seconds_bucket{le=\"1\"} 0\n"
            "h_seconds_bucket{le=\"+Inf\"} 0\n"
            "h_seconds_sum 0\n"
            "h_seconds_count 0\n");
}

TEST(MetricsRegistry, GaugeSetAndAddAndCounterIncAccumulate) {
  MetricsRegistry registry;
  Gauge& g = registry.AddGauge("g", "G.", {}).WithLabels({});
  g.Set(10);
  g.Add(-3.5);
  g.Add(1);
  EXPECT_EQ(g.Value(), 7.5);
  Counter& c = registry.AddCounter("c_total", "C.", {}).WithLabels({});
  c.Inc();
  c.Inc(0.5);
  c.Inc(0);
  EXPECT_EQ(c.Value(), 1.5);
}

TEST(MetricsRegistry, HandlesStayValidWhileSeriesAreAdded) {
  MetricsRegistry registry;
  CounterFamily& family = registry.AddCounter("many_total", "M.", {"k"});
  Counter* first = &family.WithLabels({"first"});
  first->Inc();
  for (int i = 0; i < 2000; ++i) family.WithLabels({std::to_string(i)}).Inc();
  for (int i = 0; i < 50; ++i) registry.AddGauge("g" + std::to_string(i), "G.", {});
  EXPECT_EQ(&family.WithLabels({"first"}), first);
  first->Inc();
  EXPECT_EQ(family.WithLabels({"first"}).Value(), 2);
}

TEST(MetricsRegistry, CallbackFamiliesAreReadAtEachRenderAndSorted) {
  MetricsRegistry registry;
  std::atomic<int> db_in_use{2};
  registry.AddGaugeCallback("pool_in_use", "Leased connections.", {"pool"}, [&] {
    return MetricSamples{{{"db"}, static_cast<double>(db_in_use.load())}, {{"cache"}, 7}};
  });
  registry.AddCounterCallback("evictions_total", "Evicted keys.", {}, [] { return MetricSamples{{{}, 1e6}}; });
  const std::string expected_tail =
      "# HELP evictions_total Evicted keys.\n"
      "# TYPE evictions_total counter\n"
      "evictions_total 1000000\n";
  EXPECT_EQ(registry.Render(),
            "# HELP pool_in_use Leased connections.\n"
            "# TYPE pool_in_use gauge\n"
            "pool_in_use{pool=\"cache\"} 7\n"
            "pool_in_use{pool=\"db\"} 2\n" +
                expected_tail);
  db_in_use = 5;
  EXPECT_EQ(registry.Render(),
            "# HELP pool_in_use Leased connections.\n"
            "# TYPE pool_in_use gauge\n"
            "pool_in_use{pool=\"cache\"} 7\n"
            "pool_in_use{pool=\"db\"} 5\n" +
                expected_tail);
}

TEST(MetricsRegistry, CallbacksRunWithoutTheRegistryOrFamilyLocksHeld) {
  MetricsRegistry registry;
  CounterFamily& scrapes = registry.AddCounter("scrapes_total", "Renders seen by a callback.", {"by"});
  bool added = false;
  registry.AddGaugeCallback("self", "A callback that uses its registry.", {}, [&] {
    scrapes.WithLabels({"callback"}).Inc();  // the family's lock
    if (!added) {                            // the registry's lock
      registry.AddGauge("added_during_render", "Late.", {}).WithLabels({}).Set(4);
      added = true;
    }
    return MetricSamples{{{}, 1}};
  });
  std::string first, second;
  RunWithDeadlockWatchdog([&] {
    first = registry.Render();
    second = registry.Render();
  });
  EXPECT_NE(first.find("self 1\n"), std::string::npos) << first;
  EXPECT_NE(second.find("scrapes_total{by=\"callback\"} 1\n"), std::string::npos) << second;
  EXPECT_NE(second.find("added_during_render 4\n"), std::string::npos) << second;
}

TEST(MetricsRegistry, ConcurrentUpdatesFromEightThreadsSumExactly) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 100000;
  MetricsRegistry registry;
  CounterFamily& family = registry.AddCounter("hits_total", "Hits.", {"thread"});
  Counter& shared = registry.AddCounter("shared_total", "Shared.", {}).WithLabels({});
  Gauge& gauge = registry.AddGauge("level", "Level.", {}).WithLabels({});
  Histogram& histogram = registry.AddHistogram("obs", "Observations.", {}, {0.5, 1.5}).WithLabels({});

  std::atomic<bool> stop{false};
  std::thread scraper([&] {
    while (!stop.load()) (void)registry.Render();
  });
  std::vector<std::thread> workers;
  for (int t = 0; t < kThreads; ++t) {
    workers.emplace_back([&, t] {
      const std::string mine = "t" + std::to_string(t);
      for (int i = 0; i < kPerThread; ++i) {
        shared.Inc();
        gauge.Add(1);
        histogram.Observe(1);
        if (i % 10 == 0) family.WithLabels({mine}).Inc(10);  // the locked lookup path, racing the others
      }
    });
  }
  for (auto& w : workers) w.join();
  stop = true;
  scraper.join();

  constexpr double kTotal = double{kThreads} * kPerThread;
  EXPECT_EQ(shared.Value(), kTotal);
  EXPECT_EQ(gauge.Value(), kTotal);
  EXPECT_EQ(histogram.Count(), static_cast<uint64_t>(kTotal));
  EXPECT_EQ(histogram.Sum(), kTotal);
  EXPECT_EQ(histogram.CumulativeCounts(), (std::vector<uint64_t>{0, 800000, 800000}));
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(family.WithLabels({"t" + std::to_string(t)}).Value(), kPerThread);
  const std::string text = registry.Render();
  EXPECT_NE(text.find("shared_total 800000\n"), std::string::npos) << text;
  EXPECT_NE(text.find("obs_count 800000\n"), std::string::npos) << text;
}

TEST(FormatMetricValue, IntegersHaveNoExponentAndInfinitiesAreSpelledOut) {
  EXPECT_EQ(FormatMetricValue(0), "0");
  EXPECT_EQ(FormatMetricValue(-0.0), "0");
  EXPECT_EQ(FormatMetricValue(1), "1");
  EXPECT_EQ(FormatMetricValue(-3), "-3");
  EXPECT_EQ(FormatMetricValue(1e6), "1000000");
  EXPECT_EQ(FormatMetricValue(123456789012.0), "123456789012");
  EXPECT_EQ(FormatMetricValue(9007199254740992.0), "9007199254740992");  // 2^53
  EXPECT_EQ(FormatMetricValue(1e20), "100000000000000000000");
  EXPECT_EQ(FormatMetricValue(0.5), "0.5");
  EXPECT_EQ(FormatMetricValue(0.1), "0.1");  // shortest form that reads back exactly
  EXPECT_EQ(FormatMetricValue(-2.25), "-2.25");
  EXPECT_EQ(FormatMetricValue(0.005), "0.005");
  EXPECT_EQ(std::strtod(FormatMetricValue(1.0 / 3).c_str(), nullptr), 1.0 / 3);
  EXPECT_EQ(FormatMetricValue(kInf), "+Inf");
  EXPECT_EQ(FormatMetricValue(-kInf), "-Inf");
  EXPECT_EQ(FormatMetricValue(kNaN), "NaN");
}

TEST(ValidateFamily, AcceptsTheNamesPrometheusAccepts) {
  for (const char* name : {"a", "_a", ":a", "http_requests_total", "ns:rule:rate5m", "A9_:"}) {
    EXPECT_TRUE(ValidateMetricName(name).ok()) << name;
  }
  for (const char* name : {"a", "_a", "route", "A_9", "le"}) EXPECT_TRUE(ValidateLabelName(name).ok()) << name;
  EXPECT_TRUE(ValidateFamily(MetricType::kGauge, "g", {"le", "route"}).ok());
  EXPECT_TRUE(ValidateFamily(MetricType::kHistogram, "h", {"route"}, {}).ok());
  EXPECT_TRUE(ValidateFamily(MetricType::kHistogram, "h", {}, {-1, 0, 0.5, kInf}).ok());
}

TEST(ValidateFamily, RefusesWhatPrometheusWouldReject) {
  for (const char* name : {"", "1a", "a-b", "a b", "a.b", "a{b", "caf\xc3\xa9"}) {
    const Status s = ValidateMetricName(name);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << name;
  }
  for (const char* name : {"", "1a", "a:b", "a-b", "__name__", "__x"}) {
    EXPECT_EQ(ValidateLabelName(name).code(), StatusCode::kInvalidArgument) << name;
  }
  EXPECT_FALSE(ValidateFamily(MetricType::kCounter, "ok_total", {"bad-label"}).ok());
  EXPECT_FALSE(ValidateFamily(MetricType::kCounter, "ok_total", {"a", "b", "a"}).ok());
  EXPECT_FALSE(ValidateFamily(MetricType::kCounter, "ok_total", {}, {1}).ok());
  EXPECT_FALSE(ValidateFamily(MetricType::kHistogram, "h", {"le"}, {1}).ok());
  EXPECT_FALSE(ValidateFamily(MetricType::kHistogram, "h", {}, {1, 1}).ok());
  EXPECT_FALSE(ValidateFamily(MetricType::kHistogram, "h", {}, {2, 1}).ok());
  EXPECT_FALSE(ValidateFamily(MetricType::kHistogram, "h", {}, {kNaN}).ok());
  EXPECT_FALSE(ValidateFamily(MetricType::kHistogram, "h", {}, {-kInf, 1}).ok());
  EXPECT_FALSE(ValidateFamily(MetricType::kHistogram, "h", {}, {kInf, 2}).ok());
  EXPECT_NE(ValidateFamily(MetricType::kHistogram, "h", {"le"}, {1}).message().find("le"), std::string::npos);
}

// Registration and arity mistakes are bugs in the pod: Add*, WithLabels and
// Render abort with a message naming the metric, in optimised builds too.
class MetricsRegistryDeathTest : public ::testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

TEST_F(MetricsRegistryDeathTest, AddAbortsOnAnInvalidName) {
  MetricsRegistry registry;
  EXPECT_DEATH(registry.AddCounter("bad-name", "B.", {}), "bad-name");
  EXPECT_DEATH(registry.AddGauge("g", "G.", {"__reserved"}), "__reserved");
  EXPECT_DEATH(registry.AddHistogram("h", "H.", {"le"}, {1}), "le");
  EXPECT_DEATH(registry.AddHistogram("h", "H.", {}, {2, 1}), "increasing");
}

TEST_F(MetricsRegistryDeathTest, AddAbortsOnADuplicateName) {
  MetricsRegistry registry;
  registry.AddCounter("x_total", "X.", {});
  registry.AddHistogram("lat", "L.", {}, {1});
  EXPECT_DEATH(registry.AddGauge("x_total", "again", {}), "already in use");
  EXPECT_DEATH(registry.AddCounter("lat_count", "collides with the histogram's _count", {}), "already in use");
  EXPECT_DEATH(registry.AddGaugeCallback("lat", "L.", {}, [] { return MetricSamples{}; }), "already in use");
  registry.AddGauge("y_sum", "Y.", {});
  EXPECT_DEATH(registry.AddHistogram("y", "its y_sum would collide", {}, {1}), "already in use");
  registry.AddHistogram("x", "X.", {}, {1});  // x_bucket, x_sum, x_count: none is x_total
}

TEST_F(MetricsRegistryDeathTest, WithLabelsAbortsOnAWrongLabelCount) {
  MetricsRegistry registry;
  CounterFamily& family = registry.AddCounter("c_total", "C.", {"a", "b"});
  EXPECT_DEATH(family.WithLabels({"only one"}), "c_total: 1 label values given, the family has 2");
  EXPECT_DEATH(family.WithLabels({"1", "2", "3"}), "c_total");
}

TEST_F(MetricsRegistryDeathTest, CounterIncAbortsOnANegativeOrNaNIncrement) {
  MetricsRegistry registry;
  Counter& c = registry.AddCounter("c_total", "C.", {}).WithLabels({});
  EXPECT_DEATH(c.Inc(-1), "only goes up");
  EXPECT_DEATH(c.Inc(kNaN), "only goes up");
}

TEST_F(MetricsRegistryDeathTest, RenderAbortsOnABadCallbackResult) {
  MetricsRegistry arity;
  arity.AddGaugeCallback("g", "G.", {"a"}, [] { return MetricSamples{{{"x", "y"}, 1}}; });
  EXPECT_DEATH((void)arity.Render(), "g: 2 label values given");
  MetricsRegistry twice;
  twice.AddGaugeCallback("g", "G.", {"a"}, [] { return MetricSamples{{{"x"}, 1}, {{"x"}, 2}}; });
  EXPECT_DEATH((void)twice.Render(), "same label values twice");
}

}  // namespace
}  // namespace scaletwin
