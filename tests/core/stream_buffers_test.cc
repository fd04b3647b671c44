#include "core/stream_buffers.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <vector>

namespace quic {
namespace {

std::vector<uint8_t> pattern(size_t n, uint8_t start = 0) {
  std::vector<uint8_t> v(n);
  std::iota(v.begin(), v.end(), start);
  return v;
}

// --- SendBuffer

TEST(SendBuffer, WriteAppliesBackpressureAtCap) {
  SendBuffer b(100);
  auto data = pattern(150);
  EXPECT_EQ(b.write(data), 100u);
  EXPECT_EQ(b.capacity(), 0u);
  EXPECT_EQ(b.write(data), 0u);
  auto c = b.next_chunk(60, 1000);
  ASSERT_TRUE(c);
  b.on_acked(c->offset, c->length, c->fin);
  EXPECT_EQ(b.capacity(), 60u);  // acked bytes free room
  EXPECT_EQ(b.write(Bytes(data).subspan(100)), 50u);
}

TEST(SendBuffer, NewDataStopsAtFlowLimitAndCarriesFin) {
  SendBuffer b;
  auto data = pattern(100);
  ASSERT_EQ(b.write(data), 100u);
  b.finish();
  EXPECT_EQ(b.write(data), 0u);  // nothing after FIN
  auto c1 = b.next_chunk(1000, 40);
  EXPECT_EQ(c1, (SendChunk{0, 40, false, false}));
  EXPECT_FALSE(b.next_chunk(1000, 40));
  EXPECT_TRUE(b.blocked_by(40));
  auto c2 = b.next_chunk(1000, 100);
  EXPECT_EQ(c2, (SendChunk{40, 60, true, false}));
  EXPECT_TRUE(b.all_sent());
  EXPECT_FALSE(b.next_chunk(1000, 100));
}

TEST(SendBuffer, BareFinWhenAllDataAlreadySent) {
  SendBuffer b;
  auto data = pattern(10);
  b.write(data);
  EXPECT_EQ(b.next_chunk(100, 100), (SendChunk{0, 10, false, false}));
  b.finish();
  EXPECT_EQ(b.next_chunk(0, 10), (SendChunk{10, 0, true, false}));
}

TEST(SendBuffer, ViewAndCopyOutReturnTheChunkBytes) {
  SendBuffer b;
  auto data = pattern(50, 7);
  b.write(data);
  auto c = b.next_chunk(20, 100);
  ASSERT_TRUE(c);
  auto c2 = b.next_chunk(20, 100);
  Bytes v = b.view(c2->offset, c2->length);
  ASSERT_EQ(v.size(), 20u);
  EXPECT_EQ(v[0], 27);
  uint8_t dst[20];
  ASSERT_TRUE(b.copy_out(c2->offset, c2->length, dst));
  EXPECT_EQ(dst[19], 46);
  EXPECT_FALSE(b.copy_out(40, 20, dst));  // beyond written data
}

// Zero-copy write: the caller fills the ring in place, in stream order, in two calls where
// the ring wraps; a short fill ends the write there.
TEST(SendBuffer, WriteWithFillsTheRingInPlaceAcrossItsWrap) {
  SendBuffer b(4096);
  auto head = pattern(3000);
  ASSERT_EQ(b.write(head), 3000u);
  auto c = b.next_chunk(3000, 1 << 20);
  ASSERT_TRUE(c);
  b.on_acked(c->offset, c->length, c->fin);  // the ring's front is free: the next write wraps
  auto body = pattern(2000, 100);
  std::vector<size_t> calls;
  size_t done = 0;
  size_t n = b.write_with(2000, [&](MutBytes dst) {
    calls.push_back(dst.size());
    std::copy_n(body.begin() + static_cast<ptrdiff_t>(done), dst.size(), dst.begin());
    done += dst.size();
    return dst.size();
  });
  EXPECT_EQ(n, 2000u);
  ASSERT_EQ(calls.size(), 2u);  // up to the ring's end, then from its start
  EXPECT_EQ(calls[0] + calls[1], 2000u);
  std::vector<uint8_t> out(2000);
  ASSERT_TRUE(b.copy_out(3000, 2000, out.data()));
  EXPECT_EQ(out, body);

  // A fill that writes less than offered (the file ended early) is taken at its word.
  int more_calls = 0;
  EXPECT_EQ(b.write_with(500, [&](MutBytes dst) {
    ++more_calls;
    std::fill_n(dst.begin(), 10, uint8_t{9});
    return size_t{10};
  }), 10u);
  EXPECT_EQ(more_calls, 1);
  EXPECT_EQ(b.write_with(100, [](MutBytes) { return size_t{0}; }), 0u);
  // Never offered more than the cap leaves room for, whatever max says.
  size_t offered = 0;
  b.write_with(1 << 20, [&](MutBytes dst) {
    offered += dst.size();
    return dst.size();
  });
  EXPECT_EQ(offered, 4096u - 2000u - 10u);
  EXPECT_EQ(b.capacity(), 0u);
}

TEST(SendBuffer, LostRangesRetransmitFirstExcludingPartsAckedSince) {
  SendBuffer b;
  auto data = pattern(300);
  b.write(data);
  b.finish();
  ASSERT_EQ(b.next_chunk(100, 1000), (SendChunk{0, 100, false, false}));
  ASSERT_EQ(b.next_chunk(100, 1000), (SendChunk{100, 100, false, false}));
  ASSERT_EQ(b.next_chunk(100, 1000), (SendChunk{200, 100, true, false}));
  // A retransmitted copy of [20, 50) was acked before the original [0, 100) was declared lost.
  b.on_acked(20, 30, false);
  b.on_lost(0, 100, false);
  b.on_lost(200, 100, true);
  EXPECT_EQ(b.next_chunk(1000, 0), (SendChunk{0, 20, false, true}));  // flow limit ignored
  EXPECT_EQ(b.next_chunk(30, 0), (SendChunk{50, 30, false, true}));
  EXPECT_EQ(b.next_chunk(1000, 0), (SendChunk{80, 20, false, true}));
  EXPECT_EQ(b.next_chunk(1000, 0), (SendChunk{200, 100, true, true}));
  EXPECT_FALSE(b.next_chunk(1000, 1000));
}

TEST(SendBuffer, AckAfterLossCancelsRetransmission) {
  SendBuffer b;
  auto data = pattern(100);
  b.write(data);
  b.next_chunk(100, 100);
  b.on_lost(0, 100, false);
  b.on_acked(0, 60, false);  // spurious loss of the first 60 bytes
  EXPECT_EQ(b.next_chunk(1000, 100), (SendChunk{60, 40, false, true}));
}

TEST(SendBuffer, LostBareFinIsResent) {
  SendBuffer b;
  auto data = pattern(10);
  b.write(data);
  b.next_chunk(100, 100);
  b.finish();
  ASSERT_EQ(b.next_chunk(100, 100), (SendChunk{10, 0, true, false}));
  b.on_acked(0, 10, false);
  b.on_lost(10, 0, true);
  EXPECT_EQ(b.next_chunk(100, 100), (SendChunk{10, 0, true, true}));
  EXPECT_FALSE(b.all_acked());
  b.on_acked(10, 0, true);
  EXPECT_TRUE(b.all_acked());
}

TEST(SendBuffer, PartialAcksOutOfOrderFreeThePrefix) {
  SendBuffer b(10000);
  auto data = pattern(10000);
  b.write(data);
  b.finish();
  std::vector<SendChunk> chunks;
  while (auto c = b.next_chunk(1000, 10000)) chunks.push_back(*c);
  ASSERT_EQ(chunks.size(), 10u);
  for (size_t i = chunks.size(); i-- > 1;)
    b.on_acked(chunks[i].offset, chunks[i].length, chunks[i].fin);
  EXPECT_EQ(b.acked_prefix(), 0u);
  EXPECT_FALSE(b.all_acked());
  b.on_acked(0, 1000, false);
  EXPECT_EQ(b.acked_prefix(), 10000u);
  EXPECT_EQ(b.buffered(), 0u);
  EXPECT_TRUE(b.all_acked());
}

TEST(SendBuffer, DiscardStopsAllSending) {
  SendBuffer b;
  auto data = pattern(100);
  b.write(data);
  b.next_chunk(50, 100);
  b.on_lost(0, 50, false);
  b.discard();
  EXPECT_FALSE(b.next_chunk(100, 100));
  EXPECT_EQ(b.sent_offset(), 50u);  // the final size a RESET_STREAM reports
  EXPECT_EQ(b.write(data), 0u);
}

// --- RecvBuffer

TEST(RecvBuffer, ReassemblesOutOfOrderWithOverlaps) {
  RecvBuffer r(100000);
  auto data = pattern(10000);
  Bytes d(data);
  // Pieces arrive out of order, overlapping, some duplicated, spanning block boundaries.
  ASSERT_TRUE(r.insert(5000, d.subspan(5000, 3000), false));
  ASSERT_TRUE(r.insert(100, d.subspan(100, 4950), false));
  ASSERT_TRUE(r.insert(4000, d.subspan(4000, 1500), false));
  ASSERT_TRUE(r.insert(7999, d.subspan(7999, 2001), true));
  EXPECT_EQ(r.readable(), 0u);  // [0, 100) is still missing
  ASSERT_TRUE(r.insert(0, d.subspan(0, 150), false));
  ASSERT_TRUE(r.insert(0, d.subspan(0, 150), false));  // duplicate
  EXPECT_EQ(r.readable(), 10000u);
  std::vector<uint8_t> out(10000);
  size_t got = r.read(MutBytes(out).first(4097));
  got += r.read(MutBytes(out).subspan(4097));
  EXPECT_EQ(got, 10000u);
  EXPECT_EQ(out, data);
  EXPECT_TRUE(r.finished_reading());
  EXPECT_EQ(r.allocated_bytes(), 0u);
}

// Zero-copy read: in-order bytes handed over in place, one span per reassembly block; what
// the taker does not take stays readable.
TEST(RecvBuffer, ReadWithHandsBlocksInPlaceAndKeepsWhatWasNotTaken) {
  RecvBuffer b(1 << 20);
  auto data = pattern(3 * kRecvBlockSize);
  ASSERT_TRUE(b.insert(100, Bytes(data).subspan(100), false));
  ASSERT_TRUE(b.insert(0, Bytes(data).first(100), false));
  std::vector<uint8_t> got;
  std::vector<size_t> sizes;
  size_t n = b.read_with(kRecvBlockSize + 50, [&](std::span<const Bytes> spans) {
    size_t total = 0;
    for (Bytes src : spans) {
      sizes.push_back(src.size());
      got.insert(got.end(), src.begin(), src.end());
      total += src.size();
    }
    return total;
  });
  EXPECT_EQ(n, kRecvBlockSize + 50);
  EXPECT_EQ(sizes, (std::vector<size_t>{kRecvBlockSize, 50}));  // one call, a span per block
  EXPECT_TRUE(std::equal(got.begin(), got.end(), data.begin()));
  // Taking 7 of the offered bytes consumes 7 and stops.
  int calls = 0;
  EXPECT_EQ(b.read_with(1 << 20, [&](std::span<const Bytes> spans) {
    ++calls;
    EXPECT_EQ(spans.size(), 2u);  // the rest of block 1, block 2
    EXPECT_EQ(spans[0][0], data[kRecvBlockSize + 50]);
    return size_t{7};
  }), 7u);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(b.read_offset(), kRecvBlockSize + 57);
  EXPECT_EQ(b.readable(), 3 * kRecvBlockSize - (kRecvBlockSize + 57));
  std::vector<uint8_t> rest(b.readable());
  EXPECT_EQ(b.read(rest), rest.size());  // the copying read sees the same bytes
  EXPECT_TRUE(std::equal(rest.begin(), rest.end(), data.begin() + kRecvBlockSize + 57));
  // More blocks than one call takes: kMaxTakeSpans per call, every byte once, in order.
  RecvBuffer big(1 << 20);
  auto many = pattern((kMaxTakeSpans + 3) * kRecvBlockSize, 9);
  ASSERT_TRUE(big.insert(0, many, true));
  std::vector<uint8_t> all;
  std::vector<size_t> per_call;
  EXPECT_EQ(big.read_with(1 << 20, [&](std::span<const Bytes> spans) {
    per_call.push_back(spans.size());
    size_t offered = 0;
    for (Bytes src : spans) {
      all.insert(all.end(), src.begin(), src.end());
      offered += src.size();
    }
    return offered;
  }), many.size());
  EXPECT_EQ(per_call, (std::vector<size_t>{kMaxTakeSpans, 3}));
  EXPECT_EQ(all, many);
  EXPECT_TRUE(big.finished_reading());
}

TEST(RecvBuffer, DataBeyondFlowLimitIsFlowControlError) {
  RecvBuffer r(1000);
  auto data = pattern(10);
  auto s = r.insert(995, data, false);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, err::kFlowControlError);
  EXPECT_TRUE(r.insert(990, data, false));  // exactly up to the limit is fine
}

TEST(RecvBuffer, HostileOffsetIsRejectedWithoutAllocating) {
  RecvBuffer r(1 << 20);
  auto data = pattern(100);
  auto s = r.insert(100'000'000, data, false);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, err::kFlowControlError);
  EXPECT_EQ(r.allocated_bytes(), 0u);
  // Near 2^62: offset + length would not be a valid stream offset.
  auto s2 = r.insert(kMaxVarint - 10, data, false);
  ASSERT_FALSE(s2);
  EXPECT_EQ(s2.error().code, err::kFlowControlError);
}

TEST(RecvBuffer, MemoryStaysWithinTheWindowForSparseData) {
  RecvBuffer r(1 << 20);
  uint8_t byte = 1;
  // One byte per 8 KiB: every block touched is inside the window.
  for (uint64_t off = 1; off < (1 << 20); off += 8192)
    ASSERT_TRUE(r.insert(off, Bytes(&byte, 1), false));
  EXPECT_LE(r.allocated_bytes(), size_t{1} << 20);
}

TEST(RecvBuffer, TooManyGapsIsProtocolViolation) {
  RecvBuffer r(1 << 20);
  uint8_t byte = 1;
  Status s;
  uint64_t off = 1;
  for (size_t i = 0; i <= kMaxReassemblyRanges && s; ++i, off += 2)
    s = r.insert(off, Bytes(&byte, 1), false);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, err::kProtocolViolation);
  // Filling a hole (no new range) is still accepted at the limit.
  EXPECT_TRUE(r.insert(2, Bytes(&byte, 1), false));
}

TEST(RecvBuffer, FinalSizeRules) {
  auto data = pattern(100);
  {  // A FIN below already received data.
    RecvBuffer r(1000);
    ASSERT_TRUE(r.insert(0, Bytes(data).first(100), false));
    auto s = r.insert(0, Bytes(data).first(50), true);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().code, err::kFinalSizeError);
  }
  {  // A second FIN with another final size.
    RecvBuffer r(1000);
    ASSERT_TRUE(r.insert(0, Bytes(data).first(50), true));
    auto s = r.insert(0, Bytes(data).first(60), true);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().code, err::kFinalSizeError);
    EXPECT_TRUE(r.insert(0, Bytes(data).first(50), true));  // same final size again: fine
    EXPECT_TRUE(r.insert(10, Bytes(data).first(20), false));
  }
  {  // Data beyond a known final size, even without FIN.
    RecvBuffer r(1000);
    ASSERT_TRUE(r.insert(0, Bytes(data).first(50), true));
    auto s = r.insert(40, Bytes(data).first(20), false);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().code, err::kFinalSizeError);
  }
  {  // RESET_STREAM disagreeing with the FIN, or below received data.
    RecvBuffer r(1000);
    ASSERT_TRUE(r.insert(0, Bytes(data).first(50), true));
    EXPECT_EQ(r.on_reset(49).error().code, err::kFinalSizeError);
    RecvBuffer r2(1000);
    ASSERT_TRUE(r2.insert(0, Bytes(data).first(50), false));
    EXPECT_EQ(r2.on_reset(40).error().code, err::kFinalSizeError);
    EXPECT_EQ(r2.on_reset(1001).error().code, err::kFlowControlError);
    EXPECT_TRUE(r2.on_reset(50));
    EXPECT_EQ(r2.read_offset(), 50u);  // the whole final size is released as consumed
    EXPECT_EQ(r2.allocated_bytes(), 0u);
  }
}

TEST(RecvBuffer, ZeroLengthFinAfterDataEndsTheStream) {
  RecvBuffer r(1000);
  auto data = pattern(20);
  ASSERT_TRUE(r.insert(0, data, false));
  std::vector<uint8_t> out(100);
  EXPECT_EQ(r.read(out), 20u);
  EXPECT_FALSE(r.finished_reading());
  ASSERT_TRUE(r.insert(20, {}, true));
  EXPECT_TRUE(r.all_received());
  EXPECT_TRUE(r.finished_reading());
}

TEST(RecvBuffer, DiscardCountsIncomingDataAsConsumed) {
  RecvBuffer r(1000);
  auto data = pattern(100);
  ASSERT_TRUE(r.insert(0, Bytes(data).first(30), false));
  r.discard_incoming();
  EXPECT_EQ(r.read_offset(), 30u);
  ASSERT_TRUE(r.insert(50, Bytes(data).first(50), false));
  EXPECT_EQ(r.read_offset(), 100u);
  EXPECT_EQ(r.readable(), 0u);
  EXPECT_EQ(r.allocated_bytes(), 0u);
  EXPECT_EQ(r.insert(990, Bytes(data).first(20), false).error().code, err::kFlowControlError);
}

}  // namespace
}  // namespace quic
