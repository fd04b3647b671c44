// Drives a congestion controller the way the connection does: a round trip sends a full
// window, and one RTT later all of it is acknowledged.
#pragma once

#include <vector>

#include "cc/congestion_controller.h"

namespace quic {

inline constexpr uint32_t kMds = 1200;
inline const Instant t0 = instant_from_ns(1'000'000'000);

struct Driver {
  CongestionController& cc;
  Duration rtt_value = 100ms;
  RttEstimator rtt{rtt_value};
  uint64_t next_pn = 0;
  uint64_t in_flight = 0;
  Instant now = t0;

  std::vector<SentPacket> send_window() {
    std::vector<SentPacket> sent;
    while (in_flight + kMds <= cc.cwnd()) {
      SentPacket p{next_pn++, now, kMds, true, true};
      in_flight += kMds;
      cc.on_packet_sent(now, p.pn, p.bytes, in_flight);
      sent.push_back(p);
    }
    return sent;
  }
  void ack(const std::vector<SentPacket>& packets) {
    for (const auto& p : packets) in_flight -= p.bytes;
    rtt.update(rtt_value, 0ms, true, 25ms, now);
    cc.on_packets_acked(now, packets, rtt, in_flight);
  }
  void lose(const std::vector<SentPacket>& packets, bool persistent = false) {
    for (const auto& p : packets) in_flight -= p.bytes;
    cc.on_packets_lost(now, packets, persistent, in_flight);
  }
  void round_trip() {
    auto sent = send_window();
    now += rtt_value;
    ack(sent);
  }
  // ACK clocking: one RTT after the previous flight, each of its packets is acknowledged by
  // its own ACK and the window refilled straight away (many per-ACK RTT samples per round).
  std::vector<SentPacket> flight;
  void clocked_round() {
    if (flight.empty()) flight = send_window();
    now += rtt_value;
    std::vector<SentPacket> next;
    for (const auto& p : flight) {
      ack({p});
      auto more = send_window();
      next.insert(next.end(), more.begin(), more.end());
    }
    flight = std::move(next);
  }
  // One round trip in which the first packet of the window is lost and the rest acked.
  void round_trip_with_loss() {
    auto sent = send_window();
    now += rtt_value;
    lose({sent.front()});
    ack(std::vector<SentPacket>(sent.begin() + 1, sent.end()));
    now += 1ms;  // later sends are after the recovery start
  }
  double cwnd_segments() const { return static_cast<double>(cc.cwnd()) / kMds; }
};

}  // namespace quic
