#include "model/load_balancer.h"

#include <algorithm>
#include <cmath>

namespace scaletwin {

LoadBalancer::LoadBalancer(IngressPolicy policy, Rng rng, Nanos ewma_decay)
    : policy_(policy), rng_(rng), decay_(ewma_decay) {}

LoadBalancer::Stats& LoadBalancer::At(uint32_t id) {
  if (id >= stats_.size()) stats_.resize(static_cast<size_t>(id) + 1);
  return stats_[id];
}

void LoadBalancer::SetEndpoints(std::span<const uint32_t> ids, Nanos now) {
  // Membership by id (O(1) lookups): fleets of a thousand pods change often.
  std::vector<uint8_t> in_new;
  for (uint32_t id : ids) {
    if (id >= in_new.size()) in_new.resize(static_cast<size_t>(id) + 1, 0);
    in_new[id] = 1;
  }
  auto listed = [this](uint32_t id) { return id < listed_.size() && listed_[id]; };
  // Mean EWMA of the endpoints that keep a value, to seed newcomers ("slow start").
  double sum = 0;
  int with_value = 0;
  for (uint32_t id : ids) {
    if (id < stats_.size() && stats_[id].has_ewma && listed(id)) {
      sum += stats_[id].ewma_s;
      ++with_value;
    }
  }
  for (uint32_t old : endpoints_) {
    if (old >= in_new.size() || !in_new[old]) {
      const uint32_t active = stats_[old].active;  // in-flight requests still finish
      stats_[old] = Stats{};
      stats_[old].active = active;
    }
  }
  for (uint32_t id : ids) {
    if (listed(id)) continue;
    Stats& s = At(id);
    if (with_value > 0) {
      s.has_ewma = true;
      s.ewma_s = sum / with_value;
      s.touched = now;
    }
  }
  endpoints_.assign(ids.begin(), ids.end());
  listed_ = std::move(in_new);
}

const std::vector<uint32_t>& LoadBalancer::Eligible(std::span<const uint32_t> tried) {
  if (tried.empty()) return endpoints_;
  scratch_.clear();
  for (uint32_t id : endpoints_) {
    if (std::find(tried.begin(), tried.end(), id) == tried.end()) scratch_.push_back(id);
  }
  // Every endpoint already tried: all are eligible again.
  return scratch_.empty() ? endpoints_ : scratch_;
}

double LoadBalancer::EwmaScore(uint32_t id, Nanos now) const {
  if (id >= stats_.size() || !stats_[id].has_ewma) return 0;
  const Stats& s = stats_[id];
  const double dt = static_cast<double>(std::max<Nanos>(0, now - s.touched));
  return s.ewma_s * std::exp(-dt / static_cast<double>(decay_));
}

uint32_t LoadBalancer::PickTwo(const std::vector<uint32_t>& from, Nanos now) {
  if (from.size() == 1) return from[0];
  // Two distinct draws (partial Fisher–Yates without moving the list).
  const size_t i = rng_.UniformInt(from.size());
  size_t j = rng_.UniformInt(from.size() - 1);
  if (j >= i) ++j;
  const uint32_t a = from[i], b = from[j];
  if (policy_ == IngressPolicy::kLeastRequest) return active(b) < active(a) ? b : a;
  return EwmaScore(b, now) < EwmaScore(a, now) ? b : a;
}

uint32_t LoadBalancer::Pick(Nanos now, std::span<const uint32_t> tried) {
  const std::vector<uint32_t>& from = Eligible(tried);
  switch (policy_) {
    case IngressPolicy::kRoundRobin: {
      if (next_ >= from.size()) next_ = 0;
      return from[next_++];
    }
    case IngressPolicy::kRandom: return from[rng_.UniformInt(from.size())];
    case IngressPolicy::kLeastRequest:
    case IngressPolicy::kEwma: return PickTwo(from, now);
  }
  return from[0];
}

void LoadBalancer::OnStart(uint32_t id) { ++At(id).active; }

void LoadBalancer::OnFinish(uint32_t id, Nanos rtt, Nanos now) {
  Stats& s = At(id);
  if (s.active > 0) --s.active;
  if (policy_ != IngressPolicy::kEwma) return;
  if (id >= listed_.size() || !listed_[id]) return;  // stats deleted
  const double sample = ToSeconds(rtt);
  if (!s.has_ewma) {
    s.ewma_s = sample;  // first sample becomes the estimate
    s.has_ewma = true;
  } else {
    const double dt = static_cast<double>(std::max<Nanos>(0, now - s.touched));
    const double w = std::exp(-dt / static_cast<double>(decay_));
    s.ewma_s = s.ewma_s * w + sample * (1 - w);
  }
  s.touched = now;
}

}  // namespace scaletwin
