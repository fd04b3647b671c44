// End to end over loopback with the real binary: `tquic perf server` and `tquic perf client` as
// separate processes move 200 MiB (20 MiB under ASan; TQUIC_E2E_BYTES overrides) over 127.0.0.1
// and ::1 with GSO on and off, checking every byte (the client verifies the pattern and the
// exact length); `tquic server`/`tquic client` copy a random file byte for byte; exit codes.

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "support/child_process.h"

namespace {

uint64_t transfer_bytes() {
  if (const char* env = std::getenv("TQUIC_E2E_BYTES")) return std::strtoull(env, nullptr, 10);
#if defined(__SANITIZE_ADDRESS__)
  return 20ull << 20;
#else
  return 200ull << 20;
#endif
}

using namespace test_support;

struct Case {
  bool v6;
  bool gso;
};

class PerfTransfer : public ::testing::TestWithParam<Case> {};

TEST_P(PerfTransfer, DownloadIsByteExact) {
  const Case c = GetParam();
  const std::string host = c.v6 ? "[::1]" : "127.0.0.1";
  std::vector<std::string> extra;
  if (!c.gso) extra = {"--no-gso", "--no-gro"};
  std::vector<std::string> sargs = {TQUIC_BINARY, "perf", "server", "--listen", host + ":0"};
  sargs.insert(sargs.end(), extra.begin(), extra.end());
  Server server;
  ASSERT_TRUE(server.start_server(sargs)) << server.log;
  uint64_t bytes = transfer_bytes();
  std::vector<std::string> cargs = {TQUIC_BINARY, "perf",
                                    "client",     "https://" + host + ":" + server.port(),
                                    "--size",     std::to_string(bytes),
                                    "--pin",      server.sha256,
                                    "--json"};
  cargs.insert(cargs.end(), extra.begin(), extra.end());
  Outcome o = run(cargs, std::chrono::seconds(600));
  EXPECT_EQ(o.rc, 0) << o.out;
  EXPECT_NE(o.out.find("\"bytes\": " + std::to_string(bytes) + ","), std::string::npos) << o.out;
  EXPECT_NE(o.out.find(c.gso ? "\"gso\": true" : "\"gso\": false"), std::string::npos) << o.out;
  EXPECT_EQ(server.stop(), 0);
  EXPECT_NE(server.log.find(std::to_string(bytes) + " bytes sent"), std::string::npos)
      << server.log;
}

INSTANTIATE_TEST_SUITE_P(Loopback, PerfTransfer,
                         ::testing::Values(Case{false, true}, Case{false, false}, Case{true, true},
                                           Case{true, false}),
                         [](const auto& p) {
                           return std::string(p.param.v6 ? "IPv6" : "IPv4") +
                                  (p.param.gso ? "Gso" : "NoGso");
                         });

class FileTransfer : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/tquic-e2e-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    std::system(("mkdir -p " + dir_ + "/root " + dir_ + "/out").c_str());
    std::mt19937_64 rng(42);
    content_.resize(3 << 20 | 12345);
    for (auto& ch : content_) ch = static_cast<char>(rng());
    std::ofstream(dir_ + "/root/data.bin", std::ios::binary) << content_;
    std::ofstream(dir_ + "/root/small.txt") << "hello\n";
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }
  std::string dir_, content_;
};

TEST_F(FileTransfer, ClientFetchesFilesByteExactAndExitCodesTellFailures) {
  Server server;
  ASSERT_TRUE(server.start_server(
      {TQUIC_BINARY, "server", "--listen", "127.0.0.1:0", "--root", dir_ + "/root"}))
      << server.log;
  std::string base = "https://127.0.0.1:" + server.port();
  Outcome ok = run({TQUIC_BINARY, "client", "--pin", server.sha256, "-o", dir_ + "/out",
                    base + "/data.bin", base + "/small.txt"},
                   std::chrono::seconds(60));
  EXPECT_EQ(ok.rc, 0);
  std::ifstream in(dir_ + "/out/data.bin", std::ios::binary);
  std::string got((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_TRUE(got == content_) << "got " << got.size() << " bytes of " << content_.size();

  Outcome to_stdout = run({TQUIC_BINARY, "client", "--pin", server.sha256, base + "/small.txt"},
                          std::chrono::seconds(30));
  EXPECT_EQ(to_stdout.rc, 0);
  EXPECT_EQ(to_stdout.out, "hello\n");

  Outcome missing = run({TQUIC_BINARY, "client", "--pin", server.sha256, base + "/nope"},
                        std::chrono::seconds(30));
  EXPECT_EQ(missing.rc, 1);
  Outcome wrong_pin =
      run({TQUIC_BINARY, "client", "--pin", std::string(64, '0'), base + "/small.txt"},
          std::chrono::seconds(30));
  EXPECT_EQ(wrong_pin.rc, 1);
  Outcome bad_url =
      run({TQUIC_BINARY, "client", "--insecure", "ftp://x/y"}, std::chrono::seconds(30));
  EXPECT_EQ(bad_url.rc, 2);
  Outcome bad_option =
      run({TQUIC_BINARY, "client", "--cc", "bbr9", "--insecure", base + "/small.txt"},
          std::chrono::seconds(30));
  EXPECT_EQ(bad_option.rc, 2);
  EXPECT_EQ(server.stop(), 0);
}

// `perf client --concurrent`: 30 connections at once on one socket, held idle, then each
// fetching 10 KiB byte-exact; the server (with room for 40) sent all 30 responses.
TEST(PerfConcurrent, ConnectionsAtOnceEachFetchByteExact) {
  Server server;
  ASSERT_TRUE(server.start_server({TQUIC_BINARY, "perf", "server", "--listen", "127.0.0.1:0",
                                   "--max-connections", "40"}))
      << server.log;
  Outcome o = run({TQUIC_BINARY, "perf", "client", "https://127.0.0.1:" + server.port(),
                   "--pin", server.sha256, "--size", "10K", "--concurrent", "30", "--hold", "0.2",
                   "--json"},
                  std::chrono::seconds(60));
  EXPECT_EQ(o.rc, 0) << o.out;
  EXPECT_NE(o.out.find("\"concurrent\": 30,"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("\"requests\": 30,"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("\"bytes_per_request\": 10240,"), std::string::npos) << o.out;
  // Usage errors: one connection is not "concurrent", --path does not combine, no room at all.
  EXPECT_EQ(run({TQUIC_BINARY, "perf", "client", "https://127.0.0.1:" + server.port(),
                 "--concurrent", "1"},
                std::chrono::seconds(10))
                .rc,
            2);
  EXPECT_EQ(run({TQUIC_BINARY, "perf", "client", "https://127.0.0.1:" + server.port(),
                 "--concurrent", "2", "--path", "127.0.0.2"},
                std::chrono::seconds(10))
                .rc,
            2);
  EXPECT_EQ(run({TQUIC_BINARY, "perf", "server", "--max-connections", "0"},
                std::chrono::seconds(10))
                .rc,
            2);
  EXPECT_EQ(server.stop(), 0);
  EXPECT_NE(server.log.find(std::to_string(30 * 10240) + " bytes sent"), std::string::npos)
      << server.log;
}

TEST(Cli, ServerWithUnusableListenAddressExitsTwo) {
  Outcome o = run({TQUIC_BINARY, "server", "--listen", "not-an-address"}, std::chrono::seconds(10));
  EXPECT_EQ(o.rc, 2);
  Outcome h = run({TQUIC_BINARY, "perf", "client", "--help"}, std::chrono::seconds(10));
  EXPECT_EQ(h.rc, 0);
  EXPECT_NE(h.out.find("--connections"), std::string::npos);
}

}  // namespace
