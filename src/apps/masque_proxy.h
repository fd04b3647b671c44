// `tquic masque-proxy`: a MASQUE proxy over HTTP/3 (extended CONNECT, RFC 9220; HTTP datagrams,
// RFC 9297). CONNECT-UDP (RFC 9298) is built in (masque/connect_udp.h); other :protocol
// handlers are added with MasqueProxyApp::register_protocol (CONNECT-IP plugs in that way).
//
// The application answers each extended CONNECT whose handler was made: a masque::ProxyHandler
// decides (now or later, masque/proxy_handler.h); any other handler gets 200 with
// capsule-protocol: ?1. Requests nobody handles get 404. docs/masque-proxy.md has the usage.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "apps/masque_ip_proxy.h"
#include "apps/net_options.h"
#include "core/endpoint.h"
#include "h3/session.h"
#include "masque/proxy_handler.h"

namespace apps {

struct MasqueProxyOptions {
  std::vector<std::string> listen;  // ADDR:PORT each; empty: 0.0.0.0:4433 ([::]:4433 with --ipv6)
  std::string cert, key;            // empty: in-memory self-signed for "localhost"
  std::vector<std::string> allow;   // --allow CIDR[:PORTS]
  bool allow_private = false;
  std::string udp_template;         // empty: masque::kDefaultUdpPathTemplate
  std::string dns_servers;          // --dns-server IP[:PORT],...; empty: /etc/resolv.conf
  uint32_t dns_timeout_ms = 2000;
  uint32_t max_flows_per_conn = 1024;
  NetOptions net;
  MasqueIpProxyOptions ip;  // CONNECT-IP, with --ip-pool (apps/masque_ip_proxy.h)
};
void add_masque_proxy_options(CLI::App& cmd, MasqueProxyOptions& o);
int run_masque_proxy(const MasqueProxyOptions& o);

// What a protocol's factory maker sees of one new connection.
struct ProxySession {
  quic::Connection& connection;
  h3::Session& session;
  std::string peer;
  quic::ConnectionHandle handle = 0;  // the endpoint's: valid while the connection lives
};
// Makes the handler factory of one :protocol for one new connection's session.
using ProtocolFactory = std::function<h3::HandlerFactory(ProxySession&)>;

struct ProxyCounters {
  uint64_t connections = 0, requests = 0, tunnels = 0, refused = 0, not_found = 0;
};

// The application half of the proxy, driven by io::EndpointDriver's hook.
class MasqueProxyApp {
 public:
  explicit MasqueProxyApp(std::string proxy_name = "tquic") : name_(std::move(proxy_name)) {}
  // Serves extended CONNECT with :protocol `protocol` on every connection accepted from now on.
  void register_protocol(std::string protocol, ProtocolFactory make);
  void on_activity(quic::Endpoint& endpoint, quic::Instant now);
  // Closes every connection with H3_NO_ERROR (the server is stopping): clients learn it from
  // the CONNECTION_CLOSE at once, not at their idle timeout. Connections accepted afterwards
  // (a client reconnecting at once) are closed the same way. The caller lets it go out.
  void shutdown(quic::Endpoint& endpoint, quic::Instant now);
  const ProxyCounters& counters() const { return counters_; }
  size_t open_connections() const { return conns_.size(); }
  // The HTTP/3 settings of the proxy's sessions: extended CONNECT and H3_DATAGRAM on.
  static h3::SessionConfig session_config();

 private:
  struct Conn {
    std::unique_ptr<h3::Session> session;
    std::string peer;
  };
  struct Pending {  // a response a handler decided after its request head
    quic::ConnectionHandle conn;
    uint64_t stream_id;
    masque::ConnectResponse response;
  };
  void drive(Conn& conn, quic::ConnectionHandle h, quic::Instant now);
  void on_request(Conn& conn, quic::ConnectionHandle h, const h3::Event& e);
  void send(Conn& conn, uint64_t id, const masque::ConnectResponse& r);

  std::string name_;
  std::map<std::string, ProtocolFactory, std::less<>> protocols_;
  std::map<quic::ConnectionHandle, Conn> conns_;
  std::shared_ptr<std::vector<Pending>> pending_ = std::make_shared<std::vector<Pending>>();
  ProxyCounters counters_;
  std::vector<uint8_t> buf_;
  bool stopping_ = false;
};

}  // namespace apps
