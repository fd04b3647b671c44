// Connection: receiving. Header protection removal, decryption, duplicate detection and frame
// dispatch (RFC 9000 §12, §13; RFC 9001 §5).
#include <algorithm>

#include "core/connection.h"
#include "core/token.h"
#include "crypto/retry.h"

namespace quic {

namespace {

PacketKind packet_kind(bool long_header, LongType type) {
  if (!long_header) return PacketKind::kOneRtt;
  switch (type) {
    case LongType::kInitial: return PacketKind::kInitial;
    case LongType::kHandshake: return PacketKind::kHandshake;
    default: return PacketKind::kZeroRtt;
  }
}

}  // namespace

void Connection::on_datagram(Instant now, const SocketAddress& local, const SocketAddress& remote,
                             uint8_t ecn, MutBytes datagram) {
  if (state_ == State::kClosed || state_ == State::kDraining) return;
  now_ = now;
  expire_retired_routes(now);
  stats_.bytes_received += datagram.size();
  RecvContext rx{paths_.front().get()};
  CoalescedPackets packets(datagram, config_.cid_length);
  bool any_processed = false;
  while (auto pkt = packets.next()) {
    uint64_t before = stats_.packets_received;
    process_packet(now, local, remote, ecn, *pkt, datagram, datagram.size(), rx);
    any_processed |= stats_.packets_received != before;
    if (state_ == State::kDraining || state_ == State::kClosed) return;
  }
  if (!any_processed) {
    if (is_stateless_reset(datagram)) on_stateless_reset(now);
    return;
  }
  // Only authenticated datagrams count towards the anti-amplification budget (per path).
  if (rx.path != nullptr) {
    rx.path->bytes_received += datagram.size();
    rx.path->cc->on_datagram_received(datagram.size());  // the delay bound's reverse load
  }
  last_activity_ = now;
  if (state_ == State::kClosing) {
    // RFC 9000 §10.2.1: answer with CONNECTION_CLOSE again, rate-limited: on the 1st, 2nd,
    // 4th, 8th ... packet received while closing.
    ++closing_.packets_while_closing;
    if ((closing_.packets_while_closing & (closing_.packets_while_closing - 1)) == 0) closing_.frame_pending = true;
  }
}

uint64_t Connection::path_id_for_dcid(const ConnectionId& dcid) const {
  if (dcid_path_.generation == cid_generation_ && dcid_path_.cid == dcid) return dcid_path_.path_id;
  auto find = [&]() -> uint64_t {
    for (const auto& [id, set] : local_cids_) {
      for (const IssuedCid& c : set.active()) {
        if (c.cid == dcid) return id;
      }
    }
    for (const RetiredRoute& r : retired_routes_) {
      if (r.cid == dcid) return r.path_id;
    }
    return 0;  // zero-length CIDs: the handshake path
  };
  dcid_path_ = {cid_generation_, dcid, find()};
  return dcid_path_.path_id;
}

void Connection::process_packet(Instant now, const SocketAddress& local,
                                const SocketAddress& remote, uint8_t ecn, DatagramPacket& pkt,
                                MutBytes datagram, size_t datagram_size,
                                RecvContext& rx) {
  const PacketHeader& hdr = pkt.header;
  PnSpaceId space;
  if (hdr.long_header && hdr.version == version_ && hdr.type == LongType::kRetry) {
    on_retry(now, pkt);
    return;
  }
  if (hdr.long_header && hdr.version == kVersionNegotiationVersion) {
    on_version_negotiation(now, pkt);
    return;
  }
  // An Initial of another version may be compatible negotiation (conn_version.cc).
  PacketProtector* other_version_key = hdr.long_header ? initial_opener(hdr) : nullptr;
  if (!hdr.long_header) {
    space = PnSpaceId::kApp;
  } else if (hdr.version != version_ && other_version_key == nullptr) {
    trace_drop(pkt.bytes.size(), "unsupported_version");
    ++stats_.packets_dropped;
    return;
  } else if (hdr.type == LongType::kInitial) {
    space = PnSpaceId::kInitial;
  } else if (hdr.type == LongType::kHandshake) {
    space = PnSpaceId::kHandshake;
  } else if (hdr.type == LongType::kZeroRtt) {
    space = PnSpaceId::kApp;  // RFC 9000 §12.3: 0-RTT and 1-RTT share a number space
  } else {
    trace_drop(pkt.bytes.size(), "unexpected_packet_type");
    ++stats_.packets_dropped;
    return;
  }
  const bool zero_rtt = hdr.long_header && hdr.type == LongType::kZeroRtt;
  CryptoLevel& level = crypto_[static_cast<size_t>(space)];
  PacketProtector* opener = zero_rtt            ? zero_rtt_open_key(now)
                            : other_version_key ? other_version_key
                                                : level.open.get();
  if (!opener || !hdr.has_packet_number()) {
    trace_drop(pkt.bytes.size(), "key_unavailable");
    ++stats_.packets_dropped;
    return;
  }
  // Header protection and packet number (RFC 9001 §5.4, RFC 9000 §A.3). The packet's bytes
  // are modified in place: it is ours to decrypt.
  uint8_t* p = datagram.data() + pkt.offset;
  auto unprotected = opener->unprotect_header(p, pkt.bytes.size(), hdr.pn_offset);
  if (!unprotected) {
    trace_drop(pkt.bytes.size(), "header_decrypt_error");
    ++stats_.packets_dropped;
    return;
  }
  auto [pn_len, truncated] = *unprotected;
  // 1-RTT packets belong to the path their DCID was issued for (multipath-21 §3.1); a packet
  // for a path ID we have no state for may open that path (server), once it decrypts.
  uint64_t path_id = 0;
  Path* path = paths_.front().get();
  if (space == PnSpaceId::kApp) {
    path_id = multipath_ ? path_id_for_dcid(hdr.dcid) : paths_.front()->id;
    path = path_by_id(path_id);
    if (path == nullptr && (!multipath_ || side_ == Side::kClient ||
                            path_id > local_max_path_id_ || closed_path_ids_.count(path_id) > 0)) {
      trace_drop(pkt.bytes.size(), "unknown_path");
      ++stats_.packets_dropped;
      return;
    }
  }
  PnSpace fresh;
  PnSpace& pns = space == PnSpaceId::kApp ? (path ? path->app : fresh) : pn_space(space);
  uint64_t pn = decode_packet_number(pns.acks.has_received() ? pns.acks.largest_received() : 0,
                                     truncated, pn_len);
  size_t header_len = hdr.pn_offset + pn_len;
  size_t payload_len = pkt.bytes.size() - header_len;
  // 1-RTT key phase (RFC 9001 §6.3): the other phase bit is either an old packet (previous
  // keys) or the peer's key update (next keys).
  PacketProtector* key = opener;
  bool next_phase = false;
  if (!hdr.long_header && ((p[0] & 0x04) != 0) != key_update_.rx_phase) {
    if (key_update_.prev_open && pn < key_update_.rx_phase_first_pn) {
      key = key_update_.prev_open.get();
    } else {
      key = key_update_.next_open.get();
      next_phase = true;
    }
  }
  if (key == nullptr || payload_len < kAeadTagSize) {
    trace_drop(pkt.bytes.size(), "payload_decrypt_error");
    ++stats_.packets_dropped;
    return;
  }
  if (!key->open(pn, static_cast<uint32_t>(path_id), Bytes(p, header_len), p + header_len,
                 payload_len)) {
    trace_drop(pkt.bytes.size(), "payload_decrypt_error");
    ++stats_.packets_dropped;  // RFC 9001 §5.5: authentication failures are dropped silently
    if (!hdr.long_header) on_authentication_failure(now, key->suite());
    return;
  }
  if (other_version_key) on_version_authenticated(hdr.version);
  if (next_phase) {
    if (auto st = rotate_rx_keys(now, pn); !st) {
      close_with_error(now, st.error());
      return;
    }
  }
  if (path == nullptr) {
    path = accept_new_path(now, path_id, local, remote);
    if (path == nullptr) {
      trace_drop(pkt.bytes.size(), "path_refused");
      ++stats_.packets_dropped;
      return;
    }
  }
  PnSpace& space_rx = space == PnSpaceId::kApp ? path->app : pns;
  if (space_rx.acks.is_duplicate(pn)) {
    trace_drop(pkt.bytes.size(), "duplicate");
    ++stats_.packets_dropped;
    return;
  }
  rx.path = path;
  // Only clients migrate (RFC 9000 §9), so a client ignores where the server's packets come
  // from; the server decides after reading the frames (on_new_peer_address).
  const bool other_address = side_ == Side::kServer && space == PnSpaceId::kApp &&
                             handshake_confirmed_ && path->state != PathState::kAbandoned &&
                             (path->remote != remote || path->local != local);
  const uint64_t challenges_before = stats_.path_challenges_received;
  ++stats_.packets_received;
  // Reserved bits must be zero after successful decryption (RFC 9000 §17.2, §17.3.1).
  uint8_t reserved = hdr.long_header ? (p[0] & 0x0c) : (p[0] & 0x18);
  if (reserved != 0) {
    close_with_error(now, Error{err::kProtocolViolation, 0, "reserved header bits set"});
    return;
  }
  if (side_ == Side::kClient && space == PnSpaceId::kInitial && !peer_cid_confirmed_) {
    peer_cid_ = hdr.scid;  // RFC 9000 §7.2: switch to the server's chosen CID
    peer_cids_[0].set_current(peer_cid_);
    peer_cid_confirmed_ = true;
  }
  bool ack_eliciting = false, non_probing = false;
  rx.immediate_ack = false;
  Bytes payload(p + header_len, payload_len - kAeadTagSize);
  if (trace_) {
    trace_->packet_received(now, PacketTrace{packet_kind(hdr.long_header, hdr.type), pn,
                                             pkt.bytes.size(), 0, (p[0] & 0x04) != 0, payload});
  }
  if (auto st = process_frames(now, space, hdr.type, hdr.long_header, payload, rx,
                               ack_eliciting, non_probing);
      !st) {
    close_with_error(now, st.error());
    return;
  }
  if (other_address) {
    on_new_peer_address(now, rx, *path, local, remote, pn, non_probing,
                        stats_.path_challenges_received - challenges_before, datagram_size);
  } else if (space == PnSpaceId::kApp && non_probing &&
             (!path->largest_non_probing_pn || pn > *path->largest_non_probing_pn)) {
    path->largest_non_probing_pn = pn;
  }
  space_rx.acks.on_packet_received(pn, ack_eliciting, now, ecn & 0x03);
  if (ack_eliciting && space == PnSpaceId::kApp) path->last_ack_eliciting_received = now;
  if (rx.immediate_ack) space_rx.acks.request_immediate_ack();  // ack-frequency §5
  if (space == PnSpaceId::kApp) zero_rtt_on_packet(now, zero_rtt);
  idle_deadline_ = now + idle_period();
  if (space == PnSpaceId::kHandshake) {
    // RFC 9000 §8.1: a Handshake packet proves the peer's address (the client's to the server;
    // the server's to the client, implicitly); RFC 9001 §4.9.1: the server drops Initial keys.
    paths_.front()->validated = true;
    if (side_ == Side::kServer) discard_space(PnSpaceId::kInitial);
  }
  if (tls_ && tls_->handshake_complete() && !handshake_complete_) on_handshake_completed(now);
}

Status Connection::process_frames(Instant now, PnSpaceId space, LongType type, bool long_header,
                                  Bytes payload, RecvContext& rx, bool& ack_eliciting,
                                  bool& non_probing) {
  Reader r(payload);
  if (r.empty()) return fail(err::kProtocolViolation, "packet without frames");
  PacketKind kind = packet_kind(long_header, type);
  while (!r.empty()) {
    auto frame = decode_frame(r);
    if (!frame) return std::unexpected(frame.error());
    uint64_t ft = frame_type_of(*frame);
    if (!frame_allowed_in(ft, kind)) {
      return fail(err::kProtocolViolation, "frame not allowed in this packet type", ft);
    }
    ack_eliciting |= is_ack_eliciting(ft);
    non_probing |= !is_probing(ft);
    if (auto st = on_frame(now, space, *frame, rx); !st) {
      if (st.error().frame_type == 0) st.error().frame_type = ft;
      return st;
    }
    if (state_ == State::kDraining) return {};
  }
  return {};
}

Status Connection::on_frame(Instant now, PnSpaceId space, const Frame& frame, RecvContext& rx) {
  return std::visit(
      [&](const auto& f) -> Status {
        using T = std::decay_t<decltype(f)>;
        if constexpr (std::is_same_v<T, PaddingFrame> || std::is_same_v<T, PingFrame>) {
          return {};
        } else if constexpr (std::is_same_v<T, AckFrame>) {
          if (f.path_ack) {
            if (auto st = check_path_frame(f.path_id, frame_type_of(frame)); !st) return st;
          }
          return on_ack_frame(now, space, f, rx);
        } else if constexpr (std::is_same_v<T, CryptoFrame>) {
          return on_crypto_frame(space, f);
        } else if constexpr (std::is_same_v<T, StreamFrame>) {
          return streams_.on_stream_frame(f.stream_id, f.offset, f.data, f.fin);
        } else if constexpr (std::is_same_v<T, ResetStreamFrame>) {
          return streams_.on_reset_stream(f.stream_id, f.error_code, f.final_size);
        } else if constexpr (std::is_same_v<T, StopSendingFrame>) {
          return streams_.on_stop_sending(f.stream_id, f.error_code);
        } else if constexpr (std::is_same_v<T, MaxDataFrame>) {
          return streams_.on_max_data(f.max);
        } else if constexpr (std::is_same_v<T, MaxStreamDataFrame>) {
          return streams_.on_max_stream_data(f.stream_id, f.max);
        } else if constexpr (std::is_same_v<T, MaxStreamsFrame>) {
          return streams_.on_max_streams(f.bidi, f.max);
        } else if constexpr (std::is_same_v<T, DataBlockedFrame>) {
          return streams_.on_data_blocked(f.limit);
        } else if constexpr (std::is_same_v<T, StreamDataBlockedFrame>) {
          return streams_.on_stream_data_blocked(f.stream_id, f.limit);
        } else if constexpr (std::is_same_v<T, StreamsBlockedFrame>) {
          return streams_.on_streams_blocked(f.bidi, f.limit);
        } else if constexpr (std::is_same_v<T, NewTokenFrame>) {
          if (side_ == Side::kServer) return fail(err::kProtocolViolation, "NEW_TOKEN from a client");
          if (f.token.size() <= kMaxTokenLength) new_token_.assign(f.token.begin(), f.token.end());
          return {};
        } else if constexpr (std::is_same_v<T, NewConnectionIdFrame>) {
          if (f.path_frame) {
            if (auto st = check_path_frame(f.path_id, frame_type::kPathNewConnectionId); !st) {
              return st;
            }
          }
          return on_new_connection_id(f);
        } else if constexpr (std::is_same_v<T, RetireConnectionIdFrame>) {
          if (f.path_frame) {
            if (auto st = check_path_frame(f.path_id, frame_type::kPathRetireConnectionId); !st) {
              return st;
            }
          }
          return on_retire_connection_id(f.path_frame ? f.path_id : 0, f.sequence);
        } else if constexpr (std::is_same_v<T, PathChallengeFrame>) {
          on_path_challenge(*rx.path, f.data);
          return {};
        } else if constexpr (std::is_same_v<T, PathResponseFrame>) {
          on_path_response(now, *rx.path, f.data);
          return {};
        } else if constexpr (std::is_same_v<T, PathAbandonFrame>) {
          return on_path_abandon(now, f);
        } else if constexpr (std::is_same_v<T, PathStatusFrame>) {
          return on_path_status(f);
        } else if constexpr (std::is_same_v<T, MaxPathIdFrame>) {
          return on_max_path_id(f.max_path_id);
        } else if constexpr (std::is_same_v<T, PathsBlockedFrame> ||
                             std::is_same_v<T, PathCidsBlockedFrame>) {
          // Informational (multipath-21 §4.8): we issue CIDs for every allowed path anyway.
          if (!multipath_) return fail(err::kProtocolViolation, "multipath not negotiated");
          return {};
        } else if constexpr (std::is_same_v<T, ConnectionCloseFrame>) {
          on_connection_close_frame(now, f);
          return {};
        } else if constexpr (std::is_same_v<T, HandshakeDoneFrame>) {
          if (side_ == Side::kServer) {
            return fail(err::kProtocolViolation, "HANDSHAKE_DONE from a client");
          }
          on_handshake_confirmed();
          return {};
        } else if constexpr (std::is_same_v<T, DatagramFrame>) {
          if (config_.max_datagram_frame_size == 0 ||
              f.data.size() > config_.max_datagram_frame_size) {
            return fail(err::kProtocolViolation, "DATAGRAM not negotiated or too large");
          }
          on_datagram_frame(f.data);  // conn_datagrams.cc
          return {};
        } else if constexpr (std::is_same_v<T, AckFrequencyFrame>) {
          return on_ack_frequency_frame(f, *rx.path);
        } else if constexpr (std::is_same_v<T, ImmediateAckFrame>) {
          return on_immediate_ack_frame(rx);
        } else if constexpr (std::is_same_v<T, ResetStreamAtFrame>) {
          return on_reset_stream_at_frame(f);
        } else {
          static_assert(std::is_same_v<T, void>, "a frame type without a handler");
          return {};
        }
      },
      frame);
}

// RFC 9001 §6.6: every forged 1-RTT packet is a guess at the AEAD key; past the integrity limit
// (across all key phases, for the connection's lifetime) the guesses are no longer safe.
void Connection::on_authentication_failure(Instant now, CipherSuite suite) {
  ++stats_.authentication_failures;
  const uint64_t limit =
      config_.aead_integrity_limit != 0 ? config_.aead_integrity_limit : integrity_limit(suite);
  if (stats_.authentication_failures > limit) {
    close_with_error(now, Error{err::kAeadLimitReached, 0, "AEAD integrity limit reached"});
  }
}

Status Connection::on_ack_frame(Instant now, PnSpaceId space, const AckFrame& ack,
                                const RecvContext& rx) {
  const bool app = space == PnSpaceId::kApp;
  Path* path_ptr = app ? path_by_id(ack.path_ack ? ack.path_id : 0) : paths_.front().get();
  // multipath-21 §4: an ACK for a path we no longer (or never) had is silently ignored.
  if (path_ptr == nullptr) return {};
  Path& path = *path_ptr;
  PnSpace& pns = app ? path.app : pn_space(space);
  scratch_.ack_ranges.clear();
  for (AckRange r : ack.ranges()) scratch_.ack_ranges.push_back(Range{r.smallest, r.largest});
  uint64_t exponent = space == PnSpaceId::kApp ? peer_params_.ack_delay_exponent : 3;
  Duration ack_delay = std::chrono::microseconds(ack.ack_delay << std::min<uint64_t>(exponent, 20));
  const Duration max_ack_delay = app ? path_max_ack_delay(path) : peer_max_ack_delay();
  // One outcome per thread, reused by every connection's ACKs: no allocation per ACK once its
  // vectors have grown, and no per-connection buffer kept by an idle connection.
  thread_local AckOutcome<SentFrames> res;
  pns.loss.on_ack_received(scratch_.ack_ranges, ack_delay, now, path.rtt, max_ack_delay, res);
  if (res.acked_unsent) {
    return fail(err::kProtocolViolation, "ACK for a packet never sent", frame_type::kAck);
  }
  // An ACK that came over another path and acknowledges only packets sent before the path's
  // latest progress (a repeated ACK of a silent path, conn_send.cc) says nothing about whether
  // the path works now, and its delay is the other path's: no RTT sample, no progress.
  const bool stale_copy =
      rx.path != nullptr && rx.path != &path && path.health.last_progress() != kNever &&
      std::none_of(res.acked.begin(), res.acked.end(), [&](const SentPacket& p) {
        return p.time_sent > path.health.last_progress();
      });
  if (app) watch_mtu_black_hole(path, res);
  if (res.rtt_sample && !stale_copy) {
    path.rtt.update(*res.rtt_sample, ack_delay, handshake_confirmed_, max_ack_delay, now);
  }
  // Losses first (RFC 9002 §A.7): packets acked now that were sent before a new recovery
  // period must not grow the window.
  if (!res.lost.empty()) {
    on_ecn_marked_lost(path, res.lost);
    on_packets_lost(now, space, res.lost, res.lost_frames);
    report_loss_to_cc(now, path, res.lost, res.persistent_congestion);
    path.packets_lost += res.lost.size();
  }
  if (!res.acked.empty()) on_ecn_feedback(now, path, space, ack, res);
  trace_metrics(now);
  if (!res.acked.empty()) {
    if (space == PnSpaceId::kApp && !key_update_.acked && res.largest_acked >= key_update_.tx_phase_first_pn) {
      key_update_.acked = true;
    }
    pns.largest_acked = std::max(pns.has_largest_acked ? pns.largest_acked : 0, res.largest_acked);
    pns.has_largest_acked = true;
    on_packets_acked(space, res.acked_frames);
    path.cc->on_packets_acked(now, res.acked, path.rtt, bytes_in_flight(path));
    // RFC 9002 §6.2.1: the PTO backoff resets on progress, except for a client that has not
    // yet seen the server's handshake progress.
    if (app) {
      if (!stale_copy) {  // a stale copy leaves the path's backoff and failure state alone
        path.pto_count = 0;
        on_path_progress(now, path);
      }
      update_ack_frequency(now, path);
    } else if (!(side_ == Side::kClient && !handshake_confirmed_ &&
                 space == PnSpaceId::kInitial)) {
      pto_count_ = 0;
    }
    // RFC 9001 §4.1.2: an acknowledged 1-RTT packet (not a 0-RTT one) confirms the handshake
    // for a client.
    if (space == PnSpaceId::kApp && side_ == Side::kClient && handshake_complete_ &&
        res.largest_acked >= zero_rtt_.first_1rtt_pn) {
      on_handshake_confirmed();
    }
  }
  return {};
}

void Connection::on_space_lost(Instant now, PnSpaceId space, Path& path,
                               std::span<const SentPacket> lost, std::span<SentFrames> frames) {
  on_ecn_marked_lost(path, lost);
  on_packets_lost(now, space, lost, frames);
  report_loss_to_cc(now, path, lost, false);
  if (space == PnSpaceId::kApp) path.packets_lost += lost.size();
}

void Connection::report_loss_to_cc(Instant now, Path& path, std::span<const SentPacket> lost,
                                   bool persistent) {
  // PMTU probes are lost for their size, not for congestion (RFC 9000 §14.4).
  scratch_.lost.clear();
  for (const SentPacket& p : lost) {
    if (!p.is_mtu_probe) scratch_.lost.push_back(p);
  }
  if (!scratch_.lost.empty()) {
    path.cc->on_packets_lost(now, scratch_.lost, persistent, bytes_in_flight(path));
  }
}

void Connection::on_packets_lost(Instant now, PnSpaceId space, std::span<const SentPacket> lost,
                                 std::span<SentFrames> frames) {
  stats_.packets_lost += lost.size();
  for (size_t i = 0; i < lost.size(); ++i) {
    const SentPacket& p = lost[i];
    if (trace_) {
      PacketKind kind = space == PnSpaceId::kInitial     ? PacketKind::kInitial
                        : space == PnSpaceId::kHandshake ? PacketKind::kHandshake
                                                         : PacketKind::kOneRtt;
      trace_->packet_lost(now, kind, p.pn, "loss_detection");
    }
    if (config_.datagram_resend_on_loss && space == PnSpaceId::kApp) {
      resend_datagrams(frames[i].span(), now + config_.datagram_resend_window);  // conn_datagrams.cc
    }
    requeue_frames(space, frames[i].span(), true);
  }
}

// RFC 9000 §17.2.5.2: a client accepts one Retry, before any server Initial, whose integrity
// tag checks against its original DCID; it then restarts its Initial flight towards the
// Retry's SCID, carrying the token, under Initial keys derived from that SCID.
void Connection::on_retry(Instant now, const DatagramPacket& pkt) {
  if (side_ != Side::kClient || retry_scid_ || peer_cid_confirmed_ || stats_.packets_received > 0) {
    trace_drop(pkt.bytes.size(), "unexpected_retry");
    return;
  }
  auto retry = parse_retry(pkt.bytes);
  if (!retry || retry->token.empty() || retry->token.size() > kMaxTokenLength ||
      retry->scid == peer_cid_ ||
      !verify_retry_integrity_tag(version_, original_dcid_.view(), pkt.bytes)) {
    trace_drop(pkt.bytes.size(), "invalid_retry");
    return;
  }
  retry_scid_ = retry->scid;
  peer_cid_ = retry->scid;
  peer_cids_[0].set_current(peer_cid_);
  retry_token_.assign(retry->token.begin(), retry->token.end());
  if (!install_initial_keys(peer_cid_)) return;
  // RFC 9000 §17.2.5.3: 0-RTT sent so far went to the old CID; resend it (new numbers).
  zero_rtt_requeue_all(now);
  auto& tx = crypto_[0].tx;
  if (tx.sent_offset() > 0) tx.on_lost(0, tx.sent_offset(), false);
  // The Initials sent so far will never be acknowledged; they leave the books silently.
  (void)handshake_spaces_[0].loss.discard_all();
  pto_count_ = 0;
  stats_.retry_received = true;
}

Status Connection::on_new_connection_id(const NewConnectionIdFrame& f) {
  if (peer_cid_.len == 0) {
    return fail(err::kProtocolViolation, "NEW_CONNECTION_ID to a zero-length CID peer");
  }
  uint64_t path_id = f.path_frame ? f.path_id : 0;
  if (closed_path_ids_.count(path_id) > 0) return {};  // abandoned path: ignored
  std::vector<uint64_t> retire;
  auto st = peer_cids_[path_id].on_new(f.sequence, ConnectionId::from(f.cid), f.reset_token,
                                       f.retire_prior_to, config_.active_connection_id_limit,
                                       retire);
  retire_peer_cids(path_id, retire);
  if (!st) return st;
  // A CID must never be forgotten unretired (RFC 9000 §5.1.2), so unbounded retiring closes.
  if (pending_retire_cids_.size() > kMaxRetiredCidsPending) {
    return fail(err::kConnectionIdLimitError, "too many connection IDs retired at once");
  }
  return {};
}

void Connection::on_connection_close_frame(Instant now, const ConnectionCloseFrame& f) {
  closing_.by_peer = true;
  closing_.error = Error{f.error_code, f.frame_type, std::string(f.reason.begin(), f.reason.end()),
                       f.application};
  enter_draining(now);
}

}  // namespace quic
