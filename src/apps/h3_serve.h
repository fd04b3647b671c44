// `tquic serve DIR`: a static file server over HTTP/3 (RFC 9114, ALPN "h3") on h3::Session.
// GET and HEAD; content types from a small extension table; index.html for directories; single
// byte ranges (RFC 9110 §14: 206, or 416 when unsatisfiable; several ranges are ignored and the
// whole file is sent, which §14.2 allows); no directory listings; one access-log line per
// request on stderr. Paths go through resolve_request_path (hq_server.h), so nothing outside
// DIR is reachable, symlinks included.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "apps/net_options.h"
#include "apps/wt_echo.h"
#include "core/endpoint.h"
#include "h3/session.h"

namespace apps {

inline constexpr const char* kH3Alpn = "h3";
// Peer-controlled bound: a request path longer than this is answered 414.
inline constexpr size_t kMaxServePath = 4096;

struct ServeOptions {
  std::string dir;
  std::vector<std::string> listen;  // ADDR:PORT each; empty: 0.0.0.0:4433 ([::]:4433 with --ipv6)
  std::string cert, key;
  std::string client_ca;  // --client-ca: require client certificates under these CAs
  bool retry = false;  // Retry every new client (RFC 9000 §8.1.2), not only under load
  bool zero_rtt = false;  // accept 0-RTT requests (replayable: only for idempotent content)
  // --webtransport-echo PATH: WebTransport sessions to PATH echo streams and datagrams; GET PATH
  // serves the example page. Without --cert/--key a short-lived certificate is minted.
  std::string webtransport_echo;
  NetOptions net;
};
void add_serve_options(CLI::App& cmd, ServeOptions& o);
int run_serve(const ServeOptions& o);

// "text/html; charset=utf-8" for "x.html" and so on; application/octet-stream when unknown.
std::string_view content_type_for(std::string_view path);

// A Range header value against a representation of `size` bytes (RFC 9110 §14.1.2).
struct ByteRange {
  uint64_t first = 0, last = 0;  // inclusive
};
enum class RangeKind : uint8_t { kIgnore, kSatisfiable, kUnsatisfiable };
RangeKind parse_range(std::string_view value, uint64_t size, ByteRange* out);

// "/a%20b/?q" -> "/a b/": drops the query and fragment, decodes %XX; nullopt when malformed.
std::optional<std::string> decode_request_path(std::string_view target);

struct ServeCounters {
  uint64_t connections = 0, requests = 0, bytes_sent = 0;
};

// The application half of the server, driven by io::EndpointDriver's hook.
class H3ServeApp {
 public:
  explicit H3ServeApp(std::string root_real) : root_(std::move(root_real)) {}
  // Every connection also runs the WebTransport echo at `path`; `page` is served at GET path.
  void enable_webtransport(std::string path, std::string page) {
    wt_path_ = std::move(path);
    wt_page_ = std::move(page);
  }
  ~H3ServeApp();
  void on_activity(quic::Endpoint& endpoint, quic::Instant now);
  const ServeCounters& counters() const { return counters_; }
  // "server-conn PEER: ..." on stderr for each connection whose line is not out yet (at
  // shutdown; a closed connection's line leaves when it closes).
  void log_open_connections() const {
    for (const auto& [h, conn] : conns_) {
      if (!conn.summary_logged) log_summary(conn);
    }
  }

 private:
  struct Response {
    int fd = -1;
    uint64_t offset = 0, end = 0;  // file bytes [offset, end) still to send
  };
  struct Conn {
    std::unique_ptr<h3::Session> session;
    std::unique_ptr<WtEcho> wt;  // after the session: destroyed before it
    std::map<uint64_t, Response> responses;
    std::string peer;
    std::string client_cert = "none";  // SHA-256 hex of the client's certificate
    quic::ConnectionStats last;  // the connection's figures at its last activity
    bool summary_logged = false;  // printed once, when the connection closed
  };
  void drive(quic::Connection& c, Conn& conn, quic::Instant now);
  static void log_summary(const Conn& conn);
  static void log_settings(const Conn& conn);
  void on_request(Conn& conn, uint64_t id, const std::vector<h3::Field>& fields);
  void respond(Conn& conn, uint64_t id, const std::string& method, const std::string& path,
               uint16_t status, std::string_view body, std::vector<h3::Field> extra = {});
  void pump(Conn& conn, uint64_t id, Response& r);
  void drop(Conn& conn, uint64_t id);

  std::string root_;
  std::string wt_path_, wt_page_;  // empty: no WebTransport
  std::map<quic::ConnectionHandle, Conn> conns_;
  std::set<quic::ConnectionHandle> busy_;  // a response or WebTransport in progress: every turn
  ServeCounters counters_;
  std::vector<uint8_t> buf_;
};

}  // namespace apps
