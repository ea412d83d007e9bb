#include "sim/event_queue.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace scaletwin::sim {

EventQueue::EventQueue() : buckets_(new Bucket[kBuckets]) {}

Event EventQueue::PopSlow(int index) {
  if (index >= kDigits) {
    Bucket& b = buckets_[index];
    base_ = b.min;  // inside the bucket's block: every other bucket keeps its place
    ClearBit(index);
    index = Redistribute(b);
  }
  return PopLevel0(index);
}

int EventQueue::Redistribute(Bucket& b) {
  Chunk* chunk = b.head;
  Chunk* const tail = b.tail;
  const uint32_t tail_used = b.tail_used;
  const Event first = b.first;
  b = Bucket{};
  // Every event goes to a lower level (they all share base_'s digits from this
  // bucket's level up), and those buckets are empty: copying in order keeps
  // each bucket in push order.
  Place(first);
  for (;;) {
    const uint32_t n = chunk == tail ? tail_used : kChunkEvents;
    // Two passes per chunk: the target bucket headers are mostly not in L1
    // (2048 x 64 B), so compute all targets and prefetch them first.
    int target[kChunkEvents];
    for (uint32_t i = 0; i < n; ++i) {
      target[i] = IndexOf(static_cast<uint64_t>(chunk->events[i].time));
      __builtin_prefetch(&buckets_[target[i]], 1);
    }
    for (uint32_t i = 0; i < n; ++i) PlaceAt(target[i], chunk->events[i]);
    Chunk* const next = chunk->next;
    FreeChunk(chunk);
    if (chunk == tail) break;
    chunk = next;
  }
  return static_cast<int>(base_ & (kDigits - 1));
}

void EventQueue::Reserve(size_t n) {
  const size_t wanted = n / kChunkEvents + 64;  // + partly used chunks of non-empty buckets
  if (wanted > chunks_allocated_) AllocateChunks(wanted - chunks_allocated_);
}

EventQueue::Chunk* EventQueue::AllocateChunks(size_t min_chunks) {
  // Slabs grow geometrically (1.5x the total) so a queue that reaches 10^6
  // pending events does a few dozen allocations, not 60 000.
  const size_t n = std::max({min_chunks, size_t{64}, chunks_allocated_ / 2});
  Chunk* slab = new Chunk[n];  // default-initialised: pages are touched only when used
  slabs_.emplace_back(slab);
  for (size_t i = 0; i + 1 < n; ++i) slab[i].next = &slab[i + 1];
  slab[n - 1].next = free_;
  free_ = slab;
  chunks_allocated_ += n;
  return free_;
}

void EventQueue::PastEventAbort(Nanos time) const {
  // An event in the past is a model bug; continuing would corrupt causality.
  std::fprintf(stderr, "scaletwin: invariant violated: event scheduled at %lld ns, before now (%lld ns)\n",
               static_cast<long long>(time), static_cast<long long>(now_));
  std::abort();
}

}  // namespace scaletwin::sim
