// Plain values of the public API: addresses, error and event names.
#include <cstdio>

#include "api/core.h"
#include "tls/test_certs.h"

namespace tquic {

std::optional<Address> Address::parse(std::string_view text) {
  auto s = quic::SocketAddress::parse(text);
  if (!s) return std::nullopt;
  return detail::from_core(*s);
}

std::string Address::to_string() const { return detail::to_core(*this).to_string(); }

const char* errc_name(Errc code) {
  switch (code) {
    case Errc::would_block: return "would_block";
    case Errc::unknown_stream: return "unknown_stream";
    case Errc::stream_reset: return "stream_reset";
    case Errc::stop_sending: return "stop_sending";
    case Errc::finished: return "finished";
    case Errc::invalid_argument: return "invalid_argument";
    case Errc::connection_closed: return "connection_closed";
  }
  return "unknown";
}

std::string to_string(const Error& error) {
  std::string s = errc_name(error.code);
  if (error.code == Errc::stream_reset || error.code == Errc::stop_sending) {
    s += " (app code " + std::to_string(error.app_code) + ")";
  }
  if (!error.detail.empty()) s += ": " + error.detail;
  return s;
}

std::string to_string(const TransportError& error) {
  char hex[32];
  std::snprintf(hex, sizeof hex, "0x%llx", static_cast<unsigned long long>(error.code));
  std::string s = error.application ? std::string("application error ") + hex
                                    : std::string("transport error ") +
                                          quic::error_name(error.code) + " (" + hex + ")";
  s += error.from_peer ? " from the peer" : " (local)";
  if (error.frame_type != 0) {
    std::snprintf(hex, sizeof hex, "0x%llx", static_cast<unsigned long long>(error.frame_type));
    s += std::string(" in frame ") + hex;
  }
  if (!error.reason.empty()) s += ": " + error.reason;
  return s;
}

const char* event_name(EventKind kind) {
  switch (kind) {
    case EventKind::handshake_completed: return "handshake_completed";
    case EventKind::stream_opened: return "stream_opened";
    case EventKind::stream_readable: return "stream_readable";
    case EventKind::stream_writable: return "stream_writable";
    case EventKind::stream_reset: return "stream_reset";
    case EventKind::stop_sending: return "stop_sending";
    case EventKind::stream_acked: return "stream_acked";
    case EventKind::streams_available: return "streams_available";
    case EventKind::datagram_received: return "datagram_received";
    case EventKind::datagrams_writable: return "datagrams_writable";
    case EventKind::datagram_payload_changed: return "datagram_payload_changed";
    case EventKind::path_validated: return "path_validated";
    case EventKind::path_failed: return "path_failed";
    case EventKind::path_recovered: return "path_recovered";
    case EventKind::path_closed: return "path_closed";
    case EventKind::closed: return "closed";
  }
  return "unknown";
}

}  // namespace tquic

namespace tquic {

std::optional<SelfSignedCertificate> make_self_signed_certificate(const std::string& host) {
  auto c = quic::make_self_signed(host);
  if (!c) return std::nullopt;
  return SelfSignedCertificate{c->cert_pem, c->key_pem};
}

}  // namespace tquic
