// Socket layer over loopback: control messages (ECN, pktinfo) survive a round trip, GSO sends
// arrive as separate datagrams (or as one GRO buffer with the right segment size), and GSO/GRO
// can be switched off.
#include "io/udp_socket.h"

#include <poll.h>

#include <gtest/gtest.h>

#include "io/os_random.h"
#include "io/sockaddr.h"

namespace io {
namespace {

quic::SocketAddress loopback(bool v6) {
  auto a = quic::SocketAddress::parse(v6 ? "[::1]:0" : "127.0.0.1:0");
  return *a;
}

std::unique_ptr<UdpSocket> open_or_die(const quic::SocketAddress& a, SocketOptions o = {}) {
  auto s = UdpSocket::open(a, o);
  EXPECT_TRUE(s.has_value()) << (s ? "" : s.error().reason);
  return s ? std::move(*s) : nullptr;
}

// Waits for input and receives; the datagrams' data is copied out.
std::vector<RecvDatagram> recv_some(UdpSocket& s, std::vector<std::vector<uint8_t>>* copies) {
  pollfd p{s.fd(), POLLIN, 0};
  poll(&p, 1, 2000);
  std::vector<RecvDatagram> out;
  EXPECT_TRUE(s.recv(out).has_value());
  if (copies) {
    for (auto& d : out) copies->emplace_back(d.data.begin(), d.data.end());
  }
  return out;
}

class SocketTest : public ::testing::TestWithParam<bool> {};

TEST_P(SocketTest, EcnAndPktinfoRoundTrip) {
  bool v6 = GetParam();
  auto rx = open_or_die(any_address(v6, 0));  // wildcard: only pktinfo tells the local IP
  auto tx = open_or_die(any_address(v6, 0));
  ASSERT_TRUE(rx && tx);
  quic::SocketAddress dst = loopback(v6);
  dst.port = rx->local_address().port;
  quic::SocketAddress src = loopback(v6);
  src.port = tx->local_address().port;
  for (uint8_t ecn : {uint8_t{1}, uint8_t{2}, uint8_t{3}}) {
    uint8_t payload[100];
    std::fill(std::begin(payload), std::end(payload), ecn);
    SendMessage m{src, dst, ecn, quic::Bytes(payload, sizeof(payload)), 0};
    auto n = tx->send(std::span<const SendMessage>(&m, 1));
    ASSERT_TRUE(n.has_value());
    ASSERT_EQ(*n, 1u);
    auto got = recv_some(*rx, nullptr);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].ecn, ecn);
    EXPECT_EQ(got[0].local, dst) << got[0].local.to_string();    // pktinfo: the address used
    EXPECT_EQ(got[0].remote, src) << got[0].remote.to_string();  // the source we asked for
    EXPECT_EQ(got[0].data.size(), sizeof(payload));
  }
}

TEST_P(SocketTest, NotEctWhenEcnZero) {
  bool v6 = GetParam();
  auto rx = open_or_die(loopback(v6));
  auto tx = open_or_die(loopback(v6));
  ASSERT_TRUE(rx && tx);
  uint8_t payload[10] = {};
  SendMessage m{tx->local_address(), rx->local_address(), 0, quic::Bytes(payload, 10), 0};
  ASSERT_EQ(*tx->send(std::span<const SendMessage>(&m, 1)), 1u);
  auto got = recv_some(*rx, nullptr);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].ecn, 0);
}

// A GSO message of 5 segments (the last shorter) must come out as exactly those datagrams:
// as five datagrams without GRO, or as GRO buffers whose segment_size splits them back.
void gso_round_trip(bool v6, bool gro) {
  SocketOptions rx_opts;
  rx_opts.gro = gro;
  auto rx = open_or_die(loopback(v6), rx_opts);
  auto tx = open_or_die(loopback(v6));
  ASSERT_TRUE(rx && tx);
  if (!tx->gso_enabled()) GTEST_SKIP() << "kernel without UDP_SEGMENT";
  EXPECT_EQ(rx->gro_enabled(), gro);
  constexpr size_t kSeg = 1200;
  std::vector<uint8_t> payload(kSeg * 4 + 700);
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<uint8_t>(i / kSeg + i);
  SendMessage m{tx->local_address(), rx->local_address(), 2, payload, kSeg};
  ASSERT_EQ(*tx->send(std::span<const SendMessage>(&m, 1)), 1u);
  EXPECT_EQ(tx->stats().gso_messages, 1u);
  EXPECT_EQ(tx->stats().datagrams_sent, 5u);
  std::vector<uint8_t> joined;
  std::vector<size_t> sizes;
  for (int round = 0; round < 5 && sizes.size() < 5; ++round) {
    for (auto& d : recv_some(*rx, nullptr)) {
      EXPECT_EQ(d.ecn, 2);
      for (size_t off = 0; off < d.data.size(); off += d.segment_size) {
        size_t len = std::min(d.segment_size, d.data.size() - off);
        sizes.push_back(len);
        joined.insert(joined.end(), d.data.begin() + off, d.data.begin() + off + len);
      }
    }
  }
  EXPECT_EQ(sizes, (std::vector<size_t>{kSeg, kSeg, kSeg, kSeg, 700}));
  EXPECT_EQ(joined, payload);
  if (!gro) {
    EXPECT_EQ(rx->stats().gro_buffers, 0u);
  }
}

TEST_P(SocketTest, GsoSendWithoutGroArrivesAsSeparateDatagrams) {
  gso_round_trip(GetParam(), false);
}
TEST_P(SocketTest, GsoSendWithGroSplitsBackIntoDatagrams) {
  gso_round_trip(GetParam(), true);
}

INSTANTIATE_TEST_SUITE_P(Families, SocketTest, ::testing::Values(false, true),
                         [](const auto& p) { return p.param ? "IPv6" : "IPv4"; });

TEST(Socket, GsoAndGroDetectedOrRefusedAsAsked) {
  SocketOptions off;
  off.gso = off.gro = false;
  auto s = open_or_die(loopback(false), off);
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->gso_enabled());
  EXPECT_FALSE(s->gro_enabled());
  auto on = open_or_die(loopback(false));
  ASSERT_TRUE(on);
  // Linux >= 4.18 / 5.0 have both; the machine this runs on is newer.
  EXPECT_TRUE(on->gso_enabled());
  EXPECT_TRUE(on->gro_enabled());
}

TEST(Socket, GsoMessageIsSplitWhenGsoTurnedOff) {
  auto rx = open_or_die(loopback(false));
  auto tx = open_or_die(loopback(false));
  ASSERT_TRUE(rx && tx);
  tx->disable_gso();
  std::vector<uint8_t> payload(3000, 7);
  SendMessage m{tx->local_address(), rx->local_address(), 0, payload, 1000};
  ASSERT_EQ(*tx->send(std::span<const SendMessage>(&m, 1)), 1u);
  EXPECT_EQ(tx->stats().gso_messages, 0u);
  EXPECT_EQ(tx->stats().datagrams_sent, 3u);
  size_t count = 0;
  for (int round = 0; round < 3 && count < 3; ++round) count += recv_some(*rx, nullptr).size();
  EXPECT_EQ(count, 3u);
}

TEST(Socket, OversizedDatagramIsDroppedNotFatal) {
  auto rx = open_or_die(loopback(false));
  auto tx = open_or_die(loopback(false));
  ASSERT_TRUE(rx && tx);
  std::vector<uint8_t> big(70000, 1);  // larger than any UDP payload: EMSGSIZE
  uint8_t small[5] = {1, 2, 3, 4, 5};
  SendMessage m[2] = {{tx->local_address(), rx->local_address(), 0, big, 0},
                      {tx->local_address(), rx->local_address(), 0, quic::Bytes(small, 5), 0}};
  auto n = tx->send(m);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(*n, 2u);
  EXPECT_EQ(tx->stats().send_errors, 1u);
  auto got = recv_some(*rx, nullptr);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].data.size(), 5u);
}

TEST(Socket, RecvOnEmptySocketReturnsNothing) {
  auto s = open_or_die(loopback(false));
  ASSERT_TRUE(s);
  std::vector<RecvDatagram> out(3);
  ASSERT_TRUE(s->recv(out).has_value());
  EXPECT_TRUE(out.empty());
}

TEST(SockAddr, RoundTripsBothFamilies) {
  for (const char* text : {"192.0.2.7:443", "[2001:db8::5]:8443"}) {
    auto a = quic::SocketAddress::parse(text);
    ASSERT_TRUE(a);
    sockaddr_storage ss;
    socklen_t len = to_sockaddr(*a, ss);
    auto b = from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len);
    ASSERT_TRUE(b);
    EXPECT_EQ(*a, *b);
  }
  EXPECT_TRUE(is_unspecified(any_address(true, 1)));
  EXPECT_FALSE(is_unspecified(*quic::SocketAddress::parse("127.0.0.1:1")));
}

TEST(SockAddr, RouteSourceOfLoopbackIsLoopback) {
  auto src = route_source(*quic::SocketAddress::parse("127.0.0.1:4433"));
  ASSERT_TRUE(src);
  EXPECT_EQ(src->to_string(), "127.0.0.1:0");
}

TEST(OsRandom, FillsWithDistinctValues) {
  OsRandom r;
  std::array<uint8_t, 32> a{}, b{};
  r.fill(a);
  r.fill(b);
  EXPECT_NE(a, b);
  EXPECT_NE(a, (std::array<uint8_t, 32>{}));
}

}  // namespace
}  // namespace io

namespace io {
namespace {

// More segments than the kernel accepts in one GSO send (UDP_MAX_SEGMENTS): the kernel refuses
// it, the socket turns GSO off and sends every datagram separately.
TEST(Socket, RefusedGsoSendFallsBackToSeparateDatagrams) {
  SocketOptions o;
  o.gro = false;
  auto rx = UdpSocket::open(*quic::SocketAddress::parse("127.0.0.1:0"), o);
  auto tx = UdpSocket::open(*quic::SocketAddress::parse("127.0.0.1:0"), o);
  ASSERT_TRUE(rx && tx);
  if (!(*tx)->gso_enabled()) GTEST_SKIP() << "kernel without UDP_SEGMENT";
  constexpr size_t kSegments = 400, kSeg = 20;
  std::vector<uint8_t> payload(kSegments * kSeg, 3);
  SendMessage m{(*tx)->local_address(), (*rx)->local_address(), 0, payload, kSeg};
  auto n = (*tx)->send(std::span<const SendMessage>(&m, 1));
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(*n, 1u);
  EXPECT_FALSE((*tx)->gso_enabled());
  EXPECT_EQ((*tx)->stats().gso_fallbacks, 1u);
  EXPECT_EQ((*tx)->stats().datagrams_sent, kSegments);
  size_t count = 0;
  for (int round = 0; round < 50 && count < kSegments; ++round) {
    for (auto& d : recv_some(**rx, nullptr)) {
      EXPECT_EQ(d.data.size(), kSeg);
      ++count;
    }
  }
  EXPECT_EQ(count, kSegments);
}

}  // namespace
}  // namespace io
