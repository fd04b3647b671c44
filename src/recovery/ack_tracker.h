// The receive side of one packet-number space: duplicate detection and ACK generation
// (RFC 9000 §13.2). Each path's 1-RTT space has one, as do Initial and Handshake.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/range_set.h"
#include "common/time.h"
#include "recovery/ecn.h"

namespace quic {

// Received packet numbers are peer-controlled: a peer sending every other packet number would
// otherwise grow the range set without bound. Beyond this many ranges the lowest are forgotten
// and everything below them counts as a duplicate (RFC 9000 §13.2.3 allows exactly this).
inline constexpr size_t kMaxTrackedRanges = 256;
// At most this many ranges (the newest) go into one ACK frame.
inline constexpr size_t kMaxAckRangesSent = 32;
// RFC 9000 §18.2 default max_ack_delay.
inline constexpr Duration kDefaultMaxAckDelay = 25ms;

class AckTracker {
 public:
  // Records pn. Returns false when pn is a duplicate (or below the forgotten floor): the caller
  // drops the packet without processing it.
  bool on_packet_received(uint64_t pn, bool ack_eliciting, Instant now, uint8_t ecn);
  bool is_duplicate(uint64_t pn) const;

  // True when an ACK frame should be sent now: an immediate trigger (threshold of ack-eliciting
  // packets reached, reordering, gap, CE mark) or the delayed-ACK timer expired.
  bool ack_needed(Instant now) const;
  // When the pending ACK must be sent; kNever when no ack-eliciting packet awaits one.
  Instant ack_deadline() const;

  // Our own max_ack_delay (what we advertised) and, with ACK_FREQUENCY, the peer's request.
  void set_max_ack_delay(Duration d) { max_ack_delay_ = d; }
  // An ACK is sent once more than n ack-eliciting packets arrived since the last one
  // (RFC 9000 §13.2.2 default: n = 1, i.e. every second packet).
  void set_ack_eliciting_threshold(uint64_t n) { ack_eliciting_threshold_ = n; }

  // Ranges to acknowledge in descending order, newest first, at most kMaxAckRangesSent.
  std::vector<Range> ranges() const;
  // The ACK Delay field for the largest received packet (RFC 9000 §13.2.5).
  Duration ack_delay(Instant now) const;
  EcnCounters ecn() const { return ecn_; }

  // An ACK frame carrying ranges() was sent: the delayed-ACK state starts over.
  void on_ack_sent(Instant now);
  // The peer acknowledged a packet carrying our ACK whose largest was `largest`: packets up to
  // it need no more acknowledging (RFC 9000 §13.2.4); they and anything older now count as
  // duplicates.
  void on_ack_of_ack(uint64_t largest_acked_in_our_ack);

  uint64_t largest_received() const { return largest_; }
  Instant largest_received_time() const { return largest_rx_time_; }
  bool has_received() const { return has_received_; }
  // How many ranges are remembered (bounded by kMaxTrackedRanges).
  size_t tracked_range_count() const { return received_.range_count(); }

 private:
  RangeSet received_;
  uint64_t forgotten_below_ = 0;  // pns under this are treated as duplicates
  bool has_received_ = false;
  uint64_t largest_ = 0;
  Instant largest_rx_time_{};
  bool has_ack_eliciting_ = false;
  uint64_t largest_ack_eliciting_ = 0;
  uint64_t unacked_ack_eliciting_ = 0;
  Instant first_unacked_rx_time_ = kNever;
  bool immediate_ = false;
  Duration max_ack_delay_ = kDefaultMaxAckDelay;
  uint64_t ack_eliciting_threshold_ = 1;
  EcnCounters ecn_;
};

}  // namespace quic
