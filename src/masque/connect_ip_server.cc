#include "masque/connect_ip_server.h"

#include "h3/capsule.h"
#include "masque/connect_ip_client.h"

namespace masque {

namespace {

std::string_view field(std::span<const h3::Field> fields, std::string_view name) {
  for (const h3::Field& f : fields) {
    if (f.name == name) return f.value;
  }
  return {};
}

}  // namespace

quic::Result<std::unique_ptr<ConnectIpServer>> ConnectIpServer::create(ConnectIpServerConfig config,
                                                                       PacketSink& sink) {
  auto tmpl = h3::UriTemplate::parse(config.uri_template);
  if (!tmpl) return std::unexpected(tmpl.error());
  std::unique_ptr<ConnectIpServer> s(new ConnectIpServer(std::move(config), sink, *tmpl));
  for (const auto& pool : {s->config_.pool_v4, s->config_.pool_v6}) {
    if (!pool) continue;
    auto p = AddressPool::create(*pool);
    if (!p)
      return h3::fail(h3::err::kInternalError, "address pool too small: " + pool->to_string());
    (pool->address.version == 4 ? s->v4_ : s->v6_) = std::move(p);
  }
  if (!s->v4_ && !s->v6_) return h3::fail(h3::err::kInternalError, "no address pool");
  for (const auto& [key, address] : s->config_.remembered) {
    if (AddressPool* p = s->pool_for(address.version)) p->seed(key, address);
  }
  std::vector<IpPrefix> routes = s->config_.routes;
  if (routes.empty()) {  // a full tunnel for each family we assign addresses in
    if (s->v4_) routes.push_back(*IpPrefix::parse("0.0.0.0/0"));
    if (s->v6_) routes.push_back(*IpPrefix::parse("::/0"));
  }
  for (const IpPrefix& p : routes) s->routes_.push_back(IpRange::of(p));
  sort_routes(s->routes_);
  if (auto c = check_routes(s->routes_); !c) {
    return h3::fail(h3::err::kInternalError,
                    std::string("routes: ") + capsule_error_name(c.error()));
  }
  return s;
}

const AddressPool* ConnectIpServer::pool(uint8_t version) const {
  const auto& p = version == 4 ? v4_ : v6_;
  return p ? &*p : nullptr;
}

AddressPool* ConnectIpServer::pool_for(uint8_t version) {
  auto& p = version == 4 ? v4_ : v6_;
  return p ? &*p : nullptr;
}

h3::HandlerFactory ConnectIpServer::factory(h3::Session& session, std::string client_key,
                                            PayloadFn payload, RoomFn room) {
  return [this, &session, key = std::move(client_key), payload = std::move(payload),
          room = std::move(room)](uint64_t id, std::span<const h3::Field> f) {
    return make(session, key, payload, room, id, f);
  };
}

void ConnectIpServer::attach(h3::Session& session, std::string client_key, PayloadFn payload,
                             RoomFn room) {
  session.register_protocol(std::string(kConnectIpProtocol),
                            factory(session, std::move(client_key), std::move(payload),
                                    std::move(room)));
}

// The routes a request may use (§4.6 scope), or the refusal (status and Proxy-Status).
static std::expected<std::vector<IpRange>, Refusal> scoped_routes(
    const h3::UriTemplate& tmpl, const std::vector<IpRange>& routes,
    std::span<const h3::Field> fields) {
  std::string path(field(fields, ":path"));
  auto vars = tmpl.match(path);
  if (!vars) {
    // RFC 9484 §4.2 shows the wildcard as a literal "*", which RFC 6570 expansion would
    // percent-encode: accept both spellings.
    for (size_t at; (at = path.find('*')) != std::string::npos;) path.replace(at, 1, "%2A");
    vars = tmpl.match(path);
  }
  if (!vars) {
    return std::unexpected(
        Refusal{404, {ProxyError::kHttpRequestError, "path does not match the template", {}}});
  }
  auto get = [&](const char* k) {
    auto it = vars->find(k);
    return it == vars->end() ? std::string_view{} : std::string_view(it->second);
  };
  auto scope = parse_scope(get("target"), get("ipproto"));
  if (!scope) {  // malformed (§4.1); DNS names are not supported either
    return std::unexpected(refuse(ProxyError::kHttpRequestError, "bad target or ipproto"));
  }
  std::vector<IpRange> out;
  if (scope->target) {
    IpRange want = IpRange::of(*scope->target);
    bool inside = false;
    for (const IpRange& r : routes) inside |= r.contains(want.start) && r.contains(want.end);
    if (!inside) {
      return std::unexpected(
          refuse(ProxyError::kDestinationIpProhibited, "target outside the advertised routes"));
    }
    out.push_back(want);
  } else {
    out = routes;
  }
  if (scope->protocol) {
    for (IpRange& r : out) r.protocol = *scope->protocol;
  }
  sort_routes(out);
  return out;
}

std::unique_ptr<h3::StreamHandler> ConnectIpServer::make(h3::Session& s, const std::string& key,
                                                         const PayloadFn& payload,
                                                         const RoomFn& room, uint64_t id,
                                                         std::span<const h3::Field> fields) {
  auto routes = scoped_routes(template_, routes_, fields);
  TunnelConfig cfg;
  if (routes && config_.accept_context_offer) cfg.sequence_context = find_context_offer(fields);
  auto t = std::make_unique<ServerTunnel>(*this, s, id, key,
                                          routes.value_or(std::vector<IpRange>{}), cfg, payload,
                                          routes ? std::nullopt : std::optional(routes.error()),
                                          room);
  t->refresh_mtu();
  return t;
}

bool ConnectIpServer::respond(h3::Session& session, const h3::Event& headers) {
  if (headers.kind != h3::EventKind::kHeaders ||
      field(headers.fields, ":protocol") != kConnectIpProtocol) {
    return false;
  }
  ServerTunnel* tunnel = nullptr;
  for (ConnectIpTunnel* t : tunnels_.entries()) {
    if (&t->session() == &session && t->stream_id() == headers.stream_id) {
      tunnel = static_cast<ServerTunnel*>(t);
    }
  }
  if (tunnel == nullptr) return false;  // attach() was not called for this session
  bool refused = tunnel->refused();
  (void)session.send_response(headers.stream_id, tunnel->response(), {}, refused);
  return true;
}

void ConnectIpServer::from_local(Bytes packet, quic::Instant now,
                                 quic::DatagramPriority priority) {
  auto info = parse_ip_packet(packet);
  auto it = info ? by_address_.find(info->dst) : by_address_.end();
  if (it == by_address_.end()) {
    ++dropped_no_tunnel_;
    return;
  }
  ServerTunnel& t = *it->second;
  t.refresh_mtu();
  h3::Outbox out = t.session().outbox(t.stream_id());
  t.send_packet(out, packet, now, priority);
}

// --- ServerTunnel

ServerTunnel::ServerTunnel(ConnectIpServer& server, h3::Session& session, uint64_t stream_id,
                           std::string key, std::vector<IpRange> routes, TunnelConfig config,
                           ConnectIpServer::PayloadFn payload, std::optional<Refusal> refusal,
                           ConnectIpServer::RoomFn room)
    : ConnectIpTunnel(server.tunnels_, session, stream_id, server.sink_, config),
      server_(server),
      payload_(std::move(payload)),
      room_(std::move(room)),
      refusal_(std::move(refusal)),
      key_(std::move(key)),
      routes_(std::move(routes)) {}

std::vector<h3::Field> ServerTunnel::response() const {
  if (refusal_) {
    return {{":status", std::to_string(refusal_->status)},
            {"proxy-status", format_proxy_status(kProxyName, refusal_->proxy_status)},
            {"content-length", "0"}};
  }
  std::vector<h3::Field> f = {{":status", "200"}, {"capsule-protocol", "?1"}};
  if (auto ctx = sequence_context())
    f.push_back({std::string(kContextHeader), context_offer(*ctx)});
  return f;
}

std::optional<ConnectResponse> ServerTunnel::on_request(Respond) {
  refresh_mtu();
  return ConnectResponse{refusal_ ? refusal_->status : uint16_t{200}, response()};
}

void ServerTunnel::refresh_mtu() {
  if (!payload_) return;
  size_t now = payload_();
  if (now == payload_seen_) return;
  payload_seen_ = now;
  set_max_datagram_payload(now);
}

ServerTunnel::~ServerTunnel() {
  for (const AddressEntry& a : assigned_) {
    if (AddressPool* p = server_.pool_for(a.prefix.address.version)) {
      p->release(key_, a.prefix.address);
    }
    server_.by_address_.erase(a.prefix.address);
  }
}

void ServerTunnel::established(h3::Outbox& out) {
  if (refusal_) return;
  if (auto v = encode_route_advertisement(routes_)) {
    (void)out.send_capsule(h3::capsule::kRouteAdvertisement, *v);
  }
}

std::optional<AddressEntry> ServerTunnel::grant(const AddressEntry& request) {
  uint8_t version = request.prefix.address.version;
  AddressPool* pool = server_.pool_for(version);
  if (pool == nullptr || assigned_.size() >= kMaxAddressesPerTunnel) return std::nullopt;
  // A specific full-length address is a preference (§4.7.2); anything else: our choice.
  std::optional<IpAddress> preferred;
  if (request.prefix.length == request.prefix.address.bits()) preferred = request.prefix.address;
  auto a = pool->assign(key_, preferred);
  if (!a) return std::nullopt;
  AddressEntry e{request.request_id, IpPrefix{*a, static_cast<uint8_t>(a->bits())}};
  server_.by_address_[*a] = this;
  return e;
}

std::expected<void, CapsuleError> ServerTunnel::on_request(h3::Outbox& out, Bytes value) {
  auto req = decode_address_request(value);
  if (!req) return std::unexpected(req.error());
  if (auto c = ids_.on_peer_request(*req); !c) return c;
  std::vector<AddressEntry> answer;
  for (const AddressEntry& r : *req) {
    if (auto g = grant(r)) {
      assigned_.push_back(*g);
    } else {
      answer.push_back(rejection(r));  // §4.7.2: answered, and not repeated later
    }
  }
  // Every ADDRESS_ASSIGN carries the full current list (§4.7.1).
  answer.insert(answer.begin(), assigned_.begin(), assigned_.end());
  auto v = encode_address_assign(answer);
  if (v) (void)out.send_capsule(h3::capsule::kAddressAssign, *v);
  return {};
}

std::expected<void, CapsuleError> ServerTunnel::capsule(h3::Outbox& out, uint64_t type,
                                                        Bytes value) {
  if (type == h3::capsule::kAddressRequest) return on_request(out, value);
  if (type == h3::capsule::kAddressAssign) {
    // The client assigning us addresses (network-to-network use): checked, not used.
    auto a = decode_address_assign(value);
    if (!a) return std::unexpected(a.error());
    return ids_.on_peer_assign(*a);
  }
  if (type == h3::capsule::kRouteAdvertisement) {
    auto r = decode_route_advertisement(value);
    if (!r) return std::unexpected(r.error());
    peer_routes_ = std::move(*r);
  }
  return {};
}

bool ServerTunnel::accept_from_peer(const IpPacketInfo& info) {
  if (assigned_.empty()) {
    ++stats_.dropped_not_ready;  // nothing assigned yet: no source can be right
    return false;
  }
  bool ours = false;
  for (const AddressEntry& a : assigned_) ours |= a.prefix.contains(info.src);
  if (!ours) {
    ++stats_.dropped_spoofed;  // §8.2 source address validation
    return false;
  }
  if (route_allows(routes_, info.dst, info.protocol)) return true;
  ++stats_.dropped_no_route;
  return false;
}

bool ServerTunnel::accept_from_local(Bytes, const IpPacketInfo&,
                                     quic::DatagramPriority priority) {
  // Interactive packets have their own small queue in the transport: no backlog to check.
  if (priority == quic::DatagramPriority::kNormal && room_ && !room_()) {
    ++stats_.dropped_send_failed;
    return false;
  }
  return true;
}

void ServerTunnel::aborted() {
  if (server_.on_abort_) server_.on_abort_();
}

std::optional<IpAddress> ServerTunnel::icmp_source(uint8_t version) const {
  const AddressPool* p = server_.pool(version);
  if (p == nullptr) return std::nullopt;
  return p->router();
}

}  // namespace masque
