// Rng: a seeded, portable random stream (xoshiro256**), one per component.
//
// Each component (arrivals, service times, ingress picks, ...) owns its own
// stream derived from the scenario seed and a stable stream name, so adding a
// pod or a component never shifts the draws of another. The generator and all
// derived variates are written out here (no std:: distributions) so the same
// seed gives the same numbers with any standard library.
//
//   Rng arrivals(scenario.seed, "arrivals");
//   double u = arrivals.Uniform01();
//
// Thread-safety: none; one stream belongs to one component.
#pragma once

#include <cstdint>
#include <string_view>

namespace scaletwin {

class Rng {
 public:
  // Stream `name` of `seed`; distinct names give statistically independent streams.
  Rng(uint64_t seed, std::string_view name);
  // Stream `name` number `index` (e.g. one per pod).
  Rng(uint64_t seed, std::string_view name, uint64_t index);

  uint64_t Next();
  // Uniform on [0, 1) with 53 random bits.
  double Uniform01() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  // Uniform on (0, 1]: safe to take the log of.
  double UniformOpen0() { return 1.0 - Uniform01(); }
  // Uniform integer in [0, n). REQUIRES: n > 0. Lemire's multiply-shift, no modulo bias.
  uint64_t UniformInt(uint64_t n);
  // Exponential with mean 1.
  double Exp1();
  // Standard normal, by inverting the CDF (one draw per variate, no cached state).
  double StdNormal();

 private:
  void Seed(uint64_t seed, uint64_t stream);
  uint64_t s_[4];
};

// Inverse of the standard normal CDF (Acklam's rational approximation refined by
// one Halley step; absolute error < 1e-12). REQUIRES: 0 < p < 1.
double InverseNormalCdf(double p);

}  // namespace scaletwin
