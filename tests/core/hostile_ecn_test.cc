// ECN codepoint choice (ConnectionConfig::ecn_codepoint) and validation against a path that
// rewrites codepoints (RFC 9000 §13.4.2.1): real client and server endpoints in memory.
#include <gtest/gtest.h>

#include "version_pair.h"

namespace quic::vn_test {
namespace {

size_t count_marked(const std::vector<Sent>& sent, uint8_t ecn) {
  size_t n = 0;
  for (const Sent& s : sent) n += s.ecn == ecn ? 1 : 0;
  return n;
}

// Handshake, then the server sends 64 KiB on a stream so that ACK_ECN counts come back.
void transfer(EndpointPair& p) {
  ASSERT_TRUE(p.handshake());
  auto id = p.server()->open_stream(false);
  ASSERT_TRUE(id);
  std::vector<uint8_t> data(64 * 1024, 0x42);
  auto n = p.server()->stream_write(*id, data, true);
  ASSERT_TRUE(n);
  ASSERT_EQ(*n, data.size());
  p.run();
}

ConnectionConfig marking(uint8_t codepoint) {
  ConnectionConfig c;
  c.ecn_codepoint = codepoint;
  return c;
}

TEST(EcnCodepoint, Ect1IsMarkedAndValidatedAgainstEct1Counts) {
  EndpointPair p(marking(kEcnEct1), marking(kEcnEct1));
  transfer(p);
  EXPECT_TRUE(p.server()->stats().ecn_capable);
  EXPECT_GT(count_marked(p.server_sent(), kEcnEct1), 20u);
  EXPECT_EQ(count_marked(p.server_sent(), kEcnEct0), 0u);
}

TEST(EcnCodepoint, DefaultIsEct0) {
  EndpointPair p(ConnectionConfig{}, ConnectionConfig{});
  transfer(p);
  EXPECT_TRUE(p.server()->stats().ecn_capable);
  EXPECT_GT(count_marked(p.server_sent(), kEcnEct0), 20u);
  EXPECT_EQ(count_marked(p.server_sent(), kEcnEct1), 0u);
}

TEST(EcnCodepoint, NonEctConfigurationMeansEct0) {
  EndpointPair p(ConnectionConfig{}, marking(kEcnCe));  // never a sender's codepoint
  transfer(p);
  EXPECT_EQ(count_marked(p.server_sent(), kEcnCe), 0u);
  EXPECT_GT(count_marked(p.server_sent(), kEcnEct0), 20u);
}

TEST(EcnCodepoint, PathRemarkingEct1ToEct0FailsValidation) {
  EndpointPair p(ConnectionConfig{}, marking(kEcnEct1));
  p.to_client = [](Datagram&, uint8_t& ecn) {
    if (ecn == kEcnEct1) ecn = kEcnEct0;
    return true;
  };
  transfer(p);
  EXPECT_FALSE(p.server()->stats().ecn_capable);
  EXPECT_EQ(p.server()->path().ecn, Path::EcnState::kFailed);
  // Marking stopped: the datagrams of the transfer's end go out Not-ECT.
  EXPECT_EQ(p.server_sent().back().ecn, kEcnNotEct);
}

TEST(EcnCodepoint, PathRemarkingEct0ToEct1FailsValidation) {
  EndpointPair p(ConnectionConfig{}, ConnectionConfig{});
  p.to_client = [](Datagram&, uint8_t& ecn) {
    if (ecn == kEcnEct0) ecn = kEcnEct1;
    return true;
  };
  transfer(p);
  EXPECT_FALSE(p.server()->stats().ecn_capable);
  EXPECT_EQ(p.server()->path().ecn, Path::EcnState::kFailed);
}

}  // namespace
}  // namespace quic::vn_test
