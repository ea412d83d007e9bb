// RequestSlab: storage for in-flight simulated requests, addressed by a 32-bit id.
//
// Events carry request ids, not pointers, so the event heap stays compact and
// ids stay valid while the slab grows. Freed slots are reused LIFO; after the
// first seconds of a run the slab has reached its peak (the peak number in
// flight) and Acquire() no longer allocates.
//
// Thread-safety: none.
#pragma once

#include <cassert>
#include <cstdint>
#include <vector>

#include "model/duration.h"
#include "model/scenario.h"

namespace scaletwin::sim {

struct Request {
  enum class Stage : uint8_t { kQueued, kAcquiring, kQuerying, kService };
  Nanos arrival = 0;        // at the ingress
  Nanos service_start = 0;  // a worker took it
  Nanos cpu_start = 0;      // database work done, service time starts
  uint32_t tenant = 0;
  uint32_t pod = 0;
  uint32_t generation = 0;  // bumped on reuse, so stale timer events are recognised
  Route route = Route::kRedirect;
  Stage stage = Stage::kQueued;
  uint16_t queries_left = 0;
  bool in_window = false;   // arrived in [warmup, duration): counts in the summary
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
      return id;
    }
    slots_.emplace_back();
    ++live_;
    return static_cast<uint32_t>(slots_.size() - 1);
  }
  void Release(uint32_t id) {
    assert(id < slots_.size());
    free_.push_back(id);
    --live_;
  }
  Request& operator[](uint32_t id) { return slots_[id]; }
  size_t live() const { return live_; }
  size_t capacity() const { return slots_.size(); }

 private:
  std::vector<Request> slots_;
  std::vector<uint32_t> free_;
  size_t live_ = 0;
};

}  // namespace scaletwin::sim
