// Connection: the TLS handshake, packet-protection keys per level, transport parameters and
// key discard (RFC 9001 §4).
#include <algorithm>

#include "core/connection.h"

namespace quic {

namespace {

EncryptionLevel level_of(PnSpaceId s) {
  switch (s) {
    case PnSpaceId::kInitial: return EncryptionLevel::kInitial;
    case PnSpaceId::kHandshake: return EncryptionLevel::kHandshake;
    case PnSpaceId::kApp: break;
  }
  return EncryptionLevel::kApplication;
}

std::optional<PnSpaceId> space_of(EncryptionLevel l) {
  switch (l) {
    case EncryptionLevel::kInitial: return PnSpaceId::kInitial;
    case EncryptionLevel::kHandshake: return PnSpaceId::kHandshake;
    case EncryptionLevel::kApplication: return PnSpaceId::kApp;
    case EncryptionLevel::kEarly: break;  // 0-RTT keys: conn_zerortt.cc
  }
  return std::nullopt;
}

CipherSuite suite_of(TlsCipher c) {
  switch (c) {
    case TlsCipher::kAes128Gcm: return CipherSuite::kAes128Gcm;
    case TlsCipher::kAes256Gcm: return CipherSuite::kAes256Gcm;
    case TlsCipher::kChaCha20Poly1305: break;
  }
  return CipherSuite::kChaCha20Poly1305;
}

}  // namespace

Status Connection::install_initial_keys(const ConnectionId& dcid) {
  vneg_.initial_dcid = dcid;  // conn_version.cc derives another version's keys from it
  return initial_keys_for(version_, dcid, crypto_[0].seal, crypto_[0].open);
}

TransportParameters Connection::local_transport_params() const {
  TransportParameters tp;
  tp.initial_source_connection_id = initial_scid_;
  if (side_ == Side::kServer) {
    tp.original_destination_connection_id = original_dcid_;
    tp.retry_source_connection_id = retry_scid_;
    tp.stateless_reset_token = local_cids_.at(0).active().front().token;
    if (const IssuedCid* pc = local_cids_.at(0).find(1);
        pc != nullptr && (config_.preferred_address_v4 || config_.preferred_address_v6)) {
      PreferredAddress pa;
      if (const auto& a = config_.preferred_address_v4) {
        std::copy_n(a->ip.begin(), 4, pa.ipv4.begin());
        pa.ipv4_port = a->port;
      }
      if (const auto& a = config_.preferred_address_v6) {
        pa.ipv6 = a->ip;
        pa.ipv6_port = a->port;
      }
      pa.cid = pc->cid;
      pa.reset_token = pc->token;
      tp.preferred_address = pa;
    }
  }
  tp.max_idle_timeout_ms = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(config_.idle_timeout).count());
  tp.max_udp_payload_size = config_.max_udp_payload_size;
  tp.initial_max_data = config_.initial_max_data;
  tp.initial_max_stream_data_bidi_local = config_.initial_max_stream_data;
  tp.initial_max_stream_data_bidi_remote = config_.initial_max_stream_data;
  tp.initial_max_stream_data_uni = config_.initial_max_stream_data;
  tp.initial_max_streams_bidi = config_.max_streams_bidi;
  tp.initial_max_streams_uni = config_.max_streams_uni;
  tp.ack_delay_exponent = config_.ack_delay_exponent;
  tp.max_ack_delay_ms = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(config_.max_ack_delay).count());
  tp.active_connection_id_limit = config_.active_connection_id_limit;
  if (config_.max_datagram_frame_size > 0) {
    tp.max_datagram_frame_size = config_.max_datagram_frame_size;
  }
  tp.version_information = VersionInformation{version_, advertised_versions()};
  tp.grease_quic_bit = true;  // RFC 9287: we accept packets with the QUIC bit cleared
  if (config_.multipath) tp.initial_max_path_id = local_max_path_id_;
  // ack-frequency §3: min_ack_delay never above our max_ack_delay (the peer checks).
  if (config_.ack_frequency) {
    tp.min_ack_delay_us = static_cast<uint64_t>(to_us(advertised_min_ack_delay()));
  }
  tp.reset_stream_at = config_.reliable_reset;
  return tp;
}

Status Connection::init_tls(std::shared_ptr<const TlsContext> tls, const ConnectOptions& options) {
  if (side_ == Side::kClient) {
    // Kept for a handshake restarted by Version Negotiation (conn_version.cc).
    vneg_.tls = tls;
    if (options.session_ticket.data() != vneg_.session_ticket.data()) {
      vneg_.session_ticket.assign(options.session_ticket.begin(), options.session_ticket.end());
    }
  }
  const bool early = side_ == Side::kServer ? config_.accept_0rtt : options.zero_rtt;
  auto session = TlsSession::create(std::move(tls), early);
  if (!session) return std::unexpected(session.error());
  tls_ = std::move(*session);
  // A ticket the TLS layer refuses (expired, garbage) just means a full handshake.
  if (!options.session_ticket.empty()) (void)tls_->set_resumption_ticket(options.session_ticket);
  if (side_ == Side::kClient) {
    if (auto st = zero_rtt_setup(options); !st) return st;
  }
  if (auto st = set_local_transport_params(); !st) return st;
  if (side_ == Side::kClient) {
    if (auto st = tls_->start(); !st) return st;
    return drain_tls();
  }
  return {};
}

// Encodes our transport parameters into the TLS session; a server calls it again when
// compatible version negotiation changes the chosen version before TLS sends them.
Status Connection::set_local_transport_params() {
  std::vector<uint8_t> buf(1024);
  TransportParameters local = local_transport_params();
  if (trace_) trace_->parameters_set(now_, true, local);
  // A reserved parameter (RFC 9000 §18.1: id 31*N+27) with random content keeps peers honest
  // about ignoring unknown parameters.
  std::array<uint8_t, 8> grease_value;
  random_.fill(grease_value);
  TransportParamGrease grease{random_.uniform(1u << 16), Bytes(grease_value.data(), grease_value[0] % 9)};
  auto n = encode_transport_params(local, buf, &grease);
  if (!n) return std::unexpected(n.error());
  buf.resize(*n);
  buf.shrink_to_fit();  // the session keeps it for the connection's handshake
  tls_->set_local_transport_params(std::move(buf));
  return {};
}

// Moves what GnuTLS produced (handshake bytes, secrets) into the connection. Never called from
// inside a GnuTLS callback.
Status Connection::drain_tls() {
  for (auto& out : tls_->take_handshake_data()) {
    auto space = space_of(out.level);
    if (!space) continue;
    crypto_[static_cast<size_t>(*space)].tx.write(out.data);
  }
  for (auto& ev : tls_->take_secrets()) {
    if (ev.level == EncryptionLevel::kEarly) {
      if (auto st = zero_rtt_on_secret(ev); !st) return st;
      continue;
    }
    auto space = space_of(ev.level);
    if (!space) continue;
    Secret secret;
    std::copy_n(ev.secret.bytes.begin(), ev.secret.len, secret.bytes.begin());
    secret.len = ev.secret.len;
    AeadBackend backend =
        config_.aead == AeadBackend::kNull ? AeadBackend::kNull : config_.aead;
    auto p = PacketProtector::create(suite_of(ev.cipher), secret, version_, backend);
    if (!p) return std::unexpected(p.error());
    auto& level = crypto_[static_cast<size_t>(*space)];
    (ev.write ? level.seal : level.open) = std::move(*p);
    if (*space == PnSpaceId::kApp && !ev.write) {
      auto next = level.open->next_key_phase();
      if (!next) return std::unexpected(next.error());
      key_update_.next_open = std::move(*next);
    }
  }
  if (side_ == Side::kClient) {
    if (auto ticket = tls_->take_session_ticket(); !ticket.empty()) session_ticket_ = std::move(ticket);
  }
  if (!peer_params_received_ && tls_->peer_transport_params() && !zero_rtt_defers_peer_params()) {
    if (auto st = on_peer_transport_params(); !st) return st;
  }
  return {};
}

Status Connection::on_crypto_frame(PnSpaceId space, const CryptoFrame& f) {
  auto& level = crypto_[static_cast<size_t>(space)];
  // Reordered CRYPTO data is buffered up to kMaxCryptoReorderBytes beyond what TLS consumed.
  uint64_t limit = level.rx.read_offset() + kMaxCryptoReorderBytes;
  if (f.offset + f.data.size() > limit) {
    return fail(err::kCryptoBufferExceeded, "CRYPTO data beyond the reorder buffer",
                frame_type::kCrypto);
  }
  if (!tls_) return on_crypto_after_release(level, f);
  level.rx.set_max_offset(limit);
  if (auto st = level.rx.insert(f.offset, f.data, false); !st) return st;
  uint8_t chunk[4096];
  for (;;) {
    size_t n = level.rx.read(chunk);
    if (n == 0) break;
    if (side_ == Side::kServer && space == PnSpaceId::kInitial && !vneg_.server_decided) {
      // Compatible version negotiation reads the ClientHello first (conn_version.cc).
      if (auto st = buffer_client_hello(Bytes(chunk, n)); !st) return st;
      continue;
    }
    if (auto st = tls_->provide_data(level_of(space), Bytes(chunk, n)); !st) {
      (void)drain_tls();  // queue the alert-triggered state; the TLS error wins
      return st;
    }
  }
  return drain_tls();
}

Status Connection::on_peer_transport_params() {
  auto raw = tls_->peer_transport_params();
  auto tp = decode_transport_params(*raw, side_ == Side::kClient ? Role::kServer : Role::kClient);
  if (!tp) return std::unexpected(tp.error());
  // RFC 9000 §7.3: authenticate the connection IDs used during the handshake.
  if (tp->initial_source_connection_id != peer_cid_) {
    return fail(err::kTransportParameterError, "initial_source_connection_id mismatch");
  }
  if (side_ == Side::kClient) {
    if (tp->original_destination_connection_id != original_dcid_) {
      return fail(err::kTransportParameterError, "original_destination_connection_id mismatch");
    }
    if (tp->retry_source_connection_id != retry_scid_) {
      return fail(err::kTransportParameterError,
                  retry_scid_ ? "retry_source_connection_id does not match the Retry"
                              : "retry_source_connection_id without Retry");
    }
  }
  if (auto st = check_peer_version_information(*tp); !st) return st;  // RFC 9368 §4
  peer_params_ = std::move(*tp);
  peer_params_received_ = true;
  if (peer_params_.stateless_reset_token) {
    peer_cids_[0].set_current_token(*peer_params_.stateless_reset_token);
  }
  if (side_ == Side::kClient && peer_params_.preferred_address) {
    if (auto st = on_preferred_address(*peer_params_.preferred_address); !st) return st;
  }
  // multipath-21 §2: on when both sides offer it; never with zero-length CIDs.
  if (config_.multipath && peer_params_.initial_max_path_id) {
    if (*peer_params_.initial_max_path_id > kMaxPathId) {
      return fail(err::kTransportParameterError, "initial_max_path_id above 2^32-1");
    }
    if (peer_cid_.len == 0 || config_.cid_length == 0) {
      return fail(err::kProtocolViolation, "multipath with a zero-length connection ID");
    }
    multipath_ = true;
    peer_max_path_id_ = *peer_params_.initial_max_path_id;
  }
  if (trace_) trace_->parameters_set(now_, false, peer_params_);
  streams_.set_peer_params(PeerStreamParams{peer_params_.initial_max_data,
                                            peer_params_.initial_max_stream_data_bidi_local,
                                            peer_params_.initial_max_stream_data_bidi_remote,
                                            peer_params_.initial_max_stream_data_uni,
                                            peer_params_.initial_max_streams_bidi,
                                            peer_params_.initial_max_streams_uni});
  if (peer_params_.max_idle_timeout_ms > 0) {
    Duration peer_idle = std::chrono::milliseconds(peer_params_.max_idle_timeout_ms);
    if (config_.idle_timeout.count() == 0 || peer_idle < config_.idle_timeout) {
      config_.idle_timeout = peer_idle;
    }
  }
  return {};
}

void Connection::discard_space(PnSpaceId space) {
  size_t i = static_cast<size_t>(space);
  if (discarded_[i] || space == PnSpaceId::kApp) return;
  discarded_[i] = true;
  crypto_[i].seal.reset();
  crypto_[i].open.reset();
  // Nothing is sent or read at this level again (RFC 9001 §4.9): its CRYPTO streams go too.
  crypto_[i].tx.discard();
  crypto_[i].rx = RecvBuffer();
  if (space == PnSpaceId::kInitial) {
    vneg_.original_open.reset();
    vneg_.candidate_seal.reset();
    vneg_.candidate_open.reset();
  }
  // RFC 9002 §6.4: in-flight packets of a discarded space leave bytes_in_flight silently.
  (void)handshake_spaces_[i].loss.discard_all();
  pto_count_ = 0;
}

void Connection::on_handshake_completed(Instant now) {
  handshake_complete_ = true;
  if (auto st = zero_rtt_on_handshake_complete(now); !st) {
    close_with_error(now, st.error());
    return;
  }
  state_ = State::kEstablished;
  stats_.handshake_time = now - created_at_;
  stats_.resumed = tls_->resumed();
  push_event({EventKind::kHandshakeCompleted});
  if (trace_) trace_->state_updated(now, "handshake_complete");
  issue_local_cids();
  if (side_ == Side::kServer) {
    // RFC 9001 §4.1.2: the server's handshake is confirmed on completion.
    handshake_done_pending_ = true;
    on_handshake_confirmed();
    // A session ticket for resumption (RFC 9001 §4.6); servers without tickets refuse quietly.
    if (tls_->send_session_ticket()) (void)drain_tls();
    release_tls();
  }
}

// Server, handshake complete (and so confirmed, RFC 9001 §4.1.2), its ticket queued as CRYPTO
// data: GnuTLS has nothing left to do. Key updates derive from the secrets the packet
// protectors hold (RFC 9001 §6); the Initial and Handshake keys are gone (§4.9); and a client
// sends no TLS message after its Finished: no KeyUpdate (§6), no post-handshake authentication
// (§4.4, we never ask). Dropping the session frees GnuTLS's per-connection state, the largest
// part of an idle connection (docs/performance.md "Many connections").
void Connection::release_tls() {
  tls_facts_ = {tls_->alpn(), tls_->peer_certificate_sha256(), tls_->peer_certificate_subject()};
  tls_.reset();
}

// CRYPTO data once the session is gone: a copy of bytes already consumed is harmless; a new
// byte can only begin a post-handshake message the client may not send, which the session
// would have refused as unexpected_message (RFC 9001 §6 names 0x010a for KeyUpdate; RFC 8446
// §6.2 for any other out-of-place message). Nothing is buffered meanwhile.
Status Connection::on_crypto_after_release(const CryptoLevel& level, const CryptoFrame& f) {
  if (f.offset + f.data.size() <= level.rx.read_offset()) return {};
  return fail(err::kCryptoErrorBase + kTlsAlertUnexpectedMessage,
              "TLS message after the handshake", frame_type::kCrypto);
}

void Connection::on_handshake_confirmed() {
  if (handshake_confirmed_) return;
  handshake_confirmed_ = true;
  if (trace_) trace_->state_updated(now_, "handshake_confirmed");
  discard_space(PnSpaceId::kHandshake);
  if (side_ == Side::kClient) migrate_to_preferred_address();
}

// --- Key update (RFC 9001 §6)

Status Connection::update_tx_keys() {
  auto next = crypto_[2].seal->next_key_phase();
  if (!next) return std::unexpected(next.error());
  crypto_[2].seal = std::move(*next);
  key_update_.tx_phase = !key_update_.tx_phase;
  key_update_.acked = false;
  if (trace_) trace_->key_updated(now_, key_update_.tx_phase != key_update_.rx_phase, key_update_.tx_phase);
  key_update_.tx_phase_first_pn = paths_.front()->app.next_pn;
  key_update_.packets_in_phase = 0;
  return {};
}

// A packet authenticated under the next receive key: the peer moved to a new key phase.
Status Connection::rotate_rx_keys(Instant now, uint64_t pn) {
  key_update_.prev_open = std::move(crypto_[2].open);
  crypto_[2].open = std::move(key_update_.next_open);
  auto next = crypto_[2].open->next_key_phase();
  if (!next) return std::unexpected(next.error());
  key_update_.next_open = std::move(*next);
  key_update_.rx_phase = !key_update_.rx_phase;
  key_update_.rx_phase_first_pn = pn;
  key_update_.prev_open_expiry = now + 3 * pto_period();
  ++stats_.key_updates;
  // The peer initiated: follow with our send keys (§6.2).
  if (key_update_.tx_phase != key_update_.rx_phase) return update_tx_keys();
  return {};
}

Status Connection::initiate_key_update() {
  if (!handshake_confirmed_ || !crypto_[2].seal) {
    return fail(err::kKeyUpdateError, "key update before the handshake is confirmed");
  }
  if (!key_update_.acked || key_update_.tx_phase != key_update_.rx_phase) {
    return fail(err::kKeyUpdateError, "previous key update not yet acknowledged");
  }
  return update_tx_keys();
}

void Connection::maybe_update_keys() {
  if (!handshake_confirmed_ || !crypto_[2].seal) return;
  uint64_t limit = config_.key_update_interval;
  if (limit == 0) limit = confidentiality_limit(crypto_[2].seal->suite()) / 2;
  if (key_update_.packets_in_phase >= limit && key_update_.acked && key_update_.tx_phase == key_update_.rx_phase) {
    (void)initiate_key_update();
  }
}

std::string Connection::alpn() const { return tls_ ? tls_->alpn() : tls_facts_.alpn; }

std::optional<CipherSuite> Connection::tls_cipher_suite() const {
  const CryptoLevel& app = crypto_[static_cast<size_t>(PnSpaceId::kApp)];
  if (!app.seal) return std::nullopt;
  return app.seal->suite();
}

std::optional<std::array<uint8_t, 32>> Connection::peer_certificate_sha256() const {
  return tls_ ? tls_->peer_certificate_sha256() : tls_facts_.peer_sha256;
}

std::string Connection::peer_certificate_subject() const {
  return tls_ ? tls_->peer_certificate_subject() : tls_facts_.peer_subject;
}

}  // namespace quic
