// `tquic get URL...`: a curl-like HTTP/3 client on h3::Session (ALPN "h3"). Every URL becomes
// one request on a single connection, all in parallel up to the server's stream limit. Bodies
// go to stdout in URL order, to -o FILE (one URL) or into -o DIR (named after the URL path).
// Exit codes: 0 when every response is 2xx/3xx, 1 for an HTTP error status or a failed
// transfer, 2 for usage errors (kExit* in net_options.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "apps/hq_client.h"
#include "apps/net_options.h"
#include "core/endpoint.h"
#include "h3/session.h"

namespace apps {

struct GetOptions {
  std::vector<std::string> urls;
  std::string output;                // FILE (one URL) or an existing DIR
  bool head = false;                 // -I: HEAD, print status and headers
  std::vector<std::string> headers;  // -H 'name: value'
  std::string data;                  // --data string | @file: POST this body
  std::string priority;              // --priority 'u=1, i': RFC 9218 Priority field
  std::string write_out;             // -w FORMAT: timings after the transfer (format_write_out)
  bool silent = false;               // -s: no progress meter
  TrustOptions trust;
  NetOptions net;
  PathOptions paths;                 // --path / --backup-path (with --multipath)
};
void add_get_options(CLI::App& cmd, GetOptions& o);
int run_get(const GetOptions& o);

// -w: what a transfer's timeline and size come to, in seconds from the connect.
struct WriteOutValues {
  double time_handshake = 0, time_starttransfer = 0, time_total = 0;
  uint64_t size_download = 0;
  unsigned http_code = 0;  // of the last URL
  size_t num_paths = 0;
};
// curl-like: %{time_handshake} %{time_starttransfer} %{time_total} (seconds, 6 decimals),
// %{size_download}, %{http_code}, %{num_paths}; \n and \t escapes; other text as is. The error
// names an unknown variable (checked before any connection, so it is a usage error).
quic::Result<std::string> format_write_out(const std::string& fmt, const WriteOutValues& v);
// The progress meter's line: "  12.0 MiB of 64.0 MiB  18.7%  5.3 MiB/s" (total 0: unknown).
std::string format_progress(uint64_t bytes, uint64_t total, double seconds);

// "Name: value" -> {"name", "value"}; nullopt when there is no colon or the name is empty.
std::optional<h3::Field> parse_header_arg(const std::string& text);

struct GetRequest {
  std::string method = "GET";
  std::string authority, path;
  std::vector<h3::Field> extra;  // -H fields
  std::string body;              // --data
  std::string out_path;          // empty: keep the body in memory

  // Outcome.
  uint16_t status = 0;
  std::vector<h3::Field> response_fields;
  std::string body_received;  // when out_path is empty
  uint64_t received = 0;
  bool done = false, failed = false;
  std::string error;
};

class H3GetApp {
 public:
  H3GetApp(quic::SocketAddress local, quic::SocketAddress remote, std::vector<GetRequest> reqs);
  ~H3GetApp();
  void on_activity(quic::Endpoint& endpoint, quic::Instant now);
  bool finished() const { return finished_; }
  // Multipath: paths to ask for right after connect (as HqClientApp::set_paths).
  void set_paths(std::vector<PathRequest> paths) { path_requests_ = std::move(paths); }
  // Captured when the connection finishes (empty when it never existed).
  const std::vector<PathFigures>& path_figures() const { return paths_; }
  // Timeline of the transfer: connect, handshake complete, first response byte (the first
  // response head of any request), everything finished. Zero when it did not happen.
  quic::Instant started() const { return started_; }
  quic::Instant handshake_done() const { return handshake_done_; }
  quic::Instant first_byte() const { return first_byte_; }
  quic::Instant completed() const { return finished_at_; }
  // Body bytes received so far over all requests (the progress meter).
  uint64_t bytes_received() const { return bytes_received_; }
  // The sum of the content-length fields of the final response heads so far (the meter's
  // total; 0 while unknown).
  uint64_t bytes_expected() const { return bytes_expected_; }
  const std::string& connection_error() const { return conn_error_; }
  std::vector<GetRequest>& requests() { return requests_; }

 private:
  struct Active {
    size_t index;
    int fd = -1;
    size_t body_sent = 0;
  };
  void drive(quic::Connection& c, quic::Instant now);
  void open_requests();
  void on_event(const h3::Event& e);
  void read_body(uint64_t id, Active& a);
  void complete(uint64_t id, bool failed, std::string why);
  void finish(quic::Connection* c, quic::Instant now, std::string error);
  void log_handshake(const quic::Connection& c, quic::Instant now);

  quic::SocketAddress local_, remote_;
  std::vector<GetRequest> requests_;
  std::optional<quic::ConnectionHandle> handle_;
  std::unique_ptr<h3::Session> session_;
  std::map<uint64_t, Active> active_;
  size_t next_ = 0, completed_ = 0;
  bool finished_ = false;
  std::string conn_error_;
  std::vector<uint8_t> buf_;
  std::vector<PathRequest> path_requests_;
  std::vector<PathFigures> paths_;
  quic::Instant now_{};  // of the current on_activity call
  quic::Instant started_{}, handshake_done_{}, first_byte_{}, finished_at_{};
  uint64_t bytes_received_ = 0, bytes_expected_ = 0;
};

}  // namespace apps
