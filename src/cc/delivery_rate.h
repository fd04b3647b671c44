// Delivery-rate estimation (draft-cheng-iccrg-delivery-rate-estimation, as used by
// draft-ietf-ccwg-bbr §4.1): every in-flight packet remembers how much had been delivered when
// it left; its acknowledgement then yields a rate sample = data delivered between the two
// events / the longer of the send and ACK intervals. Samples taken while the sender had
// nothing to send are marked app-limited, so a model can ignore them when they are low.
// Sans-I/O and per path; the records are keyed by packet number in send order and trimmed as
// packets are acknowledged or declared lost.
#pragma once

#include <cstdint>
#include <deque>
#include <span>

#include "common/time.h"
#include "recovery/sent_packet.h"

namespace quic {

// In-flight packets are bounded by the window; 65536 full-size packets (78 MB at 1200 bytes,
// 10 Gbit/s over 60 ms) is past any path we model. Beyond it the oldest record is dropped (its
// ACK then yields no sample), so memory stays bounded whatever the caller does.
inline constexpr size_t kMaxDeliveryRecords = size_t{1} << 16;

// One sample, formed from the acknowledged packet that was sent last (the one with the largest
// delivered-at-send), per draft-cheng §3.3.
struct RateSample {
  bool valid = false;           // delivery_rate is meaningful
  double delivery_rate = 0;     // bytes per second
  bool is_app_limited = false;  // the sample's packet was sent while app-limited
  uint64_t delivered = 0;       // bytes delivered over the interval
  Duration interval{0};         // max(send_elapsed, ack_elapsed)
  Duration send_elapsed{0}, ack_elapsed{0};
  uint64_t prior_delivered = 0;  // C.delivered when that packet was sent
  Instant prior_time{};
  uint64_t tx_in_flight = 0;  // bytes in flight when that packet was sent (incl. itself)
  uint64_t lost = 0;          // bytes declared lost between its send and this ACK
  uint64_t newly_acked = 0, newly_lost = 0;  // bytes, this event
  Duration rtt{-1};           // now - send time of that packet; negative when none
  Instant sent_time{};        // when that packet was sent
};

class DeliveryRateSampler {
 public:
  // bytes_in_flight includes the packet (the controller interface's convention).
  void on_packet_sent(Instant now, uint64_t pn, uint32_t bytes, uint64_t bytes_in_flight);
  // Newly acknowledged packets of one ACK; min_rtt discards samples whose interval is shorter
  // (ACK compression would overstate the rate, draft-cheng §3.3). Packets not recorded (never
  // reported as sent, or already lost) are counted as delivered but form no sample.
  const RateSample& on_ack(Instant now, std::span<const SentPacket> acked, Duration min_rtt);
  // Newly lost packets: their records go, their bytes count towards `lost`.
  void on_lost(std::span<const SentPacket> lost);
  // Drops a packet's record without counting it as lost (a lost PMTU probe is no congestion).
  void forget(uint64_t pn);
  // draft-cheng §3.4: the sender had nothing to send although the window had room; samples
  // stay app-limited until everything in flight now has been delivered.
  void on_app_limited(uint64_t bytes_in_flight);

  uint64_t delivered() const { return delivered_; }
  uint64_t lost() const { return lost_; }
  Instant delivered_time() const { return delivered_time_; }
  bool app_limited() const { return app_limited_until_ != 0; }
  const RateSample& last() const { return rs_; }
  size_t records() const { return live_; }
  void reset() { *this = DeliveryRateSampler{}; }

  // What a packet remembers at send (public for BBR's per-loss check).
  struct Record {
    uint64_t pn = 0;
    uint32_t bytes = 0;
    bool gone = false;  // acked or lost; popped once it reaches the front
    bool is_app_limited = false;
    uint64_t delivered = 0;
    uint64_t lost = 0;
    uint64_t tx_in_flight = 0;
    Instant delivered_time{}, first_sent_time{}, sent_time{};
  };
  // The record of pn, or null (unknown, acknowledged or lost).
  const Record* find(uint64_t pn) const;

 private:
  Record* find_mut(uint64_t pn);
  void trim();

  std::deque<Record> records_;  // ascending pn
  size_t live_ = 0;
  uint64_t delivered_ = 0, lost_ = 0;
  Instant delivered_time_{}, first_sent_time_{};
  uint64_t app_limited_until_ = 0;  // C.app_limited: 0 when not app-limited
  RateSample rs_;
};

}  // namespace quic
