// `tquic emu` with the real binaries on loopback: perf server <- relay <- perf client. Each test
// asserts something the relay must cause (delay raises the RTT, loss shows up as relay drops
// while the transfer stays byte-exact, a rate limit bounds goodput from above, two relayed paths
// both carry data, a --down window blackholes one path) and that would fail without it.
// Nothing asserts a lower bound on wall-clock speed.
#include <regex>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/child_process.h"

namespace {

using namespace test_support;

struct DirFigures {
  uint64_t offered = 0, forwarded_bytes = 0, loss = 0, queue = 0, blackhole = 0;
};

// "emu link IP DIR: offered N pkts B B, forwarded N pkts B B, dropped loss L queue Q blackhole H"
DirFigures relay_figures(const std::string& log, const std::string& ip, const std::string& dir) {
  std::regex re("emu link " + std::regex_replace(ip, std::regex("\\."), "\\.") + " " + dir +
                R"(: offered (\d+) pkts \d+ B, forwarded \d+ pkts (\d+) B, dropped loss (\d+) queue (\d+) blackhole (\d+))");
  std::smatch m;
  DirFigures f;
  if (!std::regex_search(log, m, re)) {
    ADD_FAILURE() << "no figures for " << ip << " " << dir << " in:\n" << log;
    return f;
  }
  f.offered = std::stoull(m[1]);
  f.forwarded_bytes = std::stoull(m[2]);
  f.loss = std::stoull(m[3]);
  f.queue = std::stoull(m[4]);
  f.blackhole = std::stoull(m[5]);
  return f;
}

nlohmann::json perf_json(const std::string& out) {
  size_t pos = out.find("{\"direction\"");
  if (pos == std::string::npos) return nlohmann::json::object();
  return nlohmann::json::parse(out.substr(pos, out.find('\n', pos) - pos), nullptr, false);
}

// A perf server and a relay in front of it; the client talks to `url`.
struct Rig {
  Daemon server, relay;
  std::string sha256, url;
  void start(const std::vector<std::string>& emu_args) {
    std::string addr = server.start(
        {TQUIC_BINARY, "perf", "server", "--listen", "127.0.0.1:0", "--multipath"}, "listening on ");
    ASSERT_FALSE(addr.empty()) << server.log;
    sha256 = server.wait_line("certificate sha256 ");
    std::vector<std::string> args = {TQUIC_BINARY, "emu", "--listen", "127.0.0.1:0", "--to", addr};
    args.insert(args.end(), emu_args.begin(), emu_args.end());
    std::string relay_line = relay.start(args, "listening on ");
    ASSERT_FALSE(relay_line.empty()) << relay.log;
    url = "https://" + relay_line.substr(0, relay_line.find(' ')) + "/";
  }
  Outcome client(const std::string& size, std::vector<std::string> extra) {
    std::vector<std::string> args = {TQUIC_BINARY, "perf", "client", url,   "--size",
                                     size,         "--pin", sha256, "--json"};
    args.insert(args.end(), extra.begin(), extra.end());
    return run(args, std::chrono::seconds(60));
  }
};

TEST(EmuRelay, OneWayDelayShowsUpAsTwiceTheRtt) {
  Rig rig;
  ASSERT_NO_FATAL_FAILURE(rig.start({"--link", "127.0.0.1=delay=25ms"}));
  Outcome o = rig.client("256K", {"--multipath"});
  ASSERT_EQ(o.rc, 0) << o.out;
  auto j = perf_json(o.out);
  ASSERT_TRUE(j.contains("handshake_ms")) << o.out;
  // The handshake needs one round trip through the relay: 2 x 25 ms at least.
  EXPECT_GE(j["handshake_ms"].get<double>(), 50.0) << o.out;
  ASSERT_FALSE(j["paths"].empty()) << o.out;
  EXPECT_GE(j["paths"][0]["srtt_ms"].get<double>(), 50.0) << o.out;
  EXPECT_EQ(j["bytes"].get<uint64_t>(), 256u << 10);
  EXPECT_EQ(rig.relay.stop(), 0);
  DirFigures up = relay_figures(rig.relay.log, "127.0.0.1", "up");
  EXPECT_GT(up.offered, 0u);
}

TEST(EmuRelay, RandomLossIsRepairedByteExactAndCountedByTheRelay) {
  Rig rig;
  ASSERT_NO_FATAL_FAILURE(rig.start({"--link", "127.0.0.1=delay=2ms,loss=5%"}));
  Outcome o = rig.client("2M", {});
  ASSERT_EQ(o.rc, 0) << o.out;  // the perf client checks every byte's pattern and the length
  auto j = perf_json(o.out);
  EXPECT_EQ(j["bytes"].get<uint64_t>(), 2u << 20) << o.out;
  EXPECT_GT(j["packets_lost"].get<uint64_t>(), 0u) << o.out;  // the client saw its ACKs lost
  EXPECT_EQ(rig.relay.stop(), 0);
  DirFigures up = relay_figures(rig.relay.log, "127.0.0.1", "up");
  DirFigures down = relay_figures(rig.relay.log, "127.0.0.1", "down");
  EXPECT_GT(up.loss, 0u) << rig.relay.log;
  EXPECT_GT(down.loss, 0u) << rig.relay.log;
  // 5% of what was offered, give or take: far from 0 and far from all.
  EXPECT_LT(down.loss, down.offered / 5) << rig.relay.log;
  EXPECT_GT(down.forwarded_bytes, 2u << 20);
}

TEST(EmuRelay, RateLimitBoundsGoodputFromAbove) {
  Rig rig;
  ASSERT_NO_FATAL_FAILURE(rig.start({"--link", "127.0.0.1=rate=20mbit,delay=5ms"}));
  Outcome o = rig.client("5M", {});
  ASSERT_EQ(o.rc, 0) << o.out;
  auto j = perf_json(o.out);
  EXPECT_EQ(j["bytes"].get<uint64_t>(), 5u << 20) << o.out;
  // The relay's serialiser counts 28 header bytes per datagram, QUIC adds its own: goodput can
  // only be below 20 Mbit/s.
  EXPECT_LE(j["goodput_mbps"].get<double>(), 20.0) << o.out;
  EXPECT_GT(j["goodput_mbps"].get<double>(), 0.0) << o.out;
  EXPECT_EQ(rig.relay.stop(), 0);
  EXPECT_GT(relay_figures(rig.relay.log, "127.0.0.1", "down").forwarded_bytes, 5u << 20);
}

TEST(EmuRelay, MultipathOverTwoDifferentRelayedLinksUsesBoth) {
  Rig rig;
  ASSERT_NO_FATAL_FAILURE(rig.start({"--link", "127.0.0.1=rate=40mbit,delay=10ms", "--link",
                                     "127.0.0.2=rate=20mbit,delay=30ms"}));
  const uint64_t bytes = 12u << 20;
  Outcome o = rig.client(std::to_string(bytes), {"--multipath", "--path", "127.0.0.2"});
  ASSERT_EQ(o.rc, 0) << o.out;
  auto j = perf_json(o.out);
  EXPECT_EQ(j["bytes"].get<uint64_t>(), bytes) << o.out;
  ASSERT_EQ(j["paths"].size(), 2u) << o.out;
  for (const auto& p : j["paths"]) {
    // Each path carried at least 1 MiB of the download (not just probes and ACKs).
    EXPECT_GT(p["bytes_received"].get<uint64_t>(), 1u << 20) << o.out;
  }
  // Path 1 leaves from 127.0.0.2 and sees that link's 60 ms round trip.
  EXPECT_EQ(j["paths"][1]["local"].get<std::string>().rfind("127.0.0.2:", 0), 0u) << o.out;
  EXPECT_GE(j["paths"][1]["srtt_ms"].get<double>(), 60.0) << o.out;
  EXPECT_EQ(rig.relay.stop(), 0);
  uint64_t a = relay_figures(rig.relay.log, "127.0.0.1", "down").forwarded_bytes;
  uint64_t b = relay_figures(rig.relay.log, "127.0.0.2", "down").forwarded_bytes;
  EXPECT_GT(a, 1u << 20) << rig.relay.log;
  EXPECT_GT(b, 1u << 20) << rig.relay.log;
  EXPECT_GT(a + b, bytes) << rig.relay.log;
}

TEST(EmuRelay, DownWindowBlackholesOnePathAndTheTransferFinishesOnTheOther) {
  Rig rig;
  // 127.0.0.2 goes dark 1.5 s after the relay starts and stays dark past the transfer's end.
  ASSERT_NO_FATAL_FAILURE(rig.start({"--link", "127.0.0.1=rate=30mbit,delay=5ms", "--link",
                                     "127.0.0.2=rate=30mbit,delay=5ms", "--down",
                                     "127.0.0.2@1500ms-600s"}));
  const uint64_t bytes = 12u << 20;
  Outcome o = rig.client(std::to_string(bytes), {"--multipath", "--path", "127.0.0.2"});
  ASSERT_EQ(o.rc, 0) << o.out;
  auto j = perf_json(o.out);
  EXPECT_EQ(j["bytes"].get<uint64_t>(), bytes) << o.out;
  EXPECT_EQ(rig.relay.stop(), 0);
  DirFigures dark_down = relay_figures(rig.relay.log, "127.0.0.2", "down");
  DirFigures dark_up = relay_figures(rig.relay.log, "127.0.0.2", "up");
  EXPECT_GT(dark_down.forwarded_bytes, 0u) << rig.relay.log;  // it worked before the window
  EXPECT_GT(dark_up.blackhole + dark_down.blackhole, 0u) << rig.relay.log;
  EXPECT_EQ(relay_figures(rig.relay.log, "127.0.0.1", "down").blackhole, 0u);
}

TEST(EmuRelay, BadSpecsExitTwoAndNameTheText) {
  Outcome unit = run({TQUIC_BINARY, "emu", "--to", "127.0.0.1:9", "--link", "127.0.0.2=rate=5mbps"},
                     std::chrono::seconds(10));
  EXPECT_EQ(unit.rc, 2);
  EXPECT_EQ(run({TQUIC_BINARY, "emu", "--to", "127.0.0.1:9", "--link", "127.0.0.2=colour=red"},
                std::chrono::seconds(10)).rc,
            2);
  EXPECT_EQ(run({TQUIC_BINARY, "emu", "--to", "127.0.0.1:9", "--down", "127.0.0.2@8s-5s"},
                std::chrono::seconds(10)).rc,
            2);
  EXPECT_EQ(run({TQUIC_BINARY, "emu", "--to", "nowhere"}, std::chrono::seconds(10)).rc, 2);
  EXPECT_EQ(run({TQUIC_BINARY, "emu", "--link", "127.0.0.2=delay=1ms"}, std::chrono::seconds(10)).rc,
            2);  // --to is required
}

}  // namespace
