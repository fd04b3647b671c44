// Options shared by `tquic server|client|perf` and the helpers that turn them into core and TLS
// configuration: congestion controller, QUIC version, key log, qlog, address family, GSO/GRO.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <memory>
#include <string>
#include <vector>

#include "apps/cli_fwd.h"

#include "core/config.h"
#include "core/connection.h"
#include "io/udp_socket.h"
#include "tls/tls_config.h"

namespace apps {

inline constexpr const char* kHqAlpn = "hq-interop";

// Exit codes of the network commands.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // transfer or protocol failure
inline constexpr int kExitUsage = 2;    // bad option, unreadable file, cannot bind

struct NetOptions {
  std::string cc = "cubic";
  std::string version = "v1";
  std::string keylog;
  std::string qlog_dir;
  bool ipv6 = false;
  bool chacha20 = false;
  bool no_gso = false, no_gro = false;
  int verbose = 0;
  bool datagrams = false;  // offer DATAGRAM frames (RFC 9221); set by --datagram(s)
  // Multipath (draft-ietf-quic-multipath-21): offer it, how many paths, which scheduler.
  bool multipath = false;
  uint32_t max_paths = 4;
  std::string scheduler = "ecf";
  // Re-send DATAGRAMs in flight on a path that fails on another (docs/datagrams.md); set by
  // tunnels (tquicd), not a command-line option.
  bool datagram_resend_on_path_failure = false;
  // Re-send DATAGRAMs declared lost (within the core's window); set by tunnels.
  bool datagram_resend_on_loss = false;
  // Cap each path's window by its queueing delay (ConnectionConfig::cc_delay_bound); set by
  // tunnels (tquicd's tunnel.delay_bound).
  bool cc_delay_bound = false;
  // PING an idle connection this often (ConnectionConfig::keep_alive; 0: never); set by
  // `perf client --concurrent`, whose held connections outlive the idle timeout.
  quic::Duration keep_alive{0};
  // --window BYTES: ceiling of the auto-tuned receive windows (connection and stream) and the
  // stream send buffer; empty keeps the core's defaults (24 MiB / 16 MiB / 16 MiB). Paths with
  // very different RTTs need more (docs/BENCHMARKS.md, multipath over the link emulator).
  std::string window;
  // The DATAGRAM send queue's byte bound (ConnectionConfig::datagram_send_buffer); 0 keeps the
  // core's default. Set by masque-udp's --datagram-queue, not a net option.
  size_t datagram_send_buffer = 0;
};
// Upper bound of --window.
inline constexpr uint64_t kMaxWindowOption = uint64_t{1} << 30;

void add_net_options(CLI::App& cmd, NetOptions& o);

// Applies cc / version / qlog; the error names the bad option.
quic::Status apply_connection_options(const NetOptions& o, quic::ConnectionConfig& c);
void apply_tls_options(const NetOptions& o, quic::TlsConfig& t);
io::SocketOptions socket_options(const NetOptions& o);

// Logging to stderr, filtered by -v count (0: warnings and errors, 1: info, 2: debug).
void set_log_level(int level);
int log_level();
void log_at(int level, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

// Server side of client certificates: --client-ca FILE requires every client to present a
// certificate that chains to FILE's CAs (TLS alert certificate_required / unknown_ca otherwise).
void add_client_ca_option(CLI::App& cmd, std::string& file);
void apply_client_ca(const std::string& file, quic::TlsConfig& t);
// For per-connection log lines: the SHA-256 (hex) of the peer's leaf certificate, or "none".
std::string peer_certificate_hex(const quic::Connection& c);

// A CONNECTION_CLOSE code for people: "PROTOCOL_VIOLATION (0xa)", "CRYPTO_ERROR 0x12a
// (bad_certificate)" (RFC 9001 §4.8: 0x100 + the TLS alert, RFC 8446 §6), or for an
// application close "application error 0x10c".
std::string describe_close_code(uint64_t code, bool application);
// describe_close_code and the reason phrase, or "?" when there is no error.
std::string describe_close_error(const std::optional<quic::Error>& e);
// The IANA name of a TLS 1.3 cipher suite (RFC 8446 §B.4), e.g. TLS_AES_128_GCM_SHA256.
const char* tls_cipher_suite_name(quic::CipherSuite suite);
// The TLS alert's name (RFC 8446 §6, "bad_certificate"), or nullptr when unknown.
const char* tls_alert_name(uint8_t alert);

// SHA-256 of the DER encoding of the first certificate in `pem` (what --pin compares).
quic::Result<std::array<uint8_t, 32>> leaf_sha256(const std::string& pem);
std::string to_hex(const uint8_t* data, size_t len);
std::optional<std::array<uint8_t, 32>> parse_sha256_hex(std::string hex);

struct Url {
  std::string host;  // without brackets
  uint16_t port = 443;
  std::string path;  // starts with '/'
};
// https://host[:port]/path, host may be [v6]; nullopt when malformed.
std::optional<Url> parse_url(const std::string& text);

// "100", "64K", "10M", "1G" (binary multiples); nullopt when malformed.
std::optional<uint64_t> parse_size(const std::string& text);

// User + system CPU seconds of this process so far (getrusage).
double process_cpu_seconds();
// A duration in seconds and back, for the tools' figures and --seconds options.
inline double to_seconds(quic::Duration d) {
  return std::chrono::duration<double>(d).count();
}
inline quic::Duration from_seconds(double s) {
  return std::chrono::duration_cast<quic::Duration>(std::chrono::duration<double>(s));
}

// Reads a whole file; error names the path.
quic::Result<std::string> read_file(const std::string& path);

// Server sockets for --listen values (default 0.0.0.0:4433, [::]:4433 with --ipv6); a bad
// address or a failed bind is printed and gives nullopt (exit code kExitUsage).
struct ListenSockets {
  std::vector<std::unique_ptr<io::UdpSocket>> owned;
  std::vector<io::UdpSocket*> raw;
};
std::optional<ListenSockets> open_listen_sockets(const std::vector<std::string>& listen,
                                                 const NetOptions& net);

// A server's TLS context for `alpn` with --cert/--key, or without them an in-memory self-signed
// certificate for "localhost", plus its SHA-256 (what clients --pin). Errors are printed and
// `rc` is the exit code to use.
struct ServerIdentity {
  std::shared_ptr<const quic::TlsContext> tls;
  std::string fingerprint_hex;
};
// `client_ca`, when set: client certificates are asked for (not required) and verified
// against it; a client that sends one that does not verify fails the handshake.
std::optional<ServerIdentity> server_identity(const std::string& cert_file,
                                             const std::string& key_file, const NetOptions& net,
                                             const std::string& alpn, int& rc,
                                             const std::string& client_ca = {});

}  // namespace apps
