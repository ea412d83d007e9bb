// EventQueue: the simulator's pending-event set, ordered by (time, sequence).
//
// Events at equal times pop in the order they were pushed (a monotonically
// increasing sequence number breaks ties), which is what makes a run
// deterministic. Each event carries a 64-bit payload that the world decodes
// (kind + indices); handlers keep their state in their own slabs, so the heap
// stays compact and pushing never allocates once capacity is reserved.
//
// Structure: implicit 4-ary min-heap on a std::vector. Push and Pop are
// O(log4 n); a 4-ary heap halves the depth of a binary heap and its four
// children share a cache line pair. Figures against std::priority_queue are in
// bench/RESULTS.md.
//
// REQUIRES (checked): pushed times are >= the time of the last popped event —
// virtual time never runs backwards.
// Thread-safety: none.
#pragma once

#include <cassert>
#include <cstdint>
#include <vector>

#include "model/duration.h"

namespace scaletwin::sim {

struct Event {
  Nanos time;
  uint64_t seq;
  uint64_t payload;
};

class EventQueue {
 public:
  void Reserve(size_t n) { heap_.reserve(n); }
  bool empty() const { return heap_.empty(); }
  size_t size() const { return heap_.size(); }
  // Time of the earliest event. REQUIRES: !empty().
  Nanos TopTime() const { return heap_.front().time; }
  // Time of the last popped event (0 before the first pop).
  Nanos now() const { return now_; }

  void Push(Nanos time, uint64_t payload) {
    if (time < now_) [[unlikely]] PastEventAbort(time);
    heap_.push_back(Event{time, next_seq_++, payload});
    SiftUp(heap_.size() - 1);
  }

  // Removes and returns the earliest event. REQUIRES: !empty().
  Event Pop() {
    assert(!heap_.empty());
    Event top = heap_.front();
    Event last = heap_.back();
    heap_.pop_back();
    if (!heap_.empty()) SiftDown(last);
    now_ = top.time;
    return top;
  }

 private:
  static bool Less(const Event& a, const Event& b) {
    return a.time < b.time || (a.time == b.time && a.seq < b.seq);
  }

  void SiftUp(size_t i) {
    Event e = heap_[i];
    while (i > 0) {
      size_t parent = (i - 1) / 4;
      if (!Less(e, heap_[parent])) break;
      heap_[i] = heap_[parent];
      i = parent;
    }
    heap_[i] = e;
  }

  // Places `e` starting from the root, moving smaller children up.
  void SiftDown(const Event& e) {
    const size_t n = heap_.size();
    size_t i = 0;
    for (;;) {
      size_t first = 4 * i + 1;
      if (first >= n) break;
      size_t best = first;
      size_t end = first + 4 < n ? first + 4 : n;
      for (size_t c = first + 1; c < end; ++c) {
        if (Less(heap_[c], heap_[best])) best = c;
      }
      if (!Less(heap_[best], e)) break;
      heap_[i] = heap_[best];
      i = best;
    }
    heap_[i] = e;
  }

  [[noreturn]] void PastEventAbort(Nanos time) const;

  std::vector<Event> heap_;
  uint64_t next_seq_ = 0;
  Nanos now_ = 0;
};

}  // namespace scaletwin::sim
