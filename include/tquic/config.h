// Options of an Endpoint and of the connections it makes or accepts. Plain aggregates whose
// defaults suit production; set the fields you care about. New fields are only ever appended,
// with a default that keeps today's behaviour (kApiVersion tells which fields exist).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tquic/time.h"

namespace tquic {

// Bumped whenever a public option struct gains a field or an enum a value.
inline constexpr uint32_t kApiVersion = 2;

// TLS 1.3 (the handshake runs inside the library, on GnuTLS).
struct TlsOptions {
  std::vector<std::string> alpn;    // required, e.g. {"h3"} or {"echo"}; client: offered in order
  std::string cert_file, key_file;  // server: certificate chain and key (PEM files) ...
  std::string cert_pem, key_pem;    // ... or the same PEM in memory
  std::string ca_file, ca_pem;      // client: trust anchors; both empty = system trust store
  std::string server_name;          // client: SNI and the name the certificate must carry
  bool insecure_skip_verify = false;  // client: accept any certificate (tests only)
  bool enable_early_data = true;      // session tickets and 0-RTT
  std::string keylog_file;            // NSS key log for Wireshark; empty = $SSLKEYLOGFILE
};

enum class CongestionControl : uint8_t { new_reno, cubic, bbr, lia, olia, balia };
// How a multipath connection spreads packets over its paths.
enum class PathScheduler : uint8_t { min_rtt, round_robin, weighted, ecf, blest, redundant, deadline };

struct ConnectionOptions {
  Duration idle_timeout = std::chrono::seconds(30);
  uint64_t initial_max_data = 1 << 20;         // connection receive window we start with
  uint64_t initial_max_stream_data = 256 << 10;  // per-stream receive window we start with
  uint64_t max_streams_bidi = 100;  // concurrent bidirectional streams the peer may open
  uint64_t max_streams_uni = 100;
  // Largest DATAGRAM frame (RFC 9221) we accept; 0 = DATAGRAM not offered.
  uint64_t max_datagram_frame_size = 0;
  // DATAGRAM queues, bounded in bytes and entries. A full send queue refuses a datagram
  // (would_block) and raises datagrams_writable once it drained to datagram_send_low_water
  // bytes (0: half the buffer); a full receive queue drops what arrives (counted).
  size_t datagram_send_buffer = 4 << 20;
  size_t datagram_recv_buffer = 4 << 20;
  size_t datagram_send_queue = 32768;  // entries
  size_t datagram_recv_queue = 32768;  // entries
  size_t datagram_send_low_water = 0;
  // Multipath: DATAGRAMs in flight on a path declared failed are sent once more on another
  // path (copies kept up to datagram_resend_buffer bytes); the receiver may see duplicates.
  bool datagram_resend_on_path_failure = false;
  size_t datagram_resend_buffer = 4 << 20;
  // DATAGRAMs declared lost are sent again until datagram_resend_window after the first loss
  // (a tunnel hiding its links' drops from the traffic inside; docs/datagrams.md).
  bool datagram_resend_on_loss = false;
  std::chrono::milliseconds datagram_resend_window{250};
  // Bytes one stream buffers for sending before writes come up short; must exceed the path's
  // bandwidth-delay product for full speed.
  size_t stream_send_buffer = 32 << 20;
  uint16_t max_udp_payload_size = 1472;  // largest datagram we accept
  uint16_t initial_mtu = 1200;
  uint16_t max_mtu = 1452;  // path MTU discovery (RFC 8899) probes up to this
  bool pmtud = true;
  bool ecn = true;
  CongestionControl congestion_control = CongestionControl::cubic;
  // Multipath QUIC (draft-ietf-quic-multipath-21), used when both sides offer it.
  bool multipath = false;
  uint32_t max_paths = 8;
  PathScheduler scheduler = PathScheduler::min_rtt;
  Duration keep_alive{0};  // PING after this long without sending; 0 = off
  bool accept_0rtt = false;  // server: accept 0-RTT data (replayable; opt in)
  // RESET_STREAM_AT (draft-ietf-quic-reliable-stream-reset): advertise the transport parameter
  // (WebTransport needs it; tquic::wt::configure sets it).
  bool reliable_reset = false;
};

enum class RetryPolicy : uint8_t { disabled, always, under_load };

struct EndpointOptions {
  bool server = false;
  TlsOptions tls;
  ConnectionOptions connection;
  size_t max_connections = 4096;  // server: further Initials are dropped
  RetryPolicy retry = RetryPolicy::under_load;
  // Randomness for connection IDs and tokens: nullopt = the kernel CSPRNG (getrandom). A seed
  // makes runs reproducible; only for tests and simulations (IDs become predictable).
  std::optional<uint64_t> random_seed;
};

}  // namespace tquic

namespace tquic {

struct SelfSignedCertificate {
  std::string cert_pem;  // the certificate; a client passes it as TlsOptions::ca_pem to trust it
  std::string key_pem;
};

// A fresh self-signed ECDSA P-256 certificate for `host` (its subjectAltName), for tests and
// demos only. Returns nullopt if the TLS library fails to generate it.
[[nodiscard]] std::optional<SelfSignedCertificate> make_self_signed_certificate(const std::string& host);

}  // namespace tquic
