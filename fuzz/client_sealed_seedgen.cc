// Writes the seed corpora of client_packets and sealed_packets.
// Usage: fuzz_client_sealed_seedgen <corpus root>  (writes <root>/client_packets and
// <root>/sealed_packets; both directories must exist).
//   client_packets: the server datagrams of a recorded live handshake (null crypto), the
//     server's answer to the client's request, and crafted 1-RTT packets, one frame type each.
//   sealed_packets: the frames of a real client's first Initial (decrypted with the Initial keys
//     of its DCID), its ClientHello split out of order, ACK/PING/CONNECTION_CLOSE records.
// Exits non-zero if a crafted client_packets seed would no longer reach the client connection.
#include <cstdio>
#include <string>
#include <vector>

#include "client_packets_driver.h"
#include "sealed_packets_driver.h"
#include "seed_support.h"

namespace {

using fuzz_seeds::Bytes8;
using fuzz_seeds::F;
using fuzz_seeds::fail;
using fuzz_seeds::Record;
namespace cp = fuzz_client_packets;

std::string g_root;

void client_seed(const std::string& name, cp::Mode mode, const std::vector<Record>& r) {
  fuzz_seeds::write_records(g_root + "/client_packets", name, {static_cast<uint8_t>(mode)}, r);
}

namespace sp = fuzz_sealed_packets;

void sealed_seed(const std::string& name, sp::Mode mode, const std::vector<Record>& r) {
  fuzz_seeds::write_records(g_root + "/sealed_packets", name, {static_cast<uint8_t>(mode)}, r);
}

// The established client counts the crafted packet as received (its CID is still right).
void check_reaches_client(const std::string& name, const Bytes8& pkt) {
  cp::ClientSession s;
  if (!s.prefix(cp::Mode::kEstablished)) fail("established prefix failed");
  uint64_t before = s.client_conn()->stats().packets_received;
  Bytes8 copy = pkt;
  s.deliver(1, copy);
  auto* c = s.client_conn();
  if (c == nullptr || c->stats().packets_received == before) {
    std::fprintf(stderr, "seed %s: not received by the client connection\n", name.c_str());
    std::exit(1);
  }
}

void client_seeds() {
  cp::ClientSession rec;
  std::vector<Record> flight;
  rec.on_server_datagram = [&](std::span<const uint8_t> d) {
    flight.push_back({1, Bytes8(d.begin(), d.end())});
  };
  if (!rec.prefix(cp::Mode::kEstablished) || flight.size() < 2) fail("client prefix");
  // A recorded flight never completes a fresh handshake (TLS randoms differ per run), but every
  // packet decrypts under the null AEAD and its CRYPTO frames reach the client's TLS.
  client_seed("fresh-01-server-flight", cp::Mode::kFresh, flight);
  // Mode 1 received only the first packet of the first datagram: the rest of the flight.
  auto first = quic::parse_header(quic::Bytes(flight[0].bytes.data(), flight[0].bytes.size()), 8);
  if (!first || first->packet_size >= flight[0].bytes.size()) fail("first datagram not coalesced");
  std::vector<Record> rest = flight;
  rest[0].bytes.erase(rest[0].bytes.begin(),
                      rest[0].bytes.begin() + static_cast<std::ptrdiff_t>(first->packet_size));
  client_seed("handshake-01-rest-of-flight", cp::Mode::kHandshake, rest);
  flight.clear();
  rec.server_turn();  // the echo of the request on stream 0
  if (flight.empty()) fail("no server answer");
  client_seed("established-01-stream-echo", cp::Mode::kEstablished, flight);

  auto hdr = quic::parse_header(quic::Bytes(flight[0].bytes.data(), flight[0].bytes.size()), 8);
  if (!hdr) fail("recorded 1-RTT datagram does not parse");
  const quic::ConnectionId client_cid = hdr->dcid;
  struct Crafted {
    const char* name;
    Bytes8 frames;
  };
  const std::vector<Crafted> crafted = {
      {"established-02-ping-ack", F{}.raw({0x01, 0x02}).v(3).v(0).v(0).v(0).b},
      {"established-03-stream-0-gap", F{}.raw({0x0f}).v(0).v(900).v(5).str("later").b},
      {"established-04-server-uni-stream", F{}.raw({0x0b}).v(3).v(6).str("push!\n").b},
      {"established-05-new-connection-id", F{}.raw({0x18}).v(1).v(0).v(8).n(8, 0x42).n(16, 0x17).b},
      {"established-06-retire-cid", F{}.raw({0x19}).v(0).b},
      {"established-07-flow-limits", F{}.raw({0x10})
                                         .v(1 << 20)
                                         .raw({0x11})
                                         .v(0)
                                         .v(1 << 16)
                                         .raw({0x12})
                                         .v(100)
                                         .raw({0x13})
                                         .v(3)
                                         .b},
      {"established-08-reset-stop", F{}.raw({0x04}).v(0).v(7).v(900).raw({0x05}).v(0).v(8).b},
      {"established-09-new-token", F{}.raw({0x07}).v(12).n(12, 0x7e).b},
      {"established-10-path-challenge", F{}.raw({0x1a}).n(8, 0x33).b},
      {"established-11-datagram", F{}.raw({0x31}).v(4).str("dgrm").b},
      {"established-12-handshake-done-again", F{}.raw({0x1e}).b},
      {"established-13-connection-close", F{}.raw({0x1d}).v(0x100).v(4).str("done").b},
      {"established-14-streams-blocked", F{}.raw({0x16}).v(9).raw({0x17}).v(9).b},
      {"established-15-unknown-frame", F{}.raw({0x40, 0x55}).n(4, 0).b},
  };
  uint64_t pn = 1000;
  for (const auto& c : crafted) {
    Bytes8 pkt = fuzz_seeds::short_packet(client_cid, pn++, c.frames);
    check_reaches_client(c.name, pkt);
    client_seed(c.name, cp::Mode::kEstablished, {{1, pkt}});
  }
  // From a second server address: the client must not migrate to it (RFC 9000 §9).
  client_seed("established-16-other-address", cp::Mode::kEstablished,
              {{0x81, fuzz_seeds::short_packet(client_cid, pn++, F{}.raw({0x01}).b)}});
}

// The frames of a real client's first Initial, trailing PADDING removed.
Bytes8 client_initial_frames() {
  fuzz_server_packets::Session s(fuzz_server_packets::Mode::kFresh, quic::AeadBackend::kAuto);
  quic::SeededRandom rand(cp::kClientSeed);
  quic::Endpoint client(
      quic::EndpointConfig{false,
                           fuzz_server_packets::connection_config(false, quic::AeadBackend::kAuto),
                           fuzz_server_packets::tls().client},
      rand);
  if (!client.connect(cp::kClientAddr, cp::kServerAddr, s.now())) fail("connect");
  Bytes8 d(2048);
  auto t = client.poll_transmit(s.now(), quic::MutBytes(d.data(), d.size()));
  if (!t) fail("no client Initial");
  d.resize(t->size);
  auto h = quic::parse_header(quic::Bytes(d.data(), d.size()), 8);
  if (!h || !h->long_header) fail("client Initial does not parse");
  auto secrets = quic::derive_initial_secrets(quic::kVersion1, h->dcid.view());
  auto prot =
      quic::PacketProtector::create(quic::CipherSuite::kAes128Gcm, secrets.client, quic::kVersion1);
  if (!prot) fail("protector");
  auto pn = (*prot)->unprotect_header(d.data(), h->packet_size, h->pn_offset);
  if (!pn) fail("header protection");
  size_t hdr = h->pn_offset + pn->first;
  size_t end = h->pn_offset + h->length;
  if (!(*prot)->open(pn->second, 0, quic::Bytes(d.data(), hdr), d.data() + hdr, end - hdr))
    fail("client Initial does not decrypt");
  Bytes8 frames(d.begin() + static_cast<std::ptrdiff_t>(hdr),
                d.begin() + static_cast<std::ptrdiff_t>(end - quic::kAeadTagSize));
  while (!frames.empty() && frames.back() == 0) frames.pop_back();
  return frames;
}

// The sealed ClientHello must open a server connection that received it: proof that the
// harness's sealing matches the server's real packet protection.
void check_sealed_accepted(const Bytes8& frames) {
  fuzz_server_packets::Session s(fuzz_server_packets::Mode::kFresh, quic::AeadBackend::kAuto);
  auto prot = sp::client_initial_protector();
  std::array<uint8_t, 2048> pkt{};
  size_t n = sp::seal_initial(*prot, 0, frames, true, pkt);
  s.deliver(1, std::span<uint8_t>(pkt.data(), n));
  auto* c = s.server_conn();
  if (c == nullptr || c->stats().packets_received == 0 || c->stats().packets_dropped != 0)
    fail("the sealed ClientHello was not accepted by the server");
}

// A sealed 1-RTT packet is received by the established server connection, none dropped.
void check_one_rtt_accepted(const Bytes8& frames) {
  sp::Established e;
  auto* c = e.session.server_conn();
  uint64_t before = c->stats().packets_received, dropped = c->stats().packets_dropped;
  std::array<uint8_t, 2048> pkt{};
  size_t n = sp::seal_one_rtt(*e.client_1rtt, e.server_cid, sp::kFirstOneRttPn, frames, pkt);
  e.session.deliver(1, std::span<uint8_t>(pkt.data(), n));
  c = e.session.server_conn();
  if (c == nullptr || c->stats().packets_received == before ||
      c->stats().packets_dropped != dropped) {
    fail("the sealed 1-RTT packet was not accepted by the server");
  }
}

void sealed_seeds() {
  Bytes8 ch = client_initial_frames();
  check_sealed_accepted(ch);
  sealed_seed("initial-01-client-hello", sp::Mode::kInitial, {{1, ch}});
  sealed_seed("initial-02-client-hello-unpadded", sp::Mode::kInitial, {{0x81, ch}});
  // The ClientHello's CRYPTO data re-split into two frames, the second half sent first.
  quic::Reader r(quic::Bytes(ch.data(), ch.size()));
  auto type = r.varint(), off = r.varint(), len = r.varint();
  if (type != 0x06 || off != 0 || !len || *len > r.remaining())
    fail("client Initial does not start with CRYPTO at offset 0");
  Bytes8 hello(ch.end() - static_cast<std::ptrdiff_t>(r.remaining()),
               ch.end() - static_cast<std::ptrdiff_t>(r.remaining() - *len));
  size_t half = hello.size() / 2;
  F second, first;
  second.raw({0x06}).v(half).v(hello.size() - half);
  second.b.insert(second.b.end(), hello.begin() + static_cast<std::ptrdiff_t>(half), hello.end());
  first.raw({0x06}).v(0).v(half);
  first.b.insert(first.b.end(), hello.begin(), hello.begin() + static_cast<std::ptrdiff_t>(half));
  sealed_seed("initial-03-client-hello-reordered", sp::Mode::kInitial,
              {{1, second.b}, {5, first.b}});
  sealed_seed("initial-04-hello-then-ack-ping", sp::Mode::kInitial,
              {{1, ch}, {20, F{}.raw({0x02}).v(0).v(0).v(0).v(0).raw({0x01}).b}});
  sealed_seed("initial-05-connection-close", sp::Mode::kInitial,
              {{1, F{}.raw({0x1c}).v(0x0a).v(0x06).v(3).str("bye").b}});
  sealed_seed("initial-06-forbidden-1rtt-frame", sp::Mode::kInitial,
              {{1, F{}.raw({0x08}).v(0).str("no streams here").b}});
  sealed_seed("initial-07-crypto-beyond-limit", sp::Mode::kInitial,
              {{1, F{}.raw({0x06}).v(1 << 20).v(4).str("far!").b}});
  // Mode 1: 1-RTT frames to an established server under ChaCha20-Poly1305.
  const std::vector<std::pair<const char*, Bytes8>> one_rtt = {
      {"1rtt-01-stream-request", F{}.raw({0x0b}).v(0).v(7).str("GET /\r\n").b},
      {"1rtt-02-ping-ack", F{}.raw({0x01, 0x02}).v(0).v(0).v(0).v(0).b},
      {"1rtt-03-uni-stream-datagram",
       F{}.raw({0x0a}).v(2).v(3).str("uni").raw({0x31}).v(2).str("dg").b},
      {"1rtt-04-new-connection-id", F{}.raw({0x18}).v(1).v(0).v(8).n(8, 0x24).n(16, 0x71).b},
      {"1rtt-05-flow-control", F{}.raw({0x10}).v(1 << 20).raw({0x12}).v(50).raw({0x14}).v(9).b},
      {"1rtt-06-reset-stop",
       F{}.raw({0x08}).v(0).str("x").raw({0x04}).v(0).v(1).v(1).raw({0x05}).v(0).v(2).b},
      {"1rtt-07-path-challenge", F{}.raw({0x1a}).n(8, 0x5a).b},
      {"1rtt-08-handshake-done-from-client", F{}.raw({0x1e}).b},
      {"1rtt-09-connection-close", F{}.raw({0x1d}).v(0).v(2).str("ok").b},
      {"1rtt-10-empty-payload", Bytes8{}},
  };
  check_one_rtt_accepted(one_rtt[0].second);
  for (const auto& [name, frames] : one_rtt) sealed_seed(name, sp::Mode::kOneRtt, {{1, frames}});
  sealed_seed("1rtt-11-two-packets", sp::Mode::kOneRtt,
              {{1, one_rtt[0].second}, {30, F{}.raw({0x0b}).v(0).v(7).str("more\n").b}});
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus root>\n", argv[0]);
    return 2;
  }
  g_root = argv[1];
  client_seeds();
  sealed_seeds();
  return 0;
}
