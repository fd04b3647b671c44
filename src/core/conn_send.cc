// Connection: sending. Chooses what goes into each packet, coalesces packets of several
// encryption levels into one datagram, protects them and records them for recovery.
#include <algorithm>

#include "core/connection.h"
#include "crypto/reset_token.h"
#include "wire/frame_rules.h"

namespace quic {

namespace {

// RFC 9000 §14.1: datagrams carrying ack-eliciting Initial packets are padded to 1200 bytes.
constexpr size_t kMinInitialDatagramSize = 1200;
// The header-protection sample starts this far past the start of the packet number.
constexpr size_t kPnLenMax = 4;

}  // namespace

uint64_t Connection::amplification_room(const Path& path) const {
  if (path.validated || side_ == Side::kClient) return UINT64_MAX;
  uint64_t budget = 3 * path.bytes_received;  // RFC 9000 §8.1, §9.3.1 (per path)
  return budget > path.bytes_sent ? budget - path.bytes_sent : 0;
}

bool Connection::space_wants_send(PnSpaceId space, const Path& path, Instant now) const {
  size_t i = static_cast<size_t>(space);
  if (space == PnSpaceId::kApp && zero_rtt_sending()) {
    return path.pto_probes > 0 || app_has_data();  // 0-RTT (RFC 9001 §4.6.1)
  }
  if (discarded_[i] || !crypto_[i].seal) return false;
  if (space != PnSpaceId::kApp) {
    const PnSpace& pns = pn_space(space);
    return pns.acks.ack_needed(now) || pto_probe_pending_[i] > 0 ||
           crypto_[i].tx.has_data_to_send(UINT64_MAX);
  }
  if (path_has_urgent(path, now)) return true;
  if (crypto_[i].tx.has_data_to_send(UINT64_MAX)) return true;
  if (sources_pending(FrameSource::Role::kPathCopy, path)) return true;
  if (multipath_ && orphan_acks_due(now) && can_carry_own_acks(path)) return true;
  if (!handshake_complete_ && side_ == Side::kClient) return false;  // no 0-RTT yet
  return app_has_data() || mp_control_pending();
}

// The frames a 1-RTT (or 0-RTT) packet carries after its ACKs, path frames and CRYPTO data,
// in the order they are written. Each source has one "pending" predicate and one writer, and
// "is there anything to send" (app_has_data, mp_control_pending, space_wants_send) is
// answered from this table, so the two cannot drift apart. Adding a frame: a row here, its
// record and handlers (sent_frame.h, conn_sent.cc) and its codec.
const Connection::FrameSource Connection::kFrameSources[] = {
    // PATH_ABANDON, PATH_STATUS_*, MAX_PATH_ID (multipath-21 §4).
    {FrameSource::Role::kMpControl, true,
     [](const Connection& c, const Path&) {
       return c.max_path_id_pending_ ||
              std::any_of(c.paths_.begin(), c.paths_.end(),
                          [](const auto& p) { return p->abandon_pending || p->role.status_pending(); });
     },
     [](Connection& c, Instant, Path&, PacketBuilder& b) { c.write_mp_control_frames(b); }},
    {FrameSource::Role::kAppData, true,
     [](const Connection& c, const Path&) { return c.new_token_pending_; },
     [](Connection& c, Instant, Path&, PacketBuilder& b) {
       if (!c.new_token_pending_) return;
       NewTokenFrame f{Bytes(c.new_token_)};
       if (encoded_size(f) > b.w.room() || !encode_frame(b.w, f)) return;
       b.sent.push_back(sent::NewToken{});
       c.new_token_pending_ = false;
       b.ack_eliciting = true;
     }},
    {FrameSource::Role::kAppData, true,
     [](const Connection& c, const Path&) { return c.handshake_done_pending_; },
     [](Connection& c, Instant, Path&, PacketBuilder& b) {
       if (!c.handshake_done_pending_ || b.w.room() < 1) return;
       b.w.u8(static_cast<uint8_t>(frame_type::kHandshakeDone));
       c.handshake_done_pending_ = false;
       b.sent.push_back(sent::HandshakeDone{});
       b.ack_eliciting = true;
     }},
    // ACK_FREQUENCY only fills room in a packet sent for something else.
    {FrameSource::Role::kRideAlong, true, nullptr,
     [](Connection& c, Instant, Path& path, PacketBuilder& b) { c.write_ack_frequency(path, b); }},
    {FrameSource::Role::kAppData, false,
     [](const Connection& c, const Path&) {
       return !c.pending_new_cids_.empty() || !c.pending_retire_cids_.empty();
     },
     [](Connection& c, Instant, Path&, PacketBuilder& b) { c.write_cid_frames(b); }},
    {FrameSource::Role::kAppData, false,
     [](const Connection& c, const Path&) { return c.streams_.has_pending_control(); },
     [](Connection& c, Instant now, Path&, PacketBuilder& b) { c.write_control_frames(now, b); }},
    {FrameSource::Role::kAppData, false,
     [](const Connection& c, const Path&) { return c.datagrams_queued(); },
     [](Connection& c, Instant now, Path& path, PacketBuilder& b) {
       c.write_datagram_frames(now, path, b);
     }},
    // Redundant scheduling: copies owed to this path (conn_streams.cc, conn_datagrams.cc).
    {FrameSource::Role::kPathCopy, false,
     [](const Connection& c, const Path& path) {
       return c.dups_queued() && c.dup_pending_for(path) && c.is_data_path(path);
     },
     [](Connection& c, Instant, Path& path, PacketBuilder& b) {
       if (c.dups_queued() && c.is_data_path(path)) c.write_dup_frames(path, b);
     }},
    {FrameSource::Role::kAppData, false,
     [](const Connection& c, const Path&) { return c.streams_.has_stream_data(); },
     [](Connection& c, Instant, Path& path, PacketBuilder& b) {
       if (c.multipath_ && c.scheduler_->duplicates() && c.has_other_data_path(path)) {
         c.sched_.begin_copies(path.id);
       }
       c.write_stream_frames(b);
       c.sched_.end_copies();
     }},
};

bool Connection::sources_pending(FrameSource::Role role, const Path& path) const {
  for (const FrameSource& s : kFrameSources) {
    if (s.role == role && s.pending != nullptr && s.pending(*this, path)) return true;
  }
  return false;
}

bool Connection::app_has_data() const {
  // Stream data, the table's last source, is what a bulk sender has on every datagram: asked
  // first, it spares each datagram the walk over the other sources (~200 instructions).
  return streams_.has_stream_data() ||
         sources_pending(FrameSource::Role::kAppData, *paths_.front());
}

bool Connection::mp_control_pending() const {
  return sources_pending(FrameSource::Role::kMpControl, *paths_.front());
}

std::optional<Transmit> Connection::poll_transmit(Instant now, MutBytes buffer,
                                                  size_t max_segments) {
  fill_packets_ = max_segments > 1;  // conn_streams.cc: fill_stream_chunk
  auto first = poll_datagram(now, buffer, nullptr);
  if (!first || max_segments < 2) return first;
  Path* path = run_path(*first, buffer);
  if (path == nullptr) return first;
  // A GSO run: more datagrams of exactly the first one's size on the same path, each the one
  // poll_datagram would have returned next anyway (`run` makes it stop instead of choosing
  // anything else), so a run changes how datagrams are handed over, never what is sent.
  // Pacing needs no check of its own here: every datagram of the run is built at `now`, and
  // transmit_on releases data only while the pacer's bucket (cc/pacer.h: kPacerBurstPackets to
  // kPacerMaxBurstPackets packets, never more than the window) holds a packet at `now`; once it
  // is empty the path is paced out, builds at most a short ACK-only datagram (which ends the
  // run) and the run stops. So a run carries exactly the burst the pacer allows at its send_at.
  const size_t seg = first->size;
  size_t used = seg, count = 1;
  // One ECN codepoint per run: while a path tests ECN (conn_ecn.cc) the mark may change.
  while (count < max_segments && buffer.size() - used >= seg &&
         next_ecn_mark(*path) == first->ecn) {
    auto t = poll_datagram(now, buffer.subspan(used, seg), path);
    if (!t) break;
    used += t->size;
    ++count;
    if (t->size < seg) break;  // a shorter datagram is the run's last
  }
  if (count > 1) {
    first->size = used;
    first->segment_size = seg;
  }
  return first;
}

// The path a datagram just built may start a GSO run on, or nullptr. Only full-size 1-RTT
// datagrams of an established connection do: before the handshake is confirmed datagrams may
// coalesce Initial and Handshake packets (they stay one per transmit). A PMTU probe is larger
// than its path's MTU and a probe response goes to another address, so neither matches.
Path* Connection::run_path(const Transmit& t, Bytes datagram) const {
  if (state_ != State::kEstablished || !handshake_confirmed_ || (datagram[0] & 0x80) != 0) {
    return nullptr;
  }
  for (const auto& p : paths_) {
    if (p->local == t.local && p->remote == t.remote && t.size == p->mtu) {
      return p.get();
    }
  }
  return nullptr;
}

bool Connection::probe_responses_pending() const {
  return std::ranges::any_of(paths_, [](const auto& p) {
    return p->probe && !p->probe->responses.empty();
  });
}

// One datagram. With `run` set (continuing a GSO run on that path, see poll_transmit) it
// returns nullopt instead of anything that would not be a regular datagram on `run`: another
// path's packets, probe responses and PMTU probes wait for the next call.
std::optional<Transmit> Connection::poll_datagram(Instant now, MutBytes buffer, Path* run) {
  if (state_ == State::kClosed || state_ == State::kDraining) return std::nullopt;
  now_ = now;
  if (state_ == State::kClosing) return run != nullptr ? std::nullopt : poll_close(buffer);
  maybe_update_keys();
  pacing_wakeup_ = kNever;
  sched_.lane = mp::DeadlineLane::kAny;
  if (side_ == Side::kServer) {
    if (run != nullptr && probe_responses_pending()) return std::nullopt;
    if (auto t = transmit_probe_responses(now, buffer)) return t;
  }
  // A PMTU probe (at most one in flight per path) goes ahead of data once the window is large
  // enough for it not to matter: behind a window-limited transfer it would otherwise wait for
  // the transfer's end, and a path that lost its MTU (conn_pmtu.cc) would stay at the base
  // size until then. In a small window (a path just back from an outage) data goes first.
  if (!multipath_ || !handshake_confirmed_) {
    Path& path = *paths_.front();
    if (run != nullptr && mtu_probe_size(now, path, true) != 0) return std::nullopt;
    if (auto t = maybe_send_mtu_probe(now, path, buffer, true)) return t;
    if (auto t = transmit_on(now, path, buffer, true)) return t;
    if (run != nullptr) return std::nullopt;
    if (auto t = maybe_send_mtu_probe(now, path, buffer, false)) return t;
    note_app_limited(path);
    return std::nullopt;
  }
  return poll_multipath(now, buffer, run);
}

std::optional<Transmit> Connection::poll_close(MutBytes buffer) {
  if (!closing_.frame_pending) return std::nullopt;
  closing_.frame_pending = false;
  // Any open path will do (multipath-21 §2.6); prefer the first.
  Path* path = paths_.front().get();
  for (auto& p : paths_) {
    if (p->state != PathState::kAbandoned && peer_cids_[p->id].has_current()) {
      path = p.get();
      break;
    }
  }
  size_t n = build_close_datagram(*path, buffer);
  if (n == 0) return std::nullopt;
  path->bytes_sent += n;
  return Transmit{path->local, path->remote, 0, n, 0};
}

std::optional<Transmit> Connection::poll_multipath(Instant now, MutBytes buffer, Path* run) {
  // In a run, a datagram another path would get first ends the run.
  auto other = [run](const Path& p) { return run != nullptr && &p != run; };
  open_wanted_paths(now);
  // Deadline scheduling: deadline data only goes where choose_path() sends it (conn_deadline.cc).
  if (scheduler_->deadline_aware()) sched_.lane = mp::DeadlineLane::kHold;
  // What must leave on one particular path: responses, challenges, its ACKs, its probes.
  // ACKs owed for a path that cannot carry them (abandoned, failed) ride on the first path
  // that can.
  bool orphan_acks = orphan_acks_due(now);
  for (size_t i = 0; i < paths_.size(); ++i) {
    Path& p = *paths_[i];
    if (!peer_cids_[p.id].has_current()) continue;
    bool carrier = orphan_acks && can_carry_own_acks(p);
    if (!carrier && !path_has_urgent(p, now)) continue;
    if (other(p)) return std::nullopt;
    orphan_acks &= !carrier;
    const bool data = urgent_packet_takes_data(now, p);
    if (auto t = transmit_on(now, p, buffer, data)) {
      if (data) scheduler_->on_sent(p.id, t->size);
      return t;
    }
  }
  // Redundant scheduling: copies owed to a path go out as its window allows.
  if (dups_queued()) {
    for (auto& p : paths_) {
      if (!is_data_path(*p) || !dup_pending_for(*p) || !peer_cids_[p->id].has_current()) continue;
      if (other(*p)) return std::nullopt;
      if (auto t = transmit_on(now, *p, buffer, true)) return t;
    }
  }
  // With several paths, only a path that fell into a PMTU black hole probes ahead of data (to
  // climb back from the base size under load); the others probe when the window leaves room.
  for (auto& p : paths_) {
    if (!p->usable() || p->pmtu_black_holes == 0) continue;
    if (run != nullptr && mtu_probe_size(now, *p, true) != 0) return std::nullopt;
    if (auto t = maybe_send_mtu_probe(now, *p, buffer, true)) return t;
  }
  // New data and control frames: wherever the scheduler puts them.
  if (app_has_data() || mp_control_pending() || crypto_[2].tx.has_data_to_send(UINT64_MAX)) {
    if (Path* p = choose_path(now)) {
      if (other(*p)) return std::nullopt;
      if (auto t = transmit_on(now, *p, buffer, true)) {
        scheduler_->on_sent(p->id, t->size);
        return t;
      }
    }
  }
  if (run != nullptr) return std::nullopt;  // what is left is probes and bookkeeping
  for (auto& p : paths_) {
    if (!p->usable()) continue;
    if (auto t = maybe_send_mtu_probe(now, *p, buffer, false)) return t;
  }
  for (auto& p : paths_) {
    if (p->usable()) note_app_limited(*p);
  }
  return std::nullopt;
}

// Nothing left to send: a path whose window still had room is application-limited, which
// rate-sampling controllers (BBR) need to know (draft-cheng-iccrg-delivery-rate-estimation §3.4).
// An idle backup path is, whatever the application has: its keepalives say nothing about rate.
void Connection::note_app_limited(Path& path) {
  if (app_has_data() && is_data_path(path)) return;
  uint64_t in_flight = bytes_in_flight(path);
  if (in_flight + path.mtu <= path.cc->cwnd()) path.cc->on_app_limited(in_flight);
}

std::optional<Transmit> Connection::transmit_on(Instant now, Path& path, MutBytes buffer,
                                                bool data_allowed, bool probe_response) {
  size_t limit = std::min<size_t>(buffer.size(), path.mtu);
  uint64_t room = amplification_room(path);
  if (room < limit) limit = static_cast<size_t>(room);
  if (limit < 64) return std::nullopt;  // amplification-blocked: wait for the peer

  // Pacing (RFC 9002 §7.7): only congestion-controlled packets wait; ACKs never do.
  bool paced_out = false;
  Instant send_at = std::max(path.pacer.next_send_time(now, path.mtu, path.pacing_rate_bps(),
                                                       path.cc->cwnd(), path.mtu),
                             cap_send_time(now, path));
  if (send_at > now) paced_out = true;

  // Handshake packets only ever use the handshake path.
  const bool handshake_path = &path == paths_.front().get() && path.id == 0;
  PnSpaceId spaces[3] = {PnSpaceId::kInitial, PnSpaceId::kHandshake, PnSpaceId::kApp};
  std::array<bool, 3> wants{};
  size_t last = 3;
  for (size_t i = 0; i < 3; ++i) {
    if (i < 2 && !handshake_path) continue;
    wants[i] = space_wants_send(spaces[i], path, now);
    if (wants[i]) last = i;
  }
  if (last == 3) return std::nullopt;

  size_t used = 0;
  bool has_initial = false;
  const DatagramBuild d{ecn_mark_for_send(path), 0, probe_response};
  for (size_t i = 0; i <= last; ++i) {
    if (!wants[i]) continue;
    // Pad the last packet of a datagram carrying an Initial (client always; server when
    // ack-eliciting, which build_packet decides, so pad conservatively), and datagrams with
    // PATH_CHALLENGE or PATH_RESPONSE to 1200 bytes (RFC 9000 §8.2.1).
    size_t min_size = 0;
    bool path_probe = spaces[i] == PnSpaceId::kApp &&
                      (!path.responses.empty() || path.challenge_pending);
    if (i == last && (has_initial || spaces[i] == PnSpaceId::kInitial || path_probe)) {
      min_size = kMinInitialDatagramSize > used ? kMinInitialDatagramSize - used : 0;
      min_size = std::min(min_size, limit - used);
    }
    size_t n = build_packet(now, spaces[i], path, buffer.subspan(used, limit - used), min_size,
                            paced_out, data_allowed, d);
    if (n > 0 && spaces[i] == PnSpaceId::kInitial) has_initial = true;
    used += n;
    if (limit - used < 64) break;
  }
  if (used == 0) {
    if (paced_out) pacing_wakeup_ = std::min(pacing_wakeup_, send_at);
    return std::nullopt;
  }
  // The client discards Initial keys once it sends its first Handshake packet (RFC 9001 §4.9.1).
  if (side_ == Side::kClient && handshake_spaces_[1].next_pn > 0) discard_space(PnSpaceId::kInitial);
  disguise_first_flight(buffer.first(used));  // conn_version.cc: eliciting Version Negotiation
  path.bytes_sent += used;
  stats_.bytes_sent += used;
  // Paced data is only written once the pacer releases it (send_at <= now); a paced-out
  // datagram carries only ACKs and probes, which are not paced.
  return Transmit{path.local, path.remote, d.ecn, used, 0, paced_out ? now : send_at};
}

size_t Connection::build_packet(Instant now, PnSpaceId space, Path& path, MutBytes out,
                                size_t min_size, bool paced_out, bool data_allowed,
                                const DatagramBuild& d) {
  size_t si = static_cast<size_t>(space);
  CryptoLevel& level = crypto_[si];
  const bool app = space == PnSpaceId::kApp;
  PnSpace& pns = app ? path.app : pn_space(space);
  const uint64_t pn = pns.next_pn;
  const size_t pn_len =
      packet_number_length(pn, pns.has_largest_acked ? pns.largest_acked : UINT64_MAX);
  if (out.size() < 64) return 0;
  Writer w(out);
  std::optional<HeaderLayout> layout;
  zero_rtt_.building = space == PnSpaceId::kApp && zero_rtt_sending();
  PacketProtector* seal = zero_rtt_.building ? zero_rtt_.key.get() : level.seal.get();
  if (zero_rtt_.building) {
    // RFC 9000 §17.2.3: 0-RTT shares the 1-RTT packet-number space.
    layout = write_long_header(w, version_, LongType::kZeroRtt, peer_cid_, initial_scid_, Bytes(),
                               pn_len, pn);
  } else if (space == PnSpaceId::kApp) {
    // RFC 9287 §3.1: once the peer advertised grease_quic_bit, the QUIC bit is unpredictable.
    bool fixed_bit = !(peer_params_received_ && peer_params_.grease_quic_bit) || (pn & 1) == 0;
    layout = write_short_header(w, dcid_of(path), key_update_.tx_phase, false, pn_len, pn, fixed_bit);
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

  SentFrames frames;
  PacketBuilder b{fw, frames};
  uint8_t& probes_owed = app ? path.pto_probes : pto_probe_pending_[si];
  bool probe = probes_owed > 0 || d.mtu_probe_size != 0 || (app && keepalive_due(path, now));
  if (probes_owed > 0 && !app) {
    // Each handshake probe carries all unacknowledged CRYPTO data again.
    auto& tx = crypto_[si].tx;
    if (tx.sent_offset() > tx.acked_prefix()) {
      tx.on_lost(tx.acked_prefix(), tx.sent_offset() - tx.acked_prefix(), false);
    }
  }
  bool cc_blocked = bytes_in_flight(path) + path.mtu > path.cc->cwnd();
  bool may_send_data = data_allowed && (probe || (!cc_blocked && !paced_out));
  write_frames(now, space, path, b, may_send_data);
  if (app && fw.room() >= 1 && immediate_ack_wanted(path, probe, b.ack_eliciting)) {
    fw.u8(static_cast<uint8_t>(frame_type::kImmediateAck));  // conn_ack_frequency.cc
    ++stats_.immediate_acks_sent;
    b.ack_eliciting = true;
  }
  if (probe && !b.ack_eliciting) {
    fw.u8(static_cast<uint8_t>(frame_type::kPing));  // RFC 9002 §6.2.4: a probe elicits an ACK
    b.ack_eliciting = true;
  }
  if (fw.written() == 0) return 0;
  if (probes_owed > 0) --probes_owed;

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
                      : zero_rtt_.building             ? PacketKind::kZeroRtt
                                                       : PacketKind::kOneRtt;
    trace_->packet_sent(now, PacketTrace{kind, pn, total, 0, key_update_.tx_phase,
                                         Bytes(out.data() + header_len, payload_len)});
  }
  if (layout->length_field_len > 0 &&
      !patch_length(out, *layout, pn_len + payload_len + kAeadTagSize)) {
    return 0;
  }
  // multipath-21 §2.4: the path ID enters the 1-RTT nonce (path 0 leaves it unchanged).
  if (!seal->seal(pn, app && !zero_rtt_.building ? static_cast<uint32_t>(path.id) : 0,
                  Bytes(out.data(), header_len), out.data() + header_len, payload_len) ||
      !seal->protect_header(out.data(), total, layout->pn_offset, pn_len)) {
    return 0;
  }
  if (zero_rtt_.building) {
    ++stats_.zero_rtt_packets_sent;
    stats_.zero_rtt_bytes_sent += total;
  }
  pns.next_pn = pn + 1;
  ++stats_.packets_sent;
  ++path.packets_sent;
  if (app) ++key_update_.packets_in_phase;
  // A packet to a probing address (transmit_probe_responses) is kept out of the path's
  // congestion control and loss recovery: only its PN is recorded, so its ACK is legal.
  if (d.probe_response) b.ack_eliciting = padded = false;
  SentPacket sp;
  sp.pn = pn;
  sp.time_sent = now;
  sp.bytes = static_cast<uint32_t>(total);
  sp.ack_eliciting = b.ack_eliciting;
  sp.in_flight = b.ack_eliciting || padded;
  sp.ecn_marked = d.ecn != kEcnNotEct;  // ECT(0) or ECT(1), conn_ecn.cc
  if (d.mtu_probe_size != 0) {
    sp.is_mtu_probe = true;
    frames.push_back(sent::MtuProbe{path.id, d.mtu_probe_size});
  }
  if (app && b.ack_eliciting) {
    // Failure detection measures silence from the moment something is outstanding.
    if (!pns.loss.has_ack_eliciting_in_flight()) path.health.start_silence(now);
    path.last_ack_eliciting_sent = now;
  }
  for (const SentFrame& f : frames) {
    if (const auto* s = std::get_if<sent::Stream>(&f)) path.stream_bytes_sent += s->length;
  }
  pns.loss.on_packet_sent(sp, std::move(frames));
  if (app && !zero_rtt_.building) maybe_skip_packet_number(path);
  if (sp.in_flight) {
    path.cc->on_packet_sent(now, pn, sp.bytes, bytes_in_flight(path));
    path.pacer.on_packet_sent(now, sp.bytes, path.pacing_rate_bps(), path.cc->cwnd(),
                              path.mtu);
    if (send_rate_cap_bps_ > 0) {
      cap_pacer_.on_packet_sent(now, sp.bytes, send_rate_cap_bps_,
                                kPacerBurstPackets * uint64_t{path.mtu}, path.mtu);
    }
  }
  if (b.ack_eliciting) {
    // RFC 9000 §10.1: sending the first ack-eliciting packet after receiving restarts the timer.
    idle_deadline_ = std::max(idle_deadline_, now + idle_period());
  }
  return total;
}

// RFC 9000 §21.4: a peer that acknowledges packets it never received (to make us send faster)
// cannot tell which numbers we skipped, so sooner or later it acknowledges one nobody sent and
// on_ack_frame closes with PROTOCOL_VIOLATION. The loss detector remembers the last
// kMaxSkippedPacketNumbers skips and never counts them as sent, lost or RTT samples.
void Connection::maybe_skip_packet_number(Path& path) {
  PnSpace& pns = path.app;
  if (config_.skip_pn_period == 0) return;
  if (pns.skip_pn_at == 0) pns.skip_pn_at = std::max<uint64_t>(next_skip_pn(path), 1);
  if (pns.next_pn < pns.skip_pn_at) return;
  pns.loss.skip_packet_number(pns.next_pn);
  ++pns.next_pn;
  ++stats_.packet_numbers_skipped;
  pns.skip_pn_at = next_skip_pn(path);
}

// Where the next skip goes: 0.5..1.5 periods ahead, from HMAC(reset_key, label | path | next PN
// | our first CID). Keyed, so the peer cannot predict it; not drawn from random_, so turning the
// defence on leaves every other random choice (CIDs, challenges) as it was. The input is longer
// than any CID, so it never equals a stateless-reset-token input under the same key.
uint64_t Connection::next_skip_pn(const Path& path) const {
  std::array<uint8_t, 24 + kMaxCidLength> in{'p', 'n', '-', 's', 'k', 'i', 'p', 0};
  Writer w(MutBytes(in.data() + 8, in.size() - 8));
  w.u64(path.id);
  w.u64(path.app.next_pn);
  w.bytes(initial_scid_.view());
  auto mac = stateless_reset_token(config_.reset_key, Bytes(in.data(), 8 + w.written()));
  uint64_t r = 0;
  for (size_t i = 0; i < 8; ++i) r = (r << 8) | mac[i];
  const uint64_t period = config_.skip_pn_period;
  return path.app.next_pn + period / 2 + r % period;
}

bool Connection::write_ack(Instant now, PnSpace& pns, uint64_t path_id, bool path_ack, Writer& w,
                           SentFrames& sent) {
  auto ranges = pns.acks.ranges();
  if (ranges.empty()) return false;
  scratch_.acks.clear();
  for (const Range& r : ranges) scratch_.acks.push_back(AckRange{r.lo, r.hi});
  bool handshake = &pns == &handshake_spaces_[0] || &pns == &handshake_spaces_[1];
  uint64_t exponent = handshake ? 3 : config_.ack_delay_exponent;
  uint64_t delay = static_cast<uint64_t>(to_us(pns.acks.ack_delay(now))) >> exponent;
  // ACK_ECN once anything arrived marked (RFC 9000 §13.4.1).
  EcnCounters rx = pns.acks.ecn();
  std::optional<EcnCounts> ecn;
  if (rx.ect0 + rx.ect1 + rx.ce > 0) ecn = EcnCounts{rx.ect0, rx.ect1, rx.ce};
  if (!encode_ack(w, path_id, path_ack, scratch_.acks, delay, ecn)) return false;
  pns.acks.on_ack_sent(now);
  ++stats_.ack_frames_sent;
  sent.push_back(sent::Ack{scratch_.acks.front().largest, path_id});
  return true;
}

size_t Connection::write_frames(Instant now, PnSpaceId space, Path& path, PacketBuilder& b,
                                bool may_send_data) {
  size_t si = static_cast<size_t>(space);
  const bool app = space == PnSpaceId::kApp;
  PnSpace& pns = app ? path.app : pn_space(space);
  // ACK first: it is small, never congestion controlled, and keeps the peer's recovery going.
  // It rides along in a packet that carries data only when a packet arrived since the last
  // ACK (the same ACK again tells the peer nothing). Once multipath is in use every 1-RTT
  // space, path 0's included, is acknowledged with PATH_ACK (multipath-21 §2.3 "SHOULD use
  // PATH_ACK frames instead of ACK frames"); each path's packets are acknowledged on that path
  // (its RTT samples stay its own) unless it cannot carry them. RFC 9000 §17.2.3: no ACK in
  // 0-RTT (it could only acknowledge 1-RTT packets).
  if (pns.acks.has_received() && !zero_rtt_.building &&
      (pns.acks.ack_needed(now) || (may_send_data && pns.acks.has_news()))) {
    write_ack(now, pns, app ? path.id : 0, app && uses_path_frames(path.id), b.w, b.sent);
  }
  if (app && multipath_) {
    for (auto& q : paths_) {
      if (q.get() == &path || !q->app.acks.has_received()) continue;
      if (!can_carry_own_acks(*q)) {
        if (q->app.acks.ack_needed(now)) write_ack(now, q->app, q->id, true, b.w, b.sent);
      } else if (silent_ack_copy_due(*q, path, now)) {
        q->ack_copied_largest = q->app.acks.largest_received();
        write_ack(now, q->app, q->id, true, b.w, b.sent);
      }
    }
  }
  if (app && !zero_rtt_.building) write_path_frames(path, b);
  if (!may_send_data) return b.w.written();

  // CRYPTO data (handshake messages; at 1-RTT, session tickets).
  auto& tx = crypto_[si].tx;
  while (tx.has_data_to_send(UINT64_MAX) && b.w.room() > 16) {
    size_t room = b.w.room();
    size_t overhead = crypto_frame_overhead(tx.sent_offset(), room);
    if (room <= overhead) break;
    auto chunk = tx.next_chunk(room - overhead, UINT64_MAX);
    if (!chunk) break;
    CryptoFrame f{chunk->offset, tx.view(chunk->offset, chunk->length)};
    if (!encode_frame(b.w, f)) break;
    b.sent.push_back(sent::Crypto{chunk->offset, chunk->length});
    b.ack_eliciting = true;
  }
  if (!app) return b.w.written();
  for (const FrameSource& s : kFrameSources) {
    // RFC 9000 §12.5 and multipath-21 §4: PATH_RESPONSE, NEW_TOKEN, HANDSHAKE_DONE and the
    // multipath frames never go in 0-RTT.
    if (s.one_rtt_only && zero_rtt_.building) continue;
    s.write(*this, now, path, b);
  }
  return b.w.written();
}

// A path from which nothing has arrived for two of its RTTs while `carrier` still receives may
// have lost its return direction with it (a dead link): its ACKs sent on it are then lost too,
// and the peer would re-send everything that was in flight there, including what arrived. So
// its latest ACK state is repeated once on a path that works (multipath-21 §3.1 lets an ACK for
// any path travel on any path); on failover the peer then re-sends only what was really lost.
bool Connection::silent_ack_copy_due(const Path& q, const Path& carrier, Instant now) const {
  const Instant last_rx = q.app.acks.largest_received_time();
  if (q.ack_copied_largest == q.app.acks.largest_received()) return false;
  if (!carrier.app.acks.has_received() || carrier.app.acks.largest_received_time() <= last_rx) {
    return false;
  }
  return now - last_rx > 2 * q.rtt.smoothed();
}

void Connection::write_cid_frames(PacketBuilder& b) {
  // With multipath, PATH_NEW_CONNECTION_ID and PATH_RETIRE_CONNECTION_ID for every path, path
  // 0 included (multipath-21 §3.2 "SHOULD also use" them for the initial path); without it,
  // the RFC 9000 frames.
  while (!pending_new_cids_.empty()) {
    CidRef ref = pending_new_cids_.front();
    auto set = local_cids_.find(ref.path);
    const IssuedCid* c = set == local_cids_.end() ? nullptr : set->second.find(ref.seq);
    if (c != nullptr) {
      NewConnectionIdFrame f;
      f.path_id = ref.path;
      f.path_frame = uses_path_frames(ref.path);
      f.sequence = ref.seq;
      f.retire_prior_to = set->second.retire_prior_to();
      f.cid = c->cid.view();
      f.reset_token = c->token;
      if (encoded_size(f) > b.w.room()) return;
      encode_frame(b.w, f);
      b.sent.push_back(sent::NewConnectionId{ref.seq, ref.path});
      b.ack_eliciting = true;
    }
    pending_new_cids_.erase(pending_new_cids_.begin());
  }
  while (!pending_retire_cids_.empty()) {
    CidRef ref = pending_retire_cids_.front();
    RetireConnectionIdFrame f{ref.path, uses_path_frames(ref.path), ref.seq};
    if (encoded_size(f) > b.w.room()) return;
    encode_frame(b.w, f);
    b.sent.push_back(sent::RetireConnectionId{ref.seq, ref.path});
    pending_retire_cids_.erase(pending_retire_cids_.begin());
    b.ack_eliciting = true;
  }
}

size_t Connection::build_close_datagram(Path& path, MutBytes buffer) {
  if (!closing_.error) return 0;
  const Error& e = *closing_.error;
  size_t used = 0;
  // RFC 9000 §10.2.3: before the handshake is confirmed, the peer may only have Initial or
  // Handshake keys, so send the close at every level we still have; an application close
  // there becomes a transport APPLICATION_ERROR without a reason.
  for (PnSpaceId space : {PnSpaceId::kInitial, PnSpaceId::kHandshake, PnSpaceId::kApp}) {
    size_t si = static_cast<size_t>(space);
    if (discarded_[si] || !crypto_[si].seal) continue;
    if (space == PnSpaceId::kApp && !handshake_complete_) continue;
    if (space != PnSpaceId::kApp && &path != paths_.front().get()) continue;
    PnSpace& pns = space == PnSpaceId::kApp ? path.app : pn_space(space);
    MutBytes out = buffer.subspan(used, std::min<size_t>(buffer.size(), path.mtu) - used);
    if (out.size() < 64) break;
    Writer w(out);
    const uint64_t pn = pns.next_pn;
    const size_t pn_len = 4;
    auto layout = space == PnSpaceId::kApp
                      ? write_short_header(w, dcid_of(path), key_update_.tx_phase, false, pn_len, pn)
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
    uint32_t nonce_path = space == PnSpaceId::kApp ? static_cast<uint32_t>(path.id) : 0;
    if (!crypto_[si].seal->seal(pn, nonce_path, Bytes(out.data(), header_len),
                                out.data() + header_len, payload_len) ||
        !crypto_[si].seal->protect_header(out.data(), total, layout->pn_offset, pn_len)) {
      break;
    }
    pns.next_pn = pn + 1;
    used += total;
  }
  return used;
}

}  // namespace quic
