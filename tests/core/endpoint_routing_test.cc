// quic::Endpoint's routing table follows the CIDs its connections issue, whenever they issue
// them: a CID goes out in a NEW_CONNECTION_ID frame of a packet the endpoint polls, and the
// peer may use it as soon as that packet arrives.
#include <gtest/gtest.h>

#include "core/reset_token_index.h"
#include "crypto/reset_token.h"
#include "support/pair.h"

namespace quic {
namespace {

// The client retires its CIDs on path 0 (an API call, no packet received since): its
// replacements leave in the client's next packets and the server switches to them. They were
// only routed after the client's next received datagram or timer, so the server's first
// packets with them found no route, drew a stateless reset, and the connection died.
TEST(EndpointRouting, CidsIssuedWhileSendingAreRoutedBeforeThePeerUsesThem) {
  test::PairConfig c;
  c.client.connection.multipath = true;
  c.server.connection.multipath = true;
  test::Pair p(c);
  ASSERT_TRUE(p.handshake());
  p.run_for(std::chrono::milliseconds(50));  // HANDSHAKE_DONE: confirmed, retiring allowed
  ASSERT_TRUE(p.client()->retire_local_cids(0).has_value());
  p.run_for(std::chrono::milliseconds(300));
  ASSERT_NE(p.client(), nullptr);
  EXPECT_FALSE(p.client()->is_draining_or_closing());
  EXPECT_FALSE(p.client()->is_closed());
  EXPECT_GE(p.client()->stats().local_cids_retired, 1u);  // the server moved off them
  EXPECT_EQ(p.client_endpoint().stats().stateless_resets_sent, 0u);
  // And the connection still carries data after the switch.
  auto id = p.client()->open_stream(true);
  ASSERT_TRUE(id);
  ASSERT_TRUE(p.client()->stream_write(*id, Bytes(reinterpret_cast<const uint8_t*>("ping"), 4),
                                       true));
  EXPECT_TRUE(p.drive_until([&] {
    const Stream* s = p.server() ? p.server()->find_stream(*id) : nullptr;
    return s != nullptr;
  }));
}

// A short-header datagram for no connection, ending in `token` (RFC 9000 §10.3).
sim::Datagram reset_datagram(const ResetToken& token) {
  sim::Datagram d;
  d.src = test::NetConfig{}.client_addr;
  d.dst = test::NetConfig{}.server_addr;
  d.payload.assign(40, 0x5a);  // its DCID (bytes 1..8) routes nowhere
  d.payload[0] = 0x41;
  std::copy(token.begin(), token.end(), d.payload.end() - kResetTokenSize);
  return d;
}

// The server finds a reset among its peers' tokens through the endpoint's index, which follows
// the client's CIDs as they are replaced (each replacement brings new tokens; the old ones go
// stale in the index and are dropped by its rebuilds): a retired token resets nothing, a
// current one resets the connection.
TEST(EndpointRouting, ResetTokensFollowTheCidsThePeerIssues) {
  test::PairConfig c;  // single path: every CID the client issues is path 0's
  c.client.connection.reset_key.fill(7);
  test::Pair p(c);
  ASSERT_TRUE(p.handshake());
  p.run_for(std::chrono::milliseconds(50));
  auto token_of = [&](const ConnectionId& cid) {
    return stateless_reset_token(c.client.connection.reset_key, cid.view());
  };
  std::vector<ConnectionId> first = p.client()->local_cids();
  // 80 rounds, each moving the server to a new CID of the client's: more tokens than the
  // index keeps before it rebuilds (4 per connection + 64).
  for (int round = 0; round < 80; ++round) {
    ASSERT_TRUE(p.client()->retire_local_cids(0).has_value());
    p.run_for(std::chrono::milliseconds(100));
  }
  ASSERT_NE(p.server(), nullptr);
  ASSERT_FALSE(p.server()->is_draining_or_closing());
  for (const ConnectionId& cid : first) {
    p.deliver(test::Dir::kToServer, reset_datagram(token_of(cid)));
  }
  EXPECT_FALSE(p.server()->is_draining_or_closing()) << "a retired token reset the connection";
  EXPECT_EQ(p.server_endpoint().stats().stateless_resets_received, 0u);
  // The client's live CIDs: the server sends with one of them (only that one's token counts,
  // RFC 9000 §10.3.1: spares were never used).
  for (const ConnectionId& cid : p.client()->local_cids()) {
    p.deliver(test::Dir::kToServer, reset_datagram(token_of(cid)));
    if (p.server()->is_draining_or_closing()) break;
  }
  EXPECT_TRUE(p.server()->is_draining_or_closing());
  EXPECT_EQ(p.server_endpoint().stats().stateless_resets_received, 1u);
  // The same reset again (the peer repeats it for every packet it cannot route): the
  // connection is draining already, nothing more is counted.
  for (const ConnectionId& cid : p.client()->local_cids()) {
    p.deliver(test::Dir::kToServer, reset_datagram(token_of(cid)));
  }
  EXPECT_EQ(p.server_endpoint().stats().stateless_resets_received, 1u);
  ASSERT_NE(p.server()->close_error(), std::nullopt);
  EXPECT_EQ(p.server()->close_error()->reason, "stateless reset");
}

// A server's first peer CID (the client's handshake SCID) has no reset token. Lent to a probe
// and taken back (exchange_current both ways), it must still have none, not an all-zero one
// that any datagram ending in 16 zero bytes would match.
TEST(PeerCids, ATokenlessCidLentOutAndBackMatchesNoZeroToken) {
  PeerCids set;
  const uint8_t first[8] = {1, 2, 3, 4, 5, 6, 7, 8}, other[8] = {9, 9, 9, 9, 9, 9, 9, 9};
  set.set_current(ConnectionId::from(first));
  IssuedCid probe{1, ConnectionId::from(other), {}};
  probe.token.fill(0xab);
  const ResetToken lent = probe.token;
  set.exchange_current(probe);
  set.exchange_current(probe);
  const ResetToken zero{};
  EXPECT_FALSE(set.matches_reset_token(zero.data()));
  std::vector<ResetToken> tokens;
  set.current_reset_token(tokens);
  EXPECT_TRUE(tokens.empty());
  EXPECT_EQ(probe.token, lent);  // the probe has its own CID and token back
  EXPECT_FALSE(set.matches_reset_token(lent.data()));
}

TEST(ResetTokenIndex, FindsOnlyWhatWasAddedAndRemovesOnlyItsOwn) {
  struct Counter : Random {
    uint8_t next = 1;
    void fill(MutBytes out) override {
      for (auto& b : out) b = next++;
    }
  } random;
  ResetTokenIndex index(random);
  ResetToken a{}, b{}, other{};
  a.fill(1);
  b.fill(2);
  other.fill(3);
  index.add(10, {a, b});
  EXPECT_EQ(index.find(a.data()), std::optional<ConnectionHandle>(10));
  EXPECT_EQ(index.find(b.data()), std::optional<ConnectionHandle>(10));
  EXPECT_FALSE(index.find(other.data()).has_value());
  index.add(11, {b});  // the same token for another connection: the latest wins
  EXPECT_EQ(index.find(b.data()), std::optional<ConnectionHandle>(11));
  index.remove(10, {a, b});  // b is 11's now and stays
  EXPECT_FALSE(index.find(a.data()).has_value());
  EXPECT_EQ(index.find(b.data()), std::optional<ConnectionHandle>(11));
  EXPECT_EQ(index.size(), 1u);
}

}  // namespace
}  // namespace quic
