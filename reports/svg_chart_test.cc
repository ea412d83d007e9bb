#include "reports/svg_chart.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>

namespace scaletwin::reports {
namespace {

size_t Count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t pos = haystack.find(needle); pos != std::string::npos; pos = haystack.find(needle, pos + 1)) ++n;
  return n;
}

// The step's mantissa is 1, 2 or 5: the property that makes ticks "nice".
bool IsNiceStep(double step) {
  const double mantissa = step / std::pow(10.0, std::floor(std::log10(step)));
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (std::abs(mantissa - m) < 1e-9) return true;
  }
  return false;
}

TEST(NiceTicks, RoundsAwkwardRangeToOneTwoFiveSteps) {
  const Ticks t = NiceTicks(0, 97, 5);
  EXPECT_DOUBLE_EQ(t.lo, 0);
  EXPECT_DOUBLE_EQ(t.hi, 100);
  EXPECT_DOUBLE_EQ(t.step, 20);
  ASSERT_EQ(t.values.size(), 6u);
  EXPECT_DOUBLE_EQ(t.values[3], 60);
}

TEST(NiceTicks, HandlesFractionsAndNegatives) {
  const Ticks a = NiceTicks(0, 0.83, 5);
  EXPECT_DOUBLE_EQ(a.step, 0.2);
  EXPECT_DOUBLE_EQ(a.hi, 1.0);
  const Ticks b = NiceTicks(-3.2, 7.9, 5);
  EXPECT_DOUBLE_EQ(b.step, 2);
  EXPECT_DOUBLE_EQ(b.lo, -4);
  EXPECT_DOUBLE_EQ(b.hi, 8);
}

TEST(NiceTicks, ExactBoundsDoNotGrowAnExtraInterval) {
  const Ticks t = NiceTicks(0, 1, 10);
  EXPECT_DOUBLE_EQ(t.step, 0.1);
  EXPECT_EQ(t.values.size(), 11u);
  EXPECT_DOUBLE_EQ(t.hi, 1.0);
}

TEST(NiceTicks, DegenerateAndNonFiniteRangesBecomeDrawable) {
  const Ticks zero = NiceTicks(0, 0);
  EXPECT_LT(zero.lo, zero.hi);
  const Ticks constant = NiceTicks(5, 5);
  EXPECT_LT(constant.lo, 5);
  EXPECT_GT(constant.hi, 5);
  const Ticks nan = NiceTicks(std::numeric_limits<double>::quiet_NaN(), 3);
  EXPECT_DOUBLE_EQ(nan.lo, 0);
  EXPECT_DOUBLE_EQ(nan.hi, 1);
  const Ticks inf = NiceTicks(0, std::numeric_limits<double>::infinity());
  EXPECT_DOUBLE_EQ(inf.hi, 1);
  const Ticks huge = NiceTicks(-1e308, 1e308);  // the span overflows
  EXPECT_FALSE(huge.values.empty());
}

TEST(NiceTicks, AlwaysEncloseTheDataWithAFewNiceSteps) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> exponent(-6, 9), unit(-1, 1);
  for (int i = 0; i < 5000; ++i) {
    const double scale = std::pow(10.0, exponent(rng));
    double lo = unit(rng) * scale, hi = unit(rng) * scale;
    if (lo > hi) std::swap(lo, hi);
    if (lo == hi) continue;
    const Ticks t = NiceTicks(lo, hi, 5);
    SCOPED_TRACE(testing::Message() << "lo=" << lo << " hi=" << hi << " step=" << t.step);
    EXPECT_LE(t.lo, lo);
    EXPECT_GE(t.hi, hi);
    EXPECT_TRUE(IsNiceStep(t.step));
    EXPECT_GE(t.values.size(), 3u);
    EXPECT_LE(t.values.size(), 12u);
    EXPECT_DOUBLE_EQ(t.values.front(), t.lo);
    EXPECT_DOUBLE_EQ(t.values.back(), t.hi);
  }
}

TEST(NiceTicks, IntegerAxesNeverStepBelowOne) {
  const Ticks t = NiceTicks(0, 1.04, 5, /*integer=*/true);
  EXPECT_DOUBLE_EQ(t.step, 1);
  EXPECT_EQ(t.values, (std::vector<double>{0, 1, 2}));
  EXPECT_DOUBLE_EQ(NiceTicks(0, 40, 5, /*integer=*/true).step, 10);
}

TEST(FormatTickLabels, UsesJustEnoughDecimalsAndNoNegativeZero) {
  EXPECT_EQ(FormatTickLabels(NiceTicks(0, 1, 10)),
            (std::vector<std::string>{"0", "0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "0.9", "1.0"}));
  EXPECT_EQ(FormatTickLabels(NiceTicks(-1, 1, 4)), (std::vector<std::string>{"-1.0", "-0.5", "0", "0.5", "1.0"}));
  EXPECT_EQ(FormatTickLabels(NiceTicks(0, 97, 5)), (std::vector<std::string>{"0", "20", "40", "60", "80", "100"}));
}

TEST(FormatTickLabels, SharesAThousandsSuffixOnLargeAxes) {
  EXPECT_EQ(FormatTickLabels(NiceTicks(0, 20000, 4)), (std::vector<std::string>{"0", "5k", "10k", "15k", "20k"}));
  EXPECT_EQ(FormatTickLabels(NiceTicks(0, 3e7, 3)), (std::vector<std::string>{"0", "10M", "20M", "30M"}));
}

ChartSeries Series(const std::string& label, std::string color = "", bool dashed = false) {
  ChartSeries s;
  s.label = label;
  s.color = std::move(color);
  s.dashed = dashed;
  return s;
}

LineChart TwoSeriesChart() {
  LineChart c;
  c.id = "t";
  c.title = "Latency";
  c.y_label = "latency (ms)";
  ChartSeries a = Series("p50"), b = Series("p99 <b>", "#123456", /*dashed=*/true);
  for (int i = 0; i < 10; ++i) {
    a.points.push_back({static_cast<double>(i), static_cast<double>(i)});
    b.points.push_back({static_cast<double>(i), 2.0 * i});
  }
  c.series = {a, b};
  return c;
}

TEST(RenderLineChart, DrawsAxesLegendAndOneLinePerSeries) {
  const std::string svg = RenderLineChart(TwoSeriesChart());
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
  EXPECT_EQ(Count(svg, "<polyline"), 2u);
  EXPECT_NE(svg.find(">latency (ms)</text>"), std::string::npos);
  EXPECT_NE(svg.find(">time (s)</text>"), std::string::npos);
  EXPECT_NE(svg.find(">p50</text>"), std::string::npos);
  EXPECT_NE(svg.find("p99 &lt;b&gt;"), std::string::npos);  // labels are escaped
  EXPECT_EQ(svg.find("p99 <b>"), std::string::npos);
  EXPECT_NE(svg.find("stroke-dasharray"), std::string::npos);
  EXPECT_NE(svg.find("#123456"), std::string::npos);
  // Data max 18 → y ticks 0, 5, …, 20; x data 0..9 → ticks every 2 s.
  EXPECT_NE(svg.find(">15</text>"), std::string::npos);
  EXPECT_NE(svg.find(">20</text>"), std::string::npos);
  EXPECT_NE(svg.find(">8</text>"), std::string::npos);
}

TEST(RenderLineChart, BreaksTheLineAtGapsAndDotsLonePoints) {
  LineChart c;
  ChartSeries s = Series("x");
  const double nan = std::numeric_limits<double>::quiet_NaN();
  s.points = {{0, 1}, {1, 2}, {2, nan}, {3, 4}, {4, 5}, {5, nan}, {6, 3}};
  c.series = {s};
  const std::string svg = RenderLineChart(c);
  EXPECT_EQ(Count(svg, "<polyline"), 2u);
  EXPECT_EQ(Count(svg, "<circle"), 1u);
  EXPECT_EQ(svg.find("nan"), std::string::npos);
}

TEST(RenderLineChart, SaysNoDataWhenThereIsNone) {
  LineChart c;
  c.series = {Series("empty")};
  const std::string svg = RenderLineChart(c);
  EXPECT_NE(svg.find("no data"), std::string::npos);
  EXPECT_EQ(Count(svg, "<polyline"), 0u);
  EXPECT_NE(svg.find(">empty</text>"), std::string::npos);
}

TEST(RenderLineChart, IsDeterministic) {
  EXPECT_EQ(RenderLineChart(TwoSeriesChart()), RenderLineChart(TwoSeriesChart()));
}

}  // namespace
}  // namespace scaletwin::reports
