// CONNECT-IP client and server handlers over a real h3::Session pair in the simulator:
// address request and assignment, routes, packets both ways with the proxy's source check,
// ICMP too-big, unknown contexts, the `tquic-context` negotiation (and its absence), and
// hostile capsules resetting the stream with the RFC's code.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>

#include "h3/capsule.h"
#include "h3/h3_fixture.h"
#include "masque/connect_ip_client.h"
#include "masque/connect_ip_server.h"
#include "masque/ip_packet_test_util.h"

namespace masque {
namespace {

using h3::EventKind;
using h3test::Peer;
using quic::Instant;
using test::make_packet;
using Wire = std::vector<uint8_t>;

struct VecSink : PacketSink {
  std::vector<Wire> packets;
  std::vector<PacketMeta> metas;
  void deliver(Bytes p, const PacketMeta& m) override {
    packets.emplace_back(p.begin(), p.end());
    metas.push_back(m);
  }
};

struct RigOptions {
  std::optional<uint64_t> offer;  // client's seq-context offer
  bool server_accepts = true;
  bool request_v6 = false;
  bool hostile_client = false;  // no ADDRESS_REQUEST on establishment
  IpScope scope;
  std::optional<std::string> path;  // replaces the expanded :path
  ConnectIpServer::RoomFn room;      // the server tunnels' room check (tquicd's backlog)
};

// Members in this order so the Pair (and its sessions, and the tunnels in them) goes first.
struct Rig {
  VecSink client_sink, server_sink;
  TunnelSet client_tunnels;
  std::unique_ptr<ConnectIpServer> server;
  std::unique_ptr<h3test::Pair> pair;
  std::optional<uint64_t> stream;
  std::optional<uint64_t> agreed;
  std::vector<std::function<void(Peer&, Instant)>> client_actions, server_actions;
  size_t reaped = 0;

  explicit Rig(RigOptions o = {}) {
    ConnectIpServerConfig cfg;
    cfg.pool_v4 = IpPrefix::parse("198.18.200.0/24");
    cfg.pool_v6 = IpPrefix::parse("2001:db8:200::/64");
    cfg.routes = {*IpPrefix::parse("198.18.0.0/23"), *IpPrefix::parse("2001:db8:1::/48")};
    cfg.accept_context_offer = o.server_accepts;
    server = ConnectIpServer::create(cfg, server_sink).value();
    h3test::PairOptions po;
    po.client.enable_connect_protocol = po.server.enable_connect_protocol = true;
    po.client.enable_datagrams = po.server.enable_datagrams = true;
    po.quic_client.max_datagram_frame_size = po.quic_server.max_datagram_frame_size = 1400;
    // Queued actions run from on_tick, which needs activity: PINGs keep both ends waking.
    po.quic_client.keep_alive = po.quic_server.keep_alive = std::chrono::milliseconds(50);
    pair = std::make_unique<h3test::Pair>(po);
    pair->server.on_session = [this, room = o.room](Peer& s) {
      server->attach(*s.session, "client-1", [&s] { return s.conn->max_datagram_payload(); },
                     room);
    };
    pair->server.on_event = [this](Peer& s, const h3::Event& e, Instant) {
      if (e.kind == EventKind::kHeaders) {
        EXPECT_TRUE(server->respond(*s.session, e));
      }
    };
    pair->server.on_tick = [this](Peer& s, Instant now) {
      reaped += server->reap();
      for (auto& f : server_actions) f(s, now);
      server_actions.clear();
    };
    ClientTunnelConfig ccfg;
    ccfg.request_v4 = !o.hostile_client;
    ccfg.request_v6 = o.request_v6 && !o.hostile_client;
    pair->client.on_event = [this, o, ccfg](Peer& c, const h3::Event& e, Instant) {
      if (e.kind == EventKind::kSettings && !stream) {
        c.session->register_protocol(
            std::string(kConnectIpProtocol), [this, &c, ccfg](uint64_t id, auto) {
              return std::make_unique<ConnectIpClient>(client_tunnels, *c.session, id, client_sink,
                                                       ccfg, nullptr);
            });
        auto tmpl = h3::UriTemplate::parse(kDefaultIpTemplate).value();
        auto fields = connect_ip_request(tmpl, o.scope, o.offer);
        for (auto& f : fields) {
          if (f.name == ":path" && o.path) f.value = *o.path;
        }
        stream = c.session->send_request(fields, {}, false).value();
      }
      if (e.kind == EventKind::kHeaders && stream && e.stream_id == *stream) {
        agreed = agreed_context(e.fields, o.offer);
        if (ConnectIpClient* t = client()) {
          t->set_sequence_context(agreed);
          t->set_max_datagram_payload(c.conn->max_datagram_payload());
        }
      }
    };
    pair->client.on_tick = [this](Peer& c, Instant now) {
      client_tunnels.reap();
      for (auto& f : client_actions) f(c, now);
      client_actions.clear();
    };
  }

  ConnectIpClient* client() const {
    auto& e = client_tunnels.entries();
    return e.empty() ? nullptr : static_cast<ConnectIpClient*>(e.front());
  }
  // The server's handler of the test's one stream.
  ServerTunnel* server_tunnel() const {
    auto* h = pair->server.session ? pair->server.session->handler(*stream) : nullptr;
    return static_cast<ServerTunnel*>(h);
  }
  bool ready() const {
    return client() != nullptr && !client()->addresses().empty() && !client()->routes().empty();
  }
  bool run(const std::function<bool()>& done) { return pair->run_until(done); }
  // Client sends `p` through its tunnel at the next tick.
  void client_send(Wire p) {
    client_actions.push_back([this, p](Peer& c, Instant now) {
      h3::Outbox out = c.session->outbox(*stream);
      client()->send_packet(out, p, now);
    });
  }
  void client_raw(std::function<void(h3::Outbox&)> f) {
    client_actions.push_back([this, f](Peer& c, Instant) {
      h3::Outbox out = c.session->outbox(*stream);
      f(out);
    });
  }
  // The server's session sends a capsule on the tunnel's stream (a hostile proxy).
  void server_capsule(uint64_t type, Wire value) {
    server_actions.push_back([this, type, value](Peer& s, Instant) {
      ASSERT_TRUE(s.session->outbox(*stream).send_capsule(type, value));
    });
  }
  const h3::Event* client_reset() const { return pair->client.find(EventKind::kReset, *stream); }
};

std::string client_address(const Rig& r) {
  return r.client()->addresses().front().prefix.address.to_string();
}

TEST(ConnectIpSession, AddressesRoutesAndPacketsBothWays) {
  Rig r({.request_v6 = true});
  ASSERT_TRUE(r.run([&] { return r.ready() && r.client()->addresses().size() == 2; }));
  ConnectIpClient& c = *r.client();
  EXPECT_EQ(c.addresses()[0].request_id, 1u);
  EXPECT_TRUE(IpPrefix::parse("198.18.200.0/24")->contains(c.addresses()[0].prefix.address));
  EXPECT_EQ(c.addresses()[0].prefix.length, 32);
  EXPECT_EQ(c.addresses()[1].request_id, 2u);
  EXPECT_EQ(c.addresses()[1].prefix.length, 128);
  ASSERT_EQ(c.routes().size(), 2u);
  EXPECT_EQ(c.routes()[0], IpRange::of(*IpPrefix::parse("198.18.0.0/23")));
  EXPECT_FALSE(r.agreed);  // nothing offered

  std::string src = client_address(r);
  Wire up = make_packet({.src = src.c_str(), .dst = "198.18.1.2", .payload = 100});
  r.client_send(up);
  ASSERT_TRUE(r.run([&] { return r.server_sink.packets.size() == 1; }));
  EXPECT_EQ(r.server_sink.packets[0], up);
  EXPECT_EQ(r.server_sink.metas[0].context_id, 0u);
  Wire down = make_packet({.src = "198.18.1.2", .dst = src.c_str(), .payload = 200});
  r.server_actions.push_back([&](Peer&, Instant now) { r.server->from_local(down, now); });
  ASSERT_TRUE(r.run([&] { return r.client_sink.packets.size() == 1; }));
  EXPECT_EQ(r.client_sink.packets[0], down);
  EXPECT_EQ(r.server->stats().packets_in, 1u);
  EXPECT_EQ(r.server->stats().packets_out, 1u);
  // IPv6 the same way, from the assigned /128 to the advertised 2001:db8:1::/48.
  std::string src6 = c.addresses()[1].prefix.address.to_string();
  Wire up6 = make_packet({.src = src6.c_str(), .dst = "2001:db8:1::2", .payload = 64});
  r.client_send(up6);
  ASSERT_TRUE(r.run([&] { return r.server_sink.packets.size() == 2; }));
  EXPECT_EQ(r.server_sink.packets[1], up6);
  Wire down6 = make_packet({.src = "2001:db8:1::2", .dst = src6.c_str(), .payload = 64});
  r.server_actions.push_back([&](Peer&, Instant now) { r.server->from_local(down6, now); });
  ASSERT_TRUE(r.run([&] { return r.client_sink.packets.size() == 2; }));
  EXPECT_EQ(r.client_sink.packets[1], down6);
  // A destination nobody holds: counted at the proxy.
  r.server->from_local(make_packet({.src = "198.18.1.2", .dst = "198.18.200.250"}), Instant{});
  EXPECT_EQ(r.server->dropped_no_tunnel(), 1u);
}

// tquicd's server bounds a client's DATAGRAM queue (docs/tquicd-datapath.md "Datagram
// backlog"): while the room check says no, packets from the local side are dropped and
// counted, none is queued; once there is room again they flow.
TEST(ConnectIpSession, NoRoomDropsLocalPacketsAndCountsThem) {
  bool room = true;
  Rig r({.room = [&room] { return room; }});
  ASSERT_TRUE(r.run([&] { return r.ready(); }));
  std::string src = client_address(r);
  Wire down = make_packet({.src = "198.18.1.2", .dst = src.c_str(), .payload = 200});
  room = false;
  r.server->from_local(down, Instant{});
  r.server->from_local(down, Instant{});
  EXPECT_EQ(r.server->stats().dropped_send_failed, 2u);
  EXPECT_EQ(r.server->stats().packets_out, 0u);
  EXPECT_EQ(r.pair->server.conn->datagram_send_queue_bytes(), 0u);
  room = true;
  r.server_actions.push_back([&](Peer&, Instant now) { r.server->from_local(down, now); });
  ASSERT_TRUE(r.run([&] { return r.client_sink.packets.size() == 1; }));
  EXPECT_EQ(r.client_sink.packets[0], down);
  EXPECT_EQ(r.server->stats().packets_out, 1u);
  EXPECT_EQ(r.server->stats().dropped_send_failed, 2u);
}

TEST(ConnectIpSession, OneTunnelHoldsAtMostTheBoundTheRestIsRejected) {
  Rig r({.hostile_client = true});  // asks for nothing by itself
  ASSERT_TRUE(r.run([&] { return r.client() != nullptr && !r.client()->routes().empty(); }));
  r.client_raw([&](h3::Outbox& out) {
    std::vector<IpPrefix> any(kMaxAddressesPerTunnel + 1, IpPrefix{IpAddress{4, {}}, 32});
    ASSERT_TRUE(r.client()->request_addresses(out, any));
  });
  ASSERT_TRUE(r.run([&] { return r.client()->rejected() == 1; }));
  EXPECT_EQ(r.client()->addresses().size(), kMaxAddressesPerTunnel);
  EXPECT_EQ(r.server_tunnel()->assigned().size(), kMaxAddressesPerTunnel);
  // A later request is answered with the full list again (§4.7.1), the new one rejected.
  r.client_raw([&](h3::Outbox& out) {
    std::vector<IpPrefix> one = {*IpPrefix::parse("198.18.200.9/32")};
    ASSERT_TRUE(r.client()->request_addresses(out, one));
  });
  ASSERT_TRUE(r.run([&] {
    return r.client()->rejected() == 1 && r.pair->client.session->stats().capsules_delivered >= 3;
  }));
  EXPECT_EQ(r.client()->addresses().size(), kMaxAddressesPerTunnel);
  EXPECT_EQ(r.server->pool(4)->in_use(), kMaxAddressesPerTunnel);
}

TEST(ConnectIpSession, SpoofedSourceAndUnroutedDestinationAreDroppedAndCounted) {
  Rig r;
  ASSERT_TRUE(r.run([&] { return r.ready(); }));
  std::string src = client_address(r);
  r.client_send(make_packet({.src = "198.18.200.77", .dst = "198.18.1.2"}));
  // Outside the client's routes: the client answers itself with ICMP, sends nothing.
  r.client_send(make_packet({.src = src.c_str(), .dst = "203.0.113.9"}));
  // Then a good one, so we know the earlier ones had their chance to arrive.
  r.client_send(make_packet({.src = src.c_str(), .dst = "198.18.0.9"}));
  ASSERT_TRUE(r.run([&] { return r.server_sink.packets.size() == 1; }));
  EXPECT_EQ(r.server->stats().dropped_spoofed, 1u);
  EXPECT_EQ(r.client()->stats().dropped_no_route, 1u);
  ASSERT_EQ(r.client_sink.packets.size(), 1u);  // the ICMP "no route"
  auto icmp = parse_ip_packet(r.client_sink.packets[0]);
  ASSERT_TRUE(icmp);
  EXPECT_EQ(icmp->protocol, ipproto::kIcmp);
  EXPECT_EQ(r.client_sink.packets[0][20], 3);
  // The proxy's own route check: a client that ignores its routes is stopped there too.
  r.client_raw([&](h3::Outbox& out) {
    Wire d = {0};
    Wire p = make_packet({.src = src.c_str(), .dst = "203.0.113.9"});
    d.insert(d.end(), p.begin(), p.end());
    ASSERT_TRUE(out.send_datagram(d));
  });
  ASSERT_TRUE(r.run([&] { return r.server->stats().dropped_no_route == 1; }));
  EXPECT_EQ(r.server_sink.packets.size(), 1u);
}

TEST(ConnectIpSession, TooBigPacketsAreAnsweredWithIcmpCarryingTheTunnelMtu) {
  Rig r;
  ASSERT_TRUE(r.run([&] { return r.ready(); }));
  r.server_tunnel()->refresh_mtu();  // from_local does this too: the path's current payload
  size_t mtu = r.server_tunnel()->mtu();
  EXPECT_GT(mtu, 1000u);
  EXPECT_LT(mtu, 1400u);
  std::string dst = client_address(r);
  Wire big = make_packet({.src = "198.18.1.2", .dst = dst.c_str(), .payload = mtu});
  r.server->from_local(big, Instant{});
  EXPECT_EQ(r.server->stats().dropped_too_big, 1u);
  ASSERT_EQ(r.server_sink.packets.size(), 1u);
  const Wire& icmp = r.server_sink.packets[0];
  auto info = parse_ip_packet(icmp);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->src, *IpAddress::parse("198.18.200.1"));  // the pool's router address
  EXPECT_EQ(info->dst, *IpAddress::parse("198.18.1.2"));
  EXPECT_EQ(icmp[20], 3);
  EXPECT_EQ(icmp[21], 4);
  EXPECT_EQ(size_t(icmp[26] << 8 | icmp[27]), mtu);
  // Without DF it could have been fragmented: dropped and counted, but no "fragmentation
  // needed" (RFC 1191 §3).
  r.server->from_local(
      make_packet({.src = "198.18.1.2", .dst = dst.c_str(), .payload = mtu, .df = false}),
      Instant{});
  EXPECT_EQ(r.server->stats().dropped_too_big, 2u);
  EXPECT_EQ(r.server_sink.packets.size(), 1u);
  // One byte less fits and is delivered.
  Wire fits = make_packet({.src = "198.18.1.2", .dst = dst.c_str(), .payload = mtu - 20});
  r.server_actions.push_back([&](Peer&, Instant now) { r.server->from_local(fits, now); });
  ASSERT_TRUE(r.run([&] { return r.client_sink.packets.size() == 1; }));
  EXPECT_EQ(r.client_sink.packets[0].size(), mtu);
}

TEST(ConnectIpSession, UnknownContextsAreDroppedAndCounted) {
  Rig r;
  ASSERT_TRUE(r.run([&] { return r.ready(); }));
  std::string src = client_address(r);
  Wire p = make_packet({.src = src.c_str(), .dst = "198.18.1.2"});
  r.client_raw([&](h3::Outbox& out) {
    for (uint64_t ctx : {2, 4, 1}) {
      Wire d;
      h3::append_varint(d, ctx);
      d.insert(d.end(), p.begin(), p.end());
      ASSERT_TRUE(out.send_datagram(d));
    }
    ASSERT_TRUE(out.send_datagram(Wire{}));  // not even a context ID
  });
  r.client_send(p);
  ASSERT_TRUE(r.run([&] { return r.server_sink.packets.size() == 1; }));
  EXPECT_EQ(r.server->stats().dropped_unknown_context, 3u);
  EXPECT_EQ(r.server->stats().dropped_malformed, 1u);
}

TEST(ConnectIpSession, SequenceContextOnlyWhenBothAgree) {
  {
    Rig r({.offer = 2});
    ASSERT_TRUE(r.run([&] { return r.ready() && r.agreed; }));
    EXPECT_EQ(*r.agreed, 2u);
    EXPECT_EQ(r.server_tunnel()->sequence_context(), 2u);
    std::string src = client_address(r);
    r.client_send(make_packet({.src = src.c_str(), .dst = "198.18.1.2"}));
    r.client_send(make_packet({.src = src.c_str(), .dst = "198.18.1.3"}));
    ASSERT_TRUE(r.run([&] { return r.server_sink.packets.size() == 2; }));
    EXPECT_EQ(r.server_sink.metas[0].context_id, 2u);
    EXPECT_EQ(r.server_sink.metas[0].sequence, 0u);
    EXPECT_EQ(r.server_sink.metas[1].sequence, 1u);
    EXPECT_TRUE(r.server_sink.metas[1].send_time_us);
    EXPECT_EQ(r.server->stats().sequenced_in, 2u);
    // Plain context 0 is still accepted alongside.
    r.client_raw([&](h3::Outbox& out) {
      Wire d = {0};
      Wire p = make_packet({.src = src.c_str(), .dst = "198.18.1.4"});
      d.insert(d.end(), p.begin(), p.end());
      ASSERT_TRUE(out.send_datagram(d));
    });
    ASSERT_TRUE(r.run([&] { return r.server_sink.packets.size() == 3; }));
    EXPECT_EQ(r.server_sink.metas[2].context_id, 0u);
  }
  {
    // A peer that does not know the field never answers it: context 0 only, and a datagram
    // on the offered context is an unknown context to it.
    Rig r({.offer = 2, .server_accepts = false});
    ASSERT_TRUE(r.run([&] { return r.ready(); }));
    EXPECT_FALSE(r.agreed);
    EXPECT_FALSE(r.client()->sequence_context());
    EXPECT_FALSE(r.server_tunnel()->sequence_context());
    std::string src = client_address(r);
    Wire p = make_packet({.src = src.c_str(), .dst = "198.18.1.2"});
    r.client_send(p);
    r.client_raw([&](h3::Outbox& out) {
      Wire d = {2, 0, 0};
      d.insert(d.end(), p.begin(), p.end());
      ASSERT_TRUE(out.send_datagram(d));
    });
    r.client_send(p);
    ASSERT_TRUE(r.run([&] { return r.server_sink.packets.size() == 2; }));
    EXPECT_EQ(r.server_sink.metas[0].context_id, 0u);
    EXPECT_EQ(r.server->stats().dropped_unknown_context, 1u);
    EXPECT_EQ(r.server->stats().sequenced_in, 0u);
  }
}

std::string status_of(const Rig& r) {
  const h3::Event* h = r.pair->client.find(EventKind::kHeaders, *r.stream);
  if (h == nullptr) return "";
  for (const auto& f : h->fields) {
    if (f.name == ":status") return f.value;
  }
  return "";
}

TEST(ConnectIpSession, ScopeNarrowsRoutesOrRefusesTheRequest) {
  {
    Rig r({.scope = {IpPrefix::parse("198.18.1.0/24"), ipproto::kTcp}});
    ASSERT_TRUE(r.run([&] { return r.ready(); }));
    EXPECT_EQ(status_of(r), "200");
    ASSERT_EQ(r.client()->routes().size(), 1u);
    EXPECT_EQ(r.client()->routes()[0], IpRange::of(*IpPrefix::parse("198.18.1.0/24"), 6));
    // UDP is outside the scope; ICMP is always allowed (§4.6).
    std::string src = client_address(r);
    r.client_send(make_packet({.src = src.c_str(), .dst = "198.18.1.2"}));
    r.client_send(
        make_packet({.src = src.c_str(), .dst = "198.18.1.2", .protocol = ipproto::kTcp}));
    r.client_send(
        make_packet({.src = src.c_str(), .dst = "198.18.1.2", .protocol = ipproto::kIcmp}));
    ASSERT_TRUE(r.run([&] { return r.server_sink.packets.size() == 2; }));
    EXPECT_EQ(r.client()->stats().dropped_no_route, 1u);
  }
  struct Case {
    std::optional<std::string> path;
    IpScope scope;
    const char* status;
  };
  std::vector<Case> cases = {
      {std::nullopt, {IpPrefix::parse("203.0.113.0/24"), std::nullopt}, "403"},
      {"/.well-known/masque/ip/*/300/", {}, "400"},
      {"/.well-known/masque/ip/198.18.0.1%2F24/*/", {}, "400"},  // host bits set
      {"/.well-known/masque/ip/example.org/*/", {}, "400"},      // DNS names unsupported
      {"/somewhere/else", {}, "404"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.status);
    Rig r({.scope = c.scope, .path = c.path});
    ASSERT_TRUE(r.run([&] { return !status_of(r).empty(); }));
    EXPECT_EQ(status_of(r), c.status);
    const h3::Event* h = r.pair->client.find(EventKind::kHeaders, *r.stream);
    auto ps = std::find_if(h->fields.begin(), h->fields.end(),
                           [](const h3::Field& f) { return f.name == "proxy-status"; });
    ASSERT_NE(ps, h->fields.end());
    auto parsed = parse_proxy_status(ps->value);
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->proxy, "tquic");
    EXPECT_EQ(parsed->error,
              std::string(c.status) == "403" ? "destination_ip_prohibited" : "http_request_error");
    ASSERT_TRUE(r.run([&] { return r.server->tunnels() == 0 && r.client() == nullptr; }));
  }
  // The RFC's literal "*" (§4.2) is accepted as well as the template's %2A.
  Rig star({.path = "/.well-known/masque/ip/*/*/"});
  ASSERT_TRUE(star.run([&] { return star.ready(); }));
  EXPECT_EQ(status_of(star), "200");
}

TEST(ConnectIpSession, AbortNotifiesTheOwner) {
  Rig r({.hostile_client = true});
  int told = 0;
  r.server->set_on_abort([&] { ++told; });
  ASSERT_TRUE(r.run([&] { return r.client() != nullptr && !r.client()->routes().empty(); }));
  r.client_raw(
      [](h3::Outbox& out) { ASSERT_TRUE(out.send_capsule(h3::capsule::kAddressRequest, {})); });
  ASSERT_TRUE(r.run([&] { return r.client_reset() != nullptr; }));
  EXPECT_EQ(told, 1);
  EXPECT_EQ(r.reaped, 1u);
}

TEST(ConnectIpSession, ContextOfferParsing) {
  EXPECT_EQ(parse_context_offer("seq=2"), 2u);
  EXPECT_FALSE(parse_context_offer("seq=1"));  // odd: proxy-allocated, not the client's
  EXPECT_FALSE(parse_context_offer("seq=0"));
  EXPECT_FALSE(parse_context_offer("seq="));
  EXPECT_FALSE(parse_context_offer("seq=2x"));
  EXPECT_FALSE(parse_context_offer("seq=99999999999999999999999"));
  EXPECT_FALSE(parse_context_offer("ctx=2"));
  std::vector<h3::Field> two = {{"tquic-context", "seq=2"}, {"tquic-context", "seq=4"}};
  EXPECT_FALSE(find_context_offer(two));
  EXPECT_FALSE(agreed_context(std::vector<h3::Field>{{"tquic-context", "seq=4"}}, 2));
  EXPECT_FALSE(agreed_context(std::vector<h3::Field>{{"tquic-context", "seq=2"}}, std::nullopt));
}

// --- hostile capsules: the stream is reset with the code, the connection lives.

struct Hostile {
  const char* name;
  std::function<void(Rig&)> act;
  uint64_t code;
};

void expect_reset(const Hostile& h) {
  SCOPED_TRACE(h.name);
  Rig r({.hostile_client = true});
  ASSERT_TRUE(r.run([&] { return r.client() != nullptr && !r.client()->routes().empty(); }));
  h.act(r);
  ASSERT_TRUE(r.run([&] { return r.client_reset() != nullptr; }));
  EXPECT_EQ(r.client_reset()->code, h.code);
  EXPECT_EQ(r.server->tunnels(), 0u);
  EXPECT_EQ(r.client(), nullptr);
  EXPECT_FALSE(r.pair->client.session->is_closed());
  EXPECT_FALSE(r.pair->server.session->is_closed());
}

Wire request_entry(uint8_t id, uint8_t len) {
  return Wire{id, 4, 0, 0, 0, 0, len};
}

TEST(ConnectIpSession, HostileCapsulesFromTheClientResetTheStream) {
  auto cap = [](uint64_t type, Wire v) {
    return [type, v](Rig& r) {
      r.client_raw([type, v](h3::Outbox& out) { ASSERT_TRUE(out.send_capsule(type, v)); });
    };
  };
  Wire dup = request_entry(3, 32);
  Wire again = request_entry(3, 32);
  Wire routes = {4, 10, 0, 0, 0, 10, 0, 0, 255, 0, 4, 10, 0, 0, 128, 10, 0, 1, 0, 6};
  std::vector<Hostile> cases = {
      {"oversized", cap(h3::capsule::kAddressRequest, Wire(h3::kMaxAddressCapsule + 1, 0)),
       h3::err::kExcessiveLoad},
      {"prefix too long", cap(h3::capsule::kAddressRequest, request_entry(1, 33)),
       h3::err::kMessageError},
      {"empty request", cap(h3::capsule::kAddressRequest, {}), h3::err::kGeneralProtocolError},
      {"zero request id", cap(h3::capsule::kAddressRequest, request_entry(0, 32)),
       h3::err::kMessageError},
      {"truncated entry", cap(h3::capsule::kAddressRequest, Wire{1, 4, 0, 0}),
       h3::err::kMessageError},
      {"duplicate ids in one capsule",
       cap(h3::capsule::kAddressRequest,
           [&] {
             Wire w = dup;
             w.insert(w.end(), again.begin(), again.end());
             return w;
           }()),
       h3::err::kGeneralProtocolError},
      {"reused id across capsules",
       [&](Rig& r) {
         cap(h3::capsule::kAddressRequest, dup)(r);
         cap(h3::capsule::kAddressRequest, again)(r);
       },
       h3::err::kGeneralProtocolError},
      {"overlapping routes", cap(h3::capsule::kRouteAdvertisement, routes),
       h3::err::kGeneralProtocolError},
      {"assign naming no request", cap(h3::capsule::kAddressAssign, Wire{9, 4, 1, 2, 3, 4, 32}),
       h3::err::kGeneralProtocolError},
      {"truncated at FIN",
       [](Rig& r) {
         r.client_actions.push_back([&r](Peer& c, Instant) {
           Wire part = {0x02, 0x07, 1, 4, 0};  // ADDRESS_REQUEST of 7 bytes, 3 sent
           ASSERT_TRUE(c.session->send_body(*r.stream, part, true));
         });
       },
       h3::err::kMessageError},
  };
  for (const Hostile& h : cases) expect_reset(h);
}

TEST(ConnectIpSession, UnknownCapsulesAreSkippedAndTheTunnelLives) {
  Rig r;
  ASSERT_TRUE(r.run([&] { return r.ready(); }));
  r.client_raw([](h3::Outbox& out) {
    ASSERT_TRUE(out.send_capsule(0x4242, Wire(100, 1)));
    ASSERT_TRUE(out.send_capsule(0x29 * 7 + 0x17, Wire{}));  // reserved (RFC 9297 §5.4)
  });
  std::string src = client_address(r);
  r.client_send(make_packet({.src = src.c_str(), .dst = "198.18.1.2"}));
  ASSERT_TRUE(r.run([&] { return r.server_sink.packets.size() == 1; }));
  EXPECT_EQ(r.pair->server.session->stats().capsules_skipped_unknown, 2u);
  EXPECT_EQ(r.server->tunnels(), 1u);
}

TEST(ConnectIpSession, HostileProxyCapsulesResetTheClientStream) {
  struct Case {
    const char* name;
    uint64_t type;
    Wire value;
    uint64_t code;
  };
  std::vector<Case> cases = {
      {"assign for an unsent request",
       h3::capsule::kAddressAssign,
       {7, 4, 198, 18, 200, 9, 32},
       h3::err::kGeneralProtocolError},
      {"assign v6 for a v4 request", h3::capsule::kAddressAssign,
       [] {
         Wire w = {1, 6};
         w.insert(w.end(), 16, 0);
         w.push_back(128);
         return w;
       }(),
       h3::err::kGeneralProtocolError},
      {"routes out of order",
       h3::capsule::kRouteAdvertisement,
       {4, 10, 0, 0, 9, 10, 0, 0, 10, 0, 4, 10, 0, 0, 1, 10, 0, 0, 2, 0},
       h3::err::kGeneralProtocolError},
      {"route start after end",
       h3::capsule::kRouteAdvertisement,
       {4, 10, 0, 0, 9, 10, 0, 0, 1, 0},
       h3::err::kMessageError},
      {"host bits set",
       h3::capsule::kAddressAssign,
       {0, 4, 198, 18, 200, 9, 24},
       h3::err::kMessageError},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Rig r;
    ASSERT_TRUE(r.run([&] { return r.ready(); }));
    r.server_capsule(c.type, c.value);
    // The client cancels its stream with the code; the proxy sees the reset.
    ASSERT_TRUE(r.run([&] { return r.client() == nullptr && r.server->tunnels() == 0; }));
    const h3::Event* reset = r.pair->server.find(EventKind::kReset, *r.stream);
    ASSERT_NE(reset, nullptr);
    EXPECT_EQ(reset->code, c.code);
  }
}

}  // namespace
}  // namespace masque
