#include "reports/downsample.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

namespace scaletwin::reports {
namespace {

std::vector<Point> Noise(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(100, 5);
  std::vector<Point> pts(n);
  for (size_t i = 0; i < n; ++i) pts[i] = {static_cast<double>(i) * 0.1, noise(rng)};
  return pts;
}

bool Contains(const std::vector<Point>& pts, Point p) {
  return std::any_of(pts.begin(), pts.end(), [&](const Point& q) { return q.x == p.x && q.y == p.y; });
}

TEST(DownsampleMinMax, LeavesShortSeriesAlone) {
  const std::vector<Point> pts = Noise(1500, 1);
  const std::vector<Point> out = DownsampleMinMax(pts, 2000);
  ASSERT_EQ(out.size(), pts.size());
  for (size_t i = 0; i < pts.size(); ++i) EXPECT_EQ(out[i].y, pts[i].y);
}

TEST(DownsampleMinMax, KeepsAOneIntervalSpikeAndDip) {
  std::vector<Point> pts = Noise(100'000, 2);
  pts[54'321].y = 10'000;  // e.g. one interval where the queue exploded
  pts[7'777].y = -50;
  const std::vector<Point> out = DownsampleMinMax(pts, 2000);
  EXPECT_LE(out.size(), 2000u);
  EXPECT_GE(out.size(), 1000u);
  EXPECT_TRUE(Contains(out, pts[54'321]));
  EXPECT_TRUE(Contains(out, pts[7'777]));
}

TEST(DownsampleMinMax, OutputIsAnOrderedSubsequenceWhoseEnvelopeCoversEveryPoint) {
  const std::vector<Point> pts = Noise(250'000, 3);
  const size_t budget = 2000;
  const std::vector<Point> out = DownsampleMinMax(pts, budget);
  ASSERT_LE(out.size(), budget);
  for (size_t i = 1; i < out.size(); ++i) ASSERT_LT(out[i - 1].x, out[i].x);
  for (const Point& p : out) {  // a subsequence: each kept point is an input point, unchanged
    const auto i = static_cast<size_t>(std::llround(p.x / 0.1));
    ASSERT_LT(i, pts.size());
    ASSERT_EQ(pts[i].x, p.x);
    ASSERT_EQ(pts[i].y, p.y);
  }
  // Checked against brute force: every input point lies within the envelope
  // of the kept points at most one bucket away (a bucket holds at most
  // n / (budget / 3) points, so its extremes are that close).
  const double dx = 0.1, reach = std::ceil(static_cast<double>(pts.size()) / static_cast<double>(budget / 3)) * dx;
  auto by_x = [](const Point& a, double x) { return a.x < x; };
  for (const Point& p : pts) {
    auto first = std::lower_bound(out.begin(), out.end(), p.x - reach - 1e-9, by_x);
    auto last = std::lower_bound(out.begin(), out.end(), p.x + reach + 1e-9, by_x);
    ASSERT_LT(first, last) << "no kept point near x=" << p.x;
    auto [lo, hi] = std::minmax_element(first, last, [](const Point& a, const Point& b) { return a.y < b.y; });
    ASSERT_LE(lo->y, p.y) << "x=" << p.x;
    ASSERT_GE(hi->y, p.y) << "x=" << p.x;
  }
}

TEST(DownsampleMinMax, KeepsGapsAndStaysWithinTheBound) {
  std::vector<Point> pts = Noise(10'000, 4);
  for (size_t i = 5000; i < 5003; ++i) pts[i].y = std::numeric_limits<double>::quiet_NaN();
  const std::vector<Point> out = DownsampleMinMax(pts, 600);
  EXPECT_LE(out.size(), 600u);
  EXPECT_TRUE(std::any_of(out.begin(), out.end(), [](const Point& p) { return std::isnan(p.y); }));
}

TEST(DownsampleMinMax, TinyBudgetIsRaisedToSix) {
  const std::vector<Point> out = DownsampleMinMax(Noise(100, 5), 1);
  EXPECT_LE(out.size(), 6u);
  EXPECT_GE(out.size(), 2u);
}

}  // namespace
}  // namespace scaletwin::reports
