#include "model/rate_profile.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace scaletwin {
namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();
}

RateProfile RateProfile::FromPoints(const std::vector<RatePoint>& points) {
  RateProfile p;
  double level = 0, t = 0;
  for (const RatePoint& pt : points) {
    const double at = ToSeconds(pt.at);
    if (at > t) p.segments_.push_back({t, at, false, level, level});
    const double ramp = ToSeconds(pt.ramp);
    if (ramp > 0) p.segments_.push_back({at, at + ramp, false, level, pt.qps});
    level = pt.qps;
    t = at + ramp;
  }
  p.segments_.push_back({t, kInf, false, level, level});
  return p;
}

RateProfile RateProfile::FromSpike(const SpikeShape& s) {
  return FromPoints({{0, s.base_qps, 0},
                     {s.at, s.peak_qps, s.ramp_up},
                     {s.at + s.ramp_up + s.hold, s.base_qps, s.ramp_down}});
}

RateProfile RateProfile::FromDiurnal(const DiurnalShape& d) {
  RateProfile p;
  Segment s;
  s.start = 0;
  s.end = kInf;
  s.sine = true;
  s.mean = d.mean_qps;
  s.amplitude = d.amplitude;
  s.omega = 2 * M_PI / ToSeconds(d.period);
  s.phase = ToSeconds(d.phase);
  p.segments_.push_back(s);
  return p;
}

double RateProfile::SegmentRate(const Segment& s, double t) const {
  if (s.sine) return s.mean * (1 + s.amplitude * std::sin(s.omega * (t + s.phase)));
  if (s.end == kInf || s.r0 == s.r1) return s.r0;
  return s.r0 + (s.r1 - s.r0) * (t - s.start) / (s.end - s.start);
}

double RateProfile::SegmentIntegral(const Segment& s, double a, double b) const {
  if (b <= a) return 0;
  if (s.sine) {
    return s.mean * (b - a) -
           s.mean * s.amplitude / s.omega * (std::cos(s.omega * (b + s.phase)) - std::cos(s.omega * (a + s.phase)));
  }
  return (SegmentRate(s, a) + SegmentRate(s, b)) / 2 * (b - a);
}

double RateProfile::RateAt(double t) const {
  for (const Segment& s : segments_) {
    if (t < s.end) return SegmentRate(s, std::max(t, s.start));
  }
  return 0;
}

double RateProfile::Integral(double a, double b) const {
  double sum = 0;
  for (const Segment& s : segments_) {
    const double lo = std::max(a, s.start), hi = std::min(b, s.end);
    if (hi > lo) sum += SegmentIntegral(s, lo, hi);
  }
  return sum;
}

bool RateProfile::Advance(double mass, double* t, size_t* segment) const {
  while (*segment < segments_.size()) {
    const Segment& s = segments_[*segment];
    const double t0 = std::max(*t, s.start);
    if (!s.sine) {
      const double r = SegmentRate(s, t0);
      const double k = s.end == kInf ? 0 : (s.r1 - s.r0) / (s.end - s.start);
      const double left = s.end == kInf ? (r > 0 ? kInf : 0) : SegmentIntegral(s, t0, s.end);
      if (mass <= left && (r > 0 || k > 0)) {
        // Solve r·dt + k·dt²/2 = mass in the cancellation-free form.
        const double disc = r * r + 2 * k * mass;
        const double dt = 2 * mass / (r + std::sqrt(std::max(disc, 0.0)));
        *t = std::min(t0 + dt, s.end);
        return true;
      }
      if (s.end == kInf) return false;
      mass -= left;
      *t = s.end;
      ++*segment;
      continue;
    }
    // Sine segment (unbounded): bisection on the monotone integral, bracketed by
    // the rate's floor and ceiling.
    const double hi_rate = s.mean * (1 + s.amplitude), lo_rate = s.mean * (1 - s.amplitude);
    if (hi_rate <= 0) return false;
    double lo = t0 + mass / hi_rate;
    double hi = lo_rate > 0 ? t0 + mass / lo_rate : t0 + mass / hi_rate + 2 * M_PI / s.omega;
    while (SegmentIntegral(s, t0, hi) < mass) hi += 2 * M_PI / s.omega;
    for (int i = 0; i < 100 && hi - lo > 1e-10; ++i) {
      const double mid = (lo + hi) / 2;
      (SegmentIntegral(s, t0, mid) < mass ? lo : hi) = mid;
    }
    *t = hi;
    return true;
  }
  return false;
}

}  // namespace scaletwin
