// Frame codec: byte-exact encodings and round trips for every frame type.
#include "wire/frame.h"

#include <array>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "frame_test_util.h"

namespace quic {
namespace {

using test::decode_one;
using test::encode;
using test::from_hex;

const uint8_t kData[] = {'a', 'b', 'c'};
const uint8_t kCid[] = {0xde, 0xad, 0xbe, 0xef};
const uint8_t kReason[] = {'b', 'a', 'd'};
constexpr std::array<uint8_t, 16> kToken16 = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
const AckRange kTwoRanges[] = {{95, 100}, {80, 90}};
const AckRange kManyRanges[] = {{1000, 1000}, {900, 950}, {500, 800}, {0, 10}};

// One or more samples of every frame type (and every flag combination that changes the type).
std::vector<Frame> all_sample_frames() {
  std::vector<Frame> v;
  v.push_back(PaddingFrame{1});
  v.push_back(PaddingFrame{37});
  v.push_back(PingFrame{});
  v.push_back(AckFrame::from_ranges(0, false, kTwoRanges, 25, std::nullopt));
  v.push_back(AckFrame::from_ranges(0, false, kTwoRanges, 25, EcnCounts{1, 2, 3}));
  v.push_back(AckFrame::from_ranges(0, false, kManyRanges, 1 << 20, std::nullopt));
  v.push_back(AckFrame::from_ranges(7, true, kManyRanges, 3, std::nullopt));
  v.push_back(AckFrame::from_ranges(7, true, kTwoRanges, 3, EcnCounts{100, 0, 70000}));
  v.push_back(ResetStreamFrame{4, 0x1234, 99999});
  v.push_back(StopSendingFrame{8, 77});
  v.push_back(CryptoFrame{0, kData});
  v.push_back(CryptoFrame{123456, kData});
  v.push_back(NewTokenFrame{kData});
  for (int bits = 0; bits < 8; ++bits) {
    bool off = bits & 4, len = bits & 2, fin = bits & 1;
    v.push_back(StreamFrame{4, off ? 1000u : 0u, kData, fin, len});
  }
  v.push_back(StreamFrame{0, 0, {}, true, true});  // empty FIN-only frame
  v.push_back(MaxDataFrame{1 << 30});
  v.push_back(MaxStreamDataFrame{3, 65536});
  v.push_back(MaxStreamsFrame{true, 100});
  v.push_back(MaxStreamsFrame{false, frame_limits::kMaxStreamCount});
  v.push_back(DataBlockedFrame{4096});
  v.push_back(StreamDataBlockedFrame{2, 777});
  v.push_back(StreamsBlockedFrame{true, 10});
  v.push_back(StreamsBlockedFrame{false, 11});
  v.push_back(NewConnectionIdFrame{0, false, 2, 1, kCid, kToken16});
  v.push_back(NewConnectionIdFrame{5, true, 9, 3, kCid, kToken16});
  v.push_back(RetireConnectionIdFrame{0, false, 12});
  v.push_back(RetireConnectionIdFrame{2, true, 12});
  v.push_back(PathChallengeFrame{{1, 2, 3, 4, 5, 6, 7, 8}});
  v.push_back(PathResponseFrame{{8, 7, 6, 5, 4, 3, 2, 1}});
  v.push_back(ConnectionCloseFrame{false, err::kProtocolViolation, 0x08, kReason});
  v.push_back(ConnectionCloseFrame{true, 0x101, 0, {}});
  v.push_back(HandshakeDoneFrame{});
  v.push_back(DatagramFrame{kData, true});
  v.push_back(DatagramFrame{kData, false});
  v.push_back(AckFrequencyFrame{1, 2, 25000, 1});
  v.push_back(ImmediateAckFrame{});
  v.push_back(ResetStreamAtFrame{4, 1, 1000, 500});
  v.push_back(PathAbandonFrame{3, err::kNoError});
  v.push_back(PathStatusFrame{true, 1, 5});
  v.push_back(PathStatusFrame{false, 1, 6});
  v.push_back(MaxPathIdFrame{frame_limits::kMaxPathId});
  v.push_back(PathsBlockedFrame{4});
  v.push_back(PathCidsBlockedFrame{4, 2});
  return v;
}

TEST(FrameCodec, EveryFrameTypeRoundTripsAndSizeMatches) {
  std::vector<bool> seen(std::variant_size_v<Frame>, false);
  for (const Frame& f : all_sample_frames()) {
    SCOPED_TRACE(frame_type_name(frame_type_of(f)));
    std::vector<uint8_t> bytes = encode(f);
    ASSERT_FALSE(bytes.empty());
    EXPECT_EQ(bytes.size(), encoded_size(f));
    auto back = decode_one(bytes);
    ASSERT_TRUE(back.has_value()) << back.error().reason;
    EXPECT_TRUE(*back == f);
    EXPECT_EQ(frame_type_of(*back), frame_type_of(f));
    EXPECT_STRNE(frame_type_name(frame_type_of(f)), "UNKNOWN");
    seen[f.index()] = true;
  }
  for (size_t i = 0; i < seen.size(); ++i) EXPECT_TRUE(seen[i]) << "no sample for index " << i;
}

TEST(FrameCodec, ConcatenatedFramesDecodeInOrder) {
  std::vector<Frame> frames = all_sample_frames();
  // Frames without a length field run to the end of the packet: keep only the last one.
  std::erase_if(frames, [](const Frame& f) {
    auto* s = std::get_if<StreamFrame>(&f);
    auto* d = std::get_if<DatagramFrame>(&f);
    return (s && !s->explicit_length) || (d && !d->explicit_length) ||
           std::holds_alternative<PaddingFrame>(f);  // adjacent PADDING would coalesce
  });
  frames.push_back(StreamFrame{8, 5, kData, true, false});
  std::vector<uint8_t> packet(4096);
  Writer w(packet);
  for (const Frame& f : frames) ASSERT_TRUE(encode_frame(w, f));
  Reader r(w.view());
  for (const Frame& f : frames) {
    auto got = decode_frame(r);
    ASSERT_TRUE(got.has_value()) << got.error().reason;
    EXPECT_TRUE(*got == f) << frame_type_name(frame_type_of(f));
  }
  EXPECT_TRUE(r.empty());
}

// Hand-computed: type 0x03, Largest 100 (2-byte varint 0x4064), Delay 25, Count 1,
// First Range 5 (95..100), Gap 95-90-2 = 3, Length 90-80 = 10, ECN 1/2/3.
TEST(FrameCodec, AckWithTwoRangesAndEcnIsByteExact) {
  auto bytes = encode(AckFrame::from_ranges(0, false, kTwoRanges, 25, EcnCounts{1, 2, 3}));
  EXPECT_EQ(bytes, from_hex("03 4064 19 01 05 03 0a 01 02 03"));
  std::vector<uint8_t> via_encode_ack(bytes.size());
  Writer w(via_encode_ack);
  ASSERT_TRUE(encode_ack(w, 0, false, kTwoRanges, 25, EcnCounts{1, 2, 3}));
  EXPECT_EQ(via_encode_ack, bytes);

  auto f = decode_one(bytes);
  ASSERT_TRUE(f.has_value());
  const auto& ack = std::get<AckFrame>(*f);
  EXPECT_EQ(ack.largest, 100u);
  EXPECT_EQ(ack.ack_delay, 25u);
  EXPECT_EQ(ack.range_count(), 2u);
  EXPECT_EQ(ack.smallest_acked(), 80u);
  EXPECT_EQ(ack.ecn, (EcnCounts{1, 2, 3}));
  std::vector<AckRange> ranges(ack.ranges().begin(), ack.ranges().end());
  EXPECT_EQ(ranges, (std::vector<AckRange>{{95, 100}, {80, 90}}));
}

// RFC 9001 Appendix A.3: the server Initial payload starts with ACK of packet 0 and a CRYPTO
// frame of 90 bytes at offset 0.
TEST(FrameCodec, Rfc9001AppendixA3ServerInitialFrames) {
  std::vector<uint8_t> payload = from_hex("02 00 00 00 00 06 00 40 5a");
  payload.resize(payload.size() + 90, 0x16);
  Reader r(payload);
  auto ack = decode_frame(r);
  ASSERT_TRUE(ack.has_value());
  const auto& a = std::get<AckFrame>(*ack);
  EXPECT_EQ(a.largest, 0u);
  EXPECT_EQ(a.range_count(), 1u);
  EXPECT_EQ(a.smallest_acked(), 0u);
  EXPECT_FALSE(a.ecn.has_value());
  auto crypto = decode_frame(r);
  ASSERT_TRUE(crypto.has_value());
  const auto& c = std::get<CryptoFrame>(*crypto);
  EXPECT_EQ(c.offset, 0u);
  EXPECT_EQ(c.data.size(), 90u);
  EXPECT_TRUE(r.empty());
  // And our encoder produces the same header.
  EXPECT_EQ(crypto_frame_overhead(0, 90), 4u);
  const AckRange pn0[] = {{0, 0}};
  EXPECT_EQ(encode(AckFrame::from_ranges(0, false, pn0, 0, std::nullopt)),
            from_hex("02 00 00 00 00"));
}

// RFC 9001 Appendix A.2: the client Initial's CRYPTO frame header for 241 bytes at offset 0.
TEST(FrameCodec, Rfc9001AppendixA2ClientCryptoHeader) {
  std::vector<uint8_t> hello(241, 0x01);
  auto bytes = encode(CryptoFrame{0, hello});
  ASSERT_EQ(bytes.size(), 245u);
  EXPECT_EQ(std::vector<uint8_t>(bytes.begin(), bytes.begin() + 4), from_hex("06 00 40 f1"));
}

TEST(FrameCodec, StreamWithOffLenFinIsByteExact) {
  // type 0x08|OFF|LEN|FIN = 0x0f, id 4, offset 1000 = 0x43e8, length 3, "abc".
  EXPECT_EQ(encode(StreamFrame{4, 1000, kData, true, true}), from_hex("0f 04 43e8 03 616263"));
  // No offset, no length: type 0x08, the data runs to the end.
  EXPECT_EQ(encode(StreamFrame{4, 0, kData, false, false}), from_hex("08 04 616263"));
  EXPECT_EQ(stream_frame_overhead(4, 1000, 3, true), 5u);
  EXPECT_EQ(stream_frame_overhead(4, 0, 3, false), 2u);
}

TEST(FrameCodec, NewConnectionIdIsByteExact) {
  EXPECT_EQ(encode(NewConnectionIdFrame{0, false, 2, 1, kCid, kToken16}),
            from_hex("18 02 01 04 deadbeef 000102030405060708090a0b0c0d0e0f"));
  // PATH_NEW_CONNECTION_ID: type 0x3e78 as a 2-byte varint (0x7e78), then the path id.
  EXPECT_EQ(encode(NewConnectionIdFrame{5, true, 2, 1, kCid, kToken16}),
            from_hex("7e78 05 02 01 04 deadbeef 000102030405060708090a0b0c0d0e0f"));
}

TEST(FrameCodec, PathAckIsByteExact) {
  const AckRange one[] = {{10, 10}};
  // Type 0x3e, path 1, largest 10, delay 0, count 0, first range 0.
  EXPECT_EQ(encode(AckFrame::from_ranges(1, true, one, 0, std::nullopt)),
            from_hex("3e 01 0a 00 00 00"));
  // PATH_ACK_ECN 0x3f with ECN counts after the ranges.
  EXPECT_EQ(encode(AckFrame::from_ranges(1, true, one, 0, EcnCounts{4, 5, 6})),
            from_hex("3f 01 0a 00 00 00 04 05 06"));
}

TEST(FrameCodec, ExtensionFramesAreByteExact) {
  EXPECT_EQ(encode(PathAbandonFrame{3, 0}), from_hex("7e75 03 00"));
  EXPECT_EQ(encode(PathStatusFrame{true, 1, 2}), from_hex("7e76 01 02"));
  EXPECT_EQ(encode(PathStatusFrame{false, 1, 2}), from_hex("7e77 01 02"));
  EXPECT_EQ(encode(RetireConnectionIdFrame{2, true, 3}), from_hex("7e79 02 03"));
  EXPECT_EQ(encode(MaxPathIdFrame{8}), from_hex("7e7a 08"));
  EXPECT_EQ(encode(PathsBlockedFrame{8}), from_hex("7e7b 08"));
  EXPECT_EQ(encode(PathCidsBlockedFrame{1, 4}), from_hex("7e7c 01 04"));
  // ACK_FREQUENCY 0xaf (2-byte varint), delay 25000 us as a 4-byte varint.
  EXPECT_EQ(encode(AckFrequencyFrame{1, 2, 25000, 1}), from_hex("40af 01 02 800061a8 01"));
  EXPECT_EQ(encode(ImmediateAckFrame{}), from_hex("1f"));
  EXPECT_EQ(encode(ResetStreamAtFrame{4, 1, 100, 50}), from_hex("24 04 01 4064 32"));
  EXPECT_EQ(encode(DatagramFrame{kData, true}), from_hex("31 03 616263"));
  EXPECT_EQ(encode(DatagramFrame{kData, false}), from_hex("30 616263"));
  EXPECT_EQ(encode(ConnectionCloseFrame{false, 0x0a, 0x08, kReason}),
            from_hex("1c 0a 08 03 626164"));
  EXPECT_EQ(encode(ConnectionCloseFrame{true, 0x0a, 0, kReason}), from_hex("1d 0a 03 626164"));
}

TEST(FrameCodec, PaddingRunsCoalesceIntoOneFrame) {
  std::vector<uint8_t> b = from_hex("00 00 00 00 00 01 00");
  Reader r(b);
  auto pad = decode_frame(r);
  ASSERT_TRUE(pad.has_value());
  EXPECT_EQ(std::get<PaddingFrame>(*pad).length, 5u);
  auto ping = decode_frame(r);
  ASSERT_TRUE(ping.has_value());
  EXPECT_TRUE(std::holds_alternative<PingFrame>(*ping));
  auto tail = decode_frame(r);
  ASSERT_TRUE(tail.has_value());
  EXPECT_EQ(std::get<PaddingFrame>(*tail).length, 1u);
  EXPECT_TRUE(r.empty());
  EXPECT_EQ(encode(PaddingFrame{5}), from_hex("00 00 00 00 00"));
}

TEST(FrameCodec, StreamWithoutLengthTakesRestOfPacket) {
  std::vector<uint8_t> b = from_hex("0c 04 05 01 02 03 04 00 00");  // OFF, no LEN
  Reader r(b);
  auto f = decode_frame(r);
  ASSERT_TRUE(f.has_value());
  const auto& s = std::get<StreamFrame>(*f);
  EXPECT_EQ(s.stream_id, 4u);
  EXPECT_EQ(s.offset, 5u);
  EXPECT_FALSE(s.explicit_length);
  EXPECT_EQ(s.data.size(), 6u);  // trailing zero bytes belong to the data, not PADDING
  EXPECT_TRUE(r.empty());
}

TEST(FrameCodec, DecodedDataIsAViewIntoThePacket) {
  std::vector<uint8_t> b = encode(StreamFrame{4, 1000, kData, true, true});
  auto f = decode_one(b);
  ASSERT_TRUE(f.has_value());
  const auto& s = std::get<StreamFrame>(*f);
  EXPECT_EQ(s.data.data(), b.data() + 5);
}

TEST(FrameCodec, EncodeFailsWithoutWritingWhenFrameDoesNotFit) {
  StreamFrame s{4, 1000, kData, true, true};
  std::vector<uint8_t> buf(encoded_size(s) - 1, 0xee);
  Writer w(buf);
  EXPECT_FALSE(encode_frame(w, s));
  EXPECT_EQ(w.written(), 0u);
  EXPECT_TRUE(w.ok());  // the builder can still put a smaller frame there
  EXPECT_TRUE(encode_frame(w, PingFrame{}));
  EXPECT_EQ(w.written(), 1u);
}

TEST(FrameCodec, UnencodableFramesHaveSizeZero) {
  const uint8_t cid21[21] = {};
  EXPECT_EQ(encoded_size(NewConnectionIdFrame{0, false, 1, 0, cid21, kToken16}), 0u);
  EXPECT_EQ(encoded_size(NewConnectionIdFrame{0, false, 1, 0, {}, kToken16}), 0u);
  EXPECT_EQ(encoded_size(NewConnectionIdFrame{0, false, 1, 2, kCid, kToken16}), 0u);
  EXPECT_EQ(encoded_size(NewConnectionIdFrame{3, false, 1, 0, kCid, kToken16}), 0u);
  EXPECT_EQ(encoded_size(PaddingFrame{0}), 0u);
  EXPECT_EQ(encoded_size(MaxDataFrame{kMaxVarint + 1}), 0u);
  EXPECT_EQ(encoded_size(MaxStreamsFrame{true, frame_limits::kMaxStreamCount + 1}), 0u);
  EXPECT_EQ(encoded_size(NewTokenFrame{}), 0u);
  EXPECT_EQ(encoded_size(StreamFrame{0, kMaxVarint, kData, false, true}), 0u);
  EXPECT_EQ(encoded_size(ResetStreamAtFrame{0, 0, 10, 11}), 0u);
  EXPECT_EQ(encoded_size(MaxPathIdFrame{frame_limits::kMaxPathId + 1}), 0u);
  const AckRange unsorted[] = {{1, 2}, {5, 6}};
  const AckRange adjacent[] = {{5, 6}, {1, 4}};
  const AckRange inverted[] = {{6, 5}};
  EXPECT_EQ(encoded_size(AckFrame::from_ranges(0, false, unsorted, 0, std::nullopt)), 0u);
  EXPECT_EQ(encoded_size(AckFrame::from_ranges(0, false, adjacent, 0, std::nullopt)), 0u);
  EXPECT_EQ(encoded_size(AckFrame::from_ranges(0, false, inverted, 0, std::nullopt)), 0u);
  EXPECT_EQ(encoded_size(AckFrame::from_ranges(0, false, {}, 0, std::nullopt)), 0u);
  EXPECT_EQ(encoded_size(AckFrame::from_ranges(1, false, kTwoRanges, 0, std::nullopt)), 0u);
  std::array<uint8_t, 64> buf{};
  Writer w(buf);
  EXPECT_FALSE(encode_ack(w, 0, false, unsorted, 0, std::nullopt));
  EXPECT_EQ(w.written(), 0u);
}

TEST(FrameCodec, AckRangesThatFitDropsOldestRanges) {
  auto full = encoded_size(AckFrame::from_ranges(0, false, kManyRanges, 0, std::nullopt));
  ASSERT_GT(full, 0u);
  EXPECT_EQ(ack_ranges_that_fit(0, false, kManyRanges, 0, std::nullopt, full), 4u);
  EXPECT_EQ(ack_ranges_that_fit(0, false, kManyRanges, 0, std::nullopt, full - 1), 3u);
  for (size_t n = 1; n <= 4; ++n) {
    auto size = encoded_size(
        AckFrame::from_ranges(0, false, std::span(kManyRanges).first(n), 0, std::nullopt));
    EXPECT_EQ(ack_ranges_that_fit(0, false, kManyRanges, 0, std::nullopt, size), n);
  }
  EXPECT_EQ(ack_ranges_that_fit(0, false, kManyRanges, 0, std::nullopt, 3), 0u);
}

TEST(FrameCodec, AckRangeCountFieldGrowsPast63Ranges) {
  // 70 single-packet ranges two apart: the ACK Range Count needs a 2-byte varint.
  std::vector<AckRange> ranges;
  for (uint64_t i = 0; i < 70; ++i) ranges.push_back({1000 - 2 * i, 1000 - 2 * i});
  auto bytes = encode(AckFrame::from_ranges(0, false, ranges, 0, std::nullopt));
  // type, largest(2), delay, count(2), first, 69 x (gap, len)
  EXPECT_EQ(bytes.size(), 1u + 2 + 1 + 2 + 1 + 69 * 2);
  auto f = decode_one(bytes);
  ASSERT_TRUE(f.has_value());
  std::vector<AckRange> back(std::get<AckFrame>(*f).ranges().begin(),
                             std::get<AckFrame>(*f).ranges().end());
  EXPECT_EQ(back, ranges);
  EXPECT_EQ(ack_ranges_that_fit(0, false, ranges, 0, std::nullopt, bytes.size()), 70u);
  EXPECT_EQ(ack_ranges_that_fit(0, false, ranges, 0, std::nullopt, bytes.size() - 1), 69u);
}

}  // namespace
}  // namespace quic
