// `tquic sim --link ...`: a custom multipath scenario from the emulator's link syntax. The
// builder's checks directly, then the real binary end to end with its JSON.
#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "apps/mp_sim_command.h"
#include "sim/link_config.h"
#include "support/child_process.h"

namespace apps {
namespace {

TEST(SimLinks, SpecsBecomeLinksWithHeadersChargedAndQueuesSized) {
  auto s = custom_mp_scenario({"rate=20mbit,delay=10ms", "rate=30mbit,delay=30ms,loss=1%"},
                              2 << 20);
  ASSERT_TRUE(s) << s.error().reason;
  ASSERT_EQ(s->links.size(), 2u);
  EXPECT_EQ(s->bytes, uint64_t{2} << 20);
  EXPECT_DOUBLE_EQ(s->links[0].down.rate_bps, 20e6);
  EXPECT_DOUBLE_EQ(s->links[1].up.rate_bps, 30e6);
  EXPECT_EQ(s->links[0].down.delay, std::chrono::milliseconds(10));  // one way, as in emu
  EXPECT_DOUBLE_EQ(s->links[1].down.loss, 0.01);
  EXPECT_EQ(s->links[0].down.header_bytes, sim::kIpv4UdpHeaderBytes);
  // One bandwidth-delay product: 30 Mbit/s x 60 ms round trip.
  EXPECT_EQ(s->links[1].down.queue_bytes, 225000u);
  EXPECT_FALSE(s->links[0].backup);
}

TEST(SimLinks, DirectionPrefixesApplyToOneSide) {
  auto s = custom_mp_scenario({"rate=10mbit,down.rate=40mbit,up.delay=5ms"}, 1 << 20);
  ASSERT_TRUE(s) << s.error().reason;
  EXPECT_DOUBLE_EQ(s->links[0].up.rate_bps, 10e6);
  EXPECT_DOUBLE_EQ(s->links[0].down.rate_bps, 40e6);
  EXPECT_EQ(s->links[0].up.delay, std::chrono::milliseconds(5));
  EXPECT_EQ(s->links[0].down.delay, quic::Duration::zero());
}

TEST(SimLinks, BadSpecsAreRefusedWithTheirText) {
  auto unknown = custom_mp_scenario({"rate=10mbit", "speed=3"}, 1 << 20);
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().reason.find("speed=3"), std::string::npos) << unknown.error().reason;
  EXPECT_FALSE(custom_mp_scenario({"delay=10ms"}, 1 << 20));        // no rate: no share
  EXPECT_FALSE(custom_mp_scenario({"rate=10mbit,down.rate=0"}, 1 << 20));
  EXPECT_FALSE(custom_mp_scenario({"rate=10mbit"}, 0));
  EXPECT_TRUE(custom_mp_scenario(std::vector<std::string>(kMaxSimLinks, "rate=1mbit"), 1));
  EXPECT_FALSE(custom_mp_scenario(std::vector<std::string>(kMaxSimLinks + 1, "rate=1mbit"), 1));
}

using test_support::run;

// Every byte arrives over both links, each carries a share, for one seed and for several.
TEST(SimLinks, BinaryRunsTheCustomScenarioBonded) {
  auto r = run({TQUIC_BINARY, "sim", "--link", "rate=20mbit,delay=10ms", "--link",
                "rate=30mbit,delay=30ms,loss=0.5%", "--size", "2", "--json"},
               std::chrono::seconds(120));
  ASSERT_EQ(r.rc, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["scenario"], "custom");
  EXPECT_TRUE(j["ok"].get<bool>()) << j["error"];
  EXPECT_EQ(j["bytes"].get<uint64_t>(), uint64_t{2} << 20);
  EXPECT_GT(j["share_of_sum"].get<double>(), 0.0);
  ASSERT_EQ(j["paths"].size(), 2u);
  for (const auto& p : j["paths"]) EXPECT_GT(p["stream_bytes"].get<uint64_t>(), 0u) << p;

  auto seeds = run({TQUIC_BINARY, "sim", "--link", "rate=20mbit,delay=10ms,loss=1%", "--link",
                    "rate=30mbit,delay=30ms", "--size", "1", "--seeds", "2", "--scheduler",
                    "minrtt", "--json"},
                   std::chrono::seconds(120));
  ASSERT_EQ(seeds.rc, 0) << seeds.out;
  auto g = nlohmann::json::parse(seeds.out);
  EXPECT_EQ(g["scheduler"], "minrtt");
  EXPECT_EQ(g["ok_runs"].get<int>(), 2);
  ASSERT_EQ(g["runs"].size(), 2u);
  for (const auto& one : g["runs"]) {
    EXPECT_EQ(one["bytes"].get<uint64_t>(), uint64_t{1} << 20);
    EXPECT_GT(one["share_of_sum"].get<double>(), 0.0);
  }
  EXPECT_NE(g["runs"][0]["seed"], g["runs"][1]["seed"]);
}

TEST(SimLinks, BinaryRefusesBadLinksAsUsageErrors) {
  EXPECT_EQ(run({TQUIC_BINARY, "sim", "--link", "rate=10mbit,bogus=1"}, std::chrono::seconds(30)).rc,
            2);
  EXPECT_EQ(run({TQUIC_BINARY, "sim", "aggregation-a", "--link", "rate=10mbit"},
                std::chrono::seconds(30))
                .rc,
            2);
}

}  // namespace
}  // namespace apps
