#include "sim/event_queue.h"

#include <cstdio>
#include <cstdlib>

namespace scaletwin::sim {

void EventQueue::PastEventAbort(Nanos time) const {
  // An event in the past is a model bug; continuing would corrupt causality.
  std::fprintf(stderr, "scaletwin: invariant violated: event scheduled at %lld ns, before now (%lld ns)\n",
               static_cast<long long>(time), static_cast<long long>(now_));
  std::abort();
}

}  // namespace scaletwin::sim
