// EventQueue: the simulator's pending-event set, ordered by (time, sequence).
//
// Events at equal times pop in the order they were pushed (a monotonically
// increasing sequence number, returned with each event), which is what makes a
// run deterministic. Each event carries a 64-bit payload that the world decodes
// (kind + indices); handlers keep their state in their own slabs, so queue
// entries stay 24 bytes.
//
// Structure: a radix heap (Ahuja, Mehlhorn, Orlin, Tarjan, JACM 1990) with
// 8-bit digits, valid because virtual time is an integer that never runs
// backwards. base_ is a lower bound of every pending time (the minimum of the
// last bucket redistributed; <= now()). An event of time t lives in bucket
// (level, digit): level = the highest 8-bit digit in which t differs from
// base_, digit = t's value in that digit. Every time in a lower bucket
// (level-major, then digit) is smaller than every time in a higher one, so the
// minimum is in the lowest non-empty bucket, found with two count-trailing-
// zeros (32-bit summary -> 64-bit word of a 2048-bit occupancy bitmap).
//  - Level-0 buckets hold a single time each and are popped FIFO.
//  - A higher bucket holding one event is popped directly (the common case
//    when events are sparse: ~80% of pops at 10^3 pending).
//  - A higher bucket holding more is redistributed: base_ becomes its minimum
//    (tracked per bucket) and its events are re-placed; all land in lower
//    levels, so an event moves at most 7 times. In the hold model it is
//    placed ~2.2-3.4 times in all (push included) between 10^3 and 10^6
//    pending, vs ~log2(n) sift steps in a binary heap.
//
// FIFO ties, without comparing sequence numbers: a bucket receives events
// either by Push (highest sequence so far) or by a redistribution, and a
// redistribution only fills buckets that are empty, copying the source in
// order. So each bucket lists its events in push order, and equal times (which
// share a level-0 bucket) pop in push order. event_queue_test.cc checks this
// against a sorted-map model, including equal-time groups split by
// redistributions, pushes between base_ and now(), and times up to INT64_MAX.
//
// Costs: Push O(1): index by one bsr + shifts, append, two bitmap ORs. Pop
// O(1) amortized (each event pays for its own <= 7 moves); TopTime O(1).
// Measured (bench/RESULTS.md: event_queue_bench, hold model, RNG draw
// included, same binary) against std::priority_queue of the same 24-byte
// events: ~2.0x at 10^3 pending (1.9-2.2x over means of 1 us-1 s), ~2.5x at
// 10^4-10^5, ~6x at 10^6; at 10-100 pending (what mmc-check and flash-sale
// see) ~1.3x. It is bound by L1 misses on bucket headers and chunk tails
// (1.3-2.3 per hold at 10^3), not by instructions; variants with 16-byte headers,
// sorted runs for small buckets or no prefetch measured the same or worse.
// Weak spot: means that straddle a 2^24 ns (16.8 ms) digit boundary send ~half
// the pushes one level higher, costing one extra move each.
//
// Memory: 24 bytes per pending event. A bucket keeps its first event inline
// in its 64-byte header and the rest in a linked list of 16-event chunks;
// emptied chunks go to a free list and are reused, never returned, so memory
// follows the peak number pending (plus at most one partly used chunk per
// non-empty bucket, 392 B), not the number of events pushed over a run.
// Fixed: 2048 headers x 64 B = 128 KiB (initialised at construction) + 264 B of
// bitmaps. Reserve(n) pre-allocates chunks for about n pending events.
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

  [[gnu::always_inline]] void Push(Nanos time, uint64_t payload) {
    if (time < now_) [[unlikely]] PastEventAbort(time);
    Place(Event{time, next_seq_++, payload});
    ++size_;
  }

  // Removes and returns the earliest event (FIFO among equal times). REQUIRES: !empty().
  [[gnu::always_inline]] Event Pop() {
    assert(size_ > 0);
    --size_;
    const int index = Lowest();
    Bucket& b = buckets_[index];
    if (index >= kDigits && b.count == 1) [[likely]] {
      // A bucket above level 0 holding one event (common when events are
      // sparse): that event is the minimum.
      base_ = b.min;
      b.count = 0;
      b.min = kEmptyMin;
      ClearBit(index);
      now_ = static_cast<Nanos>(base_);
      return b.first;
    }
    return PopSlow(index);
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
    summary_ &= ~(uint32_t{word == 0} << (index >> 6));
  }

  // The bucket of time t relative to base_. REQUIRES: t >= base_.
  int IndexOf(uint64_t t) const {
    const uint64_t diff = (t ^ base_) | 1;  // | 1: equal to base_ -> level 0
    const auto high_bit = static_cast<unsigned>(63 ^ std::countl_zero(diff));  // one bsr
    const unsigned level = high_bit / kDigitBits;
    return static_cast<int>(level * kDigits + ((t >> (level * kDigitBits)) & (kDigits - 1)));
  }
  // Appends e to its bucket relative to base_. REQUIRES: e.time >= base_.
  void Place(const Event& e) { PlaceAt(IndexOf(static_cast<uint64_t>(e.time)), e); }
  void PlaceAt(int index, const Event& e) {
    const auto t = static_cast<uint64_t>(e.time);
    Bucket& b = buckets_[index];
    if (b.count++ == 0) {
      b.first = e;
      b.min = t;
      bits_[index >> 6] |= uint64_t{1} << (index & 63);
      summary_ |= uint32_t{1} << (index >> 6);
    } else {
      if (b.tail_used == kChunkEvents) AddTail(b);
      b.tail->events[b.tail_used++] = e;
      b.min = t < b.min ? t : b.min;
    }
  }

  // Pop() when the lowest bucket, `index`, is at level 0 or holds several
  // events: redistributes it if above level 0, then pops from level 0.
  Event PopSlow(int index);
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
