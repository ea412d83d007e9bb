// ArrivalGenerator: the open-loop arrival trace of a scenario, one arrival at a time.
//
// Both worlds replay the same trace: the simulator schedules each arrival as an
// event, the real load generator sends a request at each arrival's intended
// time. Times come from the "arrivals" RNG stream and tenant/route picks from
// "arrival-attributes", so changing the route mix never moves an arrival.
// Arrivals at or after `duration` are not produced.
//
//   ArrivalGenerator gen(scenario);
//   Arrival a;
//   while (gen.Next(&a)) Schedule(a.time, a);
//
// Memory is constant (plus the trace, for trace arrivals). Thread-safety: none.
#pragma once

#include <cstdint>
#include <vector>

#include "model/rng.h"
#include "model/scenario.h"

namespace scaletwin {

struct Arrival {
  Nanos time = 0;
  uint32_t tenant = 0;  // index into Scenario::tenants
  Route route = Route::kRedirect;
};

class ArrivalGenerator {
 public:
  explicit ArrivalGenerator(const Scenario& scenario);

  // Writes the next arrival; false when the trace is exhausted.
  bool Next(Arrival* out);

 private:
  uint32_t PickTenant();
  Route PickRoute();

  const Scenario& scenario_;
  Rng time_rng_, attr_rng_;
  double t_ = 0;          // seconds, for profile-driven processes
  size_t segment_ = 0;    // RateProfile cursor
  size_t trace_pos_ = 0;
  bool done_ = false;
  std::vector<double> tenant_cdf_;
  double route_cdf_[kRouteCount];
};

}  // namespace scaletwin
