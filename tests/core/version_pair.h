// A client Endpoint and a server Endpoint joined in memory with REAL packet protection (the
// hostile Pair uses null protection, under which a wrong Initial key, e.g. v1 keys on a v2
// packet, would go unnoticed). Sans-I/O: a fake clock, datagrams moved by hand, hooks to
// drop, forge or remark (ECN) datagrams on the way.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "core/endpoint.h"
#include "core/random.h"
#include "hostile_fixture.h"

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
  EndpointPair(ConnectionConfig client, ConnectionConfig server)
      : client_ep_(EndpointConfig{false, client, hostile::test_tls_context(false, {"hq-interop"})},
                   client_random_),
        server_ep_(EndpointConfig{true, server, hostile::test_tls_context(true, {"hq-interop"})},
                   server_random_) {
    auto h = client_ep_.connect(client_addr_, server_addr_, now_);
    if (h) client_handle_ = *h;
  }

  // Return false to drop; may rewrite the bytes or the ECN codepoint.
  std::function<bool(Datagram&, uint8_t& ecn)> to_server, to_client;

  Instant now() const { return now_; }
  void advance(Duration d) { now_ += d; }
  Endpoint& client_endpoint() { return client_ep_; }
  Endpoint& server_endpoint() { return server_ep_; }
  Connection& client() { return *client_ep_.connection(client_handle_); }
  Connection* server() {
    if (!server_handle_) server_handle_ = server_ep_.accept();
    return server_handle_ ? server_ep_.connection(*server_handle_) : nullptr;
  }
  const std::vector<Sent>& client_sent() const { return client_sent_; }
  const std::vector<Sent>& server_sent() const { return server_sent_; }

  std::vector<Sent> poll(Endpoint& ep, std::vector<Sent>& log) {
    std::vector<Sent> out;
    Datagram buf(65536);
    while (auto t = ep.poll_transmit(now_, buf)) {
      Sent s{Datagram(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(t->size)), t->ecn};
      log.push_back(s);
      out.push_back(std::move(s));
      if (out.size() > 10000) break;
    }
    return out;
  }
  std::vector<Sent> poll_client() { return poll(client_ep_, client_sent_); }
  std::vector<Sent> poll_server() { return poll(server_ep_, server_sent_); }
  void deliver_to_server(Datagram d, uint8_t ecn = 0) {
    if (to_server && !to_server(d, ecn)) return;
    server_ep_.on_datagram(now_, server_addr_, client_addr_, ecn, d);
  }
  void deliver_to_client(Datagram d, uint8_t ecn = 0) {
    if (to_client && !to_client(d, ecn)) return;
    client_ep_.on_datagram(now_, client_addr_, server_addr_, ecn, d);
  }

  // Moves datagrams both ways (5 ms one way), firing timers, until nothing is left to do.
  void run(int max_rounds = 400) {
    for (int round = 0; round < max_rounds; ++round) {
      auto from_client = poll_client();
      auto from_server = poll_server();
      now_ += 5ms;
      for (auto& s : from_client) deliver_to_server(std::move(s.bytes), s.ecn);
      for (auto& s : from_server) deliver_to_client(std::move(s.bytes), s.ecn);
      if (!from_client.empty() || !from_server.empty()) continue;
      Instant next = std::min(client_ep_.next_timeout(), server_ep_.next_timeout());
      if (next == kNever || next > now_ + 2s) return;
      now_ = std::max(now_, next);
      client_ep_.on_timeout(now_);
      server_ep_.on_timeout(now_);
    }
  }
  bool handshake() {
    run();
    Connection* s = server();
    return s && client().handshake_complete() && s->handshake_complete();
  }

 private:
  Instant now_ = instant_from_ns(1'000'000'000);
  SeededRandom client_random_{11}, server_random_{12};
  SocketAddress client_addr_ = SocketAddress::v4(192, 0, 2, 1, 50000);
  SocketAddress server_addr_ = SocketAddress::v4(192, 0, 2, 2, 443);
  Endpoint client_ep_, server_ep_;
  ConnectionHandle client_handle_ = 0;
  std::optional<ConnectionHandle> server_handle_;
  std::vector<Sent> client_sent_, server_sent_;
};

}  // namespace quic::vn_test
