// The CONNECT-IP proxy side (RFC 9484): one ConnectIpServer owns the address pools, the routes
// to advertise and the packet sink (the proxy's TUN device), across every HTTP/3 session.
//
// Per request: the factory attach() registers matches :path against the URI template and
// checks the scope (§4.6); respond() answers the application's kHeaders event (200 with
// `capsule-protocol` and, when offered, the seq-context answer; 400 for a malformed scope; 403
// for a target outside our routes). Per tunnel: ADDRESS_REQUEST is answered from the pools
// (§4.7.2, at most kMaxAddressesPerTunnel held, the rest rejected), ROUTE_ADVERTISEMENT is
// sent on establishment (the configured routes narrowed to the scope), and packets from the
// client must come from an address it was assigned (else dropped and counted as spoofed)
// and go to an advertised route.
#pragma once

#include <map>
#include <memory>

#include "h3/session.h"
#include "h3/uri_template.h"
#include "masque/address_pool.h"
#include "masque/connect_ip.h"

namespace masque {

// Addresses one tunnel may hold at a time; further requests are rejected (§4.7.2 rejection
// entries), so one client cannot drain the pool.
inline constexpr size_t kMaxAddressesPerTunnel = 2;

struct ConnectIpServerConfig {
  std::optional<IpPrefix> pool_v4, pool_v6;
  std::vector<IpPrefix> routes;  // advertised to every client (narrowed by its scope)
  std::string uri_template = std::string(kDefaultIpTemplate);
  bool accept_context_offer = true;  // answer `tquic-context` offers
};

class ServerTunnel;

class ConnectIpServer {
 public:
  // Fails with the reason for a pool too small, an invalid template, or overlapping routes.
  static quic::Result<std::unique_ptr<ConnectIpServer>> create(ConnectIpServerConfig config,
                                                               PacketSink& sink);

  // Registers the connect-ip handler factory on a session; `client_key` names the client for
  // stable addresses (the tools use its IP address).
  void attach(h3::Session& session, std::string client_key);
  // Before a session is destroyed.
  void detach(h3::Session& session);
  // The answer to a kHeaders event: true when the stream was a CONNECT-IP request (answered),
  // false when it is the application's.
  bool respond(h3::Session& session, const h3::Event& headers);
  // The transport's largest DATAGRAM payload for a session changed (and at start).
  void set_max_datagram_payload(h3::Session& session, size_t payload);

  // A packet from the local side (TUN): to the tunnel holding its destination address.
  void from_local(Bytes packet, quic::Instant now);
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
  std::unique_ptr<h3::StreamHandler> make(h3::Session& s, const std::string& key, uint64_t id,
                                          std::span<const h3::Field> fields);
  AddressPool* pool_for(uint8_t version);

  ConnectIpServerConfig config_;
  PacketSink& sink_;
  h3::UriTemplate template_;
  std::optional<AddressPool> v4_, v6_;
  std::vector<IpRange> routes_;
  TunnelSet tunnels_;
  std::map<IpAddress, ServerTunnel*> by_address_;
  std::map<const h3::Session*, size_t> datagram_payload_;
  uint64_t dropped_no_tunnel_ = 0;
};

// One proxied tunnel; made by ConnectIpServer's factory.
class ServerTunnel : public ConnectIpTunnel {
 public:
  ServerTunnel(ConnectIpServer& server, h3::Session& session, uint64_t stream_id,
               std::string key, std::vector<IpRange> routes, TunnelConfig config);
  ~ServerTunnel() override;
  const std::vector<AddressEntry>& assigned() const { return assigned_; }
  const std::vector<IpRange>& advertised() const { return routes_; }

 protected:
  void established(h3::Outbox& out) override;
  std::expected<void, CapsuleError> capsule(h3::Outbox& out, uint64_t type,
                                            Bytes value) override;
  bool accept_from_peer(const IpPacketInfo& info) override;
  bool accept_from_local(Bytes packet, const IpPacketInfo& info) override;
  std::optional<IpAddress> icmp_source(uint8_t version) const override;

 private:
  std::expected<void, CapsuleError> on_request(h3::Outbox& out, Bytes value);
  std::optional<AddressEntry> grant(const AddressEntry& request);

  ConnectIpServer& server_;
  std::string key_;
  std::vector<IpRange> routes_;
  RequestIds ids_;
  std::vector<AddressEntry> assigned_;
  std::vector<IpRange> peer_routes_;  // the client's advertisement (kept, not acted on)
};

}  // namespace masque
