// One link direction driven by a caller's clock instead of the simulator's event heap: the
// relay for real sockets (src/emu/) pushes datagrams in with the time they arrived and asks for
// those whose arrival time has come. The per-packet decisions (serialisation time, loss,
// corruption, jitter, reordering, blackholes, ECN marks, counters) are LinkDirection's, and the
// queue/serialiser sequence is the one sim::Network runs, so a profile means the same thing in
// virtual time and on real sockets (tests/sim/link_shaper_test.cc checks packet for packet).
//
// The caller may be late: advance(now) completes every serialisation that ended by `now` at the
// instant it ended, not at `now`, so a relay woken late still holds the configured rate.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "sim/link.h"

namespace sim {

// Packets between leaving the serialiser and arriving (the propagation "pipe"). Bounds memory
// when rate_bps is 0 (unlimited) and the queue is therefore never used; packets beyond it are
// counted as queue drops.
inline constexpr size_t kMaxShaperInFlight = 1 << 16;

class LinkShaper {
 public:
  // `start` is the instant blackhole windows are measured from.
  LinkShaper(LinkConfig config, uint64_t stream_seed, Instant start);

  // A datagram enters the link at `now` (not earlier than any previous call's time).
  void offer(Instant now, Datagram d);
  // Completes serialisations up to `now`, then moves every datagram whose arrival time is <= now
  // to `out` (appended, in arrival order).
  void poll(Instant now, std::vector<Datagram>& out);
  // When poll() next has something to do: a serialisation ends or a datagram arrives.
  Instant next_wakeup() const;

  const DirCounters& counters() const { return dir_.counters; }
  const LinkConfig& config() const { return dir_.config(); }
  size_t in_flight() const { return pipe_.size(); }
  size_t queued_packets() const { return queue_.size() + (dir_.busy ? 1 : 0); }

 private:
  struct Flying {
    Instant arrival;
    uint64_t seq;  // ties arrive in departure order
    Datagram d;
  };
  static bool later(const Flying& a, const Flying& b) {
    return a.arrival != b.arrival ? a.arrival > b.arrival : a.seq > b.seq;
  }
  void advance(Instant now);
  void start_service(Instant at, Datagram d);
  void finish_service();

  LinkDirection dir_;
  Instant start_;
  std::deque<Datagram> queue_;
  std::optional<Datagram> in_service_;
  Instant tx_done_ = quic::kNever;
  std::vector<Flying> pipe_;  // min-heap by (arrival, seq)
  uint64_t seq_ = 0;
};

}  // namespace sim
