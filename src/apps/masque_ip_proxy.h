// The CONNECT-IP part of `tquic masque-proxy` (RFC 9484): `--ip-pool CIDR [--ip-pool CIDR6]
// --tun NAME [--route CIDR]...`. It owns the proxy's TUN device (a route for each pool through
// it, so the kernel sends every client address into the device), the address pools and the
// tunnels (masque::ConnectIpServer), and registers the device on the proxy's event loop. The
// proxy application registers factory() for ":protocol connect-ip". docs/connect-ip.md.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "apps/cli_fwd.h"

#include "apps/masque_ip.h"
#include "io/endpoint_driver.h"
#include "masque/connect_ip_server.h"

namespace apps {

struct MasqueIpProxyOptions {
  std::vector<std::string> pools;   // --ip-pool CIDR (one IPv4, one IPv6 at most)
  std::string tun = "tqipp0";       // --tun NAME
  std::vector<std::string> routes;  // --route CIDR; none: 0.0.0.0/0 (and ::/0) per pool family
  size_t tun_mtu = 1500;            // --tun-mtu: what the kernel may hand us (larger: ICMP)
  double stats_interval = 0;        // --ip-stats-interval seconds (0: at exit only)
  bool tun_offload = true;          // !--no-tun-offload: TCP super-packets in and out (TSO/GRO)
  // Client keys' addresses from before a restart (tquicd's state file; no option).
  std::vector<std::pair<std::string, masque::IpAddress>> remembered;
  // The most a client's connection may hold in its DATAGRAM send queue before packets for it
  // are dropped instead of queued (tquicd: sized from its paths; no option). Empty: the
  // connection's own queue bound (datagram_send_buffer).
  std::function<size_t(const quic::Connection&)> datagram_backlog;
  // The priority of each packet read from the TUN device (tquicd: its flow classifier puts
  // interactive traffic first, on the lowest-RTT path). Empty: every packet kNormal.
  std::function<quic::DatagramPriority(quic::Bytes, quic::Instant)> classify;
  bool enabled() const { return !pools.empty(); }
};
void add_masque_ip_proxy_options(CLI::App& cmd, MasqueIpProxyOptions& o);

class ConnectIpProxy {
 public:
  // Opens and configures the TUN device and registers it on `driver` (which must outlive
  // this object); the error says what failed (a bad CIDR, no CAP_NET_ADMIN, ...).
  // `wrap`, when set, puts a sink in front of the TUN device's (tquicd: its reorder buffer);
  // it gets the device's sink, which outlives it.
  using SinkWrap = std::function<std::unique_ptr<masque::PacketSink>(masque::PacketSink& tun)>;
  static quic::Result<std::unique_ptr<ConnectIpProxy>> create(const MasqueIpProxyOptions& o,
                                                              io::EndpointDriver& driver,
                                                              const SinkWrap& wrap = {});
  ~ConnectIpProxy();
  ConnectIpProxy(const ConnectIpProxy&) = delete;
  ConnectIpProxy& operator=(const ConnectIpProxy&) = delete;

  // The connect-ip handler factory of one new connection (`peer` "ip:port" names the client
  // for stable addresses, by its IP).
  h3::HandlerFactory factory(h3::Session& session, quic::Connection& connection,
                             const std::string& peer);
  // The same with the stable-address key given (tquicd: the authenticated client's name).
  h3::HandlerFactory factory_for(h3::Session& session, quic::Connection& connection,
                                 std::string client_key);
  // "connect-ip tunnels=.. no_tunnel=.. tun_write_failed=.. packets_in=.. ...".
  std::string stats_line() const;
  const masque::ConnectIpServer& server() const { return *server_; }

 private:
  ConnectIpProxy(io::EndpointDriver& driver) : driver_(driver) {}
  void on_tun_readable();

  io::EndpointDriver& driver_;
  std::unique_ptr<masque::TunDevice> tun_;
  TunSink sink_;
  std::unique_ptr<masque::PacketSink> front_;  // the wrapper in front of sink_, if any
  std::unique_ptr<masque::ConnectIpServer> server_;
  std::vector<uint8_t> buf_;
  std::vector<uint8_t> segment_;  // one segment of a TUN super-packet (TSO reads)
  uint64_t tun_gso_dropped_ = 0;  // super-packets segment_tcp() refused
  std::optional<io::EndpointDriver::TimerId> stats_timer_;
  std::function<void(quic::Instant)> tick_;
  bool reap_queued_ = false;
  std::function<size_t(const quic::Connection&)> backlog_;  // MasqueIpProxyOptions's
  std::function<quic::DatagramPriority(quic::Bytes, quic::Instant)> classify_;  // likewise
  void from_tun(quic::Bytes packet, quic::Instant now);
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // deferred TUN flushes check it
};

// The client-key part of "ip:port" / "[v6]:port": the IP.
std::string client_key_of(const std::string& peer);

}  // namespace apps
