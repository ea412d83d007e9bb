#include "testsupport/real_time_slots.h"

#include <chrono>
#include <thread>

namespace scaletwin {

Nanos WallNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void SleepUntilUnixMs(int64_t target_ms) {
  while (true) {
    const int64_t now_ms = WallNowNs() / kNanosPerMilli;
    if (now_ms >= target_ms) return;
    // Wake slightly early and spin the rest: sleeps overshoot by ~0.1 ms.
    const int64_t us = (target_ms - now_ms) * 1000 - 200;
    std::this_thread::sleep_for(std::chrono::microseconds(us > 0 ? us : 50));
  }
}

void SlotClock::AlignToWindow() const {
  const int64_t ms = WallNowNs() / kNanosPerMilli;
  if (PhaseOf(ms) >= window_lo && PhaseOf(ms) < window_hi - 2) return;
  const int64_t slot = PhaseOf(ms) < window_lo ? SlotOf(ms) : SlotOf(ms) + 1;
  SleepUntilUnixMs(slot * slot_ms + window_lo);
}

void SlotClock::AdvanceSlots(int slots) const {
  const int64_t ms = WallNowNs() / kNanosPerMilli;
  SleepUntilUnixMs((SlotOf(ms) + slots) * slot_ms + window_lo);
}

bool SlotClock::Overran(Nanos before_ns, Nanos after_ns) const {
  const int64_t b = before_ns / kNanosPerMilli, a = after_ns / kNanosPerMilli;
  return SlotOf(a) != SlotOf(b) || PhaseOf(a) > window_hi;
}

}  // namespace scaletwin
