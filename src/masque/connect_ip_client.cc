#include "masque/connect_ip_client.h"

#include "h3/capsule.h"

namespace masque {

bool route_allows(std::span<const IpRange> routes, const IpAddress& dst, uint8_t protocol) {
  bool icmp = protocol == (dst.version == 4 ? ipproto::kIcmp : ipproto::kIcmpv6);
  for (const IpRange& r : routes) {
    if (r.contains(dst) && (r.protocol == 0 || r.protocol == protocol || icmp)) return true;
  }
  return false;
}

std::vector<h3::Field> connect_ip_request(const h3::UriTemplate& tmpl, const IpScope& scope,
                                          std::optional<uint64_t> offer_context) {
  h3::UriVariables vars;
  vars["target"] =
      scope.target ? scope.target->address.to_string() + "/" + std::to_string(scope.target->length)
                   : "*";
  vars["ipproto"] = scope.protocol ? std::to_string(*scope.protocol) : "*";
  auto t = tmpl.expand(vars);
  std::vector<h3::Field> f = {
      {":method", "CONNECT"}, {":protocol", std::string(kConnectIpProtocol)},
      {":scheme", t.scheme},  {":authority", t.authority},
      {":path", t.path},      {"capsule-protocol", "?1"}};  // RFC 9297 §3.4
  if (offer_context) f.push_back({std::string(kContextHeader), context_offer(*offer_context)});
  return f;
}

std::optional<uint64_t> agreed_context(std::span<const h3::Field> response,
                                       std::optional<uint64_t> offered) {
  auto answer = find_context_offer(response);
  if (!offered || answer != offered) return std::nullopt;
  return answer;
}

ConnectIpClient::ConnectIpClient(TunnelSet& set, h3::Session& session, uint64_t stream_id,
                                 PacketSink& sink, ClientTunnelConfig config, OnChange on_change)
    : ConnectIpTunnel(set, session, stream_id, sink, config.tunnel),
      config_(config),
      on_change_(std::move(on_change)) {}

void ConnectIpClient::established(h3::Outbox& out) {
  // §4.7.1: an endpoint that needs an address MUST ask; all-zero means "any" (§4.7.2).
  std::vector<IpPrefix> want;
  if (config_.request_v4) want.push_back(IpPrefix{IpAddress{4, {}}, 32});
  if (config_.request_v6) want.push_back(IpPrefix{IpAddress{6, {}}, 128});
  if (!want.empty()) request_addresses(out, want);
}

bool ConnectIpClient::request_addresses(h3::Outbox& out, std::span<const IpPrefix> wanted) {
  std::vector<AddressEntry> req;
  for (const IpPrefix& p : wanted) req.push_back({ids_.next_ours(), p});
  auto value = encode_address_request(req);
  if (!value || !ids_.sent(req)) return false;
  return out.send_capsule(h3::capsule::kAddressRequest, *value).has_value();
}

std::expected<void, CapsuleError> ConnectIpClient::capsule(h3::Outbox& out, uint64_t type,
                                                           Bytes value) {
  if (type == h3::capsule::kAddressAssign) {
    auto a = decode_address_assign(value);
    if (!a) return std::unexpected(a.error());
    if (auto c = ids_.on_peer_assign(*a); !c) return c;
    addresses_.clear();
    rejected_ = 0;
    for (const AddressEntry& e : *a) {
      if (is_rejection(e)) {
        ++rejected_;
      } else {
        addresses_.push_back(e);
      }
    }
  } else if (type == h3::capsule::kRouteAdvertisement) {
    auto r = decode_route_advertisement(value);
    if (!r) return std::unexpected(r.error());
    routes_ = std::move(*r);
  } else if (type == h3::capsule::kAddressRequest) {
    // The proxy asks us for addresses: we have none to give; every entry is rejected (§4.7.2
    // still requires an answer per Request ID).
    auto r = decode_address_request(value);
    if (!r) return std::unexpected(r.error());
    if (auto c = ids_.on_peer_request(*r); !c) return c;
    std::vector<AddressEntry> answer;
    for (const AddressEntry& e : *r) answer.push_back(rejection(e));
    if (auto v = encode_address_assign(answer)) {
      (void)out.send_capsule(h3::capsule::kAddressAssign, *v);
    }
    return {};
  } else {
    return {};
  }
  if (on_change_) on_change_(*this);
  return {};
}

bool ConnectIpClient::accept_from_peer(const IpPacketInfo& info) {
  for (const AddressEntry& a : addresses_) {
    if (a.prefix.contains(info.dst)) return true;
  }
  ++stats_.dropped_not_ours;
  return false;
}

bool ConnectIpClient::accept_from_local(Bytes packet, const IpPacketInfo& info,
                                        quic::DatagramPriority) {
  if (addresses_.empty()) {
    ++stats_.dropped_not_ready;
    return false;
  }
  if (route_allows(routes_, info.dst, info.protocol)) return true;
  ++stats_.dropped_no_route;
  answer_icmp(IcmpKind::kNoRoute, packet, info);
  return false;
}

std::optional<IpAddress> ConnectIpClient::icmp_source(uint8_t version) const {
  for (const AddressEntry& a : addresses_) {
    if (a.prefix.address.version == version) return a.prefix.address;
  }
  return std::nullopt;
}

}  // namespace masque
