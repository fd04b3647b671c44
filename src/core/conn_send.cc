// Connection: sending. Chooses what goes into each packet, coalesces packets of several
// encryption levels into one datagram, protects them and records them for recovery.
#include <algorithm>

#include "core/connection.h"
#include "wire/frame_rules.h"

namespace quic {

namespace {

// RFC 9000 §14.1: datagrams carrying ack-eliciting Initial packets are padded to 1200 bytes.
constexpr size_t kMinInitialDatagramSize = 1200;
// The header-protection sample starts this far past the start of the packet number.
constexpr size_t kPnLenMax = 4;

}  // namespace

uint64_t Connection::amplification_room() const {
  const Path& path = *paths_[0];
  if (address_validated_ || side_ == Side::kClient) return UINT64_MAX;
  uint64_t budget = 3 * path.bytes_received;  // RFC 9000 §8.1
  return budget > path.bytes_sent ? budget - path.bytes_sent : 0;
}

bool Connection::space_wants_send(PnSpaceId space, Instant now) const {
  size_t i = static_cast<size_t>(space);
  if (discarded_[i] || !crypto_[i].seal) return false;
  const PnSpace& pns = pn_space(space);
  if (pns.acks.ack_needed(now)) return true;
  if (pto_probe_pending_[i]) return true;
  if (crypto_[i].tx.has_data_to_send(UINT64_MAX)) return true;
  if (space != PnSpaceId::kApp) return false;
  if (!handshake_complete_ && side_ == Side::kClient) return false;  // no 0-RTT yet
  return app_has_data();
}

std::optional<Transmit> Connection::poll_transmit(Instant now, MutBytes buffer) {
  if (state_ == State::kClosed || state_ == State::kDraining) return std::nullopt;
  now_ = now;
  Path& path = *paths_[0];
  if (state_ == State::kClosing) {
    if (!close_frame_pending_) return std::nullopt;
    close_frame_pending_ = false;
    size_t n = build_close_datagram(buffer);
    if (n == 0) return std::nullopt;
    path.bytes_sent += n;
    return Transmit{path.local, path.remote, 0, n, 0};
  }
  maybe_update_keys();
  size_t limit = std::min<size_t>(buffer.size(), path.mtu);
  uint64_t room = amplification_room();
  if (room < limit) limit = static_cast<size_t>(room);
  if (limit < 64) return std::nullopt;  // amplification-blocked: wait for the client

  // Pacing (RFC 9002 §7.7): only congestion-controlled packets wait; ACKs never do.
  bool paced_out = false;
  Instant send_at = path.pacer.next_send_time(now, path.mtu, path.cc->pacing_rate_bps(path.rtt),
                                              path.cc->cwnd(), path.mtu);
  if (send_at > now) paced_out = true;
  pacing_wakeup_ = kNever;

  PnSpaceId spaces[3] = {PnSpaceId::kInitial, PnSpaceId::kHandshake, PnSpaceId::kApp};
  std::array<bool, 3> wants{};
  size_t last = 3;
  for (size_t i = 0; i < 3; ++i) {
    wants[i] = space_wants_send(spaces[i], now);
    if (wants[i]) last = i;
  }
  if (last == 3) return maybe_send_mtu_probe(now, buffer);

  size_t used = 0;
  bool has_initial = false;
  datagram_ecn_ = ecn_mark_for_send();
  for (size_t i = 0; i <= last; ++i) {
    if (!wants[i]) continue;
    // Pad the last packet of a datagram carrying an Initial (client always; server when
    // ack-eliciting, which build_packet decides, so pad conservatively).
    size_t min_size = 0;
    if (i == last && (has_initial || spaces[i] == PnSpaceId::kInitial)) {
      min_size = kMinInitialDatagramSize > used ? kMinInitialDatagramSize - used : 0;
      min_size = std::min(min_size, limit - used);
    }
    size_t n = build_packet(now, spaces[i], buffer.subspan(used, limit - used), min_size,
                            paced_out);
    if (n > 0 && spaces[i] == PnSpaceId::kInitial) has_initial = true;
    used += n;
    if (limit - used < 64) break;
  }
  if (used == 0) {
    if (paced_out) pacing_wakeup_ = send_at;
    return std::nullopt;
  }
  // The client discards Initial keys once it sends its first Handshake packet (RFC 9001 §4.9.1).
  if (side_ == Side::kClient && handshake_spaces_[1].next_pn > 0) discard_space(PnSpaceId::kInitial);
  path.bytes_sent += used;
  stats_.bytes_sent += used;
  return Transmit{path.local, path.remote, datagram_ecn_, used, 0};
}

size_t Connection::build_packet(Instant now, PnSpaceId space, MutBytes out, size_t min_size,
                                bool paced_out) {
  size_t si = static_cast<size_t>(space);
  CryptoLevel& level = crypto_[si];
  PnSpace& pns = pn_space(space);
  Path& path = *paths_[0];
  const uint64_t pn = pns.next_pn;
  const size_t pn_len =
      packet_number_length(pn, pns.has_largest_acked ? pns.largest_acked : UINT64_MAX);
  if (out.size() < 64) return 0;
  Writer w(out);
  std::optional<HeaderLayout> layout;
  if (space == PnSpaceId::kApp) {
    // RFC 9287 §3.1: once the peer advertised grease_quic_bit, the QUIC bit is unpredictable.
    bool fixed_bit = !(peer_params_received_ && peer_params_.grease_quic_bit) || (pn & 1) == 0;
    layout = write_short_header(w, peer_cid_, key_phase_, false, pn_len, pn, fixed_bit);
  } else {
    bool initial = space == PnSpaceId::kInitial;
    layout = write_long_header(w, version_, initial ? LongType::kInitial : LongType::kHandshake,
                               peer_cid_, initial_scid_,
                               initial && side_ == Side::kClient ? Bytes(retry_token_) : Bytes(),
                               pn_len, pn);
  }
  if (!layout) return 0;
  const size_t header_len = w.written();
  if (out.size() < header_len + kAeadTagSize + 8) return 0;
  MutBytes payload_area = out.subspan(header_len, out.size() - header_len - kAeadTagSize);
  Writer fw(payload_area);

  std::vector<SentFrame> frames;
  bool ack_eliciting = false;
  bool probe = pto_probe_pending_[si] > 0 || mtu_probe_size_ != 0;
  if (pto_probe_pending_[si] > 0 && space != PnSpaceId::kApp) {
    // Each handshake probe carries all unacknowledged CRYPTO data again.
    auto& tx = crypto_[si].tx;
    if (tx.sent_offset() > tx.acked_prefix()) {
      tx.on_lost(tx.acked_prefix(), tx.sent_offset() - tx.acked_prefix(), false);
    }
  }
  bool cc_blocked = bytes_in_flight() + path.mtu > path.cc->cwnd();
  bool may_send_data = probe || (!cc_blocked && !paced_out);
  write_frames(now, space, fw, frames, ack_eliciting, may_send_data);
  if (probe && !ack_eliciting) {
    fw.u8(static_cast<uint8_t>(frame_type::kPing));  // RFC 9002 §6.2.4: a probe elicits an ACK
    ack_eliciting = true;
  }
  if (fw.written() == 0) return 0;
  if (pto_probe_pending_[si] > 0) --pto_probe_pending_[si];

  // Pad: for the Initial datagram minimum, and so the header-protection sample exists
  // (RFC 9001 §5.4.2: the 16-byte sample starts 4 bytes after the packet number).
  size_t payload_len = fw.written();
  size_t min_payload = pn_len < kPnLenMax ? kPnLenMax - pn_len : 0;
  if (min_size > header_len + kAeadTagSize) {
    min_payload = std::max(min_payload, min_size - header_len - kAeadTagSize);
  }
  bool padded = false;
  if (payload_len < min_payload) {
    fw.zeros(std::min(min_payload - payload_len, fw.room()));
    padded = true;
    payload_len = fw.written();
  }
  const size_t total = header_len + payload_len + kAeadTagSize;
  if (trace_) {
    PacketKind kind = space == PnSpaceId::kInitial     ? PacketKind::kInitial
                      : space == PnSpaceId::kHandshake ? PacketKind::kHandshake
                                                       : PacketKind::kOneRtt;
    trace_->packet_sent(now, PacketTrace{kind, pn, total, 0, key_phase_,
                                         Bytes(out.data() + header_len, payload_len)});
  }
  if (layout->length_field_len > 0 &&
      !patch_length(out, *layout, pn_len + payload_len + kAeadTagSize)) {
    return 0;
  }
  if (!level.seal->seal(pn, 0, Bytes(out.data(), header_len), out.data() + header_len,
                        payload_len) ||
      !level.seal->protect_header(out.data(), total, layout->pn_offset, pn_len)) {
    return 0;
  }
  pns.next_pn = pn + 1;
  ++stats_.packets_sent;
  if (space == PnSpaceId::kApp) ++packets_in_phase_;
  SentPacket sp;
  sp.pn = pn;
  sp.time_sent = now;
  sp.bytes = static_cast<uint32_t>(total);
  sp.ack_eliciting = ack_eliciting;
  sp.in_flight = ack_eliciting || padded;
  sp.token = next_packet_token_++;
  sp.ecn_marked = datagram_ecn_ == kEcnEct0;
  if (mtu_probe_size_ != 0) {
    sp.is_mtu_probe = true;
    frames.push_back({SentFrame::Kind::kMtuProbe, false, 0, 0, mtu_probe_size_});
  }
  pns.loss.on_packet_sent(sp);
  if (sp.in_flight) {
    path.cc->on_packet_sent(now, pn, sp.bytes, bytes_in_flight());
    path.pacer.on_packet_sent(now, sp.bytes, path.cc->pacing_rate_bps(path.rtt), path.cc->cwnd(),
                              path.mtu);
  }
  if (ack_eliciting) {
    // RFC 9000 §10.1: sending the first ack-eliciting packet after receiving restarts the timer.
    idle_deadline_ = std::max(idle_deadline_, now + idle_period());
  }
  if (!frames.empty()) sent_frames_.emplace(sp.token, std::move(frames));
  return total;
}

size_t Connection::write_frames(Instant now, PnSpaceId space, Writer& w,
                                std::vector<SentFrame>& sent, bool& ack_eliciting,
                                bool may_send_data) {
  size_t si = static_cast<size_t>(space);
  PnSpace& pns = pn_space(space);
  // ACK first: it is small, never congestion controlled, and keeps the peer's recovery going.
  if (pns.acks.has_received() && (pns.acks.ack_needed(now) || may_send_data)) {
    auto ranges = pns.acks.ranges();
    if (!ranges.empty()) {
      ack_scratch_.clear();
      for (const Range& r : ranges) ack_scratch_.push_back(AckRange{r.lo, r.hi});
      uint64_t exponent = space == PnSpaceId::kApp ? config_.ack_delay_exponent : 3;
      uint64_t delay = static_cast<uint64_t>(to_us(pns.acks.ack_delay(now))) >> exponent;
      // ACK_ECN once anything arrived marked (RFC 9000 §13.4.1).
      EcnCounters rx = pns.acks.ecn();
      std::optional<EcnCounts> ecn;
      if (rx.ect0 + rx.ect1 + rx.ce > 0) ecn = EcnCounts{rx.ect0, rx.ect1, rx.ce};
      if (encode_ack(w, 0, false, ack_scratch_, delay, ecn)) {
        pns.acks.on_ack_sent(now);
        sent.push_back({SentFrame::Kind::kAck, false, ack_scratch_.front().largest});
      }
    }
  }
  if (!may_send_data) return w.written();

  // CRYPTO data (handshake messages; at 1-RTT, session tickets).
  auto& tx = crypto_[si].tx;
  while (tx.has_data_to_send(UINT64_MAX) && w.room() > 16) {
    size_t room = w.room();
    size_t overhead = crypto_frame_overhead(tx.sent_offset(), room);
    if (room <= overhead) break;
    auto chunk = tx.next_chunk(room - overhead, UINT64_MAX);
    if (!chunk) break;
    CryptoFrame f{chunk->offset, tx.view(chunk->offset, chunk->length)};
    if (!encode_frame(w, f)) break;
    sent.push_back({SentFrame::Kind::kCrypto, false, 0, chunk->offset, chunk->length});
    ack_eliciting = true;
  }
  if (space != PnSpaceId::kApp) return w.written();

  while (!pending_path_responses_.empty() && w.room() >= 9) {
    encode_frame(w, PathResponseFrame{pending_path_responses_.front()});
    pending_path_responses_.pop_front();
    ack_eliciting = true;
  }
  if (new_token_pending_) {
    NewTokenFrame f{Bytes(new_token_)};
    if (encoded_size(f) <= w.room() && encode_frame(w, f)) {
      sent.push_back({SentFrame::Kind::kNewToken});
      new_token_pending_ = false;
      ack_eliciting = true;
    }
  }
  if (handshake_done_pending_ && w.room() >= 1) {
    w.u8(static_cast<uint8_t>(frame_type::kHandshakeDone));
    handshake_done_pending_ = false;
    sent.push_back({SentFrame::Kind::kHandshakeDone});
    ack_eliciting = true;
  }
  write_cid_frames(w, sent, ack_eliciting);
  write_control_frames(now, w, sent, ack_eliciting);
  while (!datagrams_out_.empty()) {
    const auto& d = datagrams_out_.front();
    DatagramFrame f{Bytes(d.data(), d.size()), true};
    if (encoded_size(f) > w.room()) break;  // stays queued for the next packet
    encode_frame(w, f);
    datagrams_out_.pop_front();
    ack_eliciting = true;
  }
  write_stream_frames(w, sent, ack_eliciting);
  return w.written();
}

void Connection::write_cid_frames(Writer& w, std::vector<SentFrame>& sent, bool& ack_eliciting) {
  while (!pending_new_cids_.empty()) {
    uint64_t seq = pending_new_cids_.front();
    auto it = std::find_if(local_cids_.begin(), local_cids_.end(),
                           [&](const LocalCid& c) { return c.seq == seq; });
    if (it != local_cids_.end()) {
      NewConnectionIdFrame f;
      f.sequence = seq;
      f.retire_prior_to = 0;
      f.cid = it->cid.view();
      f.reset_token = it->token;
      if (encoded_size(f) > w.room()) return;
      encode_frame(w, f);
      sent.push_back({SentFrame::Kind::kNewConnectionId, false, seq});
      ack_eliciting = true;
    }
    pending_new_cids_.erase(pending_new_cids_.begin());
  }
  while (!pending_retire_cids_.empty()) {
    RetireConnectionIdFrame f;
    f.sequence = pending_retire_cids_.front();
    if (encoded_size(f) > w.room()) return;
    encode_frame(w, f);
    sent.push_back({SentFrame::Kind::kRetireConnectionId, false, f.sequence});
    pending_retire_cids_.erase(pending_retire_cids_.begin());
    ack_eliciting = true;
  }
}

size_t Connection::build_close_datagram(MutBytes buffer) {
  if (!close_error_) return 0;
  const Error& e = *close_error_;
  size_t used = 0;
  // RFC 9000 §10.2.3: before the handshake is confirmed, the peer may only have Initial or
  // Handshake keys, so send the close at every level we still have; an application close
  // there becomes a transport APPLICATION_ERROR without a reason.
  for (PnSpaceId space : {PnSpaceId::kInitial, PnSpaceId::kHandshake, PnSpaceId::kApp}) {
    size_t si = static_cast<size_t>(space);
    if (discarded_[si] || !crypto_[si].seal) continue;
    if (space == PnSpaceId::kApp && !handshake_complete_) continue;
    PnSpace& pns = pn_space(space);
    MutBytes out = buffer.subspan(used, std::min<size_t>(buffer.size(), paths_[0]->mtu) - used);
    if (out.size() < 64) break;
    Writer w(out);
    const uint64_t pn = pns.next_pn;
    const size_t pn_len = 4;
    auto layout = space == PnSpaceId::kApp
                      ? write_short_header(w, peer_cid_, key_phase_, false, pn_len, pn)
                      : write_long_header(w, version_,
                                          space == PnSpaceId::kInitial ? LongType::kInitial
                                                                       : LongType::kHandshake,
                                          peer_cid_, initial_scid_,
                                          space == PnSpaceId::kInitial && side_ == Side::kClient
                                              ? Bytes(retry_token_)
                                              : Bytes(),
                                          pn_len, pn);
    if (!layout) break;
    size_t header_len = w.written();
    Writer fw(out.subspan(header_len, out.size() - header_len - kAeadTagSize));
    ConnectionCloseFrame f;
    bool app_visible = space == PnSpaceId::kApp;
    f.application = e.application && app_visible;
    f.error_code = (e.application && !app_visible) ? err::kApplicationError : e.code;
    f.frame_type = e.frame_type;
    std::string_view reason = e.reason;
    if (e.application && !app_visible) reason = {};
    reason = reason.substr(0, std::min<size_t>(reason.size(), 256));
    f.reason = Bytes(reinterpret_cast<const uint8_t*>(reason.data()), reason.size());
    if (!encode_frame(fw, f)) break;
    if (fw.written() < 4) fw.zeros(4 - fw.written());
    size_t payload_len = fw.written();
    size_t total = header_len + payload_len + kAeadTagSize;
    if (layout->length_field_len > 0) patch_length(out, *layout, pn_len + payload_len + kAeadTagSize);
    if (!crypto_[si].seal->seal(pn, 0, Bytes(out.data(), header_len), out.data() + header_len,
                                payload_len) ||
        !crypto_[si].seal->protect_header(out.data(), total, layout->pn_offset, pn_len)) {
      break;
    }
    pns.next_pn = pn + 1;
    used += total;
  }
  return used;
}

}  // namespace quic
