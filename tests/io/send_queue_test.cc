// The driver's send queue over real loopback sockets: held transmits (Transmit::send_at) wait
// for their time and keep their order, equal-size runs become one GSO message, a core-built
// run is one message as it is (split when GSO is off), and dropping a removed socket's transmits leaves the others.
#include "io/send_queue.h"

#include <cstring>

#include <gtest/gtest.h>

namespace io {
namespace {

using namespace std::chrono_literals;

struct Peer {
  std::unique_ptr<UdpSocket> socket;
  explicit Peer(bool gso) {
    SocketOptions o;
    o.gso = gso;
    o.gro = false;  // datagrams arrive one by one, so sizes and order are visible
    auto s = UdpSocket::open(*quic::SocketAddress::parse("127.0.0.1:0"), o);
    EXPECT_TRUE(s);
    if (s) socket = std::move(*s);
  }
  // Everything that arrived: the first byte and the size of each datagram.
  std::vector<std::pair<uint8_t, size_t>> drain() {
    std::vector<std::pair<uint8_t, size_t>> got;
    std::vector<RecvDatagram> rx;
    for (;;) {
      EXPECT_TRUE(socket->recv(rx));
      if (rx.empty()) return got;
      for (const RecvDatagram& d : rx) got.emplace_back(d.data[0], d.data.size());
    }
  }
};

// Writes `size` bytes of `fill` into the queue's slot and queues them as one transmit.
void push(SendQueue& q, UdpSocket& from, const UdpSocket& to, uint8_t fill, size_t size,
          quic::Instant send_at, quic::Instant now, size_t segment = 0) {
  quic::MutBytes slot = q.slot();
  ASSERT_GE(slot.size(), size);
  std::memset(slot.data(), fill, size);
  q.push(&from, quic::Transmit{from.local_address(), to.local_address(), 0, size, segment, send_at},
         now);
}

const quic::Instant kNow = quic::instant_from_ns(1'000'000'000);

TEST(SendQueue, HeldTransmitWaitsForItsTimeAndKeepsOrder) {
  Peer tx(true), rx(false);
  SendQueue q;
  push(q, *tx.socket, *rx.socket, 'A', 1200, kNow + 30ms, kNow);
  push(q, *tx.socket, *rx.socket, 'B', 1200, kNow, kNow);  // due, but queued behind A
  auto r = q.send(kNow);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, SendQueue::State::kHeld);
  EXPECT_EQ(q.held_until(), kNow + 30ms);
  EXPECT_TRUE(rx.drain().empty()) << "a held transmit (or one behind it) left early";
  r = q.send(kNow + 29ms);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, SendQueue::State::kHeld);
  r = q.send(kNow + 30ms);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, SendQueue::State::kDrained);
  EXPECT_TRUE(q.empty());
  auto got = rx.drain();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].first, 'A');
  EXPECT_EQ(got[1].first, 'B');
  // Different send times never share a GSO message.
  EXPECT_EQ(q.stats().messages, 2u);
  EXPECT_EQ(q.stats().held, 1u);
  EXPECT_EQ(q.held_until(), quic::kNever);
}

TEST(SendQueue, EqualSizeRunBecomesOneGsoMessage) {
  Peer tx(true), rx(false);
  ASSERT_TRUE(tx.socket->gso_enabled());
  SendQueue q;
  for (int i = 0; i < 5; ++i) push(q, *tx.socket, *rx.socket, 'a' + i, 1200, {}, kNow);
  push(q, *tx.socket, *rx.socket, 'f', 500, {}, kNow);   // shorter: ends the run
  push(q, *tx.socket, *rx.socket, 'g', 1200, {}, kNow);  // starts a new message
  auto r = q.send(kNow);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, SendQueue::State::kDrained);
  EXPECT_EQ(q.stats().messages, 2u);
  EXPECT_EQ(tx.socket->stats().gso_messages, 1u);
  auto got = rx.drain();
  ASSERT_EQ(got.size(), 7u);
  for (size_t i = 0; i < 7; ++i) {
    EXPECT_EQ(got[i].first, 'a' + i);
    EXPECT_EQ(got[i].second, i == 5 ? 500u : 1200u);
  }
}

// A run the core built leaves as it is, one GSO message; a following single datagram of the
// same size does not extend it (the core ended the run for a reason: another path, the pacer),
// while single datagrams are still joined.
TEST(SendQueue, CoreBuiltRunIsOneMessageAsItIs) {
  Peer tx(true), rx(false);
  ASSERT_TRUE(tx.socket->gso_enabled());
  SendQueue q;
  push(q, *tx.socket, *rx.socket, 'r', 3 * 1200, {}, kNow, 1200);
  push(q, *tx.socket, *rx.socket, 's', 1200, {}, kNow);
  push(q, *tx.socket, *rx.socket, 't', 1200, {}, kNow);  // joins 's': two singles
  auto r = q.send(kNow);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, SendQueue::State::kDrained);
  EXPECT_EQ(q.stats().messages, 2u);
  EXPECT_EQ(q.stats().merged, 1u);
  EXPECT_EQ(tx.socket->stats().gso_messages, 2u);
  EXPECT_EQ(tx.socket->stats().gso_datagrams, 5u);
  auto got = rx.drain();
  ASSERT_EQ(got.size(), 5u);
  EXPECT_EQ(got[0].first, 'r');
  EXPECT_EQ(got[3].first, 's');
  EXPECT_EQ(got[4].first, 't');
}

TEST(SendQueue, CoreBuiltRunIsSplitWhenGsoIsOff) {
  Peer tx(false), rx(false);
  SendQueue q;
  push(q, *tx.socket, *rx.socket, 'r', 2500, {}, kNow, 1000);
  auto r = q.send(kNow);
  ASSERT_TRUE(r);
  EXPECT_EQ(q.stats().messages, 3u);
  auto got = rx.drain();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].second, 1000u);
  EXPECT_EQ(got[1].second, 1000u);
  EXPECT_EQ(got[2].second, 500u);
}

TEST(SendQueue, DropRemovesOnlyThatSocketsTransmits) {
  Peer x(true), y(true), rx(false);
  SendQueue q;
  push(q, *x.socket, *rx.socket, 'x', 1200, kNow + 10ms, kNow);
  push(q, *x.socket, *rx.socket, 'x', 1200, kNow + 10ms, kNow);  // GSO run of two
  push(q, *y.socket, *rx.socket, 'y', 1200, kNow + 10ms, kNow);
  push(q, *x.socket, *rx.socket, 'x', 900, kNow + 10ms, kNow, 300);  // a core-built run of 3
  EXPECT_EQ(q.drop(x.socket.get()), 5u);
  EXPECT_EQ(q.stats().dropped_removed, 5u);
  EXPECT_FALSE(q.empty());
  // The queue goes on after the drop.
  push(q, *y.socket, *rx.socket, 'z', 1200, kNow + 10ms, kNow);
  auto r = q.send(kNow + 10ms);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, SendQueue::State::kDrained);
  auto got = rx.drain();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].first, 'y');
  EXPECT_EQ(got[1].first, 'z');
  EXPECT_EQ(x.socket->stats().datagrams_sent, 0u);
  // Dropping everything frees the arena: a full batch fits again.
  push(q, *x.socket, *rx.socket, 'x', 1200, kNow + 10ms, kNow);
  EXPECT_EQ(q.drop(x.socket.get()), 1u);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.held_until(), quic::kNever);
}

TEST(SendQueue, DatagramCount) {
  EXPECT_EQ(datagram_count(1200, 0), 1u);
  EXPECT_EQ(datagram_count(0, 1200), 1u);
  EXPECT_EQ(datagram_count(2400, 1200), 2u);
  EXPECT_EQ(datagram_count(2401, 1200), 3u);
}

}  // namespace
}  // namespace io
