// Connection: what happens to the information a packet carried once the packet is
// acknowledged, or declared lost (or probed by a PTO, or stranded on a failed path), one
// record type (core/sent_frame.h) at a time: each `acked` handler sits next to its `lost`
// handler, and std::visit refuses to compile a record without both.
#include <algorithm>
#include <variant>

#include "core/connection.h"

namespace quic {

struct Connection::SentRecordHandler {
  Connection& c;
  PnSpaceId space;
  bool declared_lost = false;  // lost(): a real loss, not a PTO probe or re-injection

  // ACK / PATH_ACK: once acknowledged, the ranges it covered need not be sent again
  // (RFC 9000 §13.2.4). Never retransmitted: a newer ACK says more.
  void acked(const sent::Ack& f) {
    if (space != PnSpaceId::kApp) {
      c.pn_space(space).acks.on_ack_of_ack(f.largest);
    } else if (Path* q = c.path_by_id(f.path)) {
      q->app.acks.on_ack_of_ack(f.largest);
    }
  }
  void lost(const sent::Ack&) {}

  void acked(const sent::Crypto& f) {
    SendBuffer& tx = c.crypto_[static_cast<size_t>(space)].tx;
    tx.on_acked(f.offset, f.length, false);
    // Without a TLS session nothing more is written: once all is acknowledged (a server's
    // session ticket), the stream's ring goes.
    if (!c.tls_ && tx.buffered() == 0) tx.discard();
  }
  void lost(const sent::Crypto& f) {
    c.crypto_[static_cast<size_t>(space)].tx.on_lost(f.offset, f.length, false);
  }

  void acked(const sent::Stream& f) {
    c.streams_.on_stream_chunk_acked(f.id, f.offset, f.length, f.fin);
  }
  void lost(const sent::Stream& f) {
    if (declared_lost) c.stats_.stream_bytes_retransmitted += f.length;
    c.streams_.on_stream_chunk_lost(f.id, f.offset, f.length, f.fin);
  }

  void acked(const sent::Control& f) { c.streams_.on_control_acked(f.frame); }
  void lost(const sent::Control& f) { c.streams_.on_control_lost(f.frame); }

  void acked(const sent::HandshakeDone&) {}
  void lost(const sent::HandshakeDone&) { c.handshake_done_pending_ = true; }

  void acked(const sent::NewToken&) {}
  void lost(const sent::NewToken&) { c.new_token_pending_ = true; }

  void acked(const sent::NewConnectionId&) {}
  void lost(const sent::NewConnectionId& f) {
    CidRef ref{f.path, f.seq};
    auto set = c.local_cids_.find(ref.path);
    if (set != c.local_cids_.end() && set->second.find(ref.seq) != nullptr &&
        std::find(c.pending_new_cids_.begin(), c.pending_new_cids_.end(), ref) ==
            c.pending_new_cids_.end()) {
      c.pending_new_cids_.push_back(ref);
    }
  }

  void acked(const sent::RetireConnectionId&) {}
  void lost(const sent::RetireConnectionId& f) {
    CidRef ref{f.path, f.seq};
    if (std::find(c.pending_retire_cids_.begin(), c.pending_retire_cids_.end(), ref) ==
        c.pending_retire_cids_.end()) {
      c.pending_retire_cids_.push_back(ref);
    }
  }

  void acked(const sent::PathAbandon&) {}
  void lost(const sent::PathAbandon& f) {
    if (Path* p = c.path_by_id(f.path); p && p->state == PathState::kAbandoned) {
      p->abandon_pending = true;  // multipath-21 §4.2: repeated when lost
    }
  }

  void acked(const sent::PathStatus&) {}
  void lost(const sent::PathStatus& f) {
    if (Path* p = c.path_by_id(f.path)) p->role.status_lost(f.seq);
  }

  void acked(const sent::MaxPathId&) {}
  void lost(const sent::MaxPathId& f) {
    if (f.limit == c.local_max_path_id_) c.max_path_id_pending_ = true;
  }

  void acked(const sent::MtuProbe& f) {
    if (Path* q = c.path_by_id(f.path)) c.on_mtu_probe_acked(c.now_, *q, f.size);
  }
  void lost(const sent::MtuProbe& f) {
    if (Path* q = c.path_by_id(f.path); q && declared_lost) c.on_mtu_probe_lost(c.now_, *q, f.size);
  }

  // RFC 9221 §5: a lost DATAGRAM is not retransmitted. A PTO probe keeps the copy (the packet
  // may still arrive); reinject() re-sends it if the path fails (conn_datagrams.cc).
  void acked(const sent::Datagram& f) { c.datagram_copies_.remove(f.copy); }
  void lost(const sent::Datagram& f) {
    if (declared_lost) c.datagram_copies_.remove(f.copy);
  }

  void acked(const sent::AckFrequency& f) { c.on_ack_frequency_acked(f); }
  void lost(const sent::AckFrequency& f) { c.on_ack_frequency_lost(f); }
};

void Connection::on_packets_acked(PnSpaceId space, std::span<const SentFrames> acked) {
  SentRecordHandler h{*this, space};
  for (const SentFrames& frames : acked) {
    for (const SentFrame& f : frames) std::visit([&](const auto& r) { h.acked(r); }, f);
  }
}

// Schedules the information a packet carried for sending again (RFC 9000 §13.3). Used for
// lost packets and, without forgetting the packet, for PTO probes and re-injection.
void Connection::requeue_frames(PnSpaceId space, std::span<const SentFrame> frames,
                                bool declared_lost) {
  SentRecordHandler h{*this, space, declared_lost};
  for (const SentFrame& f : frames) std::visit([&](const auto& r) { h.lost(r); }, f);
}

}  // namespace quic
