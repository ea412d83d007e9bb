#include "reports/downsample.h"

#include <algorithm>
#include <array>
#include <cmath>

namespace scaletwin::reports {

std::vector<Point> DownsampleMinMax(const std::vector<Point>& points, size_t max_points) {
  max_points = std::max<size_t>(max_points, 6);
  const size_t n = points.size();
  if (n <= max_points) return points;

  // A bucket emits its min and max, plus a gap marker if it has missing data;
  // budgeting 3 per bucket only when gaps exist keeps the output bound exact.
  const bool has_gaps = std::any_of(points.begin(), points.end(), [](const Point& p) { return !std::isfinite(p.y); });
  const size_t buckets = max_points / (has_gaps ? 3 : 2);

  std::vector<Point> out;
  out.reserve(max_points);
  constexpr size_t kNone = static_cast<size_t>(-1);
  for (size_t b = 0; b < buckets; ++b) {
    const size_t begin = b * n / buckets, end = (b + 1) * n / buckets;
    size_t lo = kNone, hi = kNone, gap = kNone;
    for (size_t i = begin; i < end; ++i) {
      const double y = points[i].y;
      if (!std::isfinite(y)) {
        if (gap == kNone) gap = i;
        continue;
      }
      if (lo == kNone || y < points[lo].y) lo = i;
      if (hi == kNone || y > points[hi].y) hi = i;
    }
    std::array<size_t, 3> keep = {lo, hi, gap};
    std::sort(keep.begin(), keep.end());  // kNone sorts last
    size_t previous = kNone;
    for (size_t i : keep) {
      if (i == kNone) break;
      if (i != previous) out.push_back(points[i]);  // lo == hi for a flat bucket
      previous = i;
    }
  }
  return out;
}

}  // namespace scaletwin::reports
