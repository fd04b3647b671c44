// `tquic masque-ip --proxy URL --tun NAME`: a CONNECT-IP client (RFC 9484) that carries the
// IP traffic of a TUN device through a MASQUE proxy over HTTP/3 datagrams. It requests an
// address, puts what ADDRESS_ASSIGN gives on the device and installs ROUTE_ADVERTISEMENT's
// ranges as routes through it, runs until SIGINT/SIGTERM, and then removes every address and
// route it added (the device goes with it). Needs CAP_NET_ADMIN. docs/connect-ip.md.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "apps/hq_client.h"
#include "apps/mp_paths.h"
#include "apps/net_options.h"
#include "core/endpoint.h"
#include "h3/session.h"
#include "io/endpoint_driver.h"
#include "masque/connect_ip_client.h"
#include "masque/tun_device.h"

namespace apps {

struct MasqueIpOptions {
  std::string proxy;  // https://host:port[/template with {target} and {ipproto}]
  std::string tun = "tqip0";
  bool ipv4 = true, ipv6 = false;  // which address families to request
  bool offer_context = false;      // offer `tquic-context: seq=2` (docs/connect-ip.md)
  double stats_interval = 0;       // seconds between stats lines on stderr (0: at exit only)
  bool tun_offload = true;         // !--no-tun-offload: TCP segmentation offload on TUN reads
  std::vector<h3::Field> request_fields;  // added to the request (tquicd: the client token)
  TrustOptions trust;
  NetOptions net;
};
void add_masque_ip_options(CLI::App& cmd, MasqueIpOptions& o);
int run_masque_ip(const MasqueIpOptions& o);
// The CONNECT-IP URI template for a proxy URL: its path when that holds a template
// variable, else the well-known default path on its authority.
quic::Result<h3::UriTemplate> ip_template_for(const Url& url);

// Routes from the proxy that the device gets: every range as prefixes, minus any that would
// send the tunnel's own QUIC packets into the tunnel (the prefix holds the proxy's address),
// at most kMaxInstalledRoutes. `skipped` counts what was left out.
inline constexpr size_t kMaxInstalledRoutes = 1024;
std::vector<masque::IpPrefix> routes_to_install(std::span<const masque::IpRange> routes,
                                                const masque::IpAddress& proxy, size_t& skipped);

// One line of counters ("packets_in=.. dropped_spoofed=.."), for logs and tests.
std::string format_ip_stats(const masque::ConnectIpStats& s);

// Writes delivered packets to the TUN device, counting the ones it refused. With
// enable_gro() (a device opened with vnet_hdr), runs of one TCP flow's segments are joined into
// super-packets (masque/tcp_coalescer.h); `schedule` is called when a burst starts being held
// and must arrange a flush() before the loop sleeps (EndpointDriver::defer).
struct TunSink : masque::PacketSink {
  masque::TunDevice* tun = nullptr;
  uint64_t write_failed = 0;
  void deliver(quic::Bytes packet, const masque::PacketMeta&) override;
  void enable_gro(std::function<void()> schedule);
  void flush();
  uint64_t gro_joined() const { return gro_ ? gro_->joined() : 0; }

 private:
  void write(quic::Bytes packet, const masque::GsoInfo& gso);
  std::unique_ptr<masque::TcpCoalescer> gro_;
  std::function<void()> schedule_;
};

class MasqueIpClientApp {
 public:
  MasqueIpClientApp(quic::SocketAddress local, quic::SocketAddress remote, h3::UriTemplate tmpl,
                    masque::TunDevice& tun, const MasqueIpOptions& o);
  ~MasqueIpClientApp();
  void on_activity(quic::Endpoint& endpoint, quic::Instant now);
  // The TUN device is readable: its packets go into the tunnel (bounded per call).
  void on_tun_readable(quic::Instant now);
  // One packet from the local side into the tunnel (dropped, like on a link that is down,
  // until the tunnel is up). For owners that read the device themselves (tquicd's queue).
  void send_to_tunnel(quic::Bytes packet, quic::Instant now,
                      quic::DatagramPriority priority = quic::DatagramPriority::kNormal);
  // Ends the tunnel and the connection (on a signal).
  void shutdown(quic::Instant now);
  bool finished() const { return finished_; }
  // Extra paths (tquicd's links) asked of the connection right after connect().
  void set_paths(std::vector<PathRequest> paths) { paths_ = std::move(paths); }
  // Where the proxy's packets go instead of the TUN device (tquicd: its reorder buffer, which
  // writes to the device). Set before the first on_activity().
  void set_sink(masque::PacketSink& sink) { sink_override_ = &sink; }
  // Joins TCP segments written to the device into super-packets (a device opened with an
  // offload); `loop` runs the flush at its next turn and must not outlive this object.
  void enable_tun_gro(io::EndpointDriver& loop) {
    sink_.enable_gro([this, &loop] { loop.defer([this] { sink_.flush(); }); });
  }
  // The tunnel is up and holds at least one address from ADDRESS_ASSIGN on the device.
  bool ready() const { return up_ && addressed_; }
  // Looked up by handle on each call: the endpoint frees a connection once it has closed
  // (after shutdown() that can happen within the flush window), so a kept pointer would dangle.
  quic::Connection* connection() const {
    return endpoint_ != nullptr && handle_ ? endpoint_->connection(*handle_) : nullptr;
  }
  const std::string& error() const { return error_; }
  // The proxy's answer when it refused the tunnel (a status outside 2xx), 0 otherwise: tquicd
  // tells a refusal that retrying cannot cure (403, a bad token) from one it can (503).
  int refused_status() const { return refused_status_; }
  masque::ConnectIpStats stats() const { return tunnels_.total(); }
  uint64_t tun_write_failed() const { return sink_.write_failed; }
  uint64_t tun_gso_dropped() const { return tun_gso_dropped_; }

 private:
  void drive(quic::Connection& c, quic::Instant now);
  void on_event(const h3::Event& e);
  void apply(const masque::ConnectIpClient& t);
  masque::ConnectIpClient* tunnel() const;
  void fail(std::string why);
  void forget_if_closed();

  quic::SocketAddress local_, remote_;
  h3::UriTemplate template_;
  masque::TunDevice& tun_;
  MasqueIpOptions opts_;
  TunSink sink_;
  masque::PacketSink* sink_override_ = nullptr;
  std::vector<PathRequest> paths_;
  masque::TunnelSet tunnels_;  // before session_: tunnels leave it when the session goes
  quic::Endpoint* endpoint_ = nullptr;
  std::optional<quic::ConnectionHandle> handle_;
  quic::Connection* conn_ = nullptr;  // valid during on_activity() only
  std::unique_ptr<h3::Session> session_;
  std::optional<uint64_t> stream_;
  std::optional<uint64_t> offered_;
  size_t payload_ = 0;  // max_datagram_payload() last applied
  bool finished_ = false, up_ = false, addressed_ = false;
  int refused_status_ = 0;
  std::string error_;
  std::vector<uint8_t> buf_;
  std::vector<uint8_t> segment_;  // one segment of a TUN super-packet
  uint64_t tun_gso_dropped_ = 0;  // super-packets segment_tcp() refused
};

}  // namespace apps
