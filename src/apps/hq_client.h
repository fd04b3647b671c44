// `tquic client`: fetches hq-interop URLs over one QUIC connection (one bidirectional stream per
// URL, all in parallel up to the peer's stream limit) and writes the bodies to stdout or -o DIR.
// --resume fetches them again on a second connection resuming the first's session; --key-update
// makes the client initiate 1-RTT key updates.
// HqClientApp is also the engine of `tquic perf client`.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "apps/mp_paths.h"
#include "apps/net_options.h"
#include "core/endpoint.h"
#include "io/os_random.h"
#include "io/udp_socket.h"

namespace apps {

struct HqRequest {
  enum class Sink : uint8_t { kMemory, kFile, kPerfCheck };
  std::string line;     // "GET /index.html" (CRLF is appended) or "POST /perf"
  uint64_t upload = 0;  // POST: body bytes of the perf pattern
  Sink sink = Sink::kMemory;
  std::string out_path;  // kFile
  uint64_t expect = 0;   // kPerfCheck: exact response length

  // Outcome.
  uint64_t received = 0;
  bool done = false, failed = false;
  std::string error, body;  // body: kMemory sink
};

class HqClientApp {
 public:
  HqClientApp(quic::SocketAddress local, quic::SocketAddress remote,
              std::vector<HqRequest> requests);
  ~HqClientApp();
  void on_activity(quic::Endpoint& endpoint, quic::Instant now);

  // After the handshake, also send `count` DATAGRAM frames (the connection must offer DATAGRAM)
  // and expect each echoed byte for byte (the server's --datagram); at most kDatagramWindow
  // unanswered at a time, and the connection ends kDatagramGrace after the last echo progress
  // when some never come back (DATAGRAM is unreliable).
  static constexpr uint64_t kMaxDatagrams = 1'000'000;
  static constexpr uint64_t kDatagramWindow = 16;
  static constexpr quic::Duration kDatagramGrace = std::chrono::seconds(2);
  static constexpr size_t kDatagramSize = 100;
  void set_datagrams(uint64_t count) { dg_total_ = std::min(count, kMaxDatagrams); }
  uint64_t datagrams_echoed() const { return dg_echoed_; }

  // A NEW_TOKEN token and/or session ticket from an earlier connection (`--resume`).
  void set_connect_options(quic::ConnectOptions o) { connect_options_ = std::move(o); }
  // Keep the connection up to kTicketGrace after the last response when no session ticket has
  // arrived yet, so a following connection can resume (servers send it after the handshake).
  static constexpr quic::Duration kTicketGrace = std::chrono::seconds(2);
  void set_wait_for_ticket(bool on) { wait_for_ticket_ = on; }
  // What the server handed over for the next connection (captured when this one finishes).
  const std::vector<uint8_t>& session_ticket() const { return ticket_; }
  const std::vector<uint8_t>& new_token() const { return token_; }

  // Once the handshake is confirmed, start a 1-RTT key update (RFC 9001 §6) whenever the core
  // allows one and at least `packets` packets arrived since the previous one (0: never).
  static constexpr uint64_t kMaxKeyUpdatePackets = 1'000'000'000;
  void set_key_update_every(uint64_t packets) { ku_every_ = packets; }
  uint64_t key_updates_initiated() const { return ku_initiated_; }

  // Multipath: paths to ask for right after connect (the core opens them once the handshake
  // is confirmed). Path events are logged at -v.
  void set_paths(std::vector<PathRequest> paths) { path_requests_ = std::move(paths); }
  // The per-path figures, captured when the connection finishes.
  const std::vector<PathFigures>& path_figures() const { return paths_; }
  // Held: after the handshake the connection idles without sending its requests until
  // released (`tquic perf client --concurrent --hold`: idle connections measured at the server).
  void set_held(bool held) { held_ = held; }
  // The live connection (nullptr before connect or once reaped).
  quic::Connection* connection(quic::Endpoint& endpoint) const;

  // Every request finished (or the connection failed) and CONNECTION_CLOSE was queued.
  bool finished() const { return finished_; }
  bool failed() const;
  const std::string& connection_error() const { return conn_error_; }
  std::vector<HqRequest>& requests() { return requests_; }
  quic::Instant started() const { return started_; }
  quic::Instant handshake_done() const { return handshake_done_; }
  quic::Instant completed() const { return completed_; }
  const quic::ConnectionStats& stats() const { return stats_; }

 private:
  struct Active {
    size_t index;
    uint64_t head_written = 0, body_written = 0;
    bool request_done = false;
    int fd = -1;
  };
  void drive(quic::Connection& c, quic::Instant now);
  void open_requests(quic::Connection& c);
  void write_request(quic::Connection& c, uint64_t id, Active& a);
  void read_response(quic::Connection& c, uint64_t id, Active& a);
  void fail_request(Active& a, std::string why);
  void finish(quic::Connection* c, quic::Instant now, std::string error);
  void exchange_datagrams(quic::Connection& c, quic::Instant now);
  void maybe_update_keys(quic::Connection& c);

  quic::SocketAddress local_, remote_;
  std::vector<HqRequest> requests_;
  std::optional<quic::ConnectionHandle> handle_;
  std::vector<std::pair<uint64_t, Active>> active_;
  size_t next_ = 0, completed_count_ = 0;
  bool finished_ = false;
  std::string conn_error_;
  quic::Instant started_{}, handshake_done_{}, completed_{};
  quic::ConnectionStats stats_;
  uint64_t dg_total_ = 0, dg_sent_ = 0, dg_echoed_ = 0;
  std::vector<bool> dg_seen_;
  quic::Instant dg_progress_{};
  quic::ConnectOptions connect_options_;
  bool wait_for_ticket_ = false;
  bool held_ = false;
  std::vector<uint8_t> ticket_, token_;
  quic::Instant all_done_{};
  uint64_t ku_every_ = 0, ku_initiated_ = 0, ku_last_rx_ = 0;
  std::vector<PathRequest> path_requests_;
  std::vector<PathFigures> paths_;
};

// Trust settings of a client (exactly one of them, or none for the system store).
struct TrustOptions {
  bool insecure = false;
  std::string ca_file;
  std::string pin;          // SHA-256 hex of the server's leaf certificate
  std::string server_name;  // overrides the URL host for SNI and verification
  std::string client_cert, client_key;  // PEM files presented when the server asks
};
void add_trust_options(CLI::App& cmd, TrustOptions& o);

// Everything a client connection needs: TLS context, endpoint, a socket bound to the source
// address the kernel routes towards the server.
struct ClientSetup {
  quic::SocketAddress remote, local;
  std::unique_ptr<io::UdpSocket> socket;
  std::unique_ptr<io::OsRandom> random;
  std::unique_ptr<quic::Endpoint> endpoint;
};
// Returns the exit code to use on failure through `rc`. `alpn` replaces the default
// (hq-interop), e.g. "h3" for `tquic get`.
std::optional<ClientSetup> make_client(const Url& url, const NetOptions& net,
                                       const TrustOptions& trust, int& rc,
                                       const std::string& alpn = {});

struct ClientOptions {
  std::vector<std::string> urls;
  std::string out_dir;
  uint64_t datagrams = 0;
  bool resume = false;      // fetch twice; the second connection resumes the first's session
  bool zero_rtt = false;    // like resume, and the second connection's requests go as 0-RTT
  uint64_t key_update = 0;  // initiate a key update every N received packets (0: never)
  TrustOptions trust;
  NetOptions net;
  PathOptions paths;
};
void add_client_options(CLI::App& cmd, ClientOptions& o);
int run_client(const ClientOptions& o);

}  // namespace apps
