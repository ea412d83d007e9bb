// Event queue, hold model: sim::EventQueue against std::priority_queue.
//
// Hold model (Jones 1986; queueing.md 3.1): prefill N events at Exp(mean),
// run N warm-up holds untimed, then time holds: pop the minimum and push one
// new event at its time + Exp(mean), integer nanoseconds drawn exactly as
// DurationDistribution::Exponential samples (llround(Rng::Exp1() * mean)). The
// draw is inside the timed loop for every queue (BM_DrawOnly times it alone).
// items_per_second = holds per second; one hold = one Pop + one Push.
//
//   BM_Hold<Queue>/N            mean 10 ms (the service time of mmc-check)
//   BM_HoldMean<Queue>/N/mean   mean sensitivity at N = 1000 (1 us, 1 ms, 1 s)
//   BM_HoldTies<Queue>/N        times rounded up to whole ms: many equal times
//
// Queues: PriorityQueue = std::priority_queue of the same 24-byte events with
// (time, seq) order — the baseline; EventQueue = sim/event_queue.h;
// QuadHeap = the previous EventQueue (4-ary heap of 24-byte events), for
// reference. bench/run_benchmarks.sh prints the ratios to the baseline.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <queue>
#include <vector>

#include "model/rng.h"
#include "sim/event_queue.h"

namespace scaletwin::bench {
namespace {

using sim::Event;

constexpr double kMeanNs = 10e6;  // 10 ms

// The baseline: what a straightforward simulator would write.
class PriorityQueue {
 public:
  void Reserve(size_t n) {
    std::vector<Event> storage;
    storage.reserve(n);
    heap_ = Heap(Later(), std::move(storage));
  }
  void Push(Nanos time, uint64_t payload) { heap_.push(Event{time, seq_++, payload}); }
  Event Pop() {
    const Event top = heap_.top();
    heap_.pop();
    return top;
  }

 private:
  struct Later {
    bool operator()(const Event& a, const Event& b) const {
      return a.time > b.time || (a.time == b.time && a.seq > b.seq);
    }
  };
  using Heap = std::priority_queue<Event, std::vector<Event>, Later>;
  Heap heap_;
  uint64_t seq_ = 0;
};

// The previous sim::EventQueue, kept here for comparison: implicit 4-ary
// min-heap of 24-byte events on a std::vector.
class QuadHeap {
 public:
  void Reserve(size_t n) { heap_.reserve(n); }
  void Push(Nanos time, uint64_t payload) {
    heap_.push_back(Event{time, seq_++, payload});
    size_t i = heap_.size() - 1;
    const Event e = heap_[i];
    while (i > 0) {
      const size_t parent = (i - 1) / 4;
      if (!Less(e, heap_[parent])) break;
      heap_[i] = heap_[parent];
      i = parent;
    }
    heap_[i] = e;
  }
  Event Pop() {
    const Event top = heap_.front();
    const Event last = heap_.back();
    heap_.pop_back();
    const size_t n = heap_.size();
    if (n == 0) return top;
    size_t i = 0;
    for (;;) {
      const size_t first = 4 * i + 1;
      if (first >= n) break;
      size_t best = first;
      const size_t end = first + 4 < n ? first + 4 : n;
      for (size_t c = first + 1; c < end; ++c) {
        if (Less(heap_[c], heap_[best])) best = c;
      }
      if (!Less(heap_[best], last)) break;
      heap_[i] = heap_[best];
      i = best;
    }
    heap_[i] = last;
    return top;
  }

 private:
  static bool Less(const Event& a, const Event& b) { return a.time < b.time || (a.time == b.time && a.seq < b.seq); }
  std::vector<Event> heap_;
  uint64_t seq_ = 0;
};

// Exponential draw in integer ns, as DurationDistribution::Exponential::Sample.
inline Nanos DrawExp(Rng& rng, double mean) { return static_cast<Nanos>(std::llround(rng.Exp1() * mean)); }
// Rounded up to a whole `grain`: many events share a time.
inline Nanos DrawGrained(Rng& rng, double mean, Nanos grain) { return (DrawExp(rng, mean) / grain + 1) * grain; }

template <typename Queue, typename Draw>
void RunHold(benchmark::State& state, size_t n, Draw draw) {
  Rng rng(2026, "hold-model");
  Queue q;
  q.Reserve(n);
  for (size_t i = 0; i < n; ++i) q.Push(draw(rng), i);
  const size_t warmup = n < 10'000 ? 10'000 : n;
  for (size_t i = 0; i < warmup; ++i) {
    const Event e = q.Pop();
    q.Push(e.time + draw(rng), e.payload);
  }
  for (auto _ : state) {
    const Event e = q.Pop();
    q.Push(e.time + draw(rng), e.payload);
  }
  benchmark::DoNotOptimize(q);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

template <typename Queue>
void BM_Hold(benchmark::State& state) {
  RunHold<Queue>(state, static_cast<size_t>(state.range(0)), [](Rng& rng) { return DrawExp(rng, kMeanNs); });
}

template <typename Queue>
void BM_HoldMean(benchmark::State& state) {
  const auto mean = static_cast<double>(state.range(1));
  RunHold<Queue>(state, static_cast<size_t>(state.range(0)), [mean](Rng& rng) { return DrawExp(rng, mean); });
}

template <typename Queue>
void BM_HoldTies(benchmark::State& state) {
  RunHold<Queue>(state, static_cast<size_t>(state.range(0)),
                 [](Rng& rng) { return DrawGrained(rng, kMeanNs, kNanosPerMilli); });
}

// The RNG draw alone: the floor under every BM_Hold figure.
void BM_DrawOnly(benchmark::State& state) {
  Rng rng(2026, "hold-model");
  Nanos t = 0;
  for (auto _ : state) {
    t += DrawExp(rng, kMeanNs);
    benchmark::DoNotOptimize(t);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_DrawOnly);

void HoldSizes(benchmark::internal::Benchmark* b) {
  for (int64_t n : {10, 100, 1'000, 10'000, 100'000, 1'000'000}) b->Arg(n);
}
void MeanSweep(benchmark::internal::Benchmark* b) {
  for (int64_t mean : {int64_t{1'000}, int64_t{1'000'000}, int64_t{1'000'000'000}}) b->Args({1'000, mean});
}

BENCHMARK_TEMPLATE(BM_Hold, PriorityQueue)->Apply(HoldSizes);
BENCHMARK_TEMPLATE(BM_Hold, sim::EventQueue)->Apply(HoldSizes);
BENCHMARK_TEMPLATE(BM_Hold, QuadHeap)->Apply(HoldSizes);
BENCHMARK_TEMPLATE(BM_HoldMean, PriorityQueue)->Apply(MeanSweep);
BENCHMARK_TEMPLATE(BM_HoldMean, sim::EventQueue)->Apply(MeanSweep);
BENCHMARK_TEMPLATE(BM_HoldTies, PriorityQueue)->Arg(1'000)->Arg(1'000'000);
BENCHMARK_TEMPLATE(BM_HoldTies, sim::EventQueue)->Arg(1'000)->Arg(1'000'000);

}  // namespace
}  // namespace scaletwin::bench

BENCHMARK_MAIN();
