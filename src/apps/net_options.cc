#include "apps/net_options.h"

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <sys/resource.h>

#include <cstdarg>
#include <cstdio>
#include <fstream>
#include <sstream>

#include <CLI/CLI.hpp>

#include "core/connection.h"
#include "mp/scheduler.h"
#include "obs/qlog_writer.h"
#include "tls/test_certs.h"

namespace apps {

namespace {
int g_log_level = 0;
}

void add_net_options(CLI::App& cmd, NetOptions& o) {
  cmd.add_option("--cc", o.cc,
                 "congestion controller: cubic | newreno | bbr | lia | olia | balia (coupled)")
      ->capture_default_str();
  cmd.add_option("--version", o.version, "QUIC version: v1 | v2")->capture_default_str();
  cmd.add_option("--keylog", o.keylog, "write TLS secrets (NSS key log format) to FILE");
  cmd.add_option("--qlog-dir", o.qlog_dir, "write a qlog (JSON-SEQ) per connection into DIR");
  cmd.add_flag("--ipv6", o.ipv6, "use IPv6 (default listen address [::], resolve AAAA first)");
  cmd.add_flag("--chacha20", o.chacha20, "offer/accept only TLS_CHACHA20_POLY1305_SHA256");
  cmd.add_flag("--no-gso", o.no_gso, "do not use UDP GSO (UDP_SEGMENT) for sending");
  cmd.add_flag("--no-gro", o.no_gro, "do not use UDP GRO for receiving");
  cmd.add_flag("-v,--verbose", o.verbose, "more logging (repeat for debug)");
  cmd.add_flag("--multipath", o.multipath, "offer multipath QUIC (draft-ietf-quic-multipath-21)");
  cmd.add_option("--max-paths", o.max_paths, "multipath: paths allowed at once")
      ->check(CLI::Range(uint32_t{1}, static_cast<uint32_t>(quic::kMaxPathsLimit)))
      ->capture_default_str();
  cmd.add_option("--scheduler", o.scheduler,
                 "multipath packet scheduler: minrtt | roundrobin | weighted | ecf | blest | redundant | deadline")
      ->capture_default_str();
  cmd.add_option("--window", o.window,
                 "receive window ceiling and stream send buffer, bytes (K/M/G; default: 24M "
                 "connection, 16M stream and send buffer)");
}

quic::Status apply_connection_options(const NetOptions& o, quic::ConnectionConfig& c) {
  auto cc = quic::parse_cc_name(o.cc);
  if (!cc) return quic::fail(0, "--cc: unknown congestion controller '" + o.cc + "'");
  c.cc = *cc;
  if (o.version == "v1") {
    c.version = quic::kVersion1;
  } else if (o.version == "v2") {
    c.version = quic::kVersion2;
  } else {
    return quic::fail(0, "--version: expected v1 or v2, got '" + o.version + "'");
  }
  auto sched = quic::parse_scheduler(o.scheduler);
  if (!sched) return quic::fail(0, "--scheduler: unknown scheduler '" + o.scheduler + "'");
  c.multipath = o.multipath;
  c.datagram_resend_on_path_failure = o.datagram_resend_on_path_failure;
  c.datagram_resend_on_loss = o.datagram_resend_on_loss;
  c.cc_delay_bound = o.cc_delay_bound;
  c.keep_alive = o.keep_alive;
  c.max_paths = o.max_paths;
  c.scheduler = *sched;
  c.qlog_dir = o.qlog_dir;
  if (!o.window.empty()) {
    auto w = parse_size(o.window);
    if (!w || *w < (64u << 10) || *w > kMaxWindowOption) {
      return quic::fail(0, "--window: expected 64K..1G, got '" + o.window + "'");
    }
    c.max_connection_window = c.max_stream_window = *w;
    c.stream_send_buffer = static_cast<size_t>(*w);
  }
  if (o.datagrams) c.max_datagram_frame_size = 65535;
  if (o.datagram_send_buffer != 0) c.datagram_send_buffer = o.datagram_send_buffer;
  if (!o.qlog_dir.empty()) c.trace = obs::qlog_factory(o.qlog_dir);
  return {};
}

void apply_tls_options(const NetOptions& o, quic::TlsConfig& t) {
  t.alpn = {kHqAlpn};
  t.keylog_file = o.keylog;
  t.chacha20_only = o.chacha20;
}

void add_client_ca_option(CLI::App& cmd, std::string& file) {
  cmd.add_option("--client-ca", file,
                 "require a client certificate issued under these CAs (PEM); the log shows its "
                 "SHA-256");
}

void apply_client_ca(const std::string& file, quic::TlsConfig& t) {
  if (file.empty()) return;
  t.client_auth = quic::ClientAuth::kRequire;
  t.ca_file = file;
}

const char* tls_alert_name(uint8_t alert) {
  struct Named {
    uint8_t code;
    const char* name;
  };
  // RFC 8446 §6 (the AlertDescription enum), in code order.
  static constexpr Named kAlerts[] = {
      {0, "close_notify"},
      {10, "unexpected_message"},
      {20, "bad_record_mac"},
      {22, "record_overflow"},
      {40, "handshake_failure"},
      {42, "bad_certificate"},
      {43, "unsupported_certificate"},
      {44, "certificate_revoked"},
      {45, "certificate_expired"},
      {46, "certificate_unknown"},
      {47, "illegal_parameter"},
      {48, "unknown_ca"},
      {49, "access_denied"},
      {50, "decode_error"},
      {51, "decrypt_error"},
      {70, "protocol_version"},
      {71, "insufficient_security"},
      {80, "internal_error"},
      {86, "inappropriate_fallback"},
      {90, "user_canceled"},
      {109, "missing_extension"},
      {110, "unsupported_extension"},
      {112, "unrecognized_name"},
      {113, "bad_certificate_status_response"},
      {115, "unknown_psk_identity"},
      {116, "certificate_required"},
      {120, "no_application_protocol"},
  };
  for (const Named& a : kAlerts) {
    if (a.code == alert) return a.name;
  }
  return nullptr;
}

std::string describe_close_code(uint64_t code, bool application) {
  char s[96];
  if (application) {
    std::snprintf(s, sizeof(s), "application error 0x%llx", static_cast<unsigned long long>(code));
  } else if (code >= quic::err::kCryptoErrorBase && code <= quic::err::kCryptoErrorBase + 0xff) {
    const char* alert = tls_alert_name(static_cast<uint8_t>(code - quic::err::kCryptoErrorBase));
    std::snprintf(s, sizeof(s), "CRYPTO_ERROR 0x%llx (%s)", static_cast<unsigned long long>(code),
                  alert ? alert : "unknown TLS alert");
  } else {
    std::snprintf(s, sizeof(s), "%s (0x%llx)", quic::error_name(code),
                  static_cast<unsigned long long>(code));
  }
  return s;
}

std::string describe_close_error(const std::optional<quic::Error>& e) {
  if (!e) return "?";
  std::string s = describe_close_code(e->code, e->application);
  return e->reason.empty() ? s : s + " " + e->reason;
}

const char* tls_cipher_suite_name(quic::CipherSuite suite) {
  switch (suite) {
    case quic::CipherSuite::kAes128Gcm: return "TLS_AES_128_GCM_SHA256";
    case quic::CipherSuite::kAes256Gcm: return "TLS_AES_256_GCM_SHA384";
    case quic::CipherSuite::kChaCha20Poly1305: return "TLS_CHACHA20_POLY1305_SHA256";
  }
  return "?";
}

std::string peer_certificate_hex(const quic::Connection& c) {
  auto fp = c.peer_certificate_sha256();
  return fp ? to_hex(fp->data(), fp->size()) : "none";
}

io::SocketOptions socket_options(const NetOptions& o) {
  io::SocketOptions s;
  s.gso = !o.no_gso;
  s.gro = !o.no_gro;
  return s;
}

void set_log_level(int level) {
  g_log_level = level;
}
int log_level() {
  return g_log_level;
}

void log_at(int level, const char* fmt, ...) {
  if (level > g_log_level) return;
  va_list ap;
  va_start(ap, fmt);
  std::fputs("tquic: ", stderr);
  std::vfprintf(stderr, fmt, ap);
  std::fputc('\n', stderr);
  va_end(ap);
}

quic::Result<std::array<uint8_t, 32>> leaf_sha256(const std::string& pem) {
  gnutls_x509_crt_t crt;
  if (gnutls_x509_crt_init(&crt) < 0) return quic::fail(0, "gnutls_x509_crt_init");
  gnutls_datum_t d{reinterpret_cast<unsigned char*>(const_cast<char*>(pem.data())),
                   static_cast<unsigned>(pem.size())};
  std::array<uint8_t, 32> out{};
  size_t len = out.size();
  int rc = gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM);
  if (rc >= 0) rc = gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA256, out.data(), &len);
  gnutls_x509_crt_deinit(crt);
  if (rc < 0 || len != 32) return quic::fail(0, std::string("certificate: ") + gnutls_strerror(rc));
  return out;
}

std::string to_hex(const uint8_t* data, size_t len) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < len; ++i) {
    s += digits[data[i] >> 4];
    s += digits[data[i] & 15];
  }
  return s;
}

std::optional<std::array<uint8_t, 32>> parse_sha256_hex(std::string hex) {
  std::string clean;
  for (char ch : hex) {
    if (ch != ':') clean += ch;
  }
  if (clean.size() != 64) return std::nullopt;
  std::array<uint8_t, 32> out{};
  for (size_t i = 0; i < 32; ++i) {
    int v = 0;
    for (int k = 0; k < 2; ++k) {
      char ch = clean[2 * i + k];
      int d = ch >= '0' && ch <= '9'   ? ch - '0'
              : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
              : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
                                       : -1;
      if (d < 0) return std::nullopt;
      v = v * 16 + d;
    }
    out[i] = static_cast<uint8_t>(v);
  }
  return out;
}

std::optional<Url> parse_url(const std::string& text) {
  const std::string scheme = "https://";
  if (text.rfind(scheme, 0) != 0) return std::nullopt;
  std::string rest = text.substr(scheme.size());
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  Url u;
  u.path = slash == std::string::npos ? "/" : rest.substr(slash);
  std::string port;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string::npos) return std::nullopt;
    u.host = authority.substr(1, close - 1);
    std::string tail = authority.substr(close + 1);
    if (!tail.empty()) {
      if (tail.front() != ':') return std::nullopt;
      port = tail.substr(1);
    }
  } else {
    size_t colon = authority.rfind(':');
    u.host = authority.substr(0, colon);
    if (colon != std::string::npos) port = authority.substr(colon + 1);
  }
  if (u.host.empty()) return std::nullopt;
  if (!port.empty()) {
    auto p = parse_size(port);
    if (!p || *p == 0 || *p > 65535 || port.find_first_not_of("0123456789") != std::string::npos) {
      return std::nullopt;
    }
    u.port = static_cast<uint16_t>(*p);
  }
  return u;
}

std::optional<uint64_t> parse_size(const std::string& text) {
  if (text.empty()) return std::nullopt;
  uint64_t v = 0;
  size_t i = 0;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
    if (v > (UINT64_MAX - 9) / 10) return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(text[i] - '0');
  }
  if (i == 0) return std::nullopt;
  std::string suffix = text.substr(i);
  int shift = 0;
  if (suffix.empty()) {
    shift = 0;
  } else if (suffix == "K" || suffix == "k" || suffix == "KiB") {
    shift = 10;
  } else if (suffix == "M" || suffix == "MiB") {
    shift = 20;
  } else if (suffix == "G" || suffix == "GiB") {
    shift = 30;
  } else {
    return std::nullopt;
  }
  if (shift && v > (UINT64_MAX >> shift)) return std::nullopt;
  return v << shift;
}

double process_cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

quic::Result<std::string> read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return quic::fail(0, "cannot read " + path);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::optional<ListenSockets> open_listen_sockets(const std::vector<std::string>& listen,
                                                 const NetOptions& net) {
  std::vector<std::string> addrs = listen;
  if (addrs.empty()) addrs.push_back(net.ipv6 ? "[::]:4433" : "0.0.0.0:4433");
  ListenSockets out;
  for (const auto& text : addrs) {
    auto addr = quic::SocketAddress::parse(text);
    if (!addr) {
      std::fprintf(stderr, "tquic: --listen: expected ADDR:PORT, got '%s'\n", text.c_str());
      return std::nullopt;
    }
    auto sock = io::UdpSocket::open(*addr, socket_options(net));
    if (!sock) {
      std::fprintf(stderr, "tquic: %s\n", sock.error().reason.c_str());
      return std::nullopt;
    }
    for (const auto& w : (*sock)->warnings()) {
      log_at(net.no_gso ? 1 : 0, "warning: %s", w.c_str());
    }
    out.raw.push_back(sock->get());
    out.owned.push_back(std::move(*sock));
  }
  return out;
}

std::optional<ServerIdentity> server_identity(const std::string& cert_file,
                                             const std::string& key_file, const NetOptions& net,
                                             const std::string& alpn, int& rc,
                                             const std::string& client_ca) {
  quic::TlsConfig tc;
  tc.server = true;
  apply_tls_options(net, tc);
  tc.alpn = {alpn};
  if (!client_ca.empty()) {
    tc.client_auth = quic::ClientAuth::kRequest;
    tc.ca_file = client_ca;
  }
  rc = kExitUsage;
  std::string cert_pem;
  if (cert_file.empty() != key_file.empty()) {
    std::fprintf(stderr, "tquic: --cert and --key go together\n");
    return std::nullopt;
  }
  if (!cert_file.empty()) {
    auto pem = read_file(cert_file);
    if (!pem) {
      std::fprintf(stderr, "tquic: %s\n", pem.error().reason.c_str());
      return std::nullopt;
    }
    cert_pem = *pem;
    tc.cert_file = cert_file;
    tc.key_file = key_file;
  } else {
    auto cert = quic::make_self_signed("localhost");
    if (!cert) {
      std::fprintf(stderr, "tquic: self-signed certificate: %s\n", cert.error().reason.c_str());
      rc = kExitFailure;
      return std::nullopt;
    }
    cert_pem = tc.cert_pem = cert->cert_pem;
    tc.key_pem = cert->key_pem;
  }
  auto fp = leaf_sha256(cert_pem);
  auto tls = quic::make_tls_context(tc);
  if (!fp || !tls) {
    std::fprintf(stderr, "tquic: TLS: %s\n", (!fp ? fp.error() : tls.error()).reason.c_str());
    return std::nullopt;
  }
  return ServerIdentity{*tls, to_hex(fp->data(), fp->size())};
}

}  // namespace apps
