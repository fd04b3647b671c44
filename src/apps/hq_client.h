// `tquic client`: fetches hq-interop URLs over one QUIC connection (one bidirectional stream per
// URL, all in parallel up to the peer's stream limit) and writes the bodies to stdout or -o DIR.
// HqClientApp is also the engine of `tquic perf client`.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

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

  quic::SocketAddress local_, remote_;
  std::vector<HqRequest> requests_;
  std::optional<quic::ConnectionHandle> handle_;
  std::vector<std::pair<uint64_t, Active>> active_;
  size_t next_ = 0, completed_count_ = 0;
  bool finished_ = false;
  std::string conn_error_;
  quic::Instant started_{}, handshake_done_{}, completed_{};
  quic::ConnectionStats stats_;
  std::vector<uint8_t> buf_;
  uint64_t dg_total_ = 0, dg_sent_ = 0, dg_echoed_ = 0;
  std::vector<bool> dg_seen_;
  quic::Instant dg_progress_{};
};

// Trust settings of a client (exactly one of them, or none for the system store).
struct TrustOptions {
  bool insecure = false;
  std::string ca_file;
  std::string pin;          // SHA-256 hex of the server's leaf certificate
  std::string server_name;  // overrides the URL host for SNI and verification
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
// Returns the exit code to use on failure through `rc`.
std::optional<ClientSetup> make_client(const Url& url, const NetOptions& net,
                                       const TrustOptions& trust, int& rc);

struct ClientOptions {
  std::vector<std::string> urls;
  std::string out_dir;
  uint64_t datagrams = 0;
  TrustOptions trust;
  NetOptions net;
};
void add_client_options(CLI::App& cmd, ClientOptions& o);
int run_client(const ClientOptions& o);

}  // namespace apps
