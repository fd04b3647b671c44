// `tquic server` and `tquic perf server`: HTTP/0.9 over QUIC ("hq-interop" ALPN, as the
// quic-interop-runner uses it). A request is one client bidirectional stream carrying
// "GET /path\r\n" and FIN; the response is the file's bytes and FIN. The perf routes add
// "GET /perf/<N>" (N bytes of a fixed pattern) and "POST /perf\r\n<body>" (the body is counted and
// the reply is "<count>\r\n").
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "apps/net_options.h"
#include "common/range_set.h"
#include "core/endpoint.h"

namespace apps {

// Application error codes on RESET_STREAM (hq-interop defines none; ours, documented in
// docs/io.md).
inline constexpr uint64_t kHqBadRequest = 0x10;  // malformed or oversized request
inline constexpr uint64_t kHqNotFound = 0x11;    // no such file (or outside the root)
inline constexpr uint64_t kHqIoError = 0x12;     // the file could not be read

// Peer-controlled bounds.
inline constexpr size_t kMaxRequestLine = 4096;        // "GET /path\r\n"
inline constexpr uint64_t kMaxPerfBytes = 1ull << 40;  // largest /perf/<N>

// The byte at `offset` of every perf response: period 251, so shifted data fails the check.
inline uint8_t perf_byte(uint64_t offset) {
  return static_cast<uint8_t>(offset % 251);
}
// A buffer of perf bytes long enough to slice any chunk of `chunk` bytes at any offset from
// (it starts at pattern offset 0; slice at offset % 251).
const std::vector<uint8_t>& perf_pattern(size_t chunk);

// Maps a request path to a file under `root_real` (an absolute, symlink-free directory); nullopt
// for anything that is not a regular file inside it ("..", absolute escapes, symlinks out).
std::optional<std::string> resolve_request_path(const std::string& root_real,
                                                const std::string& path);

struct HqServerOptions {
  std::vector<std::string> listen;  // ADDR:PORT each; empty: 0.0.0.0:4433 ([::]:4433 with --ipv6)
  std::string root;                 // directory served; empty: no files
  bool perf = false;                // enable the /perf routes
  std::string cert, key;
  std::string client_ca;  // --client-ca: require client certificates under these CAs
  bool json = false;      // perf server: final statistics as JSON
  bool datagram = false;  // offer DATAGRAM and echo every datagram received
  bool retry = false;     // answer every Initial without a valid token with Retry
  bool zero_rtt = false;  // accept 0-RTT from resuming clients (replay-protected)
  size_t max_connections = quic::EndpointConfig{}.max_connections;  // further Initials dropped
  NetOptions net;
};
// Upper bound of --max-connections (each connection costs memory: docs/BENCHMARKS.md).
inline constexpr size_t kMaxServerConnections = 100'000;

void add_server_options(CLI::App& cmd, HqServerOptions& o);
int run_server(const HqServerOptions& o);

struct ServerCounters {
  uint64_t connections = 0, handshakes = 0, requests = 0, bytes_sent = 0, bytes_received = 0;
  uint64_t resets = 0;
  uint64_t datagrams_echoed = 0;
};

// The application half of the server, driven by io::EndpointDriver's hook.
class HqServerApp {
 public:
  HqServerApp(std::string root_real, bool perf, bool echo_datagrams = false)
      : root_(std::move(root_real)), perf_(perf), echo_(echo_datagrams) {}
  void on_activity(quic::Endpoint& endpoint, quic::Instant now);
  const ServerCounters& counters() const { return counters_; }

 private:
  enum class Kind : uint8_t { kPending, kFile, kPerf, kUpload, kDone };
  struct Stream {
    std::string head;
    bool head_done = false, request_fin = false, fin_written = false;
    Kind kind = Kind::kPending;
    int fd = -1;
    uint64_t size = 0, offset = 0, upload_bytes = 0;
    std::string reply;
  };
  struct Conn {
    std::map<uint64_t, Stream> streams;
    // Requests already answered (stream ID / 4: client bidi streams are 0, 4, 8 ...), so a late
    // event for one does not start a new, empty request.
    quic::RangeSet answered;
    bool handshake_done = false;
  };
  void drive(quic::Connection& c, Conn& conn);
  void read_request(quic::Connection& c, uint64_t id, Stream& s);
  void start_response(quic::Connection& c, uint64_t id, Stream& s);
  void write_response(quic::Connection& c, uint64_t id, Stream& s);
  void finish(Stream& s);

  std::string root_;
  bool perf_;
  bool echo_;
  std::map<quic::ConnectionHandle, Conn> conns_;
  std::set<quic::ConnectionHandle> busy_;  // with a request in progress: visited every turn
  ServerCounters counters_;
  std::vector<uint8_t> buf_;
};

}  // namespace apps
