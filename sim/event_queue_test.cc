#include "sim/event_queue.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <map>
#include <utility>
#include <vector>

#include "model/rng.h"

namespace scaletwin::sim {
namespace {

// A trivially correct model of the queue: std::multimap keyed by (time, push
// order), with the same push/pop/now bookkeeping.
class ModelQueue {
 public:
  void Push(Nanos t) {
    map_.emplace(std::make_pair(t, pushed_), pushed_);
    ++pushed_;
  }
  std::pair<Nanos, uint64_t> Top() const { return map_.begin()->first; }
  void Pop() { map_.erase(map_.begin()); }
  bool empty() const { return map_.empty(); }
  size_t size() const { return map_.size(); }
  uint64_t pushed() const { return pushed_; }

 private:
  std::multimap<std::pair<Nanos, uint64_t>, uint64_t> map_;
  uint64_t pushed_ = 0;
};

// Pops one event from both and checks time, sequence number and payload
// (payload = push index), TopTime before and now() after.
void PopAndCompare(EventQueue& q, ModelQueue& model) {
  ASSERT_FALSE(q.empty());
  const auto [time, seq] = model.Top();
  ASSERT_EQ(q.TopTime(), time);
  const Event e = q.Pop();
  ASSERT_EQ(e.time, time);
  ASSERT_EQ(e.seq, seq) << "ties must pop in push order";
  ASSERT_EQ(e.payload, seq);
  ASSERT_EQ(q.now(), time);
  model.Pop();
  ASSERT_EQ(q.size(), model.size());
}

void PushBoth(EventQueue& q, ModelQueue& model, Nanos t) {
  q.Push(t, model.pushed());
  model.Push(t);
  ASSERT_EQ(q.size(), model.size());
}

// Checks the heap against the model, driven by a seeded random mix of pushes
// and pops.
TEST(EventQueue, PopsInTimeThenPushOrderLikeASortedMap) {
  Rng rng(1234, "event-queue-test");
  EventQueue q;
  ModelQueue model;
  Nanos now = 0;
  for (int step = 0; step < 200'000; ++step) {
    if (model.empty() || rng.UniformInt(100) < 55) {
      // Few distinct times so that ties are frequent.
      PushBoth(q, model, now + static_cast<Nanos>(rng.UniformInt(8)));
    } else {
      PopAndCompare(q, model);
      now = q.now();
    }
    if (HasFatalFailure()) return;
  }
}

// The same at every scale the radix buckets care about: gaps inside one 8-bit
// digit, across digits and levels, and rare jumps far ahead (2^40 ns ~ 18 min),
// so that events move through several redistributions.
class EventQueueScales : public testing::TestWithParam<uint64_t> {};

TEST_P(EventQueueScales, MatchesTheModelWithJumps) {
  const uint64_t spread = GetParam();
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    Rng rng(seed, "event-queue-scales");
    EventQueue q;
    ModelQueue model;
    for (int step = 0; step < 100'000; ++step) {
      if (model.empty() || rng.UniformInt(100) < 52) {
        Nanos t = q.now() + static_cast<Nanos>(rng.UniformInt(spread));
        if (rng.UniformInt(64) == 0) t = q.now() + static_cast<Nanos>(rng.UniformInt(uint64_t{1} << 40));
        PushBoth(q, model, t);
      } else {
        PopAndCompare(q, model);
      }
      if (HasFatalFailure()) return;
    }
    while (!model.empty()) {
      PopAndCompare(q, model);
      if (HasFatalFailure()) return;
    }
    EXPECT_TRUE(q.empty());
  }
}

INSTANTIATE_TEST_SUITE_P(Spreads, EventQueueScales,
                         testing::Values(1, 3, 256, 300, 70'000, uint64_t{1} << 24, uint64_t{1} << 33));

// Large groups of equal times that start in a high bucket and are split by
// two or more redistributions (around other, nearby times) before they reach
// level 0 must still come out in push order — including groups larger than a
// storage chunk, and pushes at the same time while the group is being popped.
TEST(EventQueue, EqualTimesKeepPushOrderThroughRedistributions) {
  EventQueue q;
  ModelQueue model;
  const Nanos far = (Nanos{1} << 30) + 12345;  // level 3 from base 0
  for (int i = 0; i < 1000; ++i) {
    PushBoth(q, model, far);
    if (i % 3 == 0) PushBoth(q, model, far + 1 + i % 7);       // same level-0 block
    if (i % 5 == 0) PushBoth(q, model, far - 300 + i % 11);    // a lower level-1 block
    if (i % 7 == 0) PushBoth(q, model, far + 70'000 + i % 3);  // a higher level-2 block
  }
  PushBoth(q, model, 5);
  for (int i = 0; i < 1500; ++i) {
    PopAndCompare(q, model);
    if (HasFatalFailure()) return;
    // Joins the tail of the group being drained when now() == far.
    if (q.now() == far && i % 2 == 0) PushBoth(q, model, far);
  }
  while (!model.empty()) {
    PopAndCompare(q, model);
    if (HasFatalFailure()) return;
  }
}

// Popping a level-0 time above base, then pushing between the last
// redistribution point and now, and at now: still ordered.
TEST(EventQueue, PushesBetweenBaseAndNowAfterLevelZeroPops) {
  EventQueue q;
  ModelQueue model;
  for (Nanos t : {1000, 1003, 1003, 1010, 1200, 70'000}) PushBoth(q, model, t);
  for (int i = 0; i < 3; ++i) PopAndCompare(q, model);  // 1000, 1003, 1003
  ASSERT_EQ(q.now(), 1003);
  for (Nanos t : {1003, 1004, 1009, 1010, 1003}) PushBoth(q, model, t);
  while (!model.empty()) {
    PopAndCompare(q, model);
    if (HasFatalFailure()) return;
  }
}

// Times at the top of the int64 range: 2^62, INT64_MAX, and jumps from 0 to
// there, with ties at INT64_MAX.
TEST(EventQueue, TimesNearTheTopOfTheRange) {
  constexpr Nanos kMax = std::numeric_limits<Nanos>::max();
  constexpr Nanos k62 = Nanos{1} << 62;
  EventQueue q;
  ModelQueue model;
  for (Nanos t : {kMax, k62, Nanos{0}, k62 - 1, kMax, k62 + 1, kMax - 1, Nanos{7}, kMax}) PushBoth(q, model, t);
  for (int i = 0; i < 4; ++i) PopAndCompare(q, model);  // 0, 7, 2^62 - 1, 2^62
  for (Nanos t : {k62, kMax, k62 + 2, kMax - 255, kMax - 256}) PushBoth(q, model, t);
  while (!model.empty()) {
    PopAndCompare(q, model);
    if (HasFatalFailure()) return;
  }
  // Still usable at the end of time.
  PushBoth(q, model, kMax);
  PushBoth(q, model, kMax);
  PopAndCompare(q, model);
  PopAndCompare(q, model);
  EXPECT_TRUE(q.empty());
}

// The hold model the benchmark runs (pop the minimum, push it again at now +
// Exp), at a size where buckets hold many events: same pop sequence as the model.
TEST(EventQueue, HoldModelMatchesTheModel) {
  Rng rng(7, "event-queue-hold");
  EventQueue q;
  ModelQueue model;
  q.Reserve(20'000);
  for (int i = 0; i < 20'000; ++i) PushBoth(q, model, static_cast<Nanos>(rng.Exp1() * 1e6));
  for (int i = 0; i < 200'000; ++i) {
    PopAndCompare(q, model);
    PushBoth(q, model, q.now() + static_cast<Nanos>(rng.Exp1() * 1e6));
    if (HasFatalFailure()) return;
  }
}

TEST(EventQueue, SequenceNumbersCountPushesAndMovedQueuesKeepWorking) {
  EventQueue q;
  q.Push(10, 100);
  q.Push(10, 101);
  q.Push(3, 102);
  EventQueue moved(std::move(q));
  Event e = moved.Pop();
  EXPECT_EQ(e.time, 3);
  EXPECT_EQ(e.seq, 2u);
  EXPECT_EQ(e.payload, 102u);
  moved.Push(10, 103);
  std::vector<uint64_t> payloads;
  while (!moved.empty()) payloads.push_back(moved.Pop().payload);
  EXPECT_EQ(payloads, (std::vector<uint64_t>{100, 101, 103}));
}

TEST(EventQueueDeathTest, PushingIntoThePastAborts) {
  EventQueue q;
  q.Push(100, 0);
  q.Pop();
  EXPECT_DEATH(q.Push(99, 0), "before now");
}

TEST(EventQueueDeathTest, PushingBeforeNowButAfterTheRadixBaseAborts) {
  // 1000 comes out of a redistribution (base 1000); 1005 is then popped from
  // level 0, so now() = 1005 > base: 1002 is in the past even though the
  // radix structure could hold it.
  EventQueue q;
  q.Push(1000, 0);
  q.Push(1005, 1);
  q.Push(1 << 20, 2);
  q.Pop();
  q.Pop();
  EXPECT_EQ(q.now(), 1005);
  EXPECT_DEATH(q.Push(1002, 3), "before now");
}

}  // namespace
}  // namespace scaletwin::sim
