// Database: the simulated PostgreSQL server the pods' pools connect to.
//
// Two limits matter to the pods: the connection table (max_connections minus
// superuser_reserved_connections for application roles; a connection beyond
// it is refused at start-up with SQLSTATE 53300 — on PostgreSQL 15 the
// message is "remaining connection slots are reserved for non-replication
// superuser connections", and "sorry, too many clients already" beyond
// max_connections itself) and the number of queries executing at once
// (max_active_queries; more wait in FIFO order). Query times are sampled by
// the world from the route's distribution.
//
// Invariants (checked): connections <= usable; active <= max_active_queries.
// Thread-safety: none.
#pragma once

#include <cstdint>
#include <deque>

#include "model/check.h"
#include "model/scenario.h"

namespace scaletwin::sim {

class Database {
 public:
  explicit Database(const DatabaseSpec& spec) : spec_(spec) {}

  // A pool opens a connection: true if PostgreSQL accepts it.
  bool Connect() {
    if (connections_ >= spec_.usable_connections()) {
      ++refused_;
      return false;
    }
    ++connections_;
    return true;
  }
  void Disconnect() {
    SCALETWIN_CHECK(connections_ > 0);
    --connections_;
  }

  // A query of `request` wants to execute: true if it runs now, false if it
  // waits (the caller is told by NextWaiting() when a slot frees).
  bool StartQuery(uint32_t request) {
    if (active_ < spec_.max_active_queries) {
      ++active_;
      return true;
    }
    waiting_.push_back(request);
    return false;
  }
  // A query finished; returns true and the next waiting request (whose query
  // now runs in the freed slot), or false when the slot goes idle.
  bool FinishQuery(uint32_t* next) {
    SCALETWIN_CHECK(active_ > 0);
    if (!waiting_.empty()) {
      *next = waiting_.front();
      waiting_.pop_front();
      return true;
    }
    --active_;
    return false;
  }

  int connections() const { return connections_; }
  int active_queries() const { return active_; }
  size_t waiting_queries() const { return waiting_.size(); }
  uint64_t refused_connections() const { return refused_; }
  const DatabaseSpec& spec() const { return spec_; }

 private:
  DatabaseSpec spec_;
  int connections_ = 0;
  int active_ = 0;
  std::deque<uint32_t> waiting_;
  uint64_t refused_ = 0;
};

}  // namespace scaletwin::sim
