// Which of an endpoint's connections need a visit (issue #16): a deadline queue and a FIFO of
// connections that may have something to send. A connection's deadline and its readiness only
// change when something calls it (a datagram, a timer, a poll, the application), so the owner
// touches it then; touched connections are re-read lazily, once per batch, and a turn of the
// event loop costs O(touched connections x log N) instead of a walk over all N.
// Deterministic: deadline ties and each batch of touched connections go in handle order.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <optional>
#include <set>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/time.h"

namespace quic {

using ConnectionHandle = uint64_t;

class EndpointSchedule {
 public:
  // A new connection, or one whose state may have changed: its deadline is re-read and it may
  // send, from the next settle().
  void touch(ConnectionHandle h);
  // Forgets a reaped connection (stale queue entries are skipped when they come up).
  void remove(ConnectionHandle h);

  // Re-reads every touched connection's deadline through `read(h)`, in handle order, and puts
  // it in the ready FIFO unless it is there already. `read` returns std::nullopt for a handle
  // that is gone (it is forgotten).
  template <class Read>
  void settle(Read&& read) {
    if (touched_.empty()) return;
    batch_.swap(touched_);
    std::sort(batch_.begin(), batch_.end());
    for (ConnectionHandle h : batch_) {
      auto it = slots_.find(h);
      if (it == slots_.end()) continue;
      it->second.touched = false;
      std::optional<Instant> at = read(h);
      if (!at) {
        remove(h);
        continue;
      }
      set_deadline(it->second, h, *at);
      if (!it->second.ready) {
        it->second.ready = true;
        ready_.push_back(h);
      }
    }
    batch_.clear();
  }

  // Replaces h's deadline at once: after a call whose effect on the deadline is known now (a
  // poll), without making it ready.
  void set_deadline(ConnectionHandle h, Instant at);
  // The earliest deadline of the settled connections.
  Instant next_deadline() const;
  // The connection with the earliest deadline if it is at or before `now`, taken out of the
  // queue until its deadline is set again.
  std::optional<ConnectionHandle> pop_due(Instant now);

  // Connections that may send, oldest first; each leaves the FIFO when popped.
  size_t ready_count() const { return ready_.size(); }
  std::optional<ConnectionHandle> pop_ready();
  // A popped connection that sent goes back, behind the others (round-robin fairness).
  void requeue(ConnectionHandle h);

  size_t size() const { return slots_.size(); }

 private:
  struct Slot {
    Instant deadline = kNever;  // as queued in deadlines_ (kNever: not queued)
    bool touched = false;
    bool ready = false;
  };
  void set_deadline(Slot& s, ConnectionHandle h, Instant at);

  std::unordered_map<ConnectionHandle, Slot> slots_;
  std::set<std::pair<Instant, ConnectionHandle>> deadlines_;
  std::vector<ConnectionHandle> touched_, batch_;
  std::deque<ConnectionHandle> ready_;
};

}  // namespace quic
