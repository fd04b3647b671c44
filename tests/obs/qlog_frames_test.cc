#include "obs/qlog_frames.h"

#include <gtest/gtest.h>

#include <array>
#include <vector>

#include <nlohmann/json.hpp>

#include "wire/frame.h"

namespace obs {
namespace {

using namespace quic;

class FramesTest : public ::testing::Test {
 protected:
  void add(const Frame& f) {
    Writer w(MutBytes(buf_.data() + len_, buf_.size() - len_));
    ASSERT_TRUE(encode_frame(w, f));
    len_ += w.written();
  }
  nlohmann::json log(uint64_t exponent = 3) {
    std::string s;
    JsonOut j(s);
    summary_ = write_frames(j, Bytes(buf_.data(), len_), exponent);
    auto parsed = nlohmann::json::parse(s, nullptr, false);
    EXPECT_FALSE(parsed.is_discarded()) << s;
    return parsed;
  }
  std::array<uint8_t, 4096> buf_{};
  size_t len_ = 0;
  FramesSummary summary_;
};

TEST_F(FramesTest, StreamCryptoPaddingAndHandshakeDone) {
  std::array<uint8_t, 100> data{};
  add(CryptoFrame{0, Bytes(data.data(), 40)});
  add(StreamFrame{4, 1000, Bytes(data.data(), 100), true, true});
  add(HandshakeDoneFrame{});
  add(PaddingFrame{17});
  auto f = log();
  ASSERT_EQ(f.size(), 4u);
  EXPECT_EQ(f[0], (nlohmann::json{{"frame_type", "crypto"}, {"offset", 0}, {"length", 40}}));
  EXPECT_EQ(f[1], (nlohmann::json{{"frame_type", "stream"},
                                  {"stream_id", 4},
                                  {"offset", 1000},
                                  {"length", 100},
                                  {"fin", true}}));
  EXPECT_EQ(f[2]["frame_type"], "handshake_done");
  EXPECT_EQ(f[3]["frame_type"], "padding");
  EXPECT_EQ(f[3]["raw"]["payload_length"], 17);
  EXPECT_FALSE(summary_.malformed);
  EXPECT_FALSE(summary_.truncated);
}

TEST_F(FramesTest, AckRangesDelayAndEcn) {
  std::array<AckRange, 3> ranges{AckRange{20, 25}, AckRange{10, 10}, AckRange{0, 5}};
  add(AckFrame::from_ranges(0, false, ranges, 1000, EcnCounts{1, 2, 3}));
  auto f = log(3);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0]["frame_type"], "ack");
  // 1000 units of 2^3 us = 8 ms.
  EXPECT_DOUBLE_EQ(f[0]["ack_delay"].get<double>(), 8.0);
  EXPECT_EQ(f[0]["acked_ranges"], nlohmann::json::parse("[[20,25],[10],[0,5]]"));
  EXPECT_EQ(f[0]["ect0"], 1);
  EXPECT_EQ(f[0]["ect1"], 2);
  EXPECT_EQ(f[0]["ce"], 3);
  EXPECT_FALSE(f[0].contains("ranges_truncated"));
}

TEST_F(FramesTest, AckRangesBeyondLimitAreTruncated) {
  std::vector<AckRange> ranges;
  for (uint64_t i = 0; i < kMaxLoggedAckRanges + 40; ++i) {
    uint64_t pn = 10000 - 3 * i;
    ranges.push_back({pn, pn});
  }
  add(AckFrame::from_ranges(0, false, ranges, 0, std::nullopt));
  auto f = log();
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0]["acked_ranges"].size(), kMaxLoggedAckRanges);
  EXPECT_EQ(f[0]["ranges_truncated"], true);
}

TEST_F(FramesTest, ConnectionCloseNamesErrorAndEscapesReason) {
  const char reason[] = "bad \"frame\"\xff";
  add(ConnectionCloseFrame{false, err::kFrameEncodingError, frame_type::kStream,
                           Bytes(reinterpret_cast<const uint8_t*>(reason), sizeof reason - 1)});
  add(ConnectionCloseFrame{false, err::kCryptoErrorBase + 0x28, 0, {}});
  add(ConnectionCloseFrame{true, 0x1234, 0, {}});
  auto f = log();
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[0]["error_code"], "frame_encoding_error");
  EXPECT_EQ(f[0]["trigger_frame_type"], frame_type::kStream);
  EXPECT_EQ(f[0]["reason"], "bad \"frame\"\xc3\xbf");
  EXPECT_EQ(f[1]["error_code"], "crypto_error_0x128");
  EXPECT_EQ(f[2]["error_space"], "application");
  EXPECT_EQ(f[2]["error_code"], 0x1234);
}

TEST_F(FramesTest, MalformedPayloadEndsWithUnknownFrame) {
  add(PingFrame{});
  buf_[len_++] = 0x06;  // CRYPTO with its fields missing
  auto f = log();
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0]["frame_type"], "ping");
  EXPECT_EQ(f[1]["frame_type"], "unknown");
  EXPECT_EQ(f[1]["frame_type_value"], 6);
  EXPECT_TRUE(summary_.malformed);
}

TEST_F(FramesTest, FramesPerPacketBeyondLimitAreTruncated) {
  for (size_t i = 0; i < kMaxLoggedFrames + 100; ++i) add(PingFrame{});
  auto f = log();
  EXPECT_EQ(f.size(), kMaxLoggedFrames);
  EXPECT_TRUE(summary_.truncated);
}

TEST(QlogFrames, PacketTypeNames) {
  EXPECT_STREQ(packet_type_name(PacketKind::kInitial), "initial");
  EXPECT_STREQ(packet_type_name(PacketKind::kHandshake), "handshake");
  EXPECT_STREQ(packet_type_name(PacketKind::kZeroRtt), "0RTT");
  EXPECT_STREQ(packet_type_name(PacketKind::kOneRtt), "1RTT");
}

}  // namespace
}  // namespace obs
