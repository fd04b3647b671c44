// The stream buffers and the stream scheduler on the bulk path: the send ring and the receive
// blocks keep every byte intact across wrap-around and growth, and they and the scheduler
// allocate nothing per packet in steady state (counted by the hostile fixture's replaced
// operator new).
#include <gtest/gtest.h>

#include <vector>

#include "core/hostile_fixture.h"
#include "core/stream_buffers.h"
#include "core/stream_scheduler.h"

namespace quic {
namespace {

constexpr size_t kPacket = 1350;

uint8_t byte_at(uint64_t offset) {
  return static_cast<uint8_t>((offset * 7 + offset / 251) & 0xff);
}

std::vector<uint8_t> bytes_from(uint64_t offset, size_t n) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = byte_at(offset + i);
  return v;
}

bool matches(Bytes b, uint64_t offset) {
  for (size_t i = 0; i < b.size(); ++i) {
    if (b[i] != byte_at(offset + i)) return false;
  }
  return true;
}

// Writes what fits (in 16 KiB application writes), sends it in packet-sized chunks checking
// each chunk's view, and acknowledges everything sent; returns the bytes sent.
uint64_t send_round(SendBuffer& b, std::vector<uint8_t>& scratch) {
  while (b.capacity() > 0) {
    size_t n = std::min<size_t>(b.capacity(), 16 << 10);
    scratch.resize(n);  // in place: the test itself must not allocate either
    for (size_t i = 0; i < n; ++i) scratch[i] = byte_at(b.write_offset() + i);
    EXPECT_EQ(b.write(scratch), n);
  }
  uint64_t sent = 0;
  while (auto c = b.next_chunk(kPacket, UINT64_MAX)) {
    Bytes v = b.view(c->offset, c->length);
    EXPECT_EQ(v.size(), c->length) << "a chunk must be one span, offset " << c->offset;
    EXPECT_TRUE(matches(v, c->offset)) << c->offset;
    b.on_acked(c->offset, c->length, c->fin);
    sent += c->length;
  }
  return sent;
}

TEST(SendBufferRing, BulkSendWrapsWithoutAllocating) {
  constexpr size_t kCap = 256 << 10;  // not a multiple of kPacket: chunks meet the ring's end
  SendBuffer b(kCap);
  std::vector<uint8_t> scratch;
  scratch.reserve(16 << 10);
  uint64_t sent = 0;
  while (sent < 4 * kCap) sent += send_round(b, scratch);  // warm-up: the ring reaches its size
  uint64_t before = hostile::heap_allocations();
  while (sent < 64 * kCap) sent += send_round(b, scratch);  // 16 MiB through a 256 KiB ring
  EXPECT_EQ(hostile::heap_allocations(), before);
  EXPECT_EQ(b.acked_prefix(), b.write_offset());
}

TEST(SendBufferRing, RetransmissionsAcrossTheRingEndAreCutAndCopiedIntact) {
  SendBuffer b(4096);
  std::vector<uint8_t> scratch = bytes_from(0, 4096);
  ASSERT_EQ(b.write(scratch), 4096u);
  auto first = b.next_chunk(3000, UINT64_MAX);
  ASSERT_TRUE(first);
  b.on_acked(first->offset, first->length, false);
  scratch = bytes_from(4096, 3000);  // lands in the slots [0, 3000) freed by the ACK
  ASSERT_EQ(b.write(scratch), 3000u);
  std::vector<SendChunk> chunks;
  while (auto c = b.next_chunk(2000, UINT64_MAX)) chunks.push_back(*c);
  // [3000, 7096): cut at the ring's end (4096) although 2000 bytes were allowed.
  ASSERT_GE(chunks.size(), 3u);
  EXPECT_EQ(chunks[0].offset, 3000u);
  EXPECT_EQ(chunks[0].length, 1096u);
  // Lose everything, then resend: every resent chunk is one intact span.
  b.on_lost(3000, 4096, false);
  uint64_t resent = 0;
  while (auto c = b.next_chunk(2000, UINT64_MAX)) {
    ASSERT_TRUE(c->retransmission);
    Bytes v = b.view(c->offset, c->length);
    ASSERT_EQ(v.size(), c->length);
    EXPECT_TRUE(matches(v, c->offset));
    resent += c->length;
  }
  EXPECT_EQ(resent, 4096u);
  // copy_out serves a range that does wrap (view cannot).
  std::vector<uint8_t> out(2000);
  EXPECT_TRUE(b.view(3500, 2000).empty());
  ASSERT_TRUE(b.copy_out(3500, 2000, out.data()));
  EXPECT_EQ(out, bytes_from(3500, 2000));
  EXPECT_FALSE(b.copy_out(2000, 10, out.data()));  // acknowledged: no longer held
}

TEST(SendBufferRing, GrowingKeepsWrappedBytes) {
  SendBuffer b(1 << 20);
  std::vector<uint8_t> data = bytes_from(0, 1000);
  ASSERT_EQ(b.write(data), 1000u);  // the ring starts at its minimum size
  auto c = b.next_chunk(600, UINT64_MAX);
  ASSERT_TRUE(c);
  b.on_acked(c->offset, c->length, false);
  data = bytes_from(1000, 500);  // wraps
  ASSERT_EQ(b.write(data), 500u);
  data = bytes_from(1500, 20000);  // grows the ring while its live bytes wrap
  ASSERT_EQ(b.write(data), 20000u);
  std::vector<uint8_t> out(21500 - 600);
  ASSERT_TRUE(b.copy_out(600, out.size(), out.data()));
  EXPECT_EQ(out, bytes_from(600, out.size()));
}

TEST(RecvBufferBlocks, BulkReceiveReusesBlocks) {
  constexpr uint64_t kWindow = uint64_t{1} << 40;
  RecvBuffer r(kWindow);
  std::vector<uint8_t> packet(kPacket), out(64 << 10);
  uint64_t offset = 0, read = 0;
  // Twenty packets per application read, as a GRO batch delivers them.
  auto round = [&] {
    for (int i = 0; i < 20; ++i) {
      for (size_t k = 0; k < kPacket; ++k) packet[k] = byte_at(offset + k);
      ASSERT_TRUE(r.insert(offset, packet, false));
      offset += kPacket;
    }
    size_t n = r.read(out);
    ASSERT_TRUE(matches(Bytes(out).first(n), read));
    read += n;
  };
  for (int i = 0; i < 50; ++i) round();
  uint64_t before = hostile::heap_allocations();
  for (int i = 0; i < 500; ++i) round();  // 13 MB
  EXPECT_EQ(hostile::heap_allocations(), before);
  EXPECT_EQ(read, offset);
  EXPECT_LE(r.allocated_bytes(), (kMaxSpareRecvBlocks + 2) * kRecvBlockSize);
  ASSERT_TRUE(r.insert(offset, {}, true));
  EXPECT_TRUE(r.finished_reading());
  EXPECT_EQ(r.allocated_bytes(), 0u);  // EOF frees the spares too
}

// Serving a stream takes it out of the scheduler and puts it back, once per packet: after the
// first round the nodes are reused, for incremental and non-incremental streams alike, and
// through a stream that blocks and comes back.
TEST(StreamSchedulerAlloc, ServingAllocatesNothingOnceWarmedUp) {
  StreamScheduler s;
  const StreamPriority rr{kDefaultStreamUrgency, true}, seq{2, false};
  auto round = [&] {
    for (uint64_t id : {0, 4, 8}) s.insert(id, rr);
    for (uint64_t id : {1, 5}) s.insert(id, seq);
    for (int packet = 0; packet < 1000; ++packet) {
      auto id = s.pop();
      ASSERT_TRUE(id);
      s.insert(*id, *id % 4 == 0 ? rr : seq);  // still has data: back in
    }
    s.erase(4);  // blocked by flow control, later unblocked
    s.insert(4, rr);
    while (s.pop()) {
    }
  };
  round();
  const uint64_t before = hostile::heap_allocations();
  for (int i = 0; i < 5; ++i) round();
  EXPECT_EQ(hostile::heap_allocations() - before, 0u);
  EXPECT_TRUE(s.empty());
}

}  // namespace
}  // namespace quic
