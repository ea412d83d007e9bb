// EventQueue: the simulator's pending-event set, ordered by (time, sequence).
//
// Events at equal times pop in the order they were pushed (a monotonically
// increasing sequence number, returned with each event), which is what makes a
// run deterministic. Each event carries a 64-bit payload that the world decodes
// (kind + indices); handlers keep their state in their own slabs, so queue
// entries stay 24 bytes.
//
// Structure: a radix heap (Ahuja, Mehlhorn, Orlin, Tarjan 1990) with 8-bit
// digits, valid because virtual time is an integer that never runs backwards.
// `base_` is a lower bound of every pending time (the time of the last event
// that came out of a redistribution, <= now()). An event of time t lives in
// bucket (level, digit): level = index of the highest 8-bit digit in which t
// differs from base_, digit = t's value of that digit. Every key in a lower
// bucket (level-major, then digit) is smaller than every key in a higher one,
// so the minimum is in the lowest non-empty bucket, found with two
// count-trailing-zeros over a 2048-bit occupancy bitmap plus a 32-bit summary.
// Level-0 buckets hold one single time each and are popped FIFO. A higher
// bucket is popped by setting base_ to its minimum (tracked per bucket) and
// re-placing its events, which all land in lower levels; a bucket holding one
// event is returned directly. An event moves at most 8 times in its life and,
// in the hold model with 10^3-10^6 pending, about 1-3 times on average.
//
// FIFO ties (why no comparison on seq is needed): a bucket receives events
// either by Push (highest seq so far) or by a redistribution of a higher
// bucket, and a redistribution only ever fills buckets that were empty, copying
// the source in order. So every bucket lists its events in seq order, and equal
// times (which share a level-0 bucket) pop in push order. Tested in
// event_queue_test.cc, including redistribution of large equal-time groups.
//
// Costs: Push O(1) (one bucket append + two bitmap ORs); Pop O(1) amortized,
// the redistribution work charged to the events that move (<= 8 moves each).
// TopTime O(1). Figures against std::priority_queue are in bench/RESULTS.md
// (event_queue_bench, hold model): about 2x faster at 10^3 pending and 5x at
// 10^6 with the RNG draw included.
//
// Memory: 24 bytes per pending event, in chunks of 16 events linked per
// bucket; emptied chunks go to a free list and are reused, never returned to
// the allocator, so memory is set by the peak number pending (plus at most one
// partly used chunk per non-empty bucket, 392 B each), not by how many events a
// run pushes. Fixed overhead: 2048 bucket headers of 32 B (64 KiB) plus 264 B
// of bitmaps. Reserve(n) pre-allocates chunks for about n pending events.
//
// REQUIRES (checked): pushed times are >= now(), the time of the last popped
// event — virtual time never runs backwards; times are therefore >= 0 and any
// value up to INT64_MAX is fine.
// Thread-safety: none. Not copyable; movable (a moved-from queue may only be
// destroyed or assigned to).
#pragma once

#include <bit>
#include <cassert>
#include <cstdint>
#include <memory>
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
  EventQueue();
  ~EventQueue() = default;
  EventQueue(const EventQueue&) = delete;
  EventQueue& operator=(const EventQueue&) = delete;
  EventQueue(EventQueue&&) noexcept = default;
  EventQueue& operator=(EventQueue&&) noexcept = default;

  // Pre-allocates storage for about n pending events (a hint; pushes beyond it allocate).
  void Reserve(size_t n);
  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }
  // Time of the earliest event. REQUIRES: !empty().
  Nanos TopTime() const {
    assert(size_ > 0);
    return static_cast<Nanos>(buckets_[Lowest()].min);
  }
  // Time of the last popped event (0 before the first pop).
  Nanos now() const { return now_; }

  void Push(Nanos time, uint64_t payload) {
    if (time < now_) [[unlikely]] PastEventAbort(time);
    Place(Event{time, next_seq_++, payload});
    ++size_;
  }

  // Removes and returns the earliest event (FIFO among equal times). REQUIRES: !empty().
  Event Pop() {
    assert(size_ > 0);
    --size_;
    int index = Lowest();
    if (index >= kDigits) [[likely]] {
      // The lowest bucket is above level 0: its minimum becomes base_.
      Bucket& b = buckets_[index];
      base_ = b.min;
      ClearBit(index);
      if (b.count == 1) {  // common when events are sparse: the one event is the minimum
        b.count = 0;
        b.min = kEmptyMin;
        now_ = static_cast<Nanos>(base_);
        return b.first;
      }
      index = Redistribute(b);
    }
    return PopLevel0(index);
  }

 private:
  static constexpr int kDigitBits = 8;
  static constexpr int kDigits = 1 << kDigitBits;                        // buckets per level
  static constexpr int kLevels = (63 + kDigitBits - 1) / kDigitBits;     // times use 63 bits
  static constexpr int kBuckets = kLevels * kDigits;                     // 2048
  static constexpr int kWords = kBuckets / 64;                           // occupancy bitmap words
  static constexpr uint32_t kChunkEvents = 16;
  static_assert(kWords <= 32, "summary_ is 32 bits");

  struct Chunk {
    Event events[kChunkEvents];
    Chunk* next;
  };
  static constexpr uint64_t kEmptyMin = ~uint64_t{0};
  // Events in push order: `first`, then the chunk list (only when count >= 2),
  // so a bucket holding one event touches one cache line and no chunk.
  struct alignas(64) Bucket {
    Event first;
    Chunk* head = nullptr;
    Chunk* tail = nullptr;
    uint32_t tail_used = kChunkEvents;  // full: the next chunk append takes a chunk
    uint32_t count = 0;
    uint64_t min = kEmptyMin;
  };

  int Lowest() const {
    const int word = std::countr_zero(summary_) & (kWords - 1);  // mask: summary_ != 0 when called
    return word * 64 + std::countr_zero(bits_[word]);
  }
  void ClearBit(int index) {
    uint64_t& word = bits_[index >> 6];
    word &= ~(uint64_t{1} << (index & 63));
    if (word == 0) summary_ &= ~(uint32_t{1} << (index >> 6));
  }

  // Appends e to its bucket relative to base_. REQUIRES: e.time >= base_.
  void Place(const Event& e) {
    const auto t = static_cast<uint64_t>(e.time);
    const uint64_t diff = (t ^ base_) | 1;  // | 1: equal to base_ -> level 0
    const int level = (63 - std::countl_zero(diff)) / kDigitBits;
    const int index = level * kDigits + static_cast<int>((t >> (level * kDigitBits)) & (kDigits - 1));
    Bucket& b = buckets_[index];
    if (b.count == 0) {
      b.first = e;
    } else {
      if (b.tail_used == kChunkEvents) AddTail(b);
      b.tail->events[b.tail_used++] = e;
    }
    ++b.count;
    b.min = t < b.min ? t : b.min;
    bits_[index >> 6] |= uint64_t{1} << (index & 63);
    summary_ |= uint32_t{1} << (index >> 6);
  }

  // Re-places every event of `b` (count >= 2) around base_ = b.min, emptying it;
  // returns the level-0 bucket holding the new minimum.
  int Redistribute(Bucket& b);

  // Pops the next event of level-0 bucket `index` (all one time) in push order.
  Event PopLevel0(int index) {
    Bucket& b = buckets_[index];
    Event e;
    if (!first_taken_) {
      e = b.first;
      first_taken_ = true;
    } else {
      Chunk* const head = b.head;
      e = head->events[head_pos_++];
      if (head_pos_ == kChunkEvents) {
        b.head = head->next;
        FreeChunk(head);
        head_pos_ = 0;
      }
    }
    if (--b.count == 0) {
      if (head_pos_ != 0) FreeChunk(b.head);  // the partly read last chunk
      b.head = b.tail = nullptr;
      b.tail_used = kChunkEvents;
      b.min = kEmptyMin;
      head_pos_ = 0;
      first_taken_ = false;
      ClearBit(index);
    }
    now_ = e.time;
    return e;
  }

  void AddTail(Bucket& b) {
    Chunk* c = free_;
    if (c == nullptr) [[unlikely]] c = AllocateChunks(0);
    free_ = c->next;
    c->next = nullptr;
    if (b.tail != nullptr) b.tail->next = c;
    else b.head = c;
    b.tail = c;
    b.tail_used = 0;
  }
  void FreeChunk(Chunk* c) {
    c->next = free_;
    free_ = c;
  }
  // Adds a slab of at least `min_chunks` chunks to the free list; returns its head.
  Chunk* AllocateChunks(size_t min_chunks);

  [[noreturn]] void PastEventAbort(Nanos time) const;

  std::unique_ptr<Bucket[]> buckets_;
  uint64_t bits_[kWords] = {};
  uint32_t summary_ = 0;
  // Read position in the level-0 bucket being drained (there is at most one:
  // it stays the lowest bucket until empty): `first` taken, next chunk slot.
  bool first_taken_ = false;
  uint32_t head_pos_ = 0;
  uint64_t base_ = 0;
  size_t size_ = 0;
  uint64_t next_seq_ = 0;
  Nanos now_ = 0;
  Chunk* free_ = nullptr;
  size_t chunks_allocated_ = 0;
  std::vector<std::unique_ptr<Chunk[]>> slabs_;
};

}  // namespace scaletwin::sim
