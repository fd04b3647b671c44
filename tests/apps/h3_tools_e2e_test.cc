// `tquic get` against `tquic serve` over loopback, both as real processes: files byte-exact
// (parallel requests on one connection, into -o DIR and to stdout), 404 -> exit 1, Range (206
// and 416), HEAD, content types, index.html for directories, no escape from the root, usage
// errors -> exit 2.
#include <sys/stat.h>

#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <future>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/child_process.h"

namespace {

using namespace test_support;
using Proc = Outcome;

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void write_file(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary) << data;
}

std::string random_bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

class H3Tools : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/tquic_h3tools_XXXXXX";
    root_ = mkdtemp(tmpl);
    www_ = root_ + "/www";
    mkdir(www_.c_str(), 0755);
    mkdir((www_ + "/sub").c_str(), 0755);
    mkdir((root_ + "/out").c_str(), 0755);
    write_file(www_ + "/big.bin", random_bytes(3 << 20, 1));
    write_file(www_ + "/small.txt", "hello over HTTP/3\n");
    write_file(www_ + "/data.json", "{\"a\": 1}\n");
    write_file(www_ + "/index.html", "<h1>root</h1>\n");
    write_file(www_ + "/sub/index.html", "<h1>sub</h1>\n");
    write_file(root_ + "/secret.txt", "outside the root\n");

    server_ = std::make_unique<Server>();
    ASSERT_TRUE(server_->start_server({TQUIC_BINARY, "serve", www_, "--listen", "127.0.0.1:0"}))
        << server_->log;
    port_ = server_->port();
    pin_ = server_->sha256;
    ASSERT_EQ(pin_.size(), 64u) << server_->log;
  }
  static void TearDownTestSuite() {
    server_.reset();  // SIGTERM, then waits
    std::string cmd = "rm -rf " + root_;
    (void)std::system(cmd.c_str());
  }

  static std::string url(const std::string& path) { return "https://127.0.0.1:" + port_ + path; }
  static Proc get(std::vector<std::string> args) {
    std::vector<std::string> argv{TQUIC_BINARY, "get", "--pin", pin_};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv);
  }

  static inline std::string root_, www_, port_, pin_;
  static inline std::unique_ptr<Server> server_;
};

TEST_F(H3Tools, ParallelFilesIntoDirAreByteExact) {
  std::string out = root_ + "/out";
  Proc r = get({"-o", out, url("/big.bin"), url("/small.txt"), url("/data.json")});
  ASSERT_EQ(r.rc, 0);
  EXPECT_EQ(slurp(out + "/big.bin"), slurp(www_ + "/big.bin"));
  EXPECT_EQ(slurp(out + "/small.txt"), "hello over HTTP/3\n");
  EXPECT_EQ(slurp(out + "/data.json"), "{\"a\": 1}\n");
}

TEST_F(H3Tools, BodyToStdoutAndToFile) {
  Proc r = get({url("/small.txt")});
  EXPECT_EQ(r.rc, 0);
  EXPECT_EQ(r.out, "hello over HTTP/3\n");
  std::string file = root_ + "/one.bin";
  Proc f = get({"-o", file, url("/big.bin")});
  EXPECT_EQ(f.rc, 0);
  EXPECT_EQ(slurp(file), slurp(www_ + "/big.bin"));
}

TEST_F(H3Tools, NotFoundExitsOne) {
  Proc r = get({url("/missing.txt")});
  EXPECT_EQ(r.rc, 1);
  Proc both = get({url("/small.txt"), url("/missing.txt")});
  EXPECT_EQ(both.rc, 1);
}

TEST_F(H3Tools, NoEscapeFromTheRoot) {
  EXPECT_EQ(get({url("/../secret.txt")}).rc, 1);
  EXPECT_EQ(get({url("/%2e%2e/secret.txt")}).rc, 1);
  EXPECT_EQ(get({url("/sub/../../secret.txt")}).rc, 1);
}

TEST_F(H3Tools, PathOverLimitIs414) {
  Proc r = get({"-I", url("/" + std::string(5000, 'a'))});  // past kMaxServePath (4096)
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.out.rfind("HTTP/3 414\r\n", 0), 0u) << r.out;
  Proc bad = get({"-I", url("/a%zz")});
  EXPECT_EQ(bad.out.rfind("HTTP/3 400\r\n", 0), 0u) << bad.out;
}

TEST_F(H3Tools, RangeGives206Slice) {
  std::string big = slurp(www_ + "/big.bin");
  Proc r = get({"-H", "Range: bytes=1000-1999", url("/big.bin")});
  EXPECT_EQ(r.rc, 0);
  EXPECT_EQ(r.out, big.substr(1000, 1000));
  Proc tail = get({"-H", "range: bytes=-7", url("/big.bin")});
  EXPECT_EQ(tail.out, big.substr(big.size() - 7));
  Proc head = get({"-I", "-H", "range: bytes=5-", url("/small.txt")});
  EXPECT_NE(head.out.find("HTTP/3 206\r\n"), std::string::npos) << head.out;
  EXPECT_NE(head.out.find("content-range: bytes 5-17/18\r\n"), std::string::npos) << head.out;
  EXPECT_NE(head.out.find("content-length: 13\r\n"), std::string::npos) << head.out;
}

TEST_F(H3Tools, UnsatisfiableRangeIs416) {
  Proc r = get({"-I", "-H", "range: bytes=100-", url("/small.txt")});
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.out.find("HTTP/3 416\r\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("content-range: bytes */18\r\n"), std::string::npos) << r.out;
}

TEST_F(H3Tools, HeadPrintsHeadersWithoutBody) {
  Proc r = get({"-I", url("/data.json")});
  EXPECT_EQ(r.rc, 0);
  EXPECT_EQ(r.out.rfind("HTTP/3 200\r\n", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("content-type: application/json\r\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("content-length: 9\r\n"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.substr(r.out.size() - 4), "\r\n\r\n");  // nothing after the head
}

TEST_F(H3Tools, DirectoryServesIndexHtml) {
  Proc root = get({url("/")});
  EXPECT_EQ(root.rc, 0);
  EXPECT_EQ(root.out, "<h1>root</h1>\n");
  Proc sub = get({url("/sub")});
  EXPECT_EQ(sub.out, "<h1>sub</h1>\n");
  Proc head = get({"-I", url("/sub/")});
  EXPECT_NE(head.out.find("content-type: text/html; charset=utf-8\r\n"), std::string::npos)
      << head.out;
}

TEST_F(H3Tools, PostIsMethodNotAllowed) {
  Proc r = get({"-I", "--data", "x=1", url("/small.txt")});
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.out.find("HTTP/3 405\r\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("allow: GET, HEAD\r\n"), std::string::npos) << r.out;
}

TEST_F(H3Tools, UsageErrorsExitTwo) {
  EXPECT_EQ(run({TQUIC_BINARY, "get", "not-a-url"}).rc, 2);
  EXPECT_EQ(run({TQUIC_BINARY, "get", "-H", "nocolon", url("/")}).rc, 2);
  EXPECT_EQ(run({TQUIC_BINARY, "get", "--bogus", url("/")}).rc, 2);
  EXPECT_EQ(run({TQUIC_BINARY, "get", "-o", root_ + "/nodir/x", url("/a"), url("/b")}).rc, 2);
  EXPECT_EQ(run({TQUIC_BINARY, "serve", root_ + "/does-not-exist", "--listen", "127.0.0.1:0"}).rc,
            2);
}

TEST_F(H3Tools, WrongPinFailsTheTransfer) {
  Proc r = run({TQUIC_BINARY, "get", "--pin", std::string(64, '0'), url("/small.txt")});
  EXPECT_EQ(r.rc, 1);
  EXPECT_TRUE(r.out.empty());
}

TEST_F(H3Tools, VerboseShowsVersionAlpnCipherPathsAndClose) {
  Proc r = test_support::run({TQUIC_BINARY, "get", "-v", "--pin", pin_, url("/small.txt")},
               std::chrono::seconds(30), /*merge_stderr=*/true);
  EXPECT_EQ(r.rc, 0);
  EXPECT_NE(r.out.find("QUIC version 0x00000001, ALPN h3, cipher TLS_"), std::string::npos)
      << r.out;
  EXPECT_TRUE(r.out.find("cipher TLS_AES_128_GCM_SHA256,") != std::string::npos ||
              r.out.find("cipher TLS_AES_256_GCM_SHA384,") != std::string::npos ||
              r.out.find("cipher TLS_CHACHA20_POLY1305_SHA256,") != std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("path 0 127.0.0.1:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" -> 127.0.0.1:" + port_ + ": "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("srtt "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("connection closed by us: application error 0x100"), std::string::npos)
      << r.out;
  Proc quiet = test_support::run({TQUIC_BINARY, "get", "--pin", pin_, url("/small.txt")},
                   std::chrono::seconds(30), /*merge_stderr=*/true);
  EXPECT_EQ(quiet.out, "hello over HTTP/3\n");  // without -v: the body only
}

// --multipath --path: a second path from 127.0.0.2 (Linux routes 127/8 to lo); -w prints the
// timings after the body, in connection order.
TEST_F(H3Tools, MultipathPathAndWriteOutTimings) {
  Server server;
  ASSERT_TRUE(server.start_server(
      {TQUIC_BINARY, "serve", www_, "--listen", "127.0.0.1:0", "--multipath"}))
      << server.log;
  std::string out = root_ + "/mp.bin";
  Proc r = test_support::run(
      {TQUIC_BINARY, "get", "--pin", server.sha256, "-v", "--multipath", "-o", out, "-w",
       "W %{http_code} %{size_download} %{num_paths} %{time_handshake} %{time_starttransfer} "
       "%{time_total}\\n",
       "--path", "127.0.0.2", "https://127.0.0.1:" + server.port() + "/big.bin"},  // one value
      std::chrono::seconds(60), /*merge_stderr=*/true);
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_EQ(slurp(out), slurp(www_ + "/big.bin"));
  EXPECT_NE(r.out.find("path 1 127.0.0.2:"), std::string::npos) << r.out;
  size_t w = r.out.find("W ");
  ASSERT_NE(w, std::string::npos) << r.out;
  std::istringstream line(r.out.substr(w + 2));
  unsigned code = 0;
  uint64_t size = 0, paths = 0;
  double hs = 0, fb = 0, total = 0;
  line >> code >> size >> paths >> hs >> fb >> total;
  EXPECT_EQ(code, 200u);
  EXPECT_EQ(size, uint64_t{3} << 20);
  EXPECT_EQ(paths, 2u);
  EXPECT_GT(hs, 0.0);
  EXPECT_LE(hs, fb);
  EXPECT_LE(fb, total);
  // Piped stderr: no progress meter (no carriage returns).
  EXPECT_EQ(r.out.find('\r'), std::string::npos);
  EXPECT_EQ(get({"-w", "%{nope}", url("/small.txt")}).rc, 2);
}

// `tquic server` (hq-interop) feeds files 256 KiB per hook call (body_pump.h): a file of many
// slices, next to a small one on the same connection, arrives whole, each slice woken by the
// ACKs of the one before.
TEST_F(H3Tools, HqServerSendsBigFilesInSlices) {
  Server server;
  ASSERT_TRUE(server.start_server({TQUIC_BINARY, "server", "--listen", "127.0.0.1:0", "--root",
                                   www_}))
      << server.log;
  std::string out = root_ + "/hq";
  mkdir(out.c_str(), 0755);
  const std::string base = "https://127.0.0.1:" + server.port();
  Proc r = run({TQUIC_BINARY, "client", "--pin", server.sha256, "-o", out, base + "/big.bin",
                base + "/small.txt"});
  ASSERT_EQ(r.rc, 0);
  EXPECT_EQ(slurp(out + "/big.bin"), slurp(www_ + "/big.bin"));  // 3 MiB: 12 slices
  EXPECT_EQ(slurp(out + "/small.txt"), "hello over HTTP/3\n");
}

// A finished connection's "server-conn" line leaves when it closes, not when a later
// connection wakes the server up: read it while the server idles with no other client.
TEST_F(H3Tools, ServeLogsTheSummaryWhenTheConnectionCloses) {
  Server server;
  ASSERT_TRUE(server.start_server({"/bin/sh", "-c",
                                   std::string("exec ") + TQUIC_BINARY + " serve " + www_ +
                                       " --listen 127.0.0.1:0 2>&1"}))
      << server.log;
  Proc r = run({TQUIC_BINARY, "get", "--pin", server.sha256,
                "https://127.0.0.1:" + server.port() + "/small.txt"});
  EXPECT_EQ(r.rc, 0);
  // Without the line the read would block: a guard kills the server (SIGKILL: no shutdown
  // summary) after a generous while, which ends the read with "".
  std::promise<void> seen;
  std::thread guard([&, f = seen.get_future()] {
    if (f.wait_for(std::chrono::seconds(20)) == std::future_status::timeout) {
      kill(server.child.pid, SIGKILL);
    }
  });
  std::string line = server.wait_line("server-conn ");
  seen.set_value();
  guard.join();
  EXPECT_NE(line.find("bytes_sent="), std::string::npos) << server.log;
  server.stop();
  // Exactly one line for the one connection (not again at shutdown).
  size_t first = server.log.find("server-conn ");
  EXPECT_EQ(server.log.find("server-conn ", first + 1), std::string::npos) << server.log;
}

}  // namespace
