// Connection: 0-RTT (RFC 9000 §4.6.1, §7.4.1, §12.4, §17.2.3; RFC 9001 §4.6, §4.9.3, §5.6).
//
// Client: resuming with a ticket that allows early data (and ConnectOptions::zero_rtt), the
// TLS layer hands over the 0-RTT write secret with the ClientHello. Until the handshake
// installs 1-RTT keys, application-space packets go out as 0-RTT long-header packets in the
// 1-RTT packet-number space, bounded by the server transport parameters remembered with the
// ticket. At handshake completion the client learns whether the server accepted: if so, the
// server must not have lowered any remembered limit (else PROTOCOL_VIOLATION); if not, every
// 0-RTT packet is forgotten without a congestion signal and what it carried is queued again
// for 1-RTT, under the handshake's (possibly smaller) limits.
//
// Server: GnuTLS installs the 0-RTT read secret only when it accepted early data (ticket
// allows it, anti-replay cache says first use, ConnectionConfig::accept_0rtt). 0-RTT packets
// then open with that key; frames forbidden in 0-RTT (RFC 9000 §12.4 Table 3) close the
// connection with PROTOCOL_VIOLATION in process_frames. The key goes three PTOs after the first
// 1-RTT packet (RFC 9001 §4.9.3). Without a key, 0-RTT packets are dropped.
#include <algorithm>
#include <string>

#include "core/connection.h"

namespace quic {

namespace {

CipherSuite zero_rtt_suite(TlsCipher c) {
  switch (c) {
    case TlsCipher::kAes128Gcm: return CipherSuite::kAes128Gcm;
    case TlsCipher::kAes256Gcm: return CipherSuite::kAes256Gcm;
    case TlsCipher::kChaCha20Poly1305: break;
  }
  return CipherSuite::kChaCha20Poly1305;
}

PeerStreamParams stream_params_of(const TransportParameters& tp) {
  return PeerStreamParams{tp.initial_max_data,
                          tp.initial_max_stream_data_bidi_local,
                          tp.initial_max_stream_data_bidi_remote,
                          tp.initial_max_stream_data_uni,
                          tp.initial_max_streams_bidi,
                          tp.initial_max_streams_uni};
}

// The first limit a server that accepted 0-RTT lowered below its remembered value (RFC 9000
// §7.4.1 list; max_datagram_frame_size per RFC 9221 §3), or nullptr.
const char* lowered_limit(const TransportParameters& was, const TransportParameters& now) {
  if (now.active_connection_id_limit < was.active_connection_id_limit) {
    return "active_connection_id_limit";
  }
  if (now.initial_max_data < was.initial_max_data) return "initial_max_data";
  if (now.initial_max_stream_data_bidi_local < was.initial_max_stream_data_bidi_local) {
    return "initial_max_stream_data_bidi_local";
  }
  if (now.initial_max_stream_data_bidi_remote < was.initial_max_stream_data_bidi_remote) {
    return "initial_max_stream_data_bidi_remote";
  }
  if (now.initial_max_stream_data_uni < was.initial_max_stream_data_uni) {
    return "initial_max_stream_data_uni";
  }
  if (now.initial_max_streams_bidi < was.initial_max_streams_bidi) {
    return "initial_max_streams_bidi";
  }
  if (now.initial_max_streams_uni < was.initial_max_streams_uni) return "initial_max_streams_uni";
  if (was.max_datagram_frame_size &&
      now.max_datagram_frame_size.value_or(0) < *was.max_datagram_frame_size) {
    return "max_datagram_frame_size";
  }
  return nullptr;
}

}  // namespace

// Client, before start(): decides whether this connection offers 0-RTT at all.
Status Connection::zero_rtt_setup(const ConnectOptions& options) {
  if (!options.zero_rtt || !tls_->will_offer_early_data()) {
    tls_->disable_early_data();
    return {};
  }
  auto from_ticket = tls_->resumption_transport_params();
  Bytes raw = !options.remembered_params.empty() ? Bytes(options.remembered_params)
              : from_ticket                      ? Bytes(*from_ticket)
                                                 : Bytes();
  auto tp = raw.empty() ? Result<TransportParameters>(std::unexpected(Error{}))
                        : decode_transport_params(raw, Role::kServer);
  if (!tp) {
    // Nothing to bound 0-RTT by: resume with a 1-RTT handshake instead.
    tls_->disable_early_data();
    return {};
  }
  zero_rtt_.remembered = std::make_unique<TransportParameters>(std::move(*tp));
  return {};
}

Status Connection::zero_rtt_on_secret(const TlsSession::SecretEvent& ev) {
  const bool ours = side_ == Side::kClient ? ev.write : !ev.write;
  if (!ours || (side_ == Side::kClient && !zero_rtt_.remembered)) return {};
  Secret secret;
  std::copy_n(ev.secret.bytes.begin(), ev.secret.len, secret.bytes.begin());
  secret.len = ev.secret.len;
  auto p = PacketProtector::create(zero_rtt_suite(ev.cipher), secret, version_, config_.aead);
  if (!p) return std::unexpected(p.error());
  zero_rtt_.key = std::move(*p);
  zero_rtt_.attempted = true;
  if (side_ == Side::kClient) {
    stats_.zero_rtt_attempted = true;
    // RFC 9000 §7.4.1: until the handshake completes, the remembered limits apply.
    streams_.set_peer_params(stream_params_of(*zero_rtt_.remembered));
  } else {
    stats_.zero_rtt_attempted = stats_.zero_rtt_accepted = true;
  }
  return {};
}

bool Connection::zero_rtt_defers_peer_params() const {
  // The handshake's parameters may arrive (EncryptedExtensions) before the server's Finished;
  // 0-RTT packets sent meanwhile must still use the remembered values (RFC 9000 §7.4.1).
  return side_ == Side::kClient && zero_rtt_.key && !tls_->handshake_complete();
}

bool Connection::zero_rtt_sending() const {
  return side_ == Side::kClient && zero_rtt_.key && !crypto_[2].seal;
}

bool Connection::zero_rtt_active() const {
  return zero_rtt_sending() && state_ == State::kHandshake;
}

const TransportParameters* Connection::zero_rtt_limits() const {
  return zero_rtt_sending() && zero_rtt_.remembered ? zero_rtt_.remembered.get() : nullptr;
}

PacketProtector* Connection::zero_rtt_open_key(Instant now) {
  if (side_ != Side::kServer || !zero_rtt_.key) return nullptr;
  if (now >= zero_rtt_.discard_at) {
    zero_rtt_.key.reset();
    return nullptr;
  }
  return zero_rtt_.key.get();
}

void Connection::zero_rtt_on_packet(Instant now, bool zero_rtt_packet) {
  if (zero_rtt_packet) {
    ++stats_.zero_rtt_packets_received;
  } else if (side_ == Side::kServer && zero_rtt_.key && zero_rtt_.discard_at == kNever) {
    // RFC 9001 §4.9.3: keep 0-RTT keys for reordered packets, three PTOs at most.
    zero_rtt_.discard_at = now + 3 * pto_period();
  }
}

// Client: forgets every application-space packet sent so far (all 0-RTT) without a congestion
// signal and queues what they carried again (RFC 9000 §17.2.5.3 after a Retry; RFC 9001
// §4.6.2 after a rejection). Packet numbers keep increasing.
void Connection::zero_rtt_requeue_all(Instant) {
  if (side_ != Side::kClient || !zero_rtt_.attempted) return;
  for (const auto& record : paths_[0]->app.loss.discard_all()) {
    requeue_frames(PnSpaceId::kApp, record.frames.span(), false);
  }
  requeue_zero_rtt_datagrams();  // conn_datagrams.cc
}

Status Connection::zero_rtt_on_handshake_complete(Instant now) {
  if (side_ != Side::kClient || !zero_rtt_.attempted || zero_rtt_.resolved) return {};
  zero_rtt_.resolved = true;
  zero_rtt_.key.reset();  // RFC 9001 §4.9.3: 1-RTT keys are installed
  zero_rtt_.first_1rtt_pn = paths_[0]->app.next_pn;
  const bool accepted = tls_->early_data_accepted();
  stats_.zero_rtt_accepted = accepted;
  if (trace_) trace_->state_updated(now, accepted ? "0rtt_accepted" : "0rtt_rejected");
  if (accepted) {
    zero_rtt_.datagrams_sent.clear();
    if (const char* which = lowered_limit(*zero_rtt_.remembered, peer_params_)) {
      return fail(err::kProtocolViolation,
                  std::string("server accepted 0-RTT but lowered ") + which +
                      " below the remembered value (RFC 9000 §7.4.1)");
    }
    return {};
  }
  // Rejected: nothing sent in 0-RTT was processed (RFC 9001 §4.6.2). The stream layer keeps
  // the bytes, so they go again in 1-RTT; the handshake's limits now apply, even if smaller.
  zero_rtt_requeue_all(now);
  if (!streams_.replace_peer_params(stream_params_of(peer_params_))) {
    return fail(err::kInternalError,
                "0-RTT rejected and the server's new limits are below what was already "
                "written; reconnect without 0-RTT");
  }
  return {};  // queued DATAGRAMs above the new limits are dropped when their turn comes
}

std::vector<uint8_t> Connection::remembered_params() const {
  if (side_ != Side::kClient || !tls_) return {};
  auto raw = tls_->peer_transport_params();
  if (!raw || !handshake_complete_) return {};
  return std::vector<uint8_t>(raw->begin(), raw->end());
}

}  // namespace quic
