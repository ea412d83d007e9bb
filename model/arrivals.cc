#include "model/arrivals.h"

#include <cmath>

namespace scaletwin {

ArrivalGenerator::ArrivalGenerator(const Scenario& scenario)
    : scenario_(scenario), time_rng_(scenario.seed, "arrivals"), attr_rng_(scenario.seed, "arrival-attributes") {
  double total = 0;
  for (const Tenant& t : scenario.tenants) total += t.weight;
  double acc = 0;
  for (const Tenant& t : scenario.tenants) {
    acc += t.weight / total;
    tenant_cdf_.push_back(acc);
  }
  acc = 0;
  for (int i = 0; i < kRouteCount; ++i) {
    acc += scenario.traffic.mix[i];
    route_cdf_[i] = acc;
  }
}

uint32_t ArrivalGenerator::PickTenant() {
  if (tenant_cdf_.size() == 1) return 0;
  const double u = attr_rng_.Uniform01() * tenant_cdf_.back();
  for (uint32_t i = 0; i + 1 < tenant_cdf_.size(); ++i) {
    if (u < tenant_cdf_[i]) return i;
  }
  return static_cast<uint32_t>(tenant_cdf_.size() - 1);
}

Route ArrivalGenerator::PickRoute() {
  const double u = attr_rng_.Uniform01() * route_cdf_[kRouteCount - 1];
  for (int i = 0; i < kRouteCount - 1; ++i) {
    if (u < route_cdf_[i] && scenario_.traffic.mix[i] > 0) return static_cast<Route>(i);
  }
  for (int i = kRouteCount - 1; i >= 0; --i) {
    if (scenario_.traffic.mix[i] > 0) return static_cast<Route>(i);
  }
  return Route::kRedirect;
}

bool ArrivalGenerator::Next(Arrival* out) {
  if (done_) return false;
  const Traffic& traffic = scenario_.traffic;
  if (traffic.arrivals == ArrivalProcess::kTrace) {
    if (trace_pos_ >= traffic.trace.size() || traffic.trace[trace_pos_].time >= scenario_.duration) {
      done_ = true;
      return false;
    }
    const TraceArrival& a = traffic.trace[trace_pos_++];
    out->time = a.time;
    out->tenant = a.tenant >= 0 ? static_cast<uint32_t>(a.tenant) : PickTenant();
    out->route = a.route >= 0 ? static_cast<Route>(a.route) : PickRoute();
    return true;
  }
  const double mass = traffic.arrivals == ArrivalProcess::kPoisson ? time_rng_.Exp1() : 1.0;
  if (!traffic.profile.Advance(mass, &t_, &segment_)) {
    done_ = true;
    return false;
  }
  const auto time = static_cast<Nanos>(std::llround(t_ * kNanosPerSecond));
  if (time >= scenario_.duration) {
    done_ = true;
    return false;
  }
  out->time = time;
  out->tenant = PickTenant();
  out->route = PickRoute();
  return true;
}

}  // namespace scaletwin
