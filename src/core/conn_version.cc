// Connection: version negotiation (RFC 9368) between QUIC v1 and v2 (RFC 9369 §4).
//
// Compatible negotiation: the client's first flight (say v1) carries version_information with
// the versions it is compatible with. Before TLS reads the ClientHello, the server reads that
// list from the buffered ClientHello and may switch: from then on it sends v2 Initials (keys
// from the v2 salt over the same DCID) and its transport parameters name v2 as chosen. It
// still opens the client's v1 Initials with the original key until the Initial space goes.
// The client adopts v2 when a server Initial of that version authenticates.
//
// Incompatible negotiation (RFC 9000 §6.2, RFC 9368 §2.2): a client may start with a reserved
// version to elicit Version Negotiation; on the first genuine VN packet it restarts the
// handshake (new TLS session, new Initial keys) with the best common version, and later checks
// the server's version_information to prove the VN packet was not forged (§4).
#include <algorithm>

#include "core/connection.h"

namespace quic {

namespace {

bool same_bytes(Bytes a, Bytes b) { return std::equal(a.begin(), a.end(), b.begin(), b.end()); }

}  // namespace

Status Connection::init_version_negotiation() {
  vneg_.original = version_;
  if (side_ == Side::kServer || is_supported_version(version_)) return {};
  if (!is_reserved_version(version_)) {
    return fail(err::kInternalError, "ConnectionConfig::version is neither v1, v2 nor reserved");
  }
  // Nobody can parse a reserved version, so its Initials are v1 packets under another name.
  vneg_.disguise = version_;
  version_ = kVersion1;
  return {};
}

std::vector<uint32_t> Connection::advertised_versions() const {
  std::vector<uint32_t> list = supported_versions(config_);
  // A client's Available Versions must include its Chosen Version (RFC 9368 §3).
  if (side_ == Side::kClient && std::find(list.begin(), list.end(), version_) == list.end()) {
    list.push_back(version_);
  }
  return list;
}

Status Connection::initial_keys_for(uint32_t version, const ConnectionId& dcid,
                                    std::unique_ptr<PacketProtector>& seal,
                                    std::unique_ptr<PacketProtector>& open) const {
  InitialSecrets s = derive_initial_secrets(version, dcid.view());
  const Secret& ours = side_ == Side::kClient ? s.client : s.server;
  const Secret& theirs = side_ == Side::kClient ? s.server : s.client;
  AeadBackend backend = config_.aead == AeadBackend::kNull ? AeadBackend::kNull : AeadBackend::kAuto;
  auto sealer = PacketProtector::create(CipherSuite::kAes128Gcm, ours, version, backend);
  auto opener = PacketProtector::create(CipherSuite::kAes128Gcm, theirs, version, backend);
  if (!sealer) return std::unexpected(sealer.error());
  if (!opener) return std::unexpected(opener.error());
  seal = std::move(*sealer);
  open = std::move(*opener);
  return {};
}

// --- client: Version Negotiation packets

void Connection::on_version_negotiation(Instant now, const DatagramPacket& pkt) {
  // Servers ignore VN (§2.2); a client acts on the first one only, and never once any packet
  // of the connection authenticated (RFC 9000 §6.2) or a Retry was accepted.
  if (side_ == Side::kServer || vneg_.vn_acted || stats_.packets_received > 0 || retry_scid_) {
    trace_drop(pkt.bytes.size(), "unexpected_version_negotiation");
    return;
  }
  auto vn = parse_version_negotiation(pkt.bytes, vneg_.original);
  // It must echo our CIDs (RFC 8999 §6) and must not list the version we tried: that would
  // be a forgery trying to downgrade us (RFC 9368 §4).
  if (!vn || !same_bytes(vn->dcid, initial_scid_.view()) ||
      !same_bytes(vn->scid, original_dcid_.view()) || vn->lists_original_version) {
    trace_drop(pkt.bytes.size(), "invalid_version_negotiation");
    return;
  }
  std::vector<uint32_t> ours = supported_versions(config_);
  auto chosen = choose_from_version_negotiation(ours, vn->versions);
  if (!chosen) {
    // No packet to send: the server kept no state. The application learns why.
    std::string offered;
    for (uint32_t v : vn->versions) offered += (offered.empty() ? "" : ",") + std::to_string(v);
    closing_.error = Error{err::kVersionNegotiationError, 0,
                         "no common QUIC version; the server offers " + offered};
    state_ = State::kClosed;
    if (trace_) trace_->connection_closed(now, *closing_.error, false);
    push_event({EventKind::kClosed, 0, closing_.error->code, closing_.error->reason});
    return;
  }
  if (auto st = restart_handshake(*chosen); !st) close_with_error(now, st.error());
}

// A new first flight in `version`: new Initial keys and a new TLS session (its ClientHello
// names the new chosen version); what was sent before is forgotten without loss signals.
Status Connection::restart_handshake(uint32_t version) {
  vneg_.vn_acted = true;
  vneg_.vn_attempted = version;
  vneg_.disguise = 0;
  version_ = version;
  if (trace_) trace_->state_updated(now_, "version_negotiation");
  (void)handshake_spaces_[0].loss.discard_all();
  CryptoLevel& initial = crypto_[0];
  initial.tx = SendBuffer(SIZE_MAX);
  initial.rx = RecvBuffer();
  pto_count_ = 0;
  if (auto st = install_initial_keys(peer_cid_); !st) return st;
  tls_.reset();
  // A restarted handshake resumes if it can, without 0-RTT (the first flight is gone).
  ConnectOptions options;
  options.session_ticket = vneg_.session_ticket;
  return init_tls(vneg_.tls, options);
}

// --- compatible negotiation: which key opens an Initial of another version

PacketProtector* Connection::initial_opener(const PacketHeader& hdr) {
  if (!hdr.long_header || hdr.type != LongType::kInitial || hdr.version == version_) return nullptr;
  if (side_ == Side::kServer) {
    // The client keeps sending the original version until it sees ours (RFC 9369 §4).
    return hdr.version == vneg_.original ? vneg_.original_open.get() : nullptr;
  }
  // Client: only a version we offered, only before the server's CRYPTO in the original version
  // settled it (RFC 9369 §4), and never while our Initials still pose as a reserved version.
  if (!crypto_[0].open || vneg_.disguise != 0 || peer_params_received_ ||
      crypto_[0].rx.read_offset() > 0 || !versions_compatible(version_, hdr.version)) {
    return nullptr;
  }
  std::vector<uint32_t> offered = advertised_versions();
  if (std::find(offered.begin(), offered.end(), hdr.version) == offered.end()) return nullptr;
  if (vneg_.candidate_version != hdr.version) {
    if (!initial_keys_for(hdr.version, vneg_.initial_dcid, vneg_.candidate_seal,
                          vneg_.candidate_open)) {
      return nullptr;
    }
    vneg_.candidate_version = hdr.version;
  }
  return vneg_.candidate_open.get();
}

// A packet of another version authenticated: a client adopts the server's version. Only an
// authenticated packet can switch us, so a forged long header cannot.
void Connection::on_version_authenticated(uint32_t version) {
  if (side_ != Side::kClient || version != vneg_.candidate_version || !vneg_.candidate_open) return;
  version_ = version;
  crypto_[0].seal = std::move(vneg_.candidate_seal);
  crypto_[0].open = std::move(vneg_.candidate_open);
  vneg_.candidate_version = 0;
  if (trace_) trace_->state_updated(now_, "version_negotiated");
}

// --- server: compatible negotiation before TLS reads the ClientHello

Status Connection::buffer_client_hello(Bytes data) {
  auto& ch = vneg_.client_hello;
  ch.insert(ch.end(), data.begin(), data.end());
  if (ch.size() < 4) return {};
  size_t msg_len = 4 + (size_t{ch[1]} << 16 | size_t{ch[2]} << 8 | ch[3]);
  bool readable = ch[0] == 1 && msg_len <= kMaxBufferedClientHello;
  if (readable && ch.size() < msg_len) return {};  // the rest is in later Initials
  uint32_t chosen = vneg_.original;
  if (readable) {
    std::optional<VersionInformation> vi;
    if (auto raw = client_hello_transport_params(Bytes(ch.data(), msg_len))) {
      // A malformed set is TLS's to reject, after this (with TRANSPORT_PARAMETER_ERROR).
      if (auto tp = decode_transport_params(*raw, Role::kClient)) vi = tp->version_information;
    }
    chosen = choose_compatible_version(supported_versions(config_), !config_.versions.empty(),
                                       vneg_.original, vi);
  }
  vneg_.server_decided = true;
  if (chosen != version_) {
    vneg_.original_open = std::move(crypto_[0].open);
    version_ = chosen;
    if (auto st = install_initial_keys(vneg_.initial_dcid); !st) return st;
    if (auto st = set_local_transport_params(); !st) return st;
    if (trace_) trace_->state_updated(now_, "version_negotiated");
  }
  std::vector<uint8_t> bytes = std::move(ch);
  ch = {};
  if (auto st = tls_->provide_data(EncryptionLevel::kInitial, bytes); !st) {
    (void)drain_tls();
    return st;
  }
  return {};
}

// --- downgrade protection once the peer's parameters are authenticated

Status Connection::check_peer_version_information(const TransportParameters& tp) const {
  if (side_ == Side::kServer) {
    return check_client_version_information(vneg_.original, tp.version_information);
  }
  ClientVersionView view;
  view.negotiated = version_;
  view.offered = advertised_versions();
  view.supported = supported_versions(config_);
  if (vneg_.vn_acted) view.vn_attempted = vneg_.vn_attempted;
  return check_server_version_information(view, tp.version_information);
}

// Our Initials still pose as a reserved version: rewrite the version of every long header of
// the datagram (after sealing: nobody can open a reserved version's packets anyway).
void Connection::disguise_first_flight(MutBytes datagram) const {
  if (vneg_.disguise == 0) return;
  CoalescedPackets packets(datagram, config_.cid_length);
  while (auto pkt = packets.next()) {
    if (!pkt->header.long_header) break;
    uint8_t* v = datagram.data() + pkt->offset + 1;
    for (int i = 0; i < 4; ++i) v[i] = static_cast<uint8_t>(vneg_.disguise >> (24 - 8 * i));
  }
}

}  // namespace quic
