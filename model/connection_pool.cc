#include "model/connection_pool.h"

#include <algorithm>
#include <cassert>

namespace scaletwin {

ConnectionPool::Outcome ConnectionPool::Acquire(uint64_t waiter) {
  if (idle_ > 0) {
    --idle_;
    ++in_use_;
    return Outcome::kGranted;
  }
  const uint64_t ticket = next_ticket_++;
  live_[waiter] = ticket;
  waiters_.emplace_back(waiter, ticket);
  return Outcome::kQueued;
}

std::optional<uint64_t> ConnectionPool::PopWaiter() {
  while (!waiters_.empty()) {
    const auto [w, ticket] = waiters_.front();
    waiters_.pop_front();
    auto it = live_.find(w);
    if (it != live_.end() && it->second == ticket) {
      live_.erase(it);
      return w;
    }
  }
  return std::nullopt;
}

std::optional<uint64_t> ConnectionPool::Release() {
  assert(in_use_ > 0);
  if (std::optional<uint64_t> next = PopWaiter()) return next;  // handed over, stays in use
  --in_use_;
  ++idle_;
  return std::nullopt;
}

void ConnectionPool::Discard() {
  assert(in_use_ > 0);
  --in_use_;
}

int ConnectionPool::ConnectionsToOpen() {
  const int free_slots = config_.size - in_use_ - idle_ - opening_;
  // Open for every waiter not already covered by a pending open, and up to min_idle.
  const int for_waiters = static_cast<int>(waiting()) - opening_;
  const int for_idle = config_.min_idle - idle_ - std::max(0, opening_ - static_cast<int>(waiting()));
  const int n = std::clamp(std::max(for_waiters, for_idle), 0, std::max(0, free_slots));
  opening_ += n;
  return n;
}

ConnectionPool::OpenResult ConnectionPool::OnOpened(bool ok) {
  assert(opening_ > 0);
  --opening_;
  OpenResult result;
  if (ok) {
    if ((result.granted = PopWaiter())) ++in_use_;
    else ++idle_;
    return result;
  }
  // More waiters than pending opens: the oldest one was counting on this connection.
  if (waiting() > static_cast<size_t>(opening_)) result.failed = PopWaiter();
  return result;
}

bool ConnectionPool::Cancel(uint64_t waiter) {
  if (live_.erase(waiter) == 0) return false;
  // Drop tombstones at the head so the deque does not grow with timeouts.
  while (!waiters_.empty()) {
    auto it = live_.find(waiters_.front().first);
    if (it != live_.end() && it->second == waiters_.front().second) break;
    waiters_.pop_front();
  }
  return true;
}

}  // namespace scaletwin
