// One connection's TLS 1.3 handshake over GnuTLS's QUIC interface (RFC 9001 §4).
//
// Sans-I/O: the connection feeds in-order CRYPTO bytes per encryption level and, after every
// call, drains handshake bytes to send and newly installed secrets. GnuTLS is never re-entered
// from its callbacks; everything it reports is queued here. Errors carry CRYPTO_ERROR codes
// (err::kCryptoErrorBase + TLS alert) unless a QUIC-level code applies (PROTOCOL_VIOLATION for
// CRYPTO data at the wrong level, TRANSPORT_PARAMETER_ERROR for an oversized extension).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "tls/tls_config.h"
#include "wire/varint.h"

struct gnutls_session_int;  // GnuTLS's session type, kept out of this header

namespace quic {

// Peer-controlled bounds enforced by the adapter.
// The peer's quic_transport_parameters body; legitimate sets are a few hundred bytes.
inline constexpr size_t kMaxPeerTransportParamsBytes = 16384;
// One handshake message. GnuTLS 3.7.9 buffers a message until it is complete and only then
// checks its size, so an announced 16 MiB would be buffered: the adapter reads the message
// headers itself. A 9-certificate chain is under 8 KiB; 64 KiB leaves room for RSA chains.
inline constexpr size_t kMaxHandshakeMessageBytes = 65536;
// The peer certificate's subject DN handed to the application (a longer one is cut).
inline constexpr size_t kMaxPeerSubjectBytes = 1024;
// A stored resumption ticket handed back by the application (local, but parsed defensively).
inline constexpr size_t kMaxResumptionTicketBytes = 65536;
// TLS alert unexpected_message (RFC 8446 §6.2); CRYPTO_ERROR 0x010a in QUIC (RFC 9001 §4.8).
inline constexpr uint8_t kTlsAlertUnexpectedMessage = 10;

class TlsSession {
 public:
  // allow_early_data: server: accept 0-RTT (when the context enables tickets); client: offer
  // 0-RTT when resuming with a ticket that allows it. Off, the session neither offers nor
  // accepts early data, and a server's tickets then carry no early_data extension.
  static Result<std::unique_ptr<TlsSession>> create(std::shared_ptr<const TlsContext> ctx,
                                                    bool allow_early_data = true);
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  bool is_server() const;

  // Body of our quic_transport_parameters extension (0x39); set before start()/first data.
  // Left unset, the extension is omitted (the peer then fails with missing_extension).
  void set_local_transport_params(std::vector<uint8_t> encoded);

  // Client: a ticket from take_session_ticket() of an earlier connection; call before start().
  Status set_resumption_ticket(Bytes ticket);
  // Client: the server transport parameters remembered in that ticket (RFC 9000 §7.4.1), for
  // 0-RTT limits; nullopt without a ticket.
  std::optional<std::vector<uint8_t>> resumption_transport_params() const;
  // Client: true when start() will offer 0-RTT (the ticket allows it and early data is on).
  bool will_offer_early_data() const;
  // Client, before start(): resume without offering 0-RTT (e.g. unusable remembered params).
  void disable_early_data() { allow_early_ = false; }

  Status start();  // client: produces the ClientHello (and the 0-RTT write secret)

  // In-order CRYPTO bytes received at `level` (reassembled by the connection).
  Status provide_data(EncryptionLevel level, Bytes data);

  struct Output {
    EncryptionLevel level;
    std::vector<uint8_t> data;
  };
  std::vector<Output> take_handshake_data();

  struct SecretEvent {
    EncryptionLevel level;
    bool write;
    TlsSecret secret;
    TlsCipher cipher;
  };
  std::vector<SecretEvent> take_secrets();

  bool handshake_complete() const { return complete_; }
  std::optional<Bytes> peer_transport_params() const;  // raw ext 0x39 body from the peer
  std::string alpn() const;
  bool resumed() const;
  bool early_data_accepted() const;  // server: 0-RTT accepted; client: server accepted it
  // The peer's leaf certificate once its Certificate message has arrived (on a resumed
  // session, what GnuTLS kept from the original one): SHA-256 of the DER encoding, and the
  // subject DN (RFC 4514 string, at most kMaxPeerSubjectBytes). nullopt / "" when the peer
  // sent none, e.g. a client that was not asked. Verified only if the handshake completed.
  std::optional<std::array<uint8_t, 32>> peer_certificate_sha256() const;
  std::string peer_certificate_subject() const;

  // Client: the latest ticket (with the server's transport parameters); empty if none new.
  std::vector<uint8_t> take_session_ticket();
  Status send_session_ticket();  // server: after handshake completion (NewSessionTicket)

 private:
  TlsSession(std::shared_ptr<const TlsContext> ctx, bool allow_early_data);
  Status init_gnutls();
  Status run_handshake();
  Status fail_with(int gnutls_rc, const char* where);
  int verify_peer();  // the GnuTLS verify callback's decision
  int refuse_peer(uint8_t alert, std::string reason);

  friend struct TlsCallbacks;  // GnuTLS callbacks, defined in tls_session.cc

  std::shared_ptr<const TlsContext> ctx_;
  gnutls_session_int* session_ = nullptr;
  bool allow_early_ = true;  // see create()
  bool started_ = false;
  bool complete_ = false;
  std::optional<Error> failed_;  // sticky: once set, every call returns it

  std::vector<uint8_t> local_tp_;
  bool local_tp_set_ = false;
  std::optional<std::vector<uint8_t>> peer_tp_;

  std::vector<uint8_t> resume_data_;               // GnuTLS session data to resume with
  std::optional<std::vector<uint8_t>> resume_tp_;  // server TPs stored with that ticket
  bool resume_allows_early_ = false;               // ticket said max_early_data 0xffffffff
  std::vector<uint8_t> new_ticket_;                // encoded ticket not yet taken
  bool last_ticket_allows_early_ = false;          // from the NewSessionTicket PRE hook

  // Tracks handshake message boundaries in one level's CRYPTO stream to refuse oversized
  // messages from their header (see kMaxHandshakeMessageBytes).
  struct MessageScanner {
    uint8_t header[4] = {};
    size_t header_have = 0;
    size_t body_left = 0;
    bool feed(Bytes data);  // false: a message over the limit was announced
  };
  MessageScanner scanners_[4];

  EncryptionLevel read_level_ = EncryptionLevel::kInitial;  // where CRYPTO data may arrive
  std::vector<Output> out_;
  std::vector<SecretEvent> secrets_;
  std::optional<uint8_t> alert_;         // alert GnuTLS wanted to send
  std::optional<Error> callback_error_;  // QUIC-level error decided in a callback
};

}  // namespace quic
