// SignalThread: SIGINT and SIGTERM delivered to one ordinary thread instead
// of an asynchronous handler, for commands that must stop cleanly on Ctrl-C
// (`scaletwin pod` drains, `scaletwin real` stops its pods and redis-server).
//
// Contract: the constructor blocks SIGINT, SIGTERM (and SIGUSR1, its own
// wake-up) in the calling thread, so every thread started afterwards inherits
// the block and only this thread takes them; construct it before any other
// thread. on_signal(sig) runs on that thread, once per signal, and may lock,
// log and allocate. The destructor stops and joins the thread; the signals
// stay blocked. Child processes must unblock them after fork (the mask
// survives exec).
//
//   std::atomic<bool> stop{false};
//   SignalThread signals([&](int) { stop = true; });
#pragma once

#include <signal.h>

#include <atomic>
#include <functional>
#include <thread>

namespace scaletwin::cli {

class SignalThread {
 public:
  explicit SignalThread(std::function<void(int sig)> on_signal);
  ~SignalThread();
  SignalThread(const SignalThread&) = delete;
  SignalThread& operator=(const SignalThread&) = delete;

 private:
  sigset_t set_;
  std::atomic<bool> done_{false};
  std::thread thread_;  // last: starts after set_ and done_ exist
};

}  // namespace scaletwin::cli
