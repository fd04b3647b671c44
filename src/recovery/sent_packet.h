// What the sender remembers about each packet it sent (RFC 9002 Appendix A.1.1).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "common/time.h"

namespace quic {

struct SentPacket {
  uint64_t pn = 0;
  Instant time_sent{};
  uint32_t bytes = 0;  // counts towards bytes in flight when in_flight
  bool ack_eliciting = false;
  bool in_flight = false;     // ack-eliciting or padded; ACK-only packets are not
  bool is_mtu_probe = false;  // its loss is no congestion signal (RFC 9000 §14.4)
  bool ecn_marked = false;    // sent with ECT(0) (RFC 9000 §13.4.2 validation)
};

// The one record kept per sent packet: what recovery needs, and what the packet carried
// (`Frames`: the connection's retransmit records, core/sent_frame.h; nothing in recovery's own
// tests), which recovery stores and hands back but never reads.
struct NoFrames {};
template <class Frames>
struct SentRecord {
  SentPacket packet;
  Frames frames{};
};

// The outcome of processing one ACK frame in one packet-number space.
struct AckResult {
  std::vector<SentPacket> acked;  // newly acknowledged, ascending pn
  std::vector<SentPacket> lost;   // newly declared lost, ascending pn
  // Set when the largest acknowledged is newly acked and something ack-eliciting was newly
  // acked (RFC 9002 §5.1); the caller feeds it to its RttEstimator.
  std::optional<Duration> rtt_sample;
  // The largest of the newly acknowledged packets is ack-eliciting.
  bool largest_newly_acked_ack_eliciting = false;
  // RFC 9002 §7.6: the lost packets span more than the persistent congestion duration.
  bool persistent_congestion = false;
  uint64_t largest_acked = 0;  // the frame's Largest Acknowledged
  // Send time of the frame's largest acknowledged packet when it was newly acked (for the
  // ECN-CE response, RFC 9002 §B.7), else kNever.
  Instant largest_acked_time_sent = kNever;
  // The peer acknowledged a packet number we never sent (or skipped on purpose): the caller
  // closes the connection with PROTOCOL_VIOLATION (RFC 9000 §13.1). Nothing else is set.
  bool acked_unsent = false;

  // Back to the empty result (every field its initial value), the vectors keeping their
  // capacity.
  void clear() {
    std::vector<SentPacket> a = std::move(acked), l = std::move(lost);
    *this = AckResult{};
    a.clear();
    l.clear();
    acked = std::move(a);
    lost = std::move(l);
  }
};

// AckResult with what each acknowledged and lost packet carried: acked_frames[i] belongs to
// acked[i], lost_frames[i] to lost[i].
template <class Frames>
struct AckOutcome : AckResult {
  std::vector<Frames> acked_frames;
  std::vector<Frames> lost_frames;
  void clear() {
    AckResult::clear();
    acked_frames.clear();
    lost_frames.clear();
  }
};

// Packets declared lost on the loss timer, with what they carried (frames[i] to packets[i]).
template <class Frames>
struct LostPackets {
  std::vector<SentPacket> packets;
  std::vector<Frames> frames;
};

}  // namespace quic
