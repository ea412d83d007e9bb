#include "sim/event_queue.h"

#include <gtest/gtest.h>

#include <map>
#include <utility>

#include "model/rng.h"

namespace scaletwin::sim {
namespace {

// Checks the heap against a trivially correct model: std::multimap keyed by
// (time, push order), driven by a seeded random mix of pushes and pops.
TEST(EventQueue, PopsInTimeThenPushOrderLikeASortedMap) {
  Rng rng(1234, "event-queue-test");
  EventQueue q;
  std::multimap<std::pair<Nanos, uint64_t>, uint64_t> model;
  uint64_t pushed = 0;
  Nanos now = 0;
  for (int step = 0; step < 200'000; ++step) {
    if (model.empty() || rng.UniformInt(100) < 55) {
      // Few distinct times so that ties are frequent.
      const Nanos t = now + static_cast<Nanos>(rng.UniformInt(8));
      q.Push(t, pushed);
      model.emplace(std::make_pair(t, pushed), pushed);
      ++pushed;
    } else {
      ASSERT_EQ(q.TopTime(), model.begin()->first.first);
      const Event e = q.Pop();
      ASSERT_EQ(e.time, model.begin()->first.first);
      ASSERT_EQ(e.payload, model.begin()->second) << "ties must pop in push order";
      model.erase(model.begin());
      now = e.time;
      ASSERT_EQ(q.now(), now);
    }
    ASSERT_EQ(q.size(), model.size());
  }
}

TEST(EventQueueDeathTest, PushingIntoThePastAborts) {
  EventQueue q;
  q.Push(100, 0);
  q.Pop();
  EXPECT_DEATH(q.Push(99, 0), "before now");
}

}  // namespace
}  // namespace scaletwin::sim
