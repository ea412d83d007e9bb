// LoadBalancer: which endpoint the ingress sends the next request to.
//
// One policy object serves both worlds: the simulated ingress and the real
// ingress proxy call the same SetEndpoints / Pick / OnStart / OnFinish with
// their own clock and RNG stream. Endpoints are stable ids (pod ids); the list
// is what the ingress last saw as ready, which may lag the truth.
//
//   LoadBalancer lb(IngressPolicy::kEwma, Rng(seed, "ingress"));
//   lb.SetEndpoints({0, 1, 2}, now);
//   uint32_t pod = lb.Pick(now);            // or Pick(now, tried) on a retry
//   lb.OnStart(pod);  ...  lb.OnFinish(pod, rtt, now);
//
// Policies (facts from shared/reference/platform.md §1):
// - round_robin: ingress-nginx's default; rotates through the list.
// - random: uniform choice.
// - least_request: Envoy LEAST_REQUEST with equal weights — two distinct
//   random endpoints (power of two choices), the one with fewer active
//   requests wins, ties to the first drawn.
// - ewma: ingress-nginx ewma.lua — per endpoint an EWMA of response time
//   (connect + response of the last attempt) decayed with time constant
//   `decay` (10 s); score = ewma · exp(−Δt/decay) with no in-flight term; pick
//   by power of two choices among endpoints not yet tried by this request; a
//   new endpoint is seeded with the mean EWMA of those that have one.
// On a retry, endpoints in `tried` are skipped unless every endpoint was tried.
//
// Thread-safety: none; the real ingress serialises calls.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "model/duration.h"
#include "model/rng.h"
#include "model/scenario.h"

namespace scaletwin {

class LoadBalancer {
 public:
  static constexpr Nanos kDefaultEwmaDecay = 10 * kNanosPerSecond;

  LoadBalancer(IngressPolicy policy, Rng rng, Nanos ewma_decay = kDefaultEwmaDecay);

  // Replaces the endpoint list. Stats of removed endpoints are forgotten;
  // added ones are seeded (ewma) as ingress-nginx does.
  void SetEndpoints(std::span<const uint32_t> ids, Nanos now);
  const std::vector<uint32_t>& endpoints() const { return endpoints_; }

  // An endpoint id. REQUIRES: !endpoints().empty().
  uint32_t Pick(Nanos now, std::span<const uint32_t> tried = {});

  // A request was sent to / answered by `id` (rtt: send to response).
  void OnStart(uint32_t id);
  void OnFinish(uint32_t id, Nanos rtt, Nanos now);

  // Introspection for reports and tests.
  uint32_t active(uint32_t id) const { return id < stats_.size() ? stats_[id].active : 0; }
  // The ewma score used for picking, in seconds (0 for an endpoint never seen).
  double EwmaScore(uint32_t id, Nanos now) const;
  IngressPolicy policy() const { return policy_; }

 private:
  struct Stats {
    uint32_t active = 0;
    bool has_ewma = false;
    double ewma_s = 0;
    Nanos touched = 0;
  };
  Stats& At(uint32_t id);
  // Candidates for this pick: all endpoints, or those not in `tried`.
  const std::vector<uint32_t>& Eligible(std::span<const uint32_t> tried);
  uint32_t PickTwo(const std::vector<uint32_t>& from, Nanos now);

  IngressPolicy policy_;
  Rng rng_;
  Nanos decay_;
  std::vector<uint32_t> endpoints_;
  std::vector<Stats> stats_;  // indexed by endpoint id
  std::vector<uint8_t> listed_;   // by id: 1 iff in endpoints_
  std::vector<uint32_t> scratch_;
  size_t next_ = 0;           // round-robin cursor
};

}  // namespace scaletwin
