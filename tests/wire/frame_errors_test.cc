// Frame decoder validation: every malformed input gives the RFC error code, never a crash.
#include <array>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "frame_test_util.h"
#include "wire/frame.h"

namespace quic {
namespace {

using test::decode_one;
using test::decodes;
using test::encode;
using test::from_hex;

void expect_error(const std::vector<uint8_t>& b, uint64_t code, uint64_t frame_type) {
  Reader r(b);
  auto f = decode_frame(r);
  ASSERT_FALSE(f.has_value()) << "decoded " << frame_type_name(frame_type_of(*f));
  EXPECT_EQ(f.error().code, code) << f.error().reason;
  EXPECT_EQ(f.error().frame_type, frame_type) << f.error().reason;
}

void expect_frame_encoding_error(const std::vector<uint8_t>& b, uint64_t frame_type) {
  expect_error(b, err::kFrameEncodingError, frame_type);
}

std::vector<uint8_t> cat(std::vector<uint8_t> a, const std::vector<uint8_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// Encodes a varint in exactly len bytes.
std::vector<uint8_t> vi(uint64_t v, size_t len = 0) {
  std::vector<uint8_t> out(8);
  Writer w(out);
  EXPECT_TRUE(len ? w.varint_len(v, len) : w.varint(v));
  out.resize(w.written());
  return out;
}

TEST(FrameErrors, EveryTruncationIsFrameEncodingError) {
  const uint8_t data[] = {1, 2, 3};
  const uint8_t cid[] = {9, 9, 9, 9, 9, 9, 9, 9};
  const AckRange ranges[] = {{95, 100}, {80, 90}, {10, 20}};
  const std::vector<Frame> frames = {
      PingFrame{},
      AckFrame::from_ranges(0, false, ranges, 300, EcnCounts{1, 70000, 3}),
      AckFrame::from_ranges(2, true, ranges, 300, EcnCounts{1, 2, 3}),
      ResetStreamFrame{4, 5, 6},
      StopSendingFrame{4, 5},
      CryptoFrame{70000, data},
      NewTokenFrame{data},
      StreamFrame{4, 70000, data, true, true},
      MaxDataFrame{70000},
      MaxStreamDataFrame{4, 70000},
      MaxStreamsFrame{true, 70000},
      DataBlockedFrame{70000},
      StreamDataBlockedFrame{4, 70000},
      StreamsBlockedFrame{false, 70000},
      NewConnectionIdFrame{0, false, 3, 1, cid, {}},
      NewConnectionIdFrame{1, true, 3, 1, cid, {}},
      RetireConnectionIdFrame{0, false, 70000},
      RetireConnectionIdFrame{1, true, 70000},
      PathChallengeFrame{},
      PathResponseFrame{},
      ConnectionCloseFrame{false, 1, 2, data},
      ConnectionCloseFrame{true, 1, 0, data},
      HandshakeDoneFrame{},
      DatagramFrame{data, true},
      AckFrequencyFrame{1, 2, 3, 4},
      ImmediateAckFrame{},
      ResetStreamAtFrame{4, 5, 600, 70},
      PathAbandonFrame{1, 70000},
      PathStatusFrame{true, 1, 70000},
      PathStatusFrame{false, 1, 70000},
      MaxPathIdFrame{70000},
      PathsBlockedFrame{70000},
      PathCidsBlockedFrame{1, 70000},
  };
  for (const Frame& f : frames) {
    std::vector<uint8_t> full = encode(f);
    ASSERT_FALSE(full.empty());
    ASSERT_TRUE(decodes(full));
    for (size_t n = 0; n < full.size(); ++n) {
      SCOPED_TRACE(std::string(frame_type_name(frame_type_of(f))) + " cut at " + std::to_string(n));
      std::vector<uint8_t> cut(full.begin(), full.begin() + n);
      // A cut inside the type varint leaves no type to report.
      uint64_t type = n < varint_size(frame_type_of(f)) ? 0 : frame_type_of(f);
      expect_frame_encoding_error(cut, type);
    }
  }
}

TEST(FrameErrors, UnknownFrameTypesAreFrameEncodingError) {
  for (uint64_t type : std::initializer_list<uint64_t>{0x20, 0x21, 0x2f, 0x32, 0x3d, 0xb0, 0x3e74,
                                                       0x3e7d, 0x15228c00, kMaxVarint}) {
    expect_frame_encoding_error(cat(vi(type), {0, 0, 0, 0}), type);
  }
}

TEST(FrameErrors, NonShortestFrameTypeIsProtocolViolation) {
  expect_error(from_hex("4001"), err::kProtocolViolation, frame_type::kPing);
  expect_error(from_hex("4000"), err::kProtocolViolation, frame_type::kPadding);
  expect_error(from_hex("8000001e"), err::kProtocolViolation, frame_type::kHandshakeDone);
  expect_error(cat(vi(frame_type::kPathAbandon, 8), {1, 0}), err::kProtocolViolation,
               frame_type::kPathAbandon);
  // Non-minimal varints inside a frame's fields are allowed (§16 only constrains frame types).
  auto b = cat(from_hex("10"), vi(5, 8));
  auto f = decode_one(b);
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(std::get<MaxDataFrame>(*f).max, 5u);
}

TEST(FrameErrors, AckFirstRangeAboveLargestIsFrameEncodingError) {
  expect_frame_encoding_error(from_hex("02 05 00 00 06"), frame_type::kAck);
  ASSERT_TRUE(decodes(from_hex("02 05 00 00 05")));  // acks 0..5: fine
  expect_frame_encoding_error(from_hex("3e 01 05 00 00 06"), frame_type::kPathAck);
}

TEST(FrameErrors, AckGapUnderflowIsFrameEncodingError) {
  // Largest 10, first range 5 -> smallest 5; gap 4 -> next largest 5-4-2 = -1.
  expect_frame_encoding_error(from_hex("02 0a 00 01 05 04 00"), frame_type::kAck);
  // Gap 3 -> next largest 0, length 0: acks packet 0, valid.
  auto b = from_hex("02 0a 00 01 05 03 00");
  auto ok = decode_one(b);
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(std::get<AckFrame>(*ok).smallest_acked(), 0u);
}

TEST(FrameErrors, AckRangeLengthUnderflowIsFrameEncodingError) {
  // Next largest 5-1-2 = 2, length 3 -> smallest -1.
  expect_frame_encoding_error(from_hex("02 0a 00 01 05 01 03"), frame_type::kAck);
  expect_frame_encoding_error(from_hex("03 0a 00 01 05 01 03 00 00 00"), frame_type::kAckEcn);
}

TEST(FrameErrors, AckRangeCountBeyondPacketFailsWithoutLooping) {
  // Range count 2^62-1 with two bytes left: rejected up front as truncated.
  expect_frame_encoding_error(cat(from_hex("02 0a 00"), cat(vi(kMaxVarint), from_hex("00 01 01"))),
                              frame_type::kAck);
  // Exactly kMinAckRangeBytes per claimed range but the last pair is missing.
  expect_frame_encoding_error(from_hex("02 40 64 00 02 00 01 01 01"), frame_type::kAck);
}

TEST(FrameErrors, StreamOffsetPlusLengthAbove2To62IsFrameEncodingError) {
  // OFF|LEN, offset 2^62-1, one byte of data.
  expect_frame_encoding_error(cat(cat(from_hex("0e 04"), vi(kMaxVarint)), from_hex("01 aa")), 0x0e);
  // Without LEN: the one trailing byte is the data.
  expect_frame_encoding_error(cat(cat(from_hex("0c 04"), vi(kMaxVarint)), from_hex("aa")), 0x0c);
  // Offset 2^62-1 with no data is the largest valid frame end.
  ASSERT_TRUE(decodes(cat(cat(from_hex("0f 04"), vi(kMaxVarint)), from_hex("00"))));
}

TEST(FrameErrors, CryptoOffsetPlusLengthAbove2To62IsFrameEncodingError) {
  expect_frame_encoding_error(cat(cat(from_hex("06"), vi(kMaxVarint - 1)), from_hex("02 aa bb")),
                              frame_type::kCrypto);
  ASSERT_TRUE(decodes(cat(cat(from_hex("06"), vi(kMaxVarint - 1)), from_hex("01 aa"))));
}

TEST(FrameErrors, HugeLengthFieldsFailAsTruncatedWithoutAllocating) {
  // Each claims 2^62-1 bytes of payload; decoding must just find them missing.
  auto huge = vi(kMaxVarint);
  expect_frame_encoding_error(cat(cat(from_hex("0a 04"), huge), from_hex("aa")), 0x0a);
  expect_frame_encoding_error(cat(cat(from_hex("06 00"), huge), from_hex("aa")),
                              frame_type::kCrypto);
  expect_frame_encoding_error(cat(cat(from_hex("07"), huge), from_hex("aa")),
                              frame_type::kNewToken);
  expect_frame_encoding_error(cat(cat(from_hex("31"), huge), from_hex("aa")),
                              frame_type::kDatagramLen);
  expect_frame_encoding_error(cat(cat(from_hex("1d 00"), huge), from_hex("aa")),
                              frame_type::kConnectionCloseApp);
}

TEST(FrameErrors, ReasonPhrasePastEndIsFrameEncodingError) {
  expect_frame_encoding_error(from_hex("1c 0a 08 05 626164"), frame_type::kConnectionClose);
  expect_frame_encoding_error(from_hex("1d 0a 04 626164"), frame_type::kConnectionCloseApp);
  auto b = from_hex("1c 0a 08 03 626164");
  auto ok = decode_one(b);
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(std::get<ConnectionCloseFrame>(*ok).reason.size(), 3u);
}

TEST(FrameErrors, MaxStreamsAbove2To60IsFrameEncodingError) {
  const uint64_t limit = frame_limits::kMaxStreamCount;
  for (uint64_t type : {frame_type::kMaxStreamsBidi, frame_type::kMaxStreamsUni,
                        frame_type::kStreamsBlockedBidi, frame_type::kStreamsBlockedUni}) {
    SCOPED_TRACE(type);
    ASSERT_TRUE(decodes(cat(vi(type), vi(limit))));
    expect_frame_encoding_error(cat(vi(type), vi(limit + 1)), type);
  }
}

TEST(FrameErrors, NewConnectionIdLengthOutside1To20IsFrameEncodingError) {
  const auto token = from_hex("000102030405060708090a0b0c0d0e0f");
  auto with_cid_len = [&](uint64_t type, size_t len) {
    std::vector<uint8_t> b = vi(type);
    if (type == frame_type::kPathNewConnectionId) b.push_back(1);  // path id
    b.insert(b.end(), {0x02, 0x01, static_cast<uint8_t>(len)});
    b.insert(b.end(), len, 0x77);
    return cat(b, token);
  };
  for (uint64_t type : {frame_type::kNewConnectionId, frame_type::kPathNewConnectionId}) {
    SCOPED_TRACE(type);
    expect_frame_encoding_error(with_cid_len(type, 0), type);
    expect_frame_encoding_error(with_cid_len(type, 21), type);
    ASSERT_TRUE(decodes(with_cid_len(type, 1)));
    auto b20 = with_cid_len(type, frame_limits::kMaxCidLength);
    auto ok20 = decode_one(b20);
    ASSERT_TRUE(ok20.has_value());
    EXPECT_EQ(std::get<NewConnectionIdFrame>(*ok20).cid.size(), 20u);
  }
}

TEST(FrameErrors, RetirePriorToAboveSequenceIsFrameEncodingError) {
  const auto tail = from_hex("04 01020304 000102030405060708090a0b0c0d0e0f");
  expect_frame_encoding_error(cat(from_hex("18 02 03"), tail), frame_type::kNewConnectionId);
  expect_frame_encoding_error(cat(from_hex("7e78 01 02 03"), tail),
                              frame_type::kPathNewConnectionId);
  ASSERT_TRUE(decodes(cat(from_hex("18 02 02"), tail)));  // equal is fine
}

TEST(FrameErrors, EmptyNewTokenIsFrameEncodingError) {
  expect_frame_encoding_error(from_hex("07 00"), frame_type::kNewToken);
}

TEST(FrameErrors, ResetStreamAtReliableSizeAboveFinalSizeIsFrameEncodingError) {
  expect_frame_encoding_error(from_hex("24 04 00 0a 0b"), frame_type::kResetStreamAt);
  ASSERT_TRUE(decodes(from_hex("24 04 00 0a 0a")));
}

TEST(FrameErrors, PathIdAbove2To32Minus1IsProtocolViolation) {
  const uint64_t too_big = frame_limits::kMaxPathId + 1;
  const std::vector<std::pair<uint64_t, std::vector<uint8_t>>> cases = {
      {frame_type::kPathAck, from_hex("00 00 00 00")},
      {frame_type::kPathAckEcn, from_hex("00 00 00 00 00 00 00")},
      {frame_type::kPathAbandon, from_hex("00")},
      {frame_type::kPathStatusBackup, from_hex("00")},
      {frame_type::kPathStatusAvailable, from_hex("00")},
      {frame_type::kPathNewConnectionId, from_hex("00 00 01 aa 000102030405060708090a0b0c0d0e0f")},
      {frame_type::kPathRetireConnectionId, from_hex("00")},
      {frame_type::kMaxPathId, {}},
      {frame_type::kPathsBlocked, {}},
      {frame_type::kPathCidsBlocked, from_hex("00")},
  };
  for (const auto& [type, rest] : cases) {
    SCOPED_TRACE(frame_type_name(type));
    expect_error(cat(cat(vi(type), vi(too_big)), rest), err::kProtocolViolation, type);
    ASSERT_TRUE(decodes(cat(cat(vi(type), vi(too_big - 1)), rest)));
  }
}

TEST(FrameErrors, EmptyInputIsAnError) {
  Reader r;
  auto f = decode_frame(r);
  ASSERT_FALSE(f.has_value());
  EXPECT_EQ(f.error().code, err::kFrameEncodingError);
}

}  // namespace
}  // namespace quic
