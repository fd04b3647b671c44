// The CONNECT-IP client tunnel (RFC 9484): requests addresses once the tunnel is established
// (§4.7.2), applies ADDRESS_ASSIGN and ROUTE_ADVERTISEMENT through a callback (the TUN device
// in `tquic masque-ip`), sends local packets whose destination the proxy advertised, and
// delivers the proxy's packets addressed to us.
//
// The client does not check the source address of local packets: the proxy enforces that
// (§8.2, source address validation), and its counters are where spoofing shows up.
#pragma once

#include <functional>

#include "h3/uri_template.h"
#include "masque/connect_ip.h"

namespace masque {

struct ClientTunnelConfig {
  TunnelConfig tunnel;
  bool request_v4 = true;
  bool request_v6 = false;
};

class ConnectIpClient : public ConnectIpTunnel {
 public:
  // Called after an ADDRESS_ASSIGN or ROUTE_ADVERTISEMENT changed what the tunnel holds, from
  // inside the session's poll: it may touch the system (TUN), never the session.
  using OnChange = std::function<void(const ConnectIpClient&)>;

  ConnectIpClient(TunnelSet& set, h3::Session& session, uint64_t stream_id, PacketSink& sink,
                  ClientTunnelConfig config, OnChange on_change);

  // Asks for more addresses (each prefix a preference; all-zero: any of that family), with
  // fresh request IDs. False when the list is invalid or over the request-ID bound.
  bool request_addresses(h3::Outbox& out, std::span<const IpPrefix> wanted);
  // Addresses assigned to us (rejections left out) and the proxy's routes.
  const std::vector<AddressEntry>& addresses() const { return addresses_; }
  const std::vector<IpRange>& routes() const { return routes_; }
  // Requests that were answered with a rejection (§4.7.2).
  size_t rejected() const { return rejected_; }

 protected:
  void established(h3::Outbox& out) override;
  std::expected<void, CapsuleError> capsule(h3::Outbox& out, uint64_t type, Bytes value) override;
  bool accept_from_peer(const IpPacketInfo& info) override;
  bool accept_from_local(Bytes packet, const IpPacketInfo& info,
                         quic::DatagramPriority priority) override;
  std::optional<IpAddress> icmp_source(uint8_t version) const override;

 private:
  ClientTunnelConfig config_;
  OnChange on_change_;
  RequestIds ids_;
  std::vector<AddressEntry> addresses_;
  std::vector<IpRange> routes_;
  size_t rejected_ = 0;
};

// The request fields of a CONNECT-IP request for `scope` through `tmpl`, with the seq-context
// offer when `offer_context` is set (an even, non-zero context ID).
std::vector<h3::Field> connect_ip_request(const h3::UriTemplate& tmpl, const IpScope& scope,
                                          std::optional<uint64_t> offer_context);
// The seq context a 2xx response agreed to: the same ID we offered, or nothing.
std::optional<uint64_t> agreed_context(std::span<const h3::Field> response,
                                       std::optional<uint64_t> offered);

// True when `routes` allow a packet to `dst` with outermost protocol `protocol` (§4.7.3:
// protocol 0 allows all; ICMP is always allowed, §4.6).
bool route_allows(std::span<const IpRange> routes, const IpAddress& dst, uint8_t protocol);

}  // namespace masque
