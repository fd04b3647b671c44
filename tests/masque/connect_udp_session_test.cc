// CONNECT-UDP client and proxy handlers over a real HTTP/3 session pair on loopback: echo through
// HTTP datagrams and through the DATAGRAM-capsule fallback, hostile input (unknown context IDs,
// oversized payloads, malformed targets, requests without capsule-protocol), refusals with
// Proxy-Status (policy, DNS failure and timeout, flow limits), name resolution that never
// stalls other flows, and 1,000 concurrent flows with bounded proxy state.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "connect_udp_harness.h"
#include "h3/capsule.h"
#include "masque/proxy_status.h"

namespace masque_test {
namespace {

using masque::SendOutcome;

std::vector<uint8_t> payload(size_t i, size_t size = 100) {
  std::vector<uint8_t> p(size);
  for (size_t k = 0; k < size; ++k) p[k] = static_cast<uint8_t>((i * 31 + k) % 251);
  return p;
}

std::string error_of(const ClientFlow& f) {
  auto ps = masque::parse_proxy_status(f.proxy_status);
  return ps ? ps->error : "";
}

// Sends `n` payloads one at a time and waits for each echo; returns how many came back equal.
size_t echo_sequence(ClientConn& c, uint64_t id, size_t n, size_t size = 100) {
  size_t ok = 0;
  for (size_t i = 0; i < n; ++i) {
    auto p = payload(i, size);
    size_t before = c.flows[id].payloads.size();
    SendOutcome o = c.send(id, p);
    if (o != SendOutcome::kDatagram && o != SendOutcome::kCapsule) continue;
    if (!c.run_until([&] { return c.flows[id].payloads.size() > before; }, 2000ms)) continue;
    ok += c.flows[id].payloads.back() == p;
  }
  return ok;
}

TEST(ConnectUdpSession, EchoThroughHttpDatagrams) {
  auto echo = echo_server();
  ProxyThread proxy({});
  ASSERT_NE(proxy.port(), 0);
  ClientConn c(proxy.port());
  auto id = c.open_target("127.0.0.1", echo->port());
  ASSERT_TRUE(id);
  ASSERT_EQ(c.status(*id), 200);
  ASSERT_TRUE(c.session().datagrams_enabled());
  EXPECT_EQ(echo_sequence(c, *id, 50), 50u);
  auto s = proxy.udp_stats();
  EXPECT_EQ(s.to_target, 50u);
  EXPECT_EQ(s.from_target, 50u);
  EXPECT_EQ(s.as_capsules, 0u);
  EXPECT_EQ(s.open_sockets, 1u);
  EXPECT_EQ(c.session().stats().datagrams_sent, 50u);
  // Payloads larger than a QUIC DATAGRAM frame travel as capsules both ways, not dropped.
  size_t max = c.conn().max_datagram_payload();
  EXPECT_EQ(echo_sequence(c, *id, 3, max + 100), 3u);
  EXPECT_EQ(echo_sequence(c, *id, 1, 65507), 1u);  // the largest UDP payload IPv4 carries
  s = proxy.udp_stats();
  EXPECT_EQ(s.as_capsules, 4u);
  EXPECT_EQ(s.from_target, 54u);
  EXPECT_EQ(c.session().stats().datagrams_sent, 50u);
}

TEST(ConnectUdpSession, CapsuleFallbackWithoutH3Datagram) {
  auto echo = echo_server();
  ProxyThread proxy({});
  ClientConn c(proxy.port(), /*h3_datagram=*/false);
  auto id = c.open_target("127.0.0.1", echo->port());
  ASSERT_TRUE(id);
  ASSERT_EQ(c.status(*id), 200);
  EXPECT_FALSE(c.session().datagrams_enabled());
  EXPECT_EQ(echo_sequence(c, *id, 40), 40u);
  // A payload larger than any QUIC DATAGRAM frame still goes as a capsule.
  EXPECT_EQ(echo_sequence(c, *id, 2, 20000), 2u);
  auto s = proxy.udp_stats();
  EXPECT_EQ(s.as_capsules, 42u);
  EXPECT_EQ(s.from_target, 42u);
  EXPECT_EQ(c.session().stats().datagrams_sent, 0u);
}

TEST(ConnectUdpSession, CapsuleBacklogIsBoundedWhileTheClientDoesNotRead) {
  // A target that answers one datagram with a burst of 1,000 x 1,000 bytes.
  constexpr size_t kBurst = 1000, kSize = 1000;
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(sin);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&sin), len), 0);
  getsockname(fd, reinterpret_cast<sockaddr*>(&sin), &len);
  std::thread blaster([fd] {
    timeval tv{5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    uint8_t b[64];
    sockaddr_storage from{};
    socklen_t flen = sizeof(from);
    if (recvfrom(fd, b, sizeof(b), 0, reinterpret_cast<sockaddr*>(&from), &flen) < 0) return;
    std::vector<uint8_t> big(kSize, 0x42);
    for (size_t i = 0; i < kBurst; ++i) {
      sendto(fd, big.data(), big.size(), 0, reinterpret_cast<sockaddr*>(&from), flen);
      if (i % 32 == 31) std::this_thread::sleep_for(200us);  // let the proxy read, not the kernel drop
    }
  });
  ProxyThread proxy({});
  ClientConn c(proxy.port(), /*h3_datagram=*/false);
  auto id = c.open_target("127.0.0.1", ntohs(sin.sin_port));
  ASSERT_TRUE(id);
  ASSERT_EQ(c.status(*id), 200);
  ASSERT_EQ(c.send(*id, bytes("go")), SendOutcome::kCapsule);
  ASSERT_TRUE(c.run_until([&] { return proxy.udp_stats().to_target == 1; }));
  // The client stops reading and acknowledging: the proxy's CONNECT stream backs up.
  blaster.join();
  std::this_thread::sleep_for(100ms);
  auto s = proxy.udp_stats();
  EXPECT_GT(s.dropped_backlog, 0u);
  // What was queued stays within the bound (plus the one capsule that crossed it).
  EXPECT_LE(s.as_capsules * (kSize + 4), masque::kMaxCapsuleBacklog + kSize + 4 + 64 * 1024)
      << s.as_capsules;
  // Reading again, the client gets exactly what the proxy queued: the stream is reliable.
  EXPECT_TRUE(c.run_until([&] { return c.flows[*id].payloads.size() == s.as_capsules; }));
  c.run_until([] { return false; }, 50ms);
  EXPECT_EQ(c.flows[*id].payloads.size(), proxy.udp_stats().as_capsules);
  close(fd);
}

TEST(ConnectUdpSession, UnknownContextIdsAndOversizedPayloadsAreDroppedAndCounted) {
  auto echo = echo_server();
  ProxyThread proxy({});
  ClientConn c(proxy.port());
  auto id = c.open_target("127.0.0.1", echo->port());
  ASSERT_TRUE(id);
  ASSERT_EQ(c.status(*id), 200);
  h3::Outbox out = c.session().outbox(*id);
  std::vector<uint8_t> ctx;
  h3::append_context_payload(ctx, 7, bytes("not a udp payload"));
  ASSERT_TRUE(out.send_datagram(ctx));
  ctx.clear();
  h3::append_context_payload(ctx, (uint64_t{1} << 62) - 1, bytes("largest context id"));
  ASSERT_TRUE(out.send_datagram(ctx));
  ASSERT_TRUE(out.send_datagram(quic::Bytes{}));  // no context ID at all
  // 65528 bytes: above the largest UDP payload (RFC 9298 §5), only a capsule can carry it.
  std::vector<uint8_t> big;
  h3::append_context_payload(big, 0, std::vector<uint8_t>(masque::kMaxUdpPayload + 1, 0x5a));
  ASSERT_TRUE(out.send_capsule(h3::capsule::kDatagram, big));
  // A DATAGRAM capsule above the session's cap is skipped unbuffered by the capsule reader.
  std::vector<uint8_t> huge(h3::kMaxCapsulePayload + 1, 0);
  ASSERT_TRUE(out.send_capsule(h3::capsule::kDatagram, huge));
  ASSERT_TRUE(c.run_until([&] {
    auto s = proxy.udp_stats();
    return s.dropped_unknown_context == 2 && s.dropped_oversize == 1 && s.dropped_malformed == 1;
  }));
  EXPECT_EQ(echo->received(), 0u);
  // The flow still works afterwards.
  EXPECT_EQ(echo_sequence(c, *id, 5), 5u);
  EXPECT_EQ(echo->received(), 5u);
  // A client-side limit: the handler refuses payloads larger than a UDP payload.
  EXPECT_EQ(c.send(*id, std::vector<uint8_t>(masque::kMaxUdpPayload + 1)), SendOutcome::kTooLarge);
}

// A test protocol on the proxy (a plain StreamHandler: the app answers 200) that answers every
// datagram with one of context 9 and one of context 0: the client must drop the first.
class ContextEcho : public h3::StreamHandler {
  void on_datagram(h3::Outbox& out, quic::Bytes p) override {
    auto cp = h3::parse_context_payload(p);
    if (!cp) return;
    std::vector<uint8_t> b;
    h3::append_context_payload(b, 9, cp->payload);
    (void)out.send_datagram(b);
    b.clear();
    h3::append_context_payload(b, 0, cp->payload);
    (void)out.send_datagram(b);
  }
};

TEST(ConnectUdpSession, ClientDropsUnknownContextsAndOtherProtocolsPlugIn) {
  ProxyOptions o;
  o.extra = [](apps::MasqueProxyApp& app) {
    app.register_protocol("test-context", [](apps::ProxySession&) {
      return [](uint64_t, std::span<const h3::Field>) { return std::make_unique<ContextEcho>(); };
    });
  };
  ProxyThread proxy(o);
  ClientConn c(proxy.port());
  auto fields = masque::connect_udp_request(c.udp_template, "x.example", 1);
  fields[1].value = "test-context";
  auto id = c.open(fields);
  ASSERT_TRUE(id);
  ASSERT_EQ(c.status(*id), 200);
  ASSERT_EQ(c.send(*id, bytes("ping")), SendOutcome::kDatagram);
  ASSERT_TRUE(c.run_until([&] { return !c.flows[*id].payloads.empty(); }));
  c.run_until([] { return false; }, 50ms);
  EXPECT_EQ(c.flows[*id].payloads.size(), 1u);
  EXPECT_EQ(c.flows[*id].payloads[0], bytes("ping"));
  EXPECT_EQ(c.flows[*id].handler->stats().dropped_unknown_context, 1u);
  EXPECT_EQ(proxy.counters().tunnels, 1u);
}

TEST(ConnectUdpSession, MalformedRequestsAreRefusedWithProxyStatus) {
  ProxyThread proxy({});
  ClientConn c(proxy.port());
  auto no_cp = masque::connect_udp_request(c.udp_template, "127.0.0.1", 9);
  no_cp.pop_back();  // capsule-protocol
  auto bad_host = masque::connect_udp_request(c.udp_template, "exa mple", 9);
  auto bad_port = c.udp_template.expand({{"target_host", "example.org"}, {"target_port", "99999"}});
  auto bad_port_fields = masque::connect_udp_request(c.udp_template, "example.org", 1);
  bad_port_fields[4].value = bad_port.path;
  auto v6_brackets = masque::connect_udp_request(c.udp_template, "[::1]", 9);
  auto other_path = masque::connect_udp_request(c.udp_template, "example.org", 1);
  other_path[4].value = "/not/the/template";
  struct Case {
    std::vector<h3::Field> fields;
    uint16_t status;
  };
  for (auto& [fields, want] : std::vector<Case>{{no_cp, 400}, {bad_host, 400}, {bad_port_fields, 400},
                                                {v6_brackets, 400}, {other_path, 404}}) {
    auto id = c.open(fields);
    ASSERT_TRUE(id);
    EXPECT_EQ(c.status(*id), want) << fields[4].value;
    EXPECT_EQ(error_of(c.flows[*id]), "http_request_error") << c.flows[*id].proxy_status;
    // The handler was closed (not established) and sends nothing.
    EXPECT_TRUE(c.run_until([&] { return c.flows[*id].closed.has_value(); }));
    EXPECT_EQ(*c.flows[*id].closed, h3::err::kRequestRejected);
  }
  auto s = proxy.udp_stats();
  EXPECT_EQ(s.refused, 5u);
  EXPECT_EQ(s.open_sockets, 0u);
  EXPECT_EQ(s.open_flows, 0u);
}

TEST(ConnectUdpSession, AccessPolicyJudgesLiteralAndResolvedAddresses) {
  auto echo = echo_server();
  auto dns = fake_dns_server();
  ProxyOptions o;
  o.policy = masque::AccessPolicy({*masque::parse_allow_rule("127.0.0.1/32:" + std::to_string(echo->port()))}, false);
  o.dns_servers = "127.0.0.1:" + std::to_string(dns->port());
  ProxyThread proxy(o);
  ClientConn c(proxy.port());
  auto allowed = c.open_target("127.0.0.1", echo->port());
  auto other_port = c.open_target("127.0.0.1", static_cast<uint16_t>(echo->port() == 9 ? 10 : 9));
  auto v6_loop = c.open_target("::1", echo->port());
  auto by_name = c.open_target("ok.test", echo->port());       // resolves to 127.0.0.1: allowed
  auto public_name = c.open_target("public.test", echo->port());  // 192.0.2.1: not listed
  ASSERT_TRUE(allowed && other_port && v6_loop && by_name && public_name);
  EXPECT_EQ(c.status(*allowed), 200);
  EXPECT_EQ(c.status(*by_name), 200);
  for (uint64_t id : {*other_port, *v6_loop, *public_name}) {
    EXPECT_EQ(c.status(id), 403);
    EXPECT_EQ(error_of(c.flows[id]), "destination_ip_prohibited") << c.flows[id].proxy_status;
  }
  EXPECT_EQ(echo_sequence(c, *by_name, 3), 3u);
}

TEST(ConnectUdpSession, NameResolvingToLoopbackIsRefusedWithoutAllowPrivate) {
  auto dns = fake_dns_server();
  ProxyOptions o;
  o.policy = masque::AccessPolicy({}, false);
  o.dns_servers = "127.0.0.1:" + std::to_string(dns->port());
  ProxyThread proxy(o);
  ClientConn c(proxy.port());
  auto id = c.open_target("ok.test", 53);
  ASSERT_TRUE(id);
  EXPECT_EQ(c.status(*id), 403);
  auto ps = masque::parse_proxy_status(c.flows[*id].proxy_status);
  ASSERT_TRUE(ps);
  EXPECT_EQ(ps->error, "destination_ip_prohibited");
  EXPECT_NE(ps->details.find("loopback"), std::string::npos);
}

TEST(ConnectUdpSession, TargetTheKernelWillNotConnectIs502Unroutable) {
  ProxyThread proxy({});  // --allow-private: the policy lets the broadcast address through
  ClientConn c(proxy.port());
  auto id = c.open_target("255.255.255.255", 9);  // connect() fails: EACCES without SO_BROADCAST
  ASSERT_TRUE(id);
  EXPECT_EQ(c.status(*id), 502);
  EXPECT_EQ(error_of(c.flows[*id]), "destination_ip_unroutable") << c.flows[*id].proxy_status;
  EXPECT_EQ(proxy.udp_stats().open_sockets, 0u);
}

TEST(ConnectUdpSession, DnsFailureAndTimeoutNeverStallOtherFlows) {
  auto echo = echo_server();
  auto dns = fake_dns_server();
  ProxyOptions o;
  o.dns_servers = "127.0.0.1:" + std::to_string(dns->port());
  o.dns_timeout = 1500ms;  // room for the exchanges below on a loaded machine
  ProxyThread proxy(o);
  ClientConn c(proxy.port());
  auto live = c.open_target("127.0.0.1", echo->port());
  ASSERT_TRUE(live);
  ASSERT_EQ(c.status(*live), 200);
  auto slow = c.open_target("slow.test", 53);
  auto nx = c.open_target("nx.test", 53);
  ASSERT_TRUE(slow && nx);
  EXPECT_EQ(c.status(*nx), 502);
  auto nxs = masque::parse_proxy_status(c.flows[*nx].proxy_status);
  ASSERT_TRUE(nxs);
  EXPECT_EQ(nxs->error, "dns_error");
  EXPECT_EQ(nxs->rcode, "NXDOMAIN");
  // While slow.test waits for an answer that never comes, the live flow keeps echoing.
  EXPECT_EQ(echo_sequence(c, *live, 100), 100u);
  EXPECT_FALSE(c.flows[*slow].status.has_value());
  EXPECT_EQ(c.status(*slow, 3000ms), 504);
  EXPECT_EQ(error_of(c.flows[*slow]), "dns_timeout");
  EXPECT_EQ(proxy.udp_stats().open_flows, 1u);
}

TEST(ConnectUdpSession, FlowLimitPerConnectionIs503) {
  auto echo = echo_server();
  ProxyOptions o;
  o.max_flows_per_session = 3;
  ProxyThread proxy(o);
  ClientConn c(proxy.port());
  std::vector<uint64_t> ids;
  for (int i = 0; i < 4; ++i) ids.push_back(*c.open_target("127.0.0.1", echo->port()));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(c.status(ids[i]), 200);
  EXPECT_EQ(c.status(ids[3]), 503);
  EXPECT_EQ(error_of(c.flows[ids[3]]), "connection_limit_reached");
  // Closing one frees its slot.
  ASSERT_TRUE(c.session().outbox(ids[0]).finish());
  ASSERT_TRUE(c.run_until([&] { return proxy.udp_stats().open_flows == 2; }));
  auto again = c.open_target("127.0.0.1", echo->port());
  EXPECT_EQ(c.status(*again), 200);
}

TEST(ConnectUdpSession, ThousandConcurrentFlowsOnOneConnectionStayBounded) {
  constexpr size_t kFlows = 1000;
  auto echo = echo_server();
  ProxyThread proxy({});
  ClientConn c(proxy.port());
  ASSERT_TRUE(c.run_until([&] { return c.ready(); }));
  size_t rss_before = rss_bytes();
  std::vector<uint64_t> ids;
  for (size_t i = 0; i < kFlows; ++i) {
    auto id = c.session().send_request(masque::connect_udp_request(c.udp_template, "127.0.0.1", echo->port()), {}, false);
    ASSERT_TRUE(id) << i;
    ids.push_back(*id);
    // Sent before the 2xx: held by the client handler, bounded, then flushed.
    ASSERT_EQ(c.send(*id, payload(i)), SendOutcome::kDatagram);
  }
  ASSERT_TRUE(c.run_until([&] {
    for (uint64_t id : ids) {
      if (c.flows[id].payloads.empty()) return false;
    }
    return true;
  }, 15000ms));
  for (size_t i = 0; i < kFlows; ++i) {
    ASSERT_EQ(c.flows[ids[i]].status, 200);
    ASSERT_EQ(c.flows[ids[i]].payloads[0], payload(i));
  }
  auto s = proxy.udp_stats();
  EXPECT_EQ(s.open_flows, kFlows);
  EXPECT_EQ(s.open_sockets, kFlows);
  EXPECT_EQ(s.peak_open_sockets, kFlows);
  EXPECT_EQ(s.to_target, kFlows);
  EXPECT_EQ(s.from_target, kFlows);
  // Client and proxy together (both in this process) take about 4 KiB per flow in a release
  // build; ASan's redzones and its quarantine of freed blocks (up to 256 MiB) inflate that.
  size_t growth = rss_bytes() > rss_before ? rss_bytes() - rss_before : 0;
#ifdef __SANITIZE_ADDRESS__
  constexpr size_t kPerFlowBound = 512 * 1024;
#else
  constexpr size_t kPerFlowBound = 16 * 1024;
#endif
  EXPECT_LT(growth, kFlows * kPerFlowBound) << growth;
  // Ending the streams closes every socket on the proxy.
  for (uint64_t id : ids) ASSERT_TRUE(c.session().outbox(id).finish());
  ASSERT_TRUE(c.run_until([&] { return proxy.udp_stats().open_sockets == 0; }, 10000ms));
  EXPECT_EQ(proxy.udp_stats().open_flows, 0u);
}

TEST(ConnectUdpSession, ClientHoldsABoundedQueueBeforeTheResponse) {
  auto dns = fake_dns_server();
  ProxyOptions o;
  o.dns_servers = "127.0.0.1:" + std::to_string(dns->port());
  o.dns_timeout = 1500ms;
  ProxyThread proxy(o);
  ClientConn c(proxy.port());
  auto id = c.open_target("slow.test", 53);  // no response for a while
  ASSERT_TRUE(id);
  size_t held = 0;
  for (size_t i = 0; i < masque::kMaxPendingPayloads + 10; ++i) {
    held += c.send(*id, payload(i, 10)) == SendOutcome::kDatagram;
  }
  EXPECT_EQ(held, masque::kMaxPendingPayloads);
  EXPECT_EQ(c.flows[*id].handler->stats().dropped_pending, 10u);
  std::vector<uint8_t> big(masque::kMaxPendingBytes, 1);
  auto id2 = c.open_target("slow.test", 54);
  EXPECT_EQ(c.send(*id2, big), SendOutcome::kDatagram);
  EXPECT_EQ(c.send(*id2, payload(0, 1)), SendOutcome::kQueueFull);  // byte bound
  // A hostile client does not wait: the proxy drops (and counts) datagrams before its 2xx.
  std::vector<uint8_t> early;
  h3::append_context_payload(early, 0, bytes("too early"));
  ASSERT_TRUE(c.session().outbox(*id).send_datagram(early));
  ASSERT_TRUE(c.run_until([&] { return proxy.udp_stats().dropped_not_connected == 1; }));
  EXPECT_EQ(c.status(*id, 3000ms), 504);
}

}  // namespace
}  // namespace masque_test
