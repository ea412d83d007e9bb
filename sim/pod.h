// Pod: one simulated replica of the shortener — `workers` threads sharing one
// FIFO waiting room.
//
// An arriving request starts at once when a worker is idle, waits when the room
// has space, and is refused (queue_full) otherwise; `queue_limit` -1 means
// unbounded and 0 means no waiting room at all (Erlang B) — the rule is
// model/pod_admission.h, shared with the real pod. The pod only keeps
// state; the world schedules the completion events. Invariants (checked):
// busy <= workers; the queue is non-empty only while every worker is busy.
//
// Thread-safety: none.
#pragma once

#include <cassert>
#include <cstdint>
#include <vector>

#include "model/pod_admission.h"

namespace scaletwin::sim {

class Pod {
 public:
  Pod(int workers, int64_t queue_limit) : workers_(workers), queue_limit_(queue_limit) { ring_.resize(16); }

  enum class Admit { kStart, kQueued, kRejected };

  // Decides what happens to an arriving request; on kStart the caller begins service.
  Admit Arrive(uint32_t request) {
    switch (AdmitToPod(busy_ + static_cast<int64_t>(queued_), workers_, queue_limit_)) {
      case PodAdmission::kStart:
        assert(queued_ == 0);
        ++busy_;
        return Admit::kStart;
      case PodAdmission::kQueue:
        Push(request);
        return Admit::kQueued;
      case PodAdmission::kReject:
        break;
    }
    return Admit::kRejected;
  }

  // A worker finished. Returns true and the next request to serve (the worker
  // stays busy) when one is waiting; false when the worker goes idle.
  bool Finish(uint32_t* next) {
    assert(busy_ > 0);
    if (queued_ > 0) {
      *next = ring_[head_];
      head_ = (head_ + 1) & (ring_.size() - 1);
      --queued_;
      return true;
    }
    --busy_;
    return false;
  }

  int busy() const { return busy_; }
  int workers() const { return workers_; }
  size_t queued() const { return queued_; }

 private:
  void Push(uint32_t request) {
    if (queued_ == ring_.size()) Grow();
    ring_[(head_ + queued_) & (ring_.size() - 1)] = request;
    ++queued_;
  }
  void Grow() {
    std::vector<uint32_t> bigger(ring_.size() * 2);
    for (size_t i = 0; i < queued_; ++i) bigger[i] = ring_[(head_ + i) & (ring_.size() - 1)];
    ring_.swap(bigger);
    head_ = 0;
  }

  int workers_;
  int64_t queue_limit_;
  int busy_ = 0;
  std::vector<uint32_t> ring_;  // power-of-two ring buffer
  size_t head_ = 0, queued_ = 0;
};

}  // namespace scaletwin::sim
