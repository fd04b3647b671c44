// ACK_FREQUENCY and RESET_STREAM_AT end to end in virtual time (docs/ack-frequency.md). Runs
// are deterministic, so figures are asserted.
#include <gtest/gtest.h>

#include "harness/scenario.h"

namespace harness {
namespace {

ScenarioResult run_ack_frequency(bool on) {
  auto s = named_scenario("ackfrequency");
  EXPECT_TRUE(s.has_value());
  s->client.ack_frequency = s->server.ack_frequency = on;
  return run_scenario(*s);
}

double acks_per_mib(const ScenarioResult& r) {
  return static_cast<double>(r.client_ack_frames) * (1 << 20) / static_cast<double>(r.bytes);
}

// Same bytes, similar goodput, at most a third of the ACK frames per MiB.
TEST(ExtensionScenario, AckFrequencyCutsAcksOnAFastPathAtTheSameGoodput) {
  ScenarioResult off = run_ack_frequency(false);
  ScenarioResult on = run_ack_frequency(true);
  ASSERT_TRUE(off.ok) << off.error;
  ASSERT_TRUE(on.ok) << on.error;
  EXPECT_EQ(on.bytes, 16u << 20);
  EXPECT_EQ(off.bytes, on.bytes);
  EXPECT_EQ(off.server_ack_frequency_frames, 0u);
  EXPECT_GT(on.server_ack_frequency_frames, 0u);
  // The policy re-sends only on material changes (at most once per RTT).
  EXPECT_LT(on.server_ack_frequency_frames, 64u);
  EXPECT_LE(acks_per_mib(on) * 3, acks_per_mib(off))
      << "ACKs/MiB on " << acks_per_mib(on) << ", off " << acks_per_mib(off);
  EXPECT_GE(on.goodput_bps, 0.9 * off.goodput_bps)
      << "goodput on " << on.goodput_bps / 1e6 << " Mbit/s, off " << off.goodput_bps / 1e6;
  EXPECT_GE(on.capacity_share, 0.8);
}

// One side without the extension: nothing is requested, the ACK pattern is the default one.
TEST(ExtensionScenario, AckFrequencyNeedsThePeersMinAckDelay) {
  auto s = named_scenario("ackfrequency");
  ASSERT_TRUE(s.has_value());
  s->client.ack_frequency = false;  // the data receiver does not advertise min_ack_delay
  ScenarioResult r = run_scenario(*s);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.server_ack_frequency_frames, 0u);
  EXPECT_EQ(r.server_immediate_acks, 0u);
}

// With 2% loss each way, each response arrives exactly up to its reliable size (the lost
// parts retransmitted after the reset), then the reset code.
TEST(ExtensionScenario, ResetStreamAtDeliversExactlyTheReliableBytesUnderLoss) {
  auto s = named_scenario("resetstreamat");
  ASSERT_TRUE(s.has_value());
  ScenarioResult r = run_scenario(*s);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.streams_reset, 3u);
  EXPECT_EQ(r.reset_stream_bytes, 3u * 600 * 1024);
  EXPECT_EQ(r.bytes, 3u * 600 * 1024);
  EXPECT_GT(r.stream_bytes_retransmitted, 0u);  // the loss did hit the reliable part
}

}  // namespace
}  // namespace harness
