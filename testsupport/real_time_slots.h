// SlotClock: makes model-versus-real-Redis comparisons deterministic although
// the real server's clock runs in real time.
//
// Time is cut into slots of slot_ms; round trips run only inside the middle of
// a slot ([window_lo, window_hi] ms into it) and expire times are placed near
// slot boundaries (a TTL that is (m + 1/2) slots from a mid-slot command), so
// no command runs within a few ms of an expiry and model and server agree on
// which keys exist. A round trip that overruns its window (a scheduler stall)
// is reported by Overran() so the test can discard the case instead of
// reporting a false mismatch. The machine's CLOCK_REALTIME is the server's
// clock (same host).
//
//   SlotClock clock;                 // 20 ms slots, safe window 6..14 ms
//   clock.AlignToWindow();
//   const Nanos before = WallNowNs();
//   ... real round trip ...
//   if (clock.Overran(before, WallNowNs())) RC_DISCARD("stall");
//
// Thread-safety: stateless apart from the constants.
#pragma once

#include <cstdint>

#include "model/duration.h"

namespace scaletwin {

// Unix time in ns from the system clock (what redis-server's TIME reads).
Nanos WallNowNs();
// Sleeps until the system clock reads at least target_ms (Unix ms).
void SleepUntilUnixMs(int64_t target_ms);

struct SlotClock {
  int64_t slot_ms = 20;
  int64_t window_lo = 6;
  int64_t window_hi = 14;

  int64_t SlotOf(int64_t ms) const { return ms / slot_ms; }
  int64_t PhaseOf(int64_t ms) const { return ms % slot_ms; }
  // Returns once the clock is inside a slot's safe window with >= 2 ms to spare.
  void AlignToWindow() const;
  // Sleeps to the safe window of the slot `slots` after the current one.
  void AdvanceSlots(int slots) const;
  // True iff a round trip from `before_ns` to `after_ns` left its slot's safe window.
  bool Overran(Nanos before_ns, Nanos after_ns) const;
};

}  // namespace scaletwin
