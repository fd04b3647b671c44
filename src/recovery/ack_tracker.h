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
  // The peer's ACK_FREQUENCY request (draft-ietf-quic-ack-frequency §4), already validated:
  // the three values replace the defaults (threshold 1, our max_ack_delay, reordering 1).
  void apply_ack_frequency(uint64_t ack_eliciting_threshold, Duration max_ack_delay,
                           uint64_t reordering_threshold);
  // IMMEDIATE_ACK (§5): the packet just recorded (ack-eliciting by definition) is
  // acknowledged without delay.
  void request_immediate_ack() {
    if (unacked_ack_eliciting_ > 0) immediate_ = true;
  }
  uint64_t ack_eliciting_threshold() const { return ack_eliciting_threshold_; }
  uint64_t reordering_threshold() const { return reordering_threshold_; }
  Duration max_ack_delay() const { return max_ack_delay_; }

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
  // A packet arrived since the last ACK was sent: an ACK would tell the peer something new.
  // (Riding along in a packet sent anyway is cheap; repeating the same ACK is not.)
  bool has_news() const { return news_; }
  // How many ranges are remembered (bounded by kMaxTrackedRanges).
  size_t tracked_range_count() const { return received_.range_count(); }

 private:
  // §6.2: whether ack-eliciting packet pn, just inserted, is outside the peer's reordering
  // window (or, at threshold 1, out of order at all: RFC 9000 §13.2.1).
  bool reordering_needs_ack(uint64_t pn, bool had_ack_eliciting, uint64_t prev_largest) const;

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
  uint64_t reordering_threshold_ = 1;
  // The Largest Acknowledged of the last ACK we sent (the draft's "Largest Acked").
  bool has_ack_sent_ = false;
  uint64_t largest_ack_sent_ = 0;
  bool last_was_ce_ = false;  // the previous packet received was CE-marked (§6.3)
  bool news_ = false;         // a packet arrived since on_ack_sent
  EcnCounters ecn_;
};

}  // namespace quic
