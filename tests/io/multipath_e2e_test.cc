// Multipath QUIC over real loopback sockets with the real binary: `tquic perf server
// --multipath` and `tquic perf client --multipath --path 127.0.0.2` (Linux routes all of 127/8 to
// lo, so each client path has its own source address and socket). Halfway through a 64 MiB
// download the client's second socket is blackholed (the hidden --kill-first-path-after hook);
// the transfer must still complete byte for byte (the client checks the pattern and the length),
// and both sockets must have carried data before the kill.

#include <chrono>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "support/child_process.h"

namespace {

using namespace test_support;

TEST(MultipathLoopback, TransferSurvivesLosingOnePathAndBothPathsCarriedData) {
  Server server;
  ASSERT_TRUE(server.start_server(
      {TQUIC_BINARY, "perf", "server", "--listen", "127.0.0.1:0", "--multipath"}))
      << server.log;
  const uint64_t bytes = 64ull << 20;
  Outcome o = run(
      {TQUIC_BINARY, "perf", "client", "https://127.0.0.1:" + server.port(), "--size",
       std::to_string(bytes), "--pin", server.sha256, "--multipath", "--path", "127.0.0.2",
       "--scheduler", "roundrobin", "--kill-first-path-after", std::to_string(bytes / 2), "--json"},
      std::chrono::seconds(300));
  ASSERT_EQ(o.rc, 0) << o.out;
  EXPECT_NE(o.out.find("\"bytes\": " + std::to_string(bytes) + ","), std::string::npos) << o.out;
  // "at kill: N bytes; socket 127.0.0.1:P received A; socket 127.0.0.2:Q received B;"
  std::smatch m;
  std::regex kill_line(
      R"(at kill: (\d+) bytes; socket 127\.0\.0\.1:\d+ received (\d+); socket 127\.0\.0\.2:\d+ received (\d+);)");
  ASSERT_TRUE(std::regex_search(o.out, m, kill_line)) << o.out;
  EXPECT_GE(std::stoull(m[1]), bytes / 2);
  EXPECT_LT(std::stoull(m[1]), bytes);  // the kill happened mid-way, not at the end
  // Path validation and ACKs are a handful of datagrams; a hundred full ones (~140 KB) on a
  // socket means its path carried stream data. (On loopback path 0 takes most: it has a head
  // start of the handshake and its congestion window.)
  EXPECT_GT(std::stoull(m[2]), 100u) << o.out;
  EXPECT_GT(std::stoull(m[3]), 100u) << o.out;
  // The second path was validated and used (it has an ID other than 0 in the figures).
  EXPECT_NE(o.out.find("path 1 127.0.0.2:"), std::string::npos) << o.out;
  EXPECT_EQ(server.stop(), 0);
  EXPECT_NE(server.log.find(std::to_string(bytes) + " bytes sent"), std::string::npos)
      << server.log;
}

// Three two-path clients at once against one server: the server's loop must keep reading its
// socket while the core always has a send deadline due (it used to spin past the sockets and
// every connection stalled after its handshake).
TEST(MultipathLoopback, ConcurrentTwoPathClientsAllComplete) {
  Server server;
  ASSERT_TRUE(server.start_server(
      {TQUIC_BINARY, "perf", "server", "--listen", "127.0.0.1:0", "--multipath"}))
      << server.log;
  const uint64_t bytes = 16ull << 20;
  std::vector<Outcome> outcomes(3);
  std::vector<std::thread> clients;
  for (size_t i = 0; i < outcomes.size(); ++i) {
    clients.emplace_back([&, i] {
      outcomes[i] = run({TQUIC_BINARY, "perf", "client", "https://127.0.0.1:" + server.port(),
                         "--size", std::to_string(bytes), "--pin", server.sha256, "--multipath",
                         "--path", "127.0.0." + std::to_string(3 + i)},
                        std::chrono::seconds(120));
    });
  }
  for (auto& t : clients) t.join();
  for (const Outcome& o : outcomes) {
    EXPECT_EQ(o.rc, 0) << o.out;
    EXPECT_NE(o.out.find("downloaded " + std::to_string(bytes) + " bytes"), std::string::npos)
        << o.out;
    EXPECT_NE(o.out.find("path 1 127.0.0."), std::string::npos) << o.out;
  }
  EXPECT_EQ(server.stop(), 0);
  EXPECT_NE(server.log.find(std::to_string(3 * bytes) + " bytes sent"), std::string::npos)
      << server.log;
}

TEST(MultipathLoopback, PathOptionErrorsExitTwo) {
  const std::string url = "https://127.0.0.1:9/";
  // --path without --multipath.
  EXPECT_EQ(
      run({TQUIC_BINARY, "perf", "client", url, "--path", "127.0.0.2"}, std::chrono::seconds(10))
          .rc,
      2);
  // Not an address; another family than the server's; an address this host does not have.
  EXPECT_EQ(run({TQUIC_BINARY, "perf", "client", url, "--multipath", "--path", "nonsense"},
                std::chrono::seconds(10))
                .rc,
            2);
  EXPECT_EQ(run({TQUIC_BINARY, "perf", "client", url, "--multipath", "--path", "::1"},
                std::chrono::seconds(10))
                .rc,
            2);
  EXPECT_EQ(run({TQUIC_BINARY, "perf", "client", url, "--multipath", "--path", "192.0.2.1"},
                std::chrono::seconds(10))
                .rc,
            2);
  EXPECT_EQ(run({TQUIC_BINARY, "perf", "client", url, "--multipath", "--scheduler", "fastest"},
                std::chrono::seconds(10))
                .rc,
            2);
}

}  // namespace
