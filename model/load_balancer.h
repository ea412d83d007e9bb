// LoadBalancer: which endpoint the ingress sends the next request to.
//
// One policy object serves both worlds: the simulated ingress and the real
// ingress proxy ask the same Pick() with the same endpoint count and their own
// RNG stream. Endpoints are indices into the caller's current list of ready
// endpoints; when that list changes the caller just passes the new size.
//
//   LoadBalancer lb(IngressPolicy::kRoundRobin, Rng(seed, "ingress"));
//   size_t target = lb.Pick(ready_count);
//
// round_robin: ingress-nginx's default; cycles through the list in order.
// random: uniform choice per request.
// Thread-safety: none; the real ingress serialises calls.
#pragma once

#include <cstddef>

#include "model/rng.h"
#include "model/scenario.h"

namespace scaletwin {

class LoadBalancer {
 public:
  LoadBalancer(IngressPolicy policy, Rng rng) : policy_(policy), rng_(rng) {}

  // Index in [0, endpoints). REQUIRES: endpoints > 0.
  size_t Pick(size_t endpoints) {
    if (policy_ == IngressPolicy::kRandom) return static_cast<size_t>(rng_.UniformInt(endpoints));
    if (next_ >= endpoints) next_ = 0;
    return next_++;
  }

  IngressPolicy policy() const { return policy_; }

 private:
  IngressPolicy policy_;
  Rng rng_;
  size_t next_ = 0;
};

}  // namespace scaletwin
