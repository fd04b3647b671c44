// A client Endpoint and a server Endpoint on test::Pair (tests/support/pair.h) with REAL
// packet protection (the hostile Pair uses null protection, under which a wrong Initial key,
// e.g. v1 keys on a v2 packet, would go unnoticed), links of 5 ms one way, and hooks to drop,
// forge or remark (ECN) datagrams on the way.
#pragma once

#include <functional>
#include <vector>

#include "hostile_fixture.h"
#include "support/pair.h"

namespace quic::vn_test {

using namespace std::chrono_literals;
using Datagram = std::vector<uint8_t>;

// The Version field of a long-header datagram, 0 for a short header.
inline uint32_t version_of(const Datagram& d) {
  if (d.size() < 5 || (d[0] & 0x80) == 0) return 0;
  return uint32_t{d[1]} << 24 | uint32_t{d[2]} << 16 | uint32_t{d[3]} << 8 | d[4];
}

struct Sent {
  Datagram bytes;
  uint8_t ecn = 0;
};

class EndpointPair {
 public:
  EndpointPair(ConnectionConfig client, ConnectionConfig server) : pair_(config(client, server)) {
    pair_.intercept = [this](test::Dir dir, sim::Datagram& d, Instant) {
      return pass(dir, d.payload, d.ecn) ? test::Verdict::kPass : test::Verdict::kDrop;
    };
  }

  // Return false to drop; may rewrite the bytes or the ECN codepoint. Applied on the links and
  // to deliver_to_*().
  std::function<bool(Datagram&, uint8_t& ecn)> to_server, to_client;

  Instant now() const { return pair_.now(); }
  // Moves the clock without waking either side.
  void advance(Duration d) { pair_.advance(d); }
  Endpoint& client_endpoint() { return pair_.client_endpoint(); }
  Endpoint& server_endpoint() { return pair_.server_endpoint(); }
  Connection& client() { return *pair_.client(); }
  Connection* server() { return pair_.server(); }
  // Everything each side sent, through the links or taken by hand.
  std::vector<Sent> client_sent() const { return sent(test::Dir::kToServer); }
  std::vector<Sent> server_sent() const { return sent(test::Dir::kToClient); }

  std::vector<Sent> poll_client() { return to_sent(pair_.take(test::Dir::kToServer)); }
  std::vector<Sent> poll_server() { return to_sent(pair_.take(test::Dir::kToClient)); }
  void deliver_to_server(Datagram d, uint8_t ecn = 0) { deliver(test::Dir::kToServer, d, ecn); }
  void deliver_to_client(Datagram d, uint8_t ecn = 0) { deliver(test::Dir::kToClient, d, ecn); }

  // Steps until nothing is on the wire and neither side wants waking within 2 s.
  void run() { (void)pair_.settle(2s, test::Limits{100'000, 60s}); }
  bool handshake() {
    run();
    Connection* s = server();
    return s && client().handshake_complete() && s->handshake_complete();
  }

 private:
  static test::PairConfig config(const ConnectionConfig& client, const ConnectionConfig& server) {
    test::PairConfig c;
    c.client.connection = client;
    c.server.connection = server;
    c.client_seed = 11;
    c.server_seed = 12;
    c.net.to_server = c.net.to_client = test::NetConfig::instant_link(5ms);
    c.drain_events = false;  // the tests poll the connections' events themselves
    return c;
  }
  bool pass(test::Dir dir, Datagram& d, uint8_t& ecn) const {
    const auto& hook = dir == test::Dir::kToServer ? to_server : to_client;
    return !hook || hook(d, ecn);
  }
  void deliver(test::Dir dir, Datagram& d, uint8_t ecn) {
    if (!pass(dir, d, ecn)) return;
    const bool up = dir == test::Dir::kToServer;
    const SocketAddress client = SocketAddress::v4(192, 0, 2, 1, 50000);
    const SocketAddress server = SocketAddress::v4(192, 0, 2, 2, 443);
    pair_.deliver(dir, sim::Datagram{up ? client : server, up ? server : client, ecn, std::move(d)});
  }
  static std::vector<Sent> to_sent(std::vector<sim::Datagram> taken) {
    std::vector<Sent> out;
    for (sim::Datagram& d : taken) out.push_back(Sent{std::move(d.payload), d.ecn});
    return out;
  }
  std::vector<Sent> sent(test::Dir dir) const {
    std::vector<Sent> out;
    for (const sim::Datagram& d : pair_.sent(dir)) out.push_back(Sent{d.payload, d.ecn});
    return out;
  }

  test::Pair pair_;
};

}  // namespace quic::vn_test
