// RequestSlab: storage for in-flight simulated requests, addressed by a 32-bit id.
//
// Events carry request ids, not pointers, so the event heap stays compact and
// ids stay valid while the slab grows. Freed slots are reused LIFO; after the
// first seconds of a run the slab has reached its peak (the peak number in
// flight) and Acquire() no longer allocates.
//
// Thread-safety: none.
#pragma once

#include <array>
#include <cassert>
#include <cstdint>
#include <vector>

#include "model/duration.h"
#include "model/scenario.h"

namespace scaletwin::sim {

struct Request {
  enum class Stage : uint8_t { kQueued, kLimiter, kCacheGet, kAcquiring, kQuerying, kCacheSet, kService };
  Nanos arrival = 0;        // at the ingress
  Nanos service_start = 0;  // a worker took it
  Nanos cpu_start = 0;      // database work done, service time starts
  uint32_t tenant = 0;
  uint32_t pod = 0;
  uint32_t generation = 0;  // bumped on reuse, so stale timer events are recognised
  Route route = Route::kRedirect;
  Stage stage = Stage::kQueued;
  uint16_t queries_left = 0;
  bool cache_miss = false;  // the redirect missed the link cache: SET after the database
  uint32_t cache_key = 0;   // which code (link cache)
  bool in_window = false;   // arrived in [warmup, duration): counts in the summary
  bool at_pod = false;      // admitted by a pod (queued or with a worker)
  bool orphan = false;      // failed with its pod, but its database query still runs
  bool live = false;        // the slot holds a request
  uint8_t tries = 0;        // endpoints tried by the ingress
  std::array<uint32_t, 8> tried{};
};

class RequestSlab {
 public:
  uint32_t Acquire() {
    if (!free_.empty()) {
      uint32_t id = free_.back();
      free_.pop_back();
      ++live_;
      const uint32_t generation = slots_[id].generation + 1;
      slots_[id] = Request{};
      slots_[id].generation = generation;
      slots_[id].live = true;
      return id;
    }
    slots_.emplace_back();
    slots_.back().live = true;
    ++live_;
    return static_cast<uint32_t>(slots_.size() - 1);
  }
  // Bumps the generation too, so timers of a freed slot are stale at once.
  void Release(uint32_t id) {
    assert(id < slots_.size());
    ++slots_[id].generation;
    slots_[id].live = false;
    free_.push_back(id);
    --live_;
  }
  Request& operator[](uint32_t id) { return slots_[id]; }
  size_t live() const { return live_; }
  size_t capacity() const { return slots_.size(); }
  bool IsLive(uint32_t id) const { return id < slots_.size() && slots_[id].live; }

 private:
  std::vector<Request> slots_;
  std::vector<uint32_t> free_;
  size_t live_ = 0;
};

}  // namespace scaletwin::sim
