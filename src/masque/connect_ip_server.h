// The CONNECT-IP proxy side (RFC 9484): one ConnectIpServer owns the address pools, the routes
// to advertise and the packet sink (the proxy's TUN device), across every HTTP/3 session.
//
// Per request: the factory matches :path against the URI template and checks the scope (§4.6);
// the tunnel's response() is 200 with `capsule-protocol` and, when offered, the seq-context
// answer; 404 when the path does not match; 400 for a malformed scope (the request is
// malformed, §4.1); 403 for a target outside our routes. Per tunnel: ADDRESS_REQUEST is answered
// from the pools (§4.7.2, at most kMaxAddressesPerTunnel held, the rest rejected),
// ROUTE_ADVERTISEMENT is sent on establishment (the configured routes narrowed to the scope), and
// packets from the client must come from an address it was assigned (else dropped and counted as
// spoofed) and go to an advertised route.
#pragma once

#include <functional>
#include <map>
#include <memory>

#include "h3/session.h"
#include "h3/uri_template.h"
#include "masque/address_pool.h"
#include "masque/connect_ip.h"
#include "masque/proxy_status.h"

namespace masque {

// The proxy name in Proxy-Status fields of refusals (RFC 9209 §2).
inline constexpr std::string_view kProxyName = "tquic";
// Addresses one tunnel may hold at a time; further requests are rejected (§4.7.2 rejection
// entries), so one client cannot drain the pool.
inline constexpr size_t kMaxAddressesPerTunnel = 2;

struct ConnectIpServerConfig {
  std::optional<IpPrefix> pool_v4, pool_v6;
  std::vector<IpPrefix> routes;  // advertised to every client (narrowed by its scope)
  std::string uri_template = std::string(kDefaultIpTemplate);
  bool accept_context_offer = true;  // answer `tquic-context` offers
  // Client keys' addresses from before a restart (AddressPool::seed), for stable addresses.
  std::vector<std::pair<std::string, IpAddress>> remembered;
};

class ServerTunnel;

class ConnectIpServer {
 public:
  // Fails with the reason for a pool too small, an invalid template, or overlapping routes.
  static quic::Result<std::unique_ptr<ConnectIpServer>> create(ConnectIpServerConfig config,
                                                               PacketSink& sink);

  // The transport's largest DATAGRAM payload now (quic::Connection::max_datagram_payload());
  // tunnels read it before sending, so their MTU follows the path.
  using PayloadFn = std::function<size_t()>;
  // True while the transport should take another packet for the tunnel (tquicd: its DATAGRAM
  // backlog is not full, docs/tquicd-datapath.md); false drops the packet from the local side,
  // counted in dropped_send_failed, instead of queueing it. Empty: the transport's own bound.
  using RoomFn = std::function<bool()>;
  // The connect-ip handler factory for one session; `client_key` names the client for stable
  // addresses (the tools use its IP address). Every request gets a ServerTunnel, also one
  // that is refused (its response() is then 4xx, and a non-2xx ends it).
  h3::HandlerFactory factory(h3::Session& session, std::string client_key, PayloadFn payload,
                             RoomFn room = {});
  // factory() registered on `session` for ":protocol connect-ip".
  void attach(h3::Session& session, std::string client_key, PayloadFn payload,
              RoomFn room = {});
  // The answer to a kHeaders event, sent on the session: true when the stream was a
  // CONNECT-IP request, false when it is the application's.
  bool respond(h3::Session& session, const h3::Event& headers);
  // Called (from inside a handler call) when a tunnel aborted: the owner schedules reap()
  // outside the session, e.g. with io::EndpointDriver::defer.
  void set_on_abort(std::function<void()> fn) { on_abort_ = std::move(fn); }

  // A packet from the local side (TUN): to the tunnel holding its destination address.
  void from_local(Bytes packet, quic::Instant now,
                  quic::DatagramPriority priority = quic::DatagramPriority::kNormal);
  // After each Session::poll(): cancels tunnels that met a protocol violation.
  size_t reap() { return tunnels_.reap(); }

  ConnectIpStats stats() const { return tunnels_.total(); }
  uint64_t dropped_no_tunnel() const { return dropped_no_tunnel_; }
  size_t tunnels() const { return tunnels_.entries().size(); }
  const AddressPool* pool(uint8_t version) const;
  const std::vector<IpRange>& routes() const { return routes_; }

 private:
  friend class ServerTunnel;
  ConnectIpServer(ConnectIpServerConfig config, PacketSink& sink, h3::UriTemplate tmpl)
      : config_(std::move(config)), sink_(sink), template_(std::move(tmpl)) {}
  std::unique_ptr<h3::StreamHandler> make(h3::Session& s, const std::string& key,
                                          const PayloadFn& payload, const RoomFn& room, uint64_t id,
                                          std::span<const h3::Field> fields);
  AddressPool* pool_for(uint8_t version);

  ConnectIpServerConfig config_;
  PacketSink& sink_;
  h3::UriTemplate template_;
  std::optional<AddressPool> v4_, v6_;
  std::vector<IpRange> routes_;
  TunnelSet tunnels_;
  std::map<IpAddress, ServerTunnel*> by_address_;
  std::function<void()> on_abort_;
  uint64_t dropped_no_tunnel_ = 0;
};

// One proxied tunnel; made by ConnectIpServer's factory.
class ServerTunnel : public ConnectIpTunnel {
 public:
  // `refusal`: what this request gets instead of 200 (§4.6 scope checks).
  ServerTunnel(ConnectIpServer& server, h3::Session& session, uint64_t stream_id, std::string key,
               std::vector<IpRange> routes, TunnelConfig config, ConnectIpServer::PayloadFn payload,
               std::optional<Refusal> refusal, ConnectIpServer::RoomFn room = {});
  ~ServerTunnel() override;
  // The response fields: 200 with capsule-protocol (and the seq-context answer when agreed),
  // or the refusal's status with a Proxy-Status field (RFC 9209) naming kProxyName.
  std::vector<h3::Field> response() const;
  bool refused() const { return refusal_.has_value(); }
  // ProxyHandler: the response now (a MASQUE proxy application's way to ask).
  std::optional<ConnectResponse> on_request(Respond) override;
  // Follows the transport's datagram payload (PayloadFn) into the tunnel MTU.
  void refresh_mtu();
  const std::vector<AddressEntry>& assigned() const { return assigned_; }
  const std::vector<IpRange>& advertised() const { return routes_; }

 protected:
  void established(h3::Outbox& out) override;
  std::expected<void, CapsuleError> capsule(h3::Outbox& out, uint64_t type, Bytes value) override;
  bool accept_from_peer(const IpPacketInfo& info) override;
  bool accept_from_local(Bytes packet, const IpPacketInfo& info,
                         quic::DatagramPriority priority) override;
  std::optional<IpAddress> icmp_source(uint8_t version) const override;
  void aborted() override;

 private:
  std::expected<void, CapsuleError> on_request(h3::Outbox& out, Bytes value);
  std::optional<AddressEntry> grant(const AddressEntry& request);

  ConnectIpServer& server_;
  ConnectIpServer::PayloadFn payload_;
  ConnectIpServer::RoomFn room_;
  size_t payload_seen_ = 0;
  std::optional<Refusal> refusal_;
  std::string key_;
  std::vector<IpRange> routes_;
  RequestIds ids_;
  std::vector<AddressEntry> assigned_;
  std::vector<IpRange> peer_routes_;  // the client's advertisement (kept, not acted on)
};

}  // namespace masque
