// quic::Endpoint's routing table follows the CIDs its connections issue, whenever they issue
// them: a CID goes out in a NEW_CONNECTION_ID frame of a packet the endpoint polls, and the
// peer may use it as soon as that packet arrives.
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace quic
