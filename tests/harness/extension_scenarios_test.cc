// ACK_FREQUENCY and RESET_STREAM_AT end to end in virtual time (docs/ack-frequency.md). Runs
// are deterministic, so figures are asserted.
#include <gtest/gtest.h>

#include <memory>

#include "harness/mp_scenario.h"
#include "harness/scenario.h"
#include "wire/frame.h"

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

// The sender of a download acknowledges the receiver's ACK-only packets by riding along in
// its data packets, but only when something arrived since its last ACK: an ACK per received
// packet at most, not one in every data packet (#13: "an ACK rides in every data packet").
TEST(ExtensionScenario, DataPacketsCarryAnAckOnlyWhenSomethingNewArrived) {
  ScenarioResult r = run_ack_frequency(false);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_GT(r.server_packets_sent, r.client_packets_sent);
  EXPECT_LE(r.server_ack_frames, r.client_packets_sent)
      << "server ACK frames " << r.server_ack_frames << " for " << r.client_packets_sent
      << " client packets (" << r.server_packets_sent << " server packets)";
}

// ACK_FREQUENCY frames in a 1-RTT datagram of the server sent under null protection (the
// client's CIDs are 8 bytes; the tag is the last 16 bytes).
std::vector<quic::AckFrequencyFrame> ack_frequency_frames(const sim::Datagram& d) {
  std::vector<quic::AckFrequencyFrame> out;
  const auto& b = d.payload;
  if (b.empty() || (b[0] & 0x80) != 0) return out;  // long header: handshake
  size_t start = 1 + 8 + static_cast<size_t>(b[0] & 3) + 1;
  if (b.size() < start + 16) return out;
  quic::Reader r(quic::Bytes(b.data() + start, b.size() - start - 16));
  while (!r.empty()) {
    auto f = quic::decode_frame(r);
    if (!f) break;
    if (auto* af = std::get_if<quic::AckFrequencyFrame>(&*f)) out.push_back(*af);
  }
  return out;
}

// The datagram with the server's first ACK_FREQUENCY is dropped: the request is sent again
// under a higher sequence number, and the transfer still ends with an IMMEDIATE_ACK.
TEST(ExtensionScenario, LostAckFrequencyIsSentAgainUnderANewSequenceNumber) {
  auto s = named_scenario("ackfrequency");
  ASSERT_TRUE(s.has_value());
  s->client.aead = s->server.aead = quic::AeadBackend::kNull;
  struct Seen {
    std::optional<uint64_t> dropped, delivered_after;
    quic::AckFrequencyFrame dropped_frame, next_frame;
  };
  auto seen = std::make_shared<Seen>();
  s->server_to_client.drop_filter = [seen](const sim::Datagram& d, uint64_t) {
    for (const auto& f : ack_frequency_frames(d)) {
      if (!seen->dropped) {
        seen->dropped = f.sequence;
        seen->dropped_frame = f;
        return true;
      }
      if (f.sequence > *seen->dropped && !seen->delivered_after) {
        seen->delivered_after = f.sequence;
        seen->next_frame = f;
      }
    }
    return false;
  };
  ScenarioResult r = run_scenario(*s);
  ASSERT_TRUE(r.ok) << r.error;
  ASSERT_TRUE(seen->dropped.has_value());
  ASSERT_TRUE(seen->delivered_after.has_value()) << "the lost ACK_FREQUENCY was not replaced";
  EXPECT_GT(*seen->delivered_after, *seen->dropped);
  // The loss also shrank the window, so the replacement carries the policy's current
  // (smaller) choice: still a real request.
  EXPECT_GT(seen->dropped_frame.ack_eliciting_threshold, 1u);
  EXPECT_GT(seen->next_frame.ack_eliciting_threshold, 1u);
  EXPECT_LE(seen->next_frame.ack_eliciting_threshold, seen->dropped_frame.ack_eliciting_threshold);
  EXPECT_GT(r.server_immediate_acks, 0u);
  EXPECT_EQ(r.bytes, 16u << 20);
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

// Multipath: the sender's policy runs per path and each path's ACK tracker follows the request
// made on it (PATH_ACKs included): fewer ACK frames, same bytes and goodput.
TEST(ExtensionScenario, AckFrequencyWorksPerPathWithMultipath) {
  auto s = named_mp_scenario("aggregation-a");
  ASSERT_TRUE(s.has_value());
  s->bytes = 32ull << 20;
  MpResult off = run_mp_scenario(*s);
  s->ack_frequency = true;
  MpResult on = run_mp_scenario(*s);
  ASSERT_TRUE(off.ok) << off.error;
  ASSERT_TRUE(on.ok) << on.error;
  EXPECT_EQ(on.bytes, off.bytes);
  EXPECT_EQ(off.server_ack_frequency_frames, 0u);
  ASSERT_GE(on.paths.size(), 2u);
  for (const auto& p : on.paths) EXPECT_GT(p.ack_threshold, 1u) << "path " << p.id;
  EXPECT_LE(on.client_ack_frames * 3, off.client_ack_frames)
      << "ACK frames on " << on.client_ack_frames << ", off " << off.client_ack_frames;
  EXPECT_GE(on.goodput_bps, 0.9 * off.goodput_bps)
      << "goodput on " << on.goodput_bps / 1e6 << " Mbit/s, off " << off.goodput_bps / 1e6;
}

}  // namespace
}  // namespace harness
