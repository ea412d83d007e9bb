// SIGPIPE guard for code that writes to sockets and pipes on behalf of a
// process that may not ignore SIGPIPE (a library cannot decide that for its
// host): hiredis writes with write(2), and so does the JSON logger to stdout.
// A write to a peer that has gone raises SIGPIPE, whose default action kills
// the process; under the guard it becomes the EPIPE the caller handles.
//
//   ScopedSigpipeBlock guard(!SigpipeIgnored());
//   if (write(fd, p, n) < 0 && errno == EPIPE) guard.Consume();
//
// Header-only: real/redis and real/telemetry use it without depending on
// each other. Thread-safety: the guard acts on the calling thread's mask.
#pragma once

#include <pthread.h>
#include <signal.h>
#include <time.h>

namespace scaletwin {

// True iff the process ignores SIGPIPE, so writes need no guard.
inline bool SigpipeIgnored() {
  struct sigaction current;
  if (sigaction(SIGPIPE, nullptr, &current) != 0) return false;
  return current.sa_handler == SIG_IGN;
}

// Blocks SIGPIPE in this thread for the lifetime of the object. A SIGPIPE that
// write(2) raises while blocked stays pending on the thread; Consume() takes
// it so it is never delivered once the old mask is restored.
class ScopedSigpipeBlock {
 public:
  explicit ScopedSigpipeBlock(bool active) : active_(active) {
    if (!active_) return;
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
  }
  ~ScopedSigpipeBlock() {
    if (active_) pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  ScopedSigpipeBlock(const ScopedSigpipeBlock&) = delete;
  ScopedSigpipeBlock& operator=(const ScopedSigpipeBlock&) = delete;

  // Call after a write failed with EPIPE: drops the SIGPIPE it raised.
  void Consume() {
    if (!active_) return;
    // Leave a SIGPIPE alone that the caller already had blocked and pending:
    // it is not ours to take.
    if (sigismember(&old_, SIGPIPE)) return;
    sigset_t pending;
    if (sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE)) {
      const timespec zero{0, 0};
      sigtimedwait(&pipe_, nullptr, &zero);
    }
  }

 private:
  bool active_;
  sigset_t pipe_;
  sigset_t old_;
};

}  // namespace scaletwin
