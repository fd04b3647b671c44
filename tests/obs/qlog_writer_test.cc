#include "obs/qlog_writer.h"

#include <gtest/gtest.h>

#include <fstream>

#include "qlog_test_util.h"
#include "wire/frame.h"
#include "wire/packet.h"
#include "wire/transport_params.h"

namespace obs {
namespace {

using namespace quic;
using namespace std::chrono_literals;
using test::events_named;
using test::read_seq;
using test::TempDir;

ConnectionId odcid() {
  const uint8_t b[] = {0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04};
  return ConnectionId::from(Bytes(b, sizeof b));
}

TEST(QlogWriter, FileNameIsOdcidHexAndSide) {
  EXPECT_EQ(QlogWriter::file_name(odcid(), false), "deadbeef01020304_client.sqlog");
  EXPECT_EQ(QlogWriter::file_name(odcid(), true), "deadbeef01020304_server.sqlog");
}

TEST(QlogWriter, HeaderAndEventsWithRelativeTimes) {
  TempDir dir("writer_events");
  auto path = dir.path() / "t.sqlog";
  Instant t0 = Instant{} + 5s;
  {
    QlogOptions o;
    o.reference_time_ms = 1700000000000;
    auto w = QlogWriter::open(path.string(), odcid(), true, o);
    ASSERT_TRUE(w);
    TransportParameters tp;
    tp.ack_delay_exponent = 0;  // the peer's: 1 us units
    (*w)->parameters_set(t0, false, tp);
    std::array<uint8_t, 64> payload{};
    Writer pw(payload);
    std::array<AckRange, 1> r{AckRange{0, 3}};
    ASSERT_TRUE(encode_ack(pw, 0, false, r, 2500, std::nullopt));
    (*w)->packet_received(t0 + 1500us, PacketTrace{PacketKind::kOneRtt, 9, 60, 0, true, pw.view()});
    RecoveryMetrics m;
    m.smoothed_rtt = 30ms;
    m.congestion_window = 12000;
    (*w)->metrics_updated(t0 + 2ms, m);
    m.congestion_window = 14000;
    (*w)->metrics_updated(t0 + 3ms, m);
    (*w)->metrics_updated(t0 + 4ms, m);  // unchanged: no event
    (*w)->key_updated(t0 + 5ms, false, true);
    (*w)->state_updated(t0 + 6ms, "handshake_complete");
    (*w)->state_updated(t0 + 7ms, "handshake_confirmed");
    (*w)->packet_dropped(t0 + 8ms, 1200, "payload_decrypt_error");
    (*w)->packet_lost(t0 + 9ms, PacketKind::kHandshake, 4, "time_threshold");
    (*w)->connection_closed(t0 + 10ms, Error{err::kNoError, 0, "idle timeout"}, false);
    EXPECT_TRUE((*w)->ok());
  }
  auto f = read_seq(path);
  EXPECT_TRUE(f.well_framed);
  EXPECT_EQ(f.invalid, 0u);
  ASSERT_GE(f.records.size(), 2u);
  const auto& h = f.records[0];
  EXPECT_EQ(h["qlog_format"], "JSON-SEQ");
  EXPECT_EQ(h["qlog_version"], "0.3");
  EXPECT_EQ(h["trace"]["vantage_point"]["type"], "server");
  EXPECT_EQ(h["trace"]["common_fields"]["group_id"], "deadbeef01020304");
  EXPECT_EQ(h["trace"]["common_fields"]["time_format"], "relative");
  EXPECT_EQ(h["trace"]["common_fields"]["reference_time"], 1700000000000u);

  EXPECT_EQ(f.records[1]["name"], "quic:parameters_set");
  EXPECT_EQ(f.records[1]["data"]["owner"], "remote");
  EXPECT_DOUBLE_EQ(f.records[1]["time"].get<double>(), 0.0);

  auto rx = events_named(f, "quic:packet_received");
  ASSERT_EQ(rx.size(), 1u);
  EXPECT_DOUBLE_EQ(rx[0]["time"].get<double>(), 1.5);
  EXPECT_EQ(rx[0]["data"]["header"]["packet_type"], "1RTT");
  EXPECT_EQ(rx[0]["data"]["header"]["packet_number"], 9);
  EXPECT_EQ(rx[0]["data"]["header"]["key_phase_bit"], 1);
  EXPECT_EQ(rx[0]["data"]["raw"]["length"], 60);
  // The peer's exponent 0: 2500 us.
  EXPECT_DOUBLE_EQ(rx[0]["data"]["frames"][0]["ack_delay"].get<double>(), 2.5);
  EXPECT_EQ(rx[0]["data"]["frames"][0]["acked_ranges"], nlohmann::json::parse("[[0,3]]"));

  auto metrics = events_named(f, "recovery:metrics_updated");
  ASSERT_EQ(metrics.size(), 2u);
  EXPECT_DOUBLE_EQ(metrics[0]["data"]["smoothed_rtt"].get<double>(), 30.0);
  EXPECT_EQ(metrics[0]["data"]["congestion_window"], 12000);
  EXPECT_EQ(metrics[1]["data"], (nlohmann::json{{"congestion_window", 14000}}));

  auto keys = events_named(f, "security:key_updated");
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0]["data"]["key_phase"], 1);
  EXPECT_EQ(keys[0]["data"]["trigger"], "remote_update");

  auto states = events_named(f, "quic:connection_state_updated");
  ASSERT_EQ(states.size(), 2u);
  EXPECT_EQ(states[1]["data"]["old"], "handshake_complete");
  EXPECT_EQ(states[1]["data"]["new"], "handshake_confirmed");

  auto dropped = events_named(f, "quic:packet_dropped");
  ASSERT_EQ(dropped.size(), 1u);
  EXPECT_EQ(dropped[0]["data"]["trigger"], "decryption_failure");

  auto lost = events_named(f, "recovery:packet_lost");
  ASSERT_EQ(lost.size(), 1u);
  EXPECT_EQ(lost[0]["data"]["header"]["packet_type"], "handshake");
  EXPECT_EQ(lost[0]["data"]["header"]["packet_number"], 4);

  auto closed = events_named(f, "quic:connection_closed");
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0]["data"]["trigger"], "idle_timeout");
  EXPECT_EQ(closed[0]["data"]["connection_code"], "no_error");
}

TEST(QlogWriter, FlushesWhenBufferFillsAndBoundsMemory) {
  TempDir dir("writer_flush");
  QlogOptions o;
  o.flush_bytes = 1024;
  auto w = QlogWriter::open((dir.path() / "f.sqlog").string(), odcid(), false, o);
  ASSERT_TRUE(w);
  for (int i = 0; i < 200; ++i) (*w)->state_updated(Instant{} + std::chrono::milliseconds(i), "x");
  EXPECT_GT((*w)->bytes_written(), 0u);
  EXPECT_LT((*w)->buffered(), o.flush_bytes);
}

TEST(QlogWriter, SizeLimitStopsTraceAtARecordBoundary) {
  TempDir dir("writer_limit");
  auto path = dir.path() / "l.sqlog";
  QlogOptions o;
  o.flush_bytes = 256;
  o.max_file_bytes = 4096;
  {
    auto w = QlogWriter::open(path.string(), odcid(), false, o);
    ASSERT_TRUE(w);
    for (int i = 0; i < 1000; ++i) {
      (*w)->state_updated(Instant{} + std::chrono::milliseconds(i), "some_state");
    }
    EXPECT_FALSE((*w)->ok());
    EXPECT_EQ((*w)->buffered(), 0u);
  }
  EXPECT_LE(std::filesystem::file_size(path), o.max_file_bytes);
  auto f = read_seq(path);
  EXPECT_TRUE(f.well_framed);
  EXPECT_EQ(f.invalid, 0u);
  EXPECT_GT(f.records.size(), 10u);
}

TEST(QlogWriter, WriteErrorStopsQuietly) {
  // /dev/full accepts open() and fails every write with ENOSPC.
  QlogOptions o;
  o.flush_bytes = 128;
  auto w = QlogWriter::open("/dev/full", odcid(), false, o);
  if (!w) GTEST_SKIP() << "no /dev/full";
  for (int i = 0; i < 100; ++i) (*w)->state_updated(Instant{} + std::chrono::milliseconds(i), "s");
  EXPECT_FALSE((*w)->ok());
  EXPECT_EQ((*w)->buffered(), 0u);
}

TEST(QlogWriter, OpenFailsForMissingDirectory) {
  TempDir dir("writer_open");
  auto w = QlogWriter::open((dir.path() / "no" / "such" / "f.sqlog").string(), odcid(), false);
  EXPECT_FALSE(w);
}

TEST(QlogFactory, CreatesDirectoryAndNamesFiles) {
  TempDir dir("factory");
  auto sub = dir.path() / "a" / "b";
  auto factory = qlog_factory(sub.string());
  auto sink = factory(odcid(), true);
  ASSERT_NE(sink, nullptr);
  sink.reset();
  EXPECT_TRUE(std::filesystem::exists(sub / "deadbeef01020304_server.sqlog"));
}

TEST(QlogFactory, UnusableDirectoryGivesNoSink) {
  TempDir dir("factory_bad");
  auto file = dir.path() / "plain_file";
  std::ofstream(file) << "x";
  auto factory = qlog_factory((file / "sub").string());
  EXPECT_EQ(factory(odcid(), false), nullptr);
  EXPECT_EQ(factory(odcid(), true), nullptr);
}

}  // namespace
}  // namespace obs
