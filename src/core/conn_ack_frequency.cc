// Connection: ACK_FREQUENCY and IMMEDIATE_ACK (draft-ietf-quic-ack-frequency). As the data
// receiver we honour the peer's latest request per path (each path's ACK tracker); as the data
// sender we ask for fewer ACKs on paths with a large window (ack_frequency.h has the policy).
// Both roles need config.ack_frequency; sending also needs the peer's min_ack_delay (§3).
#include <algorithm>

#include "core/connection.h"
#include "recovery/loss_detector.h"

namespace quic {

AckFrequencyChoice choose_ack_frequency(uint64_t cwnd, uint16_t mtu, Duration srtt,
                                        Duration peer_min_ack_delay, Duration peer_max_ack_delay) {
  const uint64_t packets = mtu == 0 ? 0 : cwnd / mtu;
  if (packets < kAckFreqMinCwndPackets) return {1, peer_max_ack_delay};
  AckFrequencyChoice c;
  c.threshold = std::min(packets / kAckFreqAcksPerCwnd, kMaxRequestedAckElicitingThreshold);
  // §4: never below what the peer can time (its min_ack_delay), nor our timer granularity.
  c.max_ack_delay = std::max({std::min(srtt / 4, kMaxRequestedAckDelay), peer_min_ack_delay,
                              Duration(kGranularity)});
  return c;
}

bool ack_frequency_changed(const AckFrequencyChoice& sent, const AckFrequencyChoice& next) {
  auto moved = [](uint64_t a, uint64_t b) {
    uint64_t hi = std::max(a, b), lo = std::min(a, b);
    return (hi - lo) * 4 >= hi && hi != lo;
  };
  return moved(sent.threshold, next.threshold) ||
         moved(static_cast<uint64_t>(to_us(sent.max_ack_delay)),
               static_cast<uint64_t>(to_us(next.max_ack_delay)));
}

// §3: never above our max_ack_delay (as advertised, in whole milliseconds).
Duration Connection::advertised_min_ack_delay() const {
  return std::min(config_.min_ack_delay,
                  Duration(std::chrono::duration_cast<std::chrono::milliseconds>(
                      config_.max_ack_delay)));
}

bool Connection::ack_frequency_sending() const {
  return config_.ack_frequency && peer_params_received_ && peer_params_.min_ack_delay_us &&
         handshake_confirmed_;
}

Status Connection::on_ack_frequency_frame(const AckFrequencyFrame& f, Path& rx_path) {
  if (!config_.ack_frequency) {
    return fail(err::kProtocolViolation, "ACK_FREQUENCY but we sent no min_ack_delay");
  }
  // §4: a Requested Max Ack Delay of 2^14 ms or more, or below our min_ack_delay, is invalid.
  if (f.request_max_ack_delay > kMaxRequestedAckDelayUs) {
    return fail(err::kProtocolViolation, "Requested Max Ack Delay of 2^14 ms or more");
  }
  if (f.request_max_ack_delay < static_cast<uint64_t>(to_us(advertised_min_ack_delay()))) {
    return fail(err::kProtocolViolation, "Requested Max Ack Delay below our min_ack_delay");
  }
  // The frame concerns the path it arrived on (its ACK tracker); older requests are ignored.
  AckFrequencyState& st = rx_path.ack_freq;
  if (st.rx_seq && f.sequence <= *st.rx_seq) return {};
  st.rx_seq = f.sequence;
  rx_path.app.acks.apply_ack_frequency(
      std::min(f.ack_eliciting_threshold, kMaxHonouredAckThreshold),
      std::chrono::microseconds(f.request_max_ack_delay),
      std::min(f.reordering_threshold, kMaxHonouredAckThreshold));
  return {};
}

Status Connection::on_immediate_ack_frame(RecvContext& rx) {
  if (!config_.ack_frequency) {
    return fail(err::kProtocolViolation, "IMMEDIATE_ACK but we sent no min_ack_delay");
  }
  rx.immediate_ack = true;  // applied once the packet is recorded (process_packet)
  return {};
}

// Called with each ACK of the path's 1-RTT packets, at most once per smoothed RTT (§8.1: not
// every change deserves a frame).
void Connection::update_ack_frequency(Instant now, Path& path) {
  AckFrequencyState& st = path.ack_freq;
  if (!ack_frequency_sending() || !path.rtt.has_sample() || now < st.next_eval) return;
  st.next_eval = now + path.rtt.smoothed();
  // §8.1.1: in slow start every ACK grows the window and clocks out data; keep the default.
  uint64_t cwnd = path.cc->in_slow_start() ? 0 : path.cc->cwnd();
  AckFrequencyChoice next = choose_ack_frequency(
      cwnd, path.mtu, path.rtt.smoothed(),
      std::chrono::microseconds(*peer_params_.min_ack_delay_us), peer_max_ack_delay());
  AckFrequencyChoice current =
      st.sent_any ? st.requested : AckFrequencyChoice{1, peer_max_ack_delay()};
  if (!ack_frequency_changed(current, next)) return;
  st.requested = next;
  st.pending = true;
}

// The frame goes on the path it is about, congestion controlled (§4), and is sent reliably:
// a lost one is replaced by the current choice under a new sequence number.
void Connection::write_ack_frequency(Path& path, PacketBuilder& b) {
  AckFrequencyState& st = path.ack_freq;
  if (!st.pending || !ack_frequency_sending()) return;
  // §9: a reordering window as large as our loss detector's packet threshold, so the peer
  // reports a gap exactly when we could declare the packet lost.
  AckFrequencyFrame f{ack_freq_next_seq_, st.requested.threshold,
                      static_cast<uint64_t>(to_us(st.requested.max_ack_delay)), kPacketThreshold};
  if (encoded_size(f) > b.w.room() || !encode_frame(b.w, f)) return;
  ++ack_freq_next_seq_;
  ++stats_.ack_frequency_sent;
  st.pending = false;
  st.sent_any = true;
  st.last_seq = f.sequence;
  st.inflight_delay = std::max(st.inflight_delay, st.requested.max_ack_delay);
  b.sent.push_back(sent::AckFrequency{f.sequence, path.id, f.request_max_ack_delay});
  b.ack_eliciting = true;
}

void Connection::on_ack_frequency_acked(const sent::AckFrequency& f) {
  Path* p = path_by_id(f.path);
  if (p == nullptr || f.seq != p->ack_freq.last_seq) return;
  p->ack_freq.acked_delay = std::chrono::microseconds(f.delay_us);
  p->ack_freq.inflight_delay = Duration(0);
}

void Connection::on_ack_frequency_lost(const sent::AckFrequency& f) {
  Path* p = path_by_id(f.path);
  if (p != nullptr && f.seq == p->ack_freq.last_seq) p->ack_freq.pending = true;
}

// §7: until our latest request is acknowledged the peer may apply the old or the new value,
// so the PTO (and the RTT's ack-delay cap) uses the larger.
Duration Connection::path_max_ack_delay(const Path& path) const {
  const AckFrequencyState& st = path.ack_freq;
  if (!st.sent_any) return peer_max_ack_delay();
  return std::max(st.acked_delay.value_or(peer_max_ack_delay()), st.inflight_delay);
}

// IMMEDIATE_ACK (§5, §7, §8.1.1): with every probe (PTO, PMTU, keepalive) so its ACK is not
// delayed, and with the last packet before the sender goes idle when the peer was asked to
// wait for many packets.
bool Connection::immediate_ack_wanted(const Path& path, bool probe, bool ack_eliciting) const {
  if (!ack_frequency_sending()) return false;
  if (probe) return true;
  return ack_eliciting && path.ack_freq.sent_any && path.ack_freq.requested.threshold > 1 &&
         !app_has_data();
}

}  // namespace quic
