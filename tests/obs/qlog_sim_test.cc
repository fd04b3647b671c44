// qlog from a real (simulated) connection: both vantage points, parsed back.
#include <gtest/gtest.h>

#include <fstream>

#include "harness/scenario.h"
#include "obs/qlog_writer.h"
#include "qlog_test_util.h"

namespace obs {
namespace {

using test::events_named;
using test::read_seq;
using test::TempDir;

bool has_frame(const std::vector<nlohmann::json>& packets, const std::string& packet_type,
               const std::string& frame_type) {
  for (const auto& p : packets) {
    if (p["data"]["header"]["packet_type"] != packet_type) continue;
    for (const auto& f : p["data"]["frames"]) {
      if (f["frame_type"] == frame_type) return true;
    }
  }
  return false;
}

harness::Scenario small_transfer() {
  auto s = *harness::named_scenario("handshake");
  s.plan.sizes = {200 * 1024};
  return s;
}

TEST(QlogSim, TransferWritesBothVantagePoints) {
  TempDir dir("sim");
  auto s = small_transfer();
  s.client.trace = qlog_factory(dir.path().string());
  s.server.trace = qlog_factory(dir.path().string());
  auto r = harness::run_scenario(s);
  ASSERT_TRUE(r.ok) << r.error;

  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) files.push_back(e.path());
  ASSERT_EQ(files.size(), 2u);
  std::map<std::string, test::SeqFile> by_side;
  for (const auto& p : files) {
    auto f = read_seq(p);
    EXPECT_TRUE(f.well_framed) << p;
    EXPECT_EQ(f.invalid, 0u) << p;
    ASSERT_FALSE(f.records.empty());
    const auto& h = f.records[0];
    EXPECT_EQ(h["qlog_format"], "JSON-SEQ");
    std::string side = h["trace"]["vantage_point"]["type"];
    std::string group = h["trace"]["common_fields"]["group_id"];
    EXPECT_EQ(p.filename().string(), group + "_" + side + ".sqlog");
    by_side[side] = std::move(f);
  }
  ASSERT_EQ(by_side.size(), 2u);
  const auto& client = by_side["client"];
  const auto& server = by_side["server"];
  EXPECT_EQ(client.records[0]["trace"]["common_fields"]["group_id"],
            server.records[0]["trace"]["common_fields"]["group_id"]);

  auto c_sent = events_named(client, "quic:packet_sent");
  auto c_recv = events_named(client, "quic:packet_received");
  auto s_sent = events_named(server, "quic:packet_sent");
  auto s_recv = events_named(server, "quic:packet_received");
  EXPECT_GT(c_sent.size(), 0u);
  EXPECT_GT(c_recv.size(), 0u);
  // 200 KiB needs at least ~140 full-size packets from the server.
  EXPECT_GT(s_sent.size(), 140u);
  EXPECT_EQ(s_sent.size(), r.server_packets_sent);
  // The default link's 25-packet queue drops some of slow start's bursts; nothing is received
  // that was not sent, and most of it arrives.
  EXPECT_LE(c_recv.size(), s_sent.size());
  EXPECT_GT(c_recv.size(), s_sent.size() / 2);
  EXPECT_LE(s_recv.size(), c_sent.size());
  EXPECT_GT(s_recv.size(), c_sent.size() / 2);
  EXPECT_TRUE(has_frame(c_sent, "initial", "crypto"));
  EXPECT_TRUE(has_frame(s_sent, "1RTT", "handshake_done"));
  EXPECT_TRUE(has_frame(s_sent, "1RTT", "stream"));
  EXPECT_TRUE(has_frame(c_sent, "1RTT", "ack"));

  // Times are relative and never go backwards.
  for (const auto* f : {&client, &server}) {
    double last = 0;
    for (size_t i = 1; i < f->records.size(); ++i) {
      double t = f->records[i]["time"].get<double>();
      EXPECT_GE(t, last);
      last = t;
    }
  }

  for (const auto* f : {&client, &server}) {
    auto m = events_named(*f, "recovery:metrics_updated");
    ASSERT_FALSE(m.empty());
    EXPECT_TRUE(m[0]["data"].contains("congestion_window"));
    EXPECT_TRUE(m[0]["data"].contains("smoothed_rtt"));
    bool rtt_sampled = false;
    for (const auto& e : m) {
      EXPECT_FALSE(e["data"].empty());
      if (e["data"].contains("latest_rtt") && e["data"]["latest_rtt"].get<double>() > 0) {
        rtt_sampled = true;
      }
    }
    EXPECT_TRUE(rtt_sampled);
    EXPECT_EQ(events_named(*f, "quic:parameters_set").size(), 2u);
    EXPECT_FALSE(events_named(*f, "quic:connection_state_updated").empty());
  }
}

TEST(QlogSim, UnwritableDirectoryDoesNotDisturbTheConnection) {
  TempDir dir("sim_bad");
  auto file = dir.path() / "plain_file";
  std::ofstream(file) << "x";
  auto s = small_transfer();
  s.client.trace = qlog_factory((file / "qlog").string());
  s.server.trace = qlog_factory((file / "qlog").string());
  auto r = harness::run_scenario(s);
  EXPECT_TRUE(r.ok) << r.error;
  EXPECT_GT(r.bytes, 0u);
}

}  // namespace
}  // namespace obs
