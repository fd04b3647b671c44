// The metrics/dashboard HTTP server's I/O glue (docs/tquicd-control.md): a TCP listener
// (127.0.0.1:9477 by default) on the daemon's io::EndpointDriver. Each connection carries one
// request (metrics_http.h; GET/HEAD, head ≤ kMaxHttpHead): a parsed request goes to the
// handler, a bad one gets 400/405/431, and every response closes the connection. Each
// connection lives at most `request_timeout` from accept (slow clients are cut off with 408),
// and at most `max_clients` are open at once (more are closed on accept and counted).
#pragma once

#include <chrono>
#include <cstdint>
#include <expected>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "common/address.h"
#include "io/endpoint_driver.h"
#include "tquicd/metrics_http.h"

namespace bond {

inline constexpr size_t kMaxHttpClients = 16;
inline constexpr quic::Duration kHttpRequestTimeout = std::chrono::seconds(5);

struct MetricsServerOptions {
  quic::SocketAddress listen = quic::SocketAddress::v4(127, 0, 0, 1, 9477);
  size_t max_clients = kMaxHttpClients;
  quic::Duration request_timeout = kHttpRequestTimeout;
};

struct HttpServerStats {
  uint64_t accepted = 0, served = 0, bad_requests = 0, timed_out = 0, refused = 0;
};

class MetricsServer {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;
  // Binds and listens (port 0 picks one: see local_address()). The loop must outlive the server.
  static std::expected<std::unique_ptr<MetricsServer>, std::string> open(
      io::EndpointDriver& loop, Handler handler, MetricsServerOptions options);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  const quic::SocketAddress& local_address() const { return local_; }
  const HttpServerStats& stats() const { return stats_; }
  size_t clients() const { return conns_.size(); }

 private:
  struct Conn {
    int fd;
    std::string in, out;
    bool responded = false;  // response queued: read nothing more but drain until EOF
    io::EndpointDriver::TimerId timer = 0;
  };
  MetricsServer(io::EndpointDriver& loop, Handler handler, MetricsServerOptions options, int fd,
                quic::SocketAddress local);
  void on_accept();
  void on_conn(int fd, uint32_t ready);
  void on_timeout(int fd);
  void respond(Conn& c, HttpResponse r);
  void flush(Conn& c);
  void drop(int fd);

  io::EndpointDriver& loop_;
  Handler handler_;
  MetricsServerOptions options_;
  int listen_fd_;
  quic::SocketAddress local_;
  std::map<int, std::unique_ptr<Conn>> conns_;
  HttpServerStats stats_;
};

}  // namespace bond
