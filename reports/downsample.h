// DownsampleMinMax: shrinks a long series for drawing without hiding spikes.
//
// A chart is a few hundred pixels wide, so a 24-hour run at 100 ms intervals
// (864,000 points) is mostly wasted bytes in report.html. Plain decimation
// (every k-th point) drops exactly the one-interval spike a reader is looking
// for; averaging flattens it. Instead the series is cut into equal index
// buckets and each bucket keeps its minimum and its maximum, in their original
// order, so every extreme survives and the drawn envelope is the true one.
//
//   std::vector<Point> drawn = DownsampleMinMax(points, 2000);
//
// Non-finite y values mark gaps (no data); a bucket containing one keeps one
// gap marker so the line still breaks there.
#pragma once

#include <cstddef>
#include <vector>

namespace scaletwin::reports {

struct Point {
  double x = 0;
  double y = 0;  // NaN (any non-finite value) = no data here; the line breaks
};

// Returns `points` unchanged when it has at most `max_points` elements;
// otherwise at most `max_points` points, a subsequence of `points` in the same
// order, containing each bucket's minimum and maximum finite y.
// REQUIRES: points sorted by x. max_points below 6 is treated as 6.
std::vector<Point> DownsampleMinMax(const std::vector<Point>& points, size_t max_points);

}  // namespace scaletwin::reports
