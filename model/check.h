// SCALETWIN_CHECK: invariant assertions that stay on in optimised builds.
//
// The simulator's invariants (conservation, busy <= workers, monotone time) are
// cheap and catch model bugs early, so they are not compiled out with NDEBUG.
// A failed check prints the condition and location and aborts: a broken
// invariant means every number after it is wrong.
#pragma once

#include <cstdio>
#include <cstdlib>

#define SCALETWIN_CHECK(cond)                                                                     \
  do {                                                                                            \
    if (!(cond)) [[unlikely]] {                                                                   \
      std::fprintf(stderr, "scaletwin: invariant violated at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                               \
    }                                                                                             \
  } while (0)
