// RateProfile: offered load over time (queries per second as a function of
// virtual time), and its inversion for arrival generation.
//
// A profile is a list of contiguous segments, each linear (constant when both
// ends are equal) or sinusoidal. The arrival generators consume "mass" (the
// integral of the rate): a Poisson process takes Exp(1) mass per arrival, an
// evenly spaced one exactly 1, so both follow the same profile.
//
//   RateProfile p = RateProfile::FromPoints({{0, 900, 0}, {300 * kNanosPerSecond, 1800, 30 * kNanosPerSecond}});
//   double t = 0; size_t seg = 0;
//   bool more = p.Advance(1.0, &t, &seg);   // t = time of the next evenly spaced arrival
//
// Times inside are double seconds: exact enough (sub-ns over days) and free of
// integer overflow in the quadratic solves; callers round to Nanos.
#pragma once

#include <vector>

#include "model/duration.h"

namespace scaletwin {

struct RatePoint {
  Nanos at = 0;
  double qps = 0;
  Nanos ramp = 0;  // linear change from the previous level over [at, at + ramp]
};

struct SpikeShape {
  double base_qps = 0, peak_qps = 0;
  Nanos at = 0, ramp_up = 0, hold = 0, ramp_down = 0;
};

struct DiurnalShape {
  double mean_qps = 0;
  double amplitude = 0;  // in [0, 1]: rate = mean * (1 + amplitude * sin(2π (t + phase) / period))
  Nanos period = 24 * 3600 * kNanosPerSecond;
  Nanos phase = 0;
};

class RateProfile {
 public:
  struct Segment {
    double start = 0, end = 0;  // seconds; end may be +inf for the last one
    bool sine = false;
    double r0 = 0, r1 = 0;      // linear: rate at start and end
    double mean = 0, amplitude = 0, omega = 0, phase = 0;  // sine
  };

  // REQUIRES: points sorted by `at`, ramps not overlapping the next point (the loader checks).
  static RateProfile FromPoints(const std::vector<RatePoint>& points);
  static RateProfile FromSpike(const SpikeShape& spike);
  static RateProfile FromDiurnal(const DiurnalShape& diurnal);

  // Rate at time t (seconds).
  double RateAt(double t) const;
  // Integral of the rate over [a, b] (seconds): the expected arrival count.
  double Integral(double a, double b) const;
  // Moves *t forward until `mass` of rate has been consumed, updating the
  // segment cursor *segment (start both at 0). Returns false when the profile
  // never accumulates that much mass (rate zero from some point on).
  bool Advance(double mass, double* t, size_t* segment) const;

  const std::vector<Segment>& segments() const { return segments_; }

 private:
  double SegmentRate(const Segment& s, double t) const;
  double SegmentIntegral(const Segment& s, double a, double b) const;
  std::vector<Segment> segments_;
};

}  // namespace scaletwin
