#include "tls/tls_session.h"

#include <arpa/inet.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "tls/tls_context.h"
#include "tls/tls_extensions.h"

namespace quic {
namespace {

constexpr int kTransportParamsExt = 0x39;           // RFC 9001 §8.2
constexpr uint16_t kEarlyDataExt = 42;              // RFC 8446 §4.2.10
constexpr uint32_t kQuicMaxEarlyData = 0xffffffff;  // RFC 9001 §4.6.1
constexpr uint8_t kTlsAlertInternalError = 80;

// Resumption ticket as handed to the application: magic, flags, the server's transport
// parameters (RFC 9000 §7.4.1 needs them for 0-RTT), then GnuTLS's session data.
constexpr uint8_t kTicketMagic[4] = {'T', 'Q', 'T', '1'};
constexpr uint8_t kTicketFlagEarlyData = 1;

TlsSession* self_of(gnutls_session_t s) {
  return static_cast<TlsSession*>(gnutls_session_get_ptr(s));
}

std::optional<TlsCipher> map_cipher(gnutls_cipher_algorithm_t c) {
  switch (c) {
    case GNUTLS_CIPHER_AES_128_GCM:
      return TlsCipher::kAes128Gcm;
    case GNUTLS_CIPHER_AES_256_GCM:
      return TlsCipher::kAes256Gcm;
    case GNUTLS_CIPHER_CHACHA20_POLY1305:
      return TlsCipher::kChaCha20Poly1305;
    default:
      return std::nullopt;
  }
}

bool is_ip_literal(const std::string& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

// Finds early_data in a NewSessionTicket body (RFC 8446 §4.6.1). nullopt: absent or malformed
// (GnuTLS rejects malformed tickets itself).
std::optional<uint32_t> ticket_max_early_data(Bytes body) {
  Reader r(body);
  if (!r.u32() || !r.u32()) return std::nullopt;
  auto nonce_len = r.u8();
  if (!nonce_len || !r.skip(*nonce_len)) return std::nullopt;
  auto ticket_len = r.u16();
  if (!ticket_len || !r.skip(*ticket_len)) return std::nullopt;
  auto data = find_tls_extension(r, kEarlyDataExt);
  if (!data) return std::nullopt;
  Reader d(*data);
  auto v = d.u32();
  if (!v || !d.empty()) return std::nullopt;
  return *v;
}

}  // namespace

// Every GnuTLS callback: copy what it reports into the session's queues, never call back in.
// Only a negative return is an error for GnuTLS (except the verify callback: any non-zero).
struct TlsCallbacks {
  static int on_secret(gnutls_session_t s, gnutls_record_encryption_level_t level,
                       const void* read_secret, const void* write_secret, size_t size) {
    TlsSession* self = self_of(s);
    auto lvl = static_cast<EncryptionLevel>(level);
    gnutls_cipher_algorithm_t alg =
        lvl == EncryptionLevel::kEarly ? gnutls_early_cipher_get(s) : gnutls_cipher_get(s);
    auto cipher = map_cipher(alg);
    if (!cipher || size == 0 || size > TlsSecret{}.bytes.size()) {
      return GNUTLS_E_INTERNAL_ERROR;
    }
    auto push = [&](const void* p, bool write) {
      if (!p) return;
      TlsSession::SecretEvent ev{lvl, write, {}, *cipher};
      std::memcpy(ev.secret.bytes.data(), p, size);
      ev.secret.len = static_cast<uint8_t>(size);
      self->secrets_.push_back(ev);
    };
    push(read_secret, false);
    push(write_secret, true);
    if (read_secret && lvl != EncryptionLevel::kEarly) self->read_level_ = lvl;
    return 0;
  }

  static int on_handshake_out(gnutls_session_t s, gnutls_record_encryption_level_t level,
                              gnutls_handshake_description_t htype, const void* data, size_t size) {
    if (htype == GNUTLS_HANDSHAKE_CHANGE_CIPHER_SPEC) return 0;  // never in QUIC (§8.4)
    TlsSession* self = self_of(s);
    auto lvl = static_cast<EncryptionLevel>(level);
    auto* p = static_cast<const uint8_t*>(data);
    if (self->out_.empty() || self->out_.back().level != lvl) self->out_.push_back({lvl, {}});
    self->out_.back().data.insert(self->out_.back().data.end(), p, p + size);
    return 0;
  }

  static int on_alert(gnutls_session_t s, gnutls_record_encryption_level_t, gnutls_alert_level_t,
                      gnutls_alert_description_t desc) {
    TlsSession* self = self_of(s);
    if (!self->alert_) self->alert_ = static_cast<uint8_t>(desc);
    return 0;
  }

  static int on_tp_recv(gnutls_session_t s, const unsigned char* data, size_t size) {
    TlsSession* self = self_of(s);
    if (size > kMaxPeerTransportParamsBytes) {
      self->callback_error_ =
          Error{err::kTransportParameterError, 0,
                "peer transport parameters exceed kMaxPeerTransportParamsBytes"};
      return GNUTLS_E_RECEIVED_ILLEGAL_PARAMETER;
    }
    // Replace, don't reject: a server sees it in both ClientHellos around a HelloRetryRequest.
    self->peer_tp_.emplace(data, data + size);
    return 0;
  }

  static int on_tp_send(gnutls_session_t s, gnutls_buffer_t buf) {
    TlsSession* self = self_of(s);
    if (!self->local_tp_set_) return 0;  // appending nothing omits the extension
    int rc = gnutls_buffer_append_data(buf, self->local_tp_.data(), self->local_tp_.size());
    return rc < 0 ? rc : 0;
  }

  static int on_hook(gnutls_session_t s, unsigned htype, unsigned when, unsigned incoming,
                     const gnutls_datum_t* msg) {
    TlsSession* self = self_of(s);
    if (!incoming) return 0;
    const bool server = self->ctx_->config().server;
    if (htype == GNUTLS_HANDSHAKE_KEY_UPDATE && when == GNUTLS_HOOK_PRE) {
      // QUIC replaces TLS KeyUpdate with its own key phase (RFC 9001 §6).
      return GNUTLS_E_UNEXPECTED_PACKET;
    }
    if (server && htype == GNUTLS_HANDSHAKE_CLIENT_HELLO && when == GNUTLS_HOOK_POST) {
      gnutls_datum_t proto{};
      if (gnutls_alpn_get_selected_protocol(s, &proto) < 0) {
        return GNUTLS_E_NO_APPLICATION_PROTOCOL;  // RFC 9001 §8.1
      }
      if (!self->peer_tp_) return GNUTLS_E_MISSING_EXTENSION;  // RFC 9001 §8.2
      return 0;
    }
    if (server) return 0;
    if (htype == GNUTLS_HANDSHAKE_FINISHED && when == GNUTLS_HOOK_PRE) {
      // EncryptedExtensions has been parsed by now.
      gnutls_datum_t proto{};
      if (gnutls_alpn_get_selected_protocol(s, &proto) < 0) {
        return GNUTLS_E_NO_APPLICATION_PROTOCOL;
      }
      if (!self->peer_tp_) return GNUTLS_E_MISSING_EXTENSION;
      return 0;
    }
    if (htype == GNUTLS_HANDSHAKE_NEW_SESSION_TICKET && when == GNUTLS_HOOK_PRE && msg) {
      auto early = ticket_max_early_data(Bytes(msg->data, msg->size));
      if (early && *early != kQuicMaxEarlyData) {
        self->callback_error_ = Error{err::kProtocolViolation, 0,
                                      "NewSessionTicket max_early_data_size is not 0xffffffff"};
        return GNUTLS_E_RECEIVED_ILLEGAL_PARAMETER;
      }
      self->last_ticket_allows_early_ = early.has_value();
      return 0;
    }
    if (htype == GNUTLS_HANDSHAKE_NEW_SESSION_TICKET && when == GNUTLS_HOOK_POST) {
      gnutls_datum_t data{};
      if (gnutls_session_get_data2(s, &data) < 0) return 0;  // no ticket; not fatal
      const std::vector<uint8_t>& tp = self->peer_tp_ ? *self->peer_tp_ : std::vector<uint8_t>{};
      std::vector<uint8_t> t(sizeof(kTicketMagic) + 1 + 8 + tp.size() + data.size);
      Writer w(t);
      w.bytes(Bytes(kTicketMagic, sizeof(kTicketMagic)));
      w.u8(self->last_ticket_allows_early_ ? kTicketFlagEarlyData : 0);
      w.varint(tp.size());
      w.bytes(tp);
      w.bytes(Bytes(data.data, data.size));
      if (!w.ok()) return 0;
      t.resize(w.written());
      gnutls_free(data.data);
      self->new_ticket_ = std::move(t);
      return 0;
    }
    return 0;
  }

  static int on_verify(gnutls_session_t s) { return self_of(s)->verify_peer(); }

  static int on_keylog(gnutls_session_t s, const char* label, const gnutls_datum_t* secret) {
    gnutls_datum_t client_random{}, server_random{};
    gnutls_session_get_random(s, &client_random, &server_random);
    self_of(s)->ctx_->write_keylog(label, client_random.data, client_random.size, secret->data,
                                   secret->size);
    return 0;
  }
};

TlsSession::TlsSession(std::shared_ptr<const TlsContext> ctx, bool allow_early_data)
    : ctx_(std::move(ctx)), allow_early_(allow_early_data) {}

TlsSession::~TlsSession() {
  if (session_) gnutls_deinit(session_);
}

Result<std::unique_ptr<TlsSession>> TlsSession::create(std::shared_ptr<const TlsContext> ctx,
                                                      bool allow_early_data) {
  if (!ctx) return fail(err::kInternalError, "TlsSession::create without a TlsContext");
  std::unique_ptr<TlsSession> s(new TlsSession(std::move(ctx), allow_early_data));
  // The client's GnuTLS session waits for start(): whether it may offer 0-RTT depends on the
  // resumption ticket, and that is an init flag.
  if (s->is_server()) {
    if (auto st = s->init_gnutls(); !st) return std::unexpected(st.error());
  }
  return s;
}

bool TlsSession::is_server() const {
  return ctx_->config().server;
}

Status TlsSession::init_gnutls() {
  TlsClockScope ctx_time(*ctx_);  // gnutls_init stamps the session; set_data checks expiry
  const TlsConfig& c = ctx_->config();
  const bool server = c.server;
  const bool early = c.enable_early_data && allow_early_ && (server || resume_allows_early_);
  unsigned flags = GNUTLS_NO_END_OF_EARLY_DATA;  // RFC 9001 §8.3: no EndOfEarlyData in QUIC
  flags |= server ? (GNUTLS_SERVER | GNUTLS_NO_AUTO_SEND_TICKET) : GNUTLS_CLIENT;
  if (early) flags |= GNUTLS_ENABLE_EARLY_DATA;
  if (!c.enable_early_data) flags |= GNUTLS_NO_TICKETS;
  gnutls_session_t s = nullptr;
  int rc = gnutls_init(&s, flags);
  if (rc < 0) return fail(err::kInternalError, std::string("gnutls_init: ") + gnutls_strerror(rc));
  session_ = s;
  gnutls_session_set_ptr(s, this);

  if ((rc = gnutls_priority_set(s, ctx_->priority())) < 0) return fail_with(rc, "priority");
  gnutls_handshake_set_hook_function(s, GNUTLS_HANDSHAKE_ANY, GNUTLS_HOOK_BOTH,
                                     &TlsCallbacks::on_hook);
  gnutls_handshake_set_secret_function(s, &TlsCallbacks::on_secret);
  gnutls_handshake_set_read_function(s, &TlsCallbacks::on_handshake_out);
  gnutls_alert_set_read_function(s, &TlsCallbacks::on_alert);
  rc = gnutls_session_ext_register(
      s, "quic_transport_parameters", kTransportParamsExt, GNUTLS_EXT_TLS,
      &TlsCallbacks::on_tp_recv, &TlsCallbacks::on_tp_send, nullptr, nullptr, nullptr,
      GNUTLS_EXT_FLAG_TLS | GNUTLS_EXT_FLAG_CLIENT_HELLO | GNUTLS_EXT_FLAG_EE);
  if (rc < 0) return fail_with(rc, "register quic_transport_parameters");
  gnutls_handshake_set_max_packet_length(s, kMaxHandshakeMessageBytes);
  // The connection owns handshake timeouts; GnuTLS's default 40 s one reads the wall clock.
  gnutls_handshake_set_timeout(s, 0);
  if (ctx_->has_keylog()) gnutls_session_set_keylog_function(s, &TlsCallbacks::on_keylog);

  if ((rc = gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, ctx_->credentials())) < 0) {
    return fail_with(rc, "credentials");
  }
  const auto& alpn = ctx_->alpn_datums();
  rc = gnutls_alpn_set_protocols(
      s, alpn.data(), static_cast<unsigned>(alpn.size()),
      server ? (GNUTLS_ALPN_MANDATORY | GNUTLS_ALPN_SERVER_PRECEDENCE) : 0);
  if (rc < 0) return fail_with(rc, "ALPN");

  if (server) {
    if (c.enable_early_data) {
      rc = gnutls_session_ticket_enable_server(s, ctx_->ticket_key());
      if (rc < 0) return fail_with(rc, "session tickets");
    }
    if (c.client_auth != ClientAuth::kNone) {
      gnutls_certificate_server_set_request(
          s, c.client_auth == ClientAuth::kRequire ? GNUTLS_CERT_REQUIRE : GNUTLS_CERT_REQUEST);
      // No certificate_authorities list (RFC 8446 §4.2.4): a client holding one certificate
      // must send it even when its issuer is not trusted, so the refusal names the reason
      // (unknown_ca) instead of a misleading certificate_required.
      gnutls_certificate_send_x509_rdn_sequence(s, 1);
      gnutls_session_set_verify_function(s, &TlsCallbacks::on_verify);
    }
    if (early) {
      // RFC 8446 §8: 0-RTT only behind the context's replay cache.
      gnutls_anti_replay_enable(s, ctx_->anti_replay());
      rc = gnutls_record_set_max_early_data_size(s, kQuicMaxEarlyData);  // RFC 9001 §4.6.1
      if (rc < 0) return fail_with(rc, "max_early_data_size");
    }
    return {};
  }

  // RFC 6066 §3: SNI carries DNS names only.
  if (!c.server_name.empty() && !is_ip_literal(c.server_name)) {
    rc = gnutls_server_name_set(s, GNUTLS_NAME_DNS, c.server_name.data(), c.server_name.size());
    if (rc < 0) return fail_with(rc, "server name");
  }
  gnutls_session_set_verify_function(s, &TlsCallbacks::on_verify);
  if (!resume_data_.empty()) {
    rc = gnutls_session_set_data(s, resume_data_.data(), resume_data_.size());
    if (rc < 0) return fail_with(rc, "resumption ticket");
  }
  return {};
}

void TlsSession::set_local_transport_params(std::vector<uint8_t> encoded) {
  local_tp_ = std::move(encoded);
  local_tp_set_ = true;
}

Status TlsSession::set_resumption_ticket(Bytes ticket) {
  if (is_server() || started_) {
    return fail(err::kInternalError, "set_resumption_ticket: client only, before start()");
  }
  if (ticket.size() > kMaxResumptionTicketBytes) {
    return fail(err::kInternalError, "resumption ticket exceeds kMaxResumptionTicketBytes");
  }
  Reader r(ticket);
  auto magic = r.bytes(sizeof(kTicketMagic));
  auto flags = r.u8();
  auto tp_len = r.varint();
  std::optional<Bytes> tp;
  if (tp_len) tp = r.bytes(*tp_len);
  if (!magic || !std::equal(magic->begin(), magic->end(), kTicketMagic) || !flags || !tp ||
      r.empty()) {
    return fail(err::kInternalError, "malformed resumption ticket");
  }
  resume_allows_early_ = (*flags & kTicketFlagEarlyData) != 0;
  resume_tp_.emplace(tp->begin(), tp->end());
  Bytes rest = r.rest();
  resume_data_.assign(rest.begin(), rest.end());
  return {};
}

std::optional<std::vector<uint8_t>> TlsSession::resumption_transport_params() const {
  return resume_tp_;
}

bool TlsSession::will_offer_early_data() const {
  return !is_server() && ctx_->config().enable_early_data && allow_early_ && resume_allows_early_;
}

Status TlsSession::start() {
  if (failed_) return std::unexpected(*failed_);
  if (is_server() || started_) return {};
  started_ = true;
  if (auto st = init_gnutls(); !st) return st;
  auto st = run_handshake();
  if (st || !resume_allows_early_) return st;
  // GnuTLS 3.7.9 drops an expired ticket from the ClientHello but still offers early_data,
  // then fails installing 0-RTT keys (GNUTLS_E_INVALID_REQUEST). Nothing has reached the peer
  // yet, so start over without 0-RTT; the ticket, if still usable, is offered again.
  gnutls_deinit(session_);
  session_ = nullptr;
  failed_.reset();
  alert_.reset();
  callback_error_.reset();
  out_.clear();
  secrets_.clear();
  resume_allows_early_ = false;
  if (auto again = init_gnutls(); !again) return again;
  return run_handshake();
}

Status TlsSession::provide_data(EncryptionLevel level, Bytes data) {
  if (failed_) return std::unexpected(*failed_);
  if (!session_) return fail(err::kInternalError, "provide_data before start()");
  if (data.empty()) return {};
  // RFC 9000 §19.6 / RFC 9001 §4.1.3: no CRYPTO in 0-RTT, and new bytes only at the level
  // whose keys GnuTLS reads with now (retransmissions are filtered by the connection).
  if (level == EncryptionLevel::kEarly || level != read_level_) {
    failed_ = Error{err::kProtocolViolation, 0, "CRYPTO data at an unexpected encryption level"};
    return std::unexpected(*failed_);
  }
  if (!scanners_[static_cast<size_t>(level)].feed(data)) {
    // decode_error, as GnuTLS itself reports a message over the limit once complete.
    failed_ = Error{err::kCryptoErrorBase + GNUTLS_A_DECODE_ERROR, 0,
                    "handshake message exceeds kMaxHandshakeMessageBytes"};
    return std::unexpected(*failed_);
  }
  TlsClockScope ctx_time(*ctx_);
  int rc = gnutls_handshake_write(session_, static_cast<gnutls_record_encryption_level_t>(level),
                                  data.data(), data.size());
  if (rc < 0 && gnutls_error_is_fatal(rc)) return fail_with(rc, "handshake data");
  // A partial post-handshake message returns GNUTLS_E_AGAIN: more bytes will follow.
  if (complete_) return {};
  return run_handshake();
}

bool TlsSession::MessageScanner::feed(Bytes data) {
  size_t pos = 0;
  while (pos < data.size()) {
    if (body_left > 0) {
      size_t n = std::min(body_left, data.size() - pos);
      body_left -= n;
      pos += n;
      continue;
    }
    header[header_have++] = data[pos++];
    if (header_have < 4) continue;
    header_have = 0;
    body_left = (size_t{header[1]} << 16) | (size_t{header[2]} << 8) | header[3];
    if (body_left > kMaxHandshakeMessageBytes) return false;
  }
  return true;
}

Status TlsSession::run_handshake() {
  TlsClockScope ctx_time(*ctx_);
  int rc = gnutls_handshake(session_);
  if (rc == 0) {
    complete_ = true;
    return {};
  }
  if (gnutls_error_is_fatal(rc)) return fail_with(rc, "handshake");
  return {};  // GNUTLS_E_AGAIN / INTERRUPTED: waiting for the peer
}

Status TlsSession::fail_with(int rc, const char* where) {
  if (callback_error_) {
    failed_ = *callback_error_;
    return std::unexpected(*failed_);
  }
  // Failures raise no alert by themselves; this maps the error to one through on_alert.
  if (session_ && !alert_) gnutls_alert_send_appropriate(session_, rc);
  uint8_t alert = kTlsAlertInternalError;
  if (alert_) {
    alert = *alert_;
  } else if (int a = gnutls_error_to_alert(rc, nullptr); a >= 0) {
    alert = static_cast<uint8_t>(a);
  }
  std::string reason = std::string(where) + ": " + gnutls_strerror(rc);
  failed_ = Error{err::kCryptoErrorBase + alert, 0, std::move(reason)};
  return std::unexpected(*failed_);
}

namespace {

// The alert for a chain GnuTLS did not accept (RFC 8446 §6.2).
uint8_t alert_for_status(unsigned status) {
  if (status & GNUTLS_CERT_SIGNER_NOT_FOUND) return GNUTLS_A_UNKNOWN_CA;
  if (status & (GNUTLS_CERT_EXPIRED | GNUTLS_CERT_NOT_ACTIVATED)) {
    return GNUTLS_A_CERTIFICATE_EXPIRED;  // "expired or is not currently valid"
  }
  if (status & GNUTLS_CERT_REVOKED) return GNUTLS_A_CERTIFICATE_REVOKED;
  return GNUTLS_A_BAD_CERTIFICATE;
}

std::string status_text(unsigned status) {
  gnutls_datum_t text{};
  if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &text, 0) < 0) {
    return "certificate not accepted";
  }
  std::string out(reinterpret_cast<const char*>(text.data), text.size);
  gnutls_free(text.data);
  return out;
}

std::optional<std::array<uint8_t, 32>> sha256_of(const gnutls_datum_t& der) {
  std::array<uint8_t, 32> digest{};
  if (gnutls_hash_fast(GNUTLS_DIG_SHA256, der.data, der.size, digest.data()) < 0) {
    return std::nullopt;
  }
  return digest;
}

const gnutls_datum_t* peer_leaf(gnutls_session_t s) {
  unsigned n = 0;
  const gnutls_datum_t* certs = s ? gnutls_certificate_get_peers(s, &n) : nullptr;
  return certs && n > 0 ? &certs[0] : nullptr;
}

}  // namespace

int TlsSession::refuse_peer(uint8_t alert, std::string reason) {
  callback_error_ =
      Error{err::kCryptoErrorBase + alert, 0, "peer certificate: " + std::move(reason)};
  return GNUTLS_E_CERTIFICATE_ERROR;
}

// GnuTLS calls this once the peer's Certificate and CertificateVerify are checked (RFC 8446
// §4.4.2-3), on a client always, on a server only when it asked for a certificate. GnuTLS's
// own time checks read the context's clock (TlsClockScope is active in every call into it).
int TlsSession::verify_peer() {
  const TlsConfig& c = ctx_->config();
  const gnutls_datum_t* leaf = peer_leaf(session_);
  if (!leaf) {
    // GnuTLS fails an empty client Certificate itself under kRequire (certificate_required).
    if (c.server && c.client_auth == ClientAuth::kRequest) return 0;
    return refuse_peer(GNUTLS_A_BAD_CERTIFICATE, "none sent");
  }
  if (c.insecure_skip_verify) return 0;
  if (c.pinned_sha256 && sha256_of(*leaf) != c.pinned_sha256) {
    return refuse_peer(GNUTLS_A_BAD_CERTIFICATE, "leaf does not match the pinned SHA-256");
  }
  if (!ctx_->verifies_chain()) return 0;
  // Purpose (RFC 5280 §4.2.1.12): a server certificate cannot log a client in, and vice versa.
  std::vector<gnutls_typed_vdata_st> data;
  auto purpose = const_cast<char*>(c.server ? GNUTLS_KP_TLS_WWW_CLIENT : GNUTLS_KP_TLS_WWW_SERVER);
  data.push_back({GNUTLS_DT_KEY_PURPOSE_OID, reinterpret_cast<unsigned char*>(purpose), 0});
  if (!c.server && !c.server_name.empty()) {
    // The string lives in the context this session holds.
    auto host = const_cast<char*>(c.server_name.c_str());
    data.push_back({GNUTLS_DT_DNS_HOSTNAME, reinterpret_cast<unsigned char*>(host), 0});
  }
  unsigned status = 0;
  int rc = gnutls_certificate_verify_peers(session_, data.data(),
                                           static_cast<unsigned>(data.size()), &status);
  if (rc < 0) return refuse_peer(GNUTLS_A_BAD_CERTIFICATE, gnutls_strerror(rc));
  if (status != 0) return refuse_peer(alert_for_status(status), status_text(status));
  return 0;
}

std::optional<std::array<uint8_t, 32>> TlsSession::peer_certificate_sha256() const {
  const gnutls_datum_t* leaf = peer_leaf(session_);
  return leaf ? sha256_of(*leaf) : std::nullopt;
}

std::string TlsSession::peer_certificate_subject() const {
  const gnutls_datum_t* leaf = peer_leaf(session_);
  gnutls_x509_crt_t crt = nullptr;
  if (!leaf || gnutls_x509_crt_init(&crt) < 0) return {};
  std::string out;
  gnutls_datum_t dn{};
  if (gnutls_x509_crt_import(crt, leaf, GNUTLS_X509_FMT_DER) >= 0 &&
      gnutls_x509_crt_get_dn3(crt, &dn, 0) >= 0) {
    out.assign(reinterpret_cast<const char*>(dn.data),
               std::min<size_t>(dn.size, kMaxPeerSubjectBytes));
    gnutls_free(dn.data);
  }
  gnutls_x509_crt_deinit(crt);
  return out;
}

std::vector<TlsSession::Output> TlsSession::take_handshake_data() {
  return std::exchange(out_, {});
}

std::vector<TlsSession::SecretEvent> TlsSession::take_secrets() {
  return std::exchange(secrets_, {});
}

std::optional<Bytes> TlsSession::peer_transport_params() const {
  if (!peer_tp_) return std::nullopt;
  return Bytes(*peer_tp_);
}

std::string TlsSession::alpn() const {
  gnutls_datum_t proto{};
  if (!session_ || gnutls_alpn_get_selected_protocol(session_, &proto) < 0) return {};
  return std::string(reinterpret_cast<const char*>(proto.data), proto.size);
}

bool TlsSession::resumed() const {
  return session_ && gnutls_session_is_resumed(session_) != 0;
}

bool TlsSession::early_data_accepted() const {
  return session_ && (gnutls_session_get_flags(session_) & GNUTLS_SFLAGS_EARLY_DATA) != 0;
}

std::vector<uint8_t> TlsSession::take_session_ticket() {
  return std::exchange(new_ticket_, {});
}

Status TlsSession::send_session_ticket() {
  if (failed_) return std::unexpected(*failed_);
  if (!is_server() || !complete_) {
    return fail(err::kInternalError, "send_session_ticket: server only, after the handshake");
  }
  if (!ctx_->config().enable_early_data) return {};  // tickets disabled
  TlsClockScope ctx_time(*ctx_);
  int rc = gnutls_session_ticket_send(session_, 1, 0);
  if (rc < 0) return fail_with(rc, "NewSessionTicket");
  return {};
}

}  // namespace quic
