// SignalThread: sigwait on a dedicated thread (see signal_thread.h).
#include "cli/signal_thread.h"

#include <pthread.h>

#include <utility>

namespace scaletwin::cli {

SignalThread::SignalThread(std::function<void(int)> on_signal) {
  sigemptyset(&set_);
  sigaddset(&set_, SIGTERM);
  sigaddset(&set_, SIGINT);
  sigaddset(&set_, SIGUSR1);  // our own wake-up at exit
  pthread_sigmask(SIG_BLOCK, &set_, nullptr);
  thread_ = std::thread([this, on_signal = std::move(on_signal)] {
    for (;;) {
      int sig = 0;
      if (sigwait(&set_, &sig) != 0) continue;
      if (sig == SIGUSR1 && done_.load()) return;
      if (sig != SIGUSR1) on_signal(sig);
    }
  });
}

SignalThread::~SignalThread() {
  done_.store(true);
  pthread_kill(thread_.native_handle(), SIGUSR1);
  thread_.join();
}

}  // namespace scaletwin::cli
