// Zero-copy stream I/O through a whole connection (Connection::stream_write_with and
// stream_read_with, stream_buffers.h): the sender's fill writes a body straight into the send
// buffer, the receiver's take reads it in place, in pieces of awkward sizes, and both sides see
// every byte in order, the FIN once, and flow control that keeps the transfer going.
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "support/pair.h"

namespace quic {
namespace {

using namespace std::chrono_literals;

uint8_t body_byte(uint64_t offset) { return static_cast<uint8_t>((offset * 131 + 7) % 251); }

TEST(StreamZeroCopy, FilledAndTakenInPlaceEveryByteArrivesInOrder) {
  test::Pair p;
  ASSERT_TRUE(p.handshake());
  auto id = p.client()->open_stream(true);
  ASSERT_TRUE(id.has_value());
  // More than the default stream window and send buffer, so both refill as the peer reads.
  constexpr uint64_t kBody = (uint64_t{3} << 20) + 123;
  uint64_t written = 0, received = 0, fills = 0, takes = 0;
  bool fin = false, corrupt = false;
  auto fill = [&](MutBytes dst) {
    ++fills;
    // A writer that stops early now and then (as a file read may): taken at its word.
    size_t n = fills % 5 == 0 ? dst.size() / 2 : dst.size();
    for (size_t i = 0; i < n; ++i) dst[i] = body_byte(written + i);
    written += n;
    return n;
  };
  auto write_some = [&] {
    while (written < kBody) {
      const size_t max = static_cast<size_t>(std::min<uint64_t>(kBody - written, 40'000));
      auto n = p.client()->stream_write_with(*id, max, fill, written + max == kBody);
      ASSERT_TRUE(n.has_value());
      if (*n == 0) return;  // the send buffer is full: again once the peer acknowledged
    }
  };
  // A reader that takes at most 1,000 bytes of the first span: the rest stays for the next call.
  auto take = [&](std::span<const Bytes> spans) {
    ++takes;
    size_t n = std::min<size_t>(spans[0].size(), 1000);
    for (size_t i = 0; i < n; ++i) corrupt |= spans[0][i] != body_byte(received + i);
    received += n;
    return n;
  };
  p.server_side_state().on_activity_hook = [&](Instant) {
    Connection* conn = p.server();
    if (conn == nullptr) return;
    while (conn->poll_event()) {
    }
    while (!fin) {
      auto n = conn->stream_read_with(*id, 64 * 1024, take, &fin);
      if (!n || *n == 0) break;  // (no such stream until its first frame arrives)
    }
  };
  p.client_side_state().on_activity_hook = [&](Instant) { write_some(); };
  write_some();
  ASSERT_TRUE(p.drive_until([&] { return fin; }, test::Limits{2'000'000, 60s}));
  EXPECT_EQ(written, kBody);
  EXPECT_EQ(received, kBody);
  EXPECT_FALSE(corrupt);
  EXPECT_GT(fills, 10u);
  EXPECT_GT(takes, kBody / 1000);
  // After the FIN a read takes nothing and says fin again; a write is refused.
  bool again = false;
  auto n = p.server()->stream_read_with(*id, 100, take, &again);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(*n, 0u);
  EXPECT_TRUE(again);
  EXPECT_EQ(p.client()->stream_write_with(*id, 10, fill, false).value_or(99), 0u);
}

TEST(StreamZeroCopy, UnknownStreamIsAnError) {
  test::Pair p;
  ASSERT_TRUE(p.handshake());
  bool fin = false;
  auto take = [](std::span<const Bytes> spans) { return spans.size(); };
  auto fill = [](MutBytes dst) { return dst.size(); };
  EXPECT_FALSE(p.client()->stream_read_with(4001, 10, take, &fin).has_value());
  EXPECT_FALSE(p.client()->stream_write_with(4001, 10, fill, false).has_value());
}

}  // namespace
}  // namespace quic
