// The pieces of `tquic server|client|perf` that do not need a second process: URL, size and pin
// parsing, the document-root confinement, and the hq-interop exchange itself (server and client
// apps over loopback sockets in two threads), including the limits a hostile client can hit.
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "apps/hq_client.h"
#include "apps/hq_server.h"
#include "apps/net_options.h"
#include "io/clock.h"
#include "io/endpoint_driver.h"
#include "tls/test_certs.h"

namespace apps {
namespace {

using namespace std::chrono_literals;

TEST(Url, ParsesHostPortPath) {
  auto u = parse_url("https://example.org:4433/a/b.txt");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "example.org");
  EXPECT_EQ(u->port, 4433);
  EXPECT_EQ(u->path, "/a/b.txt");
  auto v6 = parse_url("https://[::1]:443/x");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->path, "/x");
  auto bare = parse_url("https://h");
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->port, 443);
  EXPECT_EQ(bare->path, "/");
}

TEST(Url, RejectsMalformed) {
  for (const char* bad : {"http://h/x", "https://", "https://h:0/", "https://h:70000/",
                          "https://h:12a/", "https://[::1/x", "https://[::1]x/"}) {
    EXPECT_FALSE(parse_url(bad)) << bad;
  }
}

TEST(Size, SuffixesAndOverflow) {
  EXPECT_EQ(parse_size("123"), 123u);
  EXPECT_EQ(parse_size("4K"), 4096u);
  EXPECT_EQ(parse_size("10M"), 10u << 20);
  EXPECT_EQ(parse_size("1G"), 1ull << 30);
  EXPECT_FALSE(parse_size(""));
  EXPECT_FALSE(parse_size("M"));
  EXPECT_FALSE(parse_size("5X"));
  EXPECT_FALSE(parse_size("99999999999999999999"));
  EXPECT_FALSE(parse_size("99999999999999G"));
}

TEST(NetOptions, WindowSetsReceiveWindowsAndSendBufferWithinBounds) {
  NetOptions o;
  quic::ConnectionConfig defaults, c;
  ASSERT_TRUE(apply_connection_options(o, c));
  EXPECT_EQ(c.max_connection_window, defaults.max_connection_window);  // unset: untouched
  o.window = "64M";
  ASSERT_TRUE(apply_connection_options(o, c));
  EXPECT_EQ(c.max_connection_window, 64u << 20);
  EXPECT_EQ(c.max_stream_window, 64u << 20);
  EXPECT_EQ(c.stream_send_buffer, size_t{64} << 20);
  for (const char* bad : {"2G", "1K", "lots"}) {
    o.window = bad;
    EXPECT_FALSE(apply_connection_options(o, c)) << bad;
  }
}

TEST(Pin, HexWithOrWithoutColons) {
  std::string hex(64, 'a');
  auto p = parse_sha256_hex(hex);
  ASSERT_TRUE(p);
  EXPECT_EQ((*p)[0], 0xaa);
  EXPECT_TRUE(parse_sha256_hex("AB:" + std::string(62, '0')));
  EXPECT_FALSE(parse_sha256_hex(std::string(63, 'a')));
  EXPECT_FALSE(parse_sha256_hex(std::string(64, 'g')));
}

TEST(Pin, LeafFingerprintIsStableAndHexRoundTrips) {
  auto cert = quic::make_self_signed("localhost");
  ASSERT_TRUE(cert);
  auto a = leaf_sha256(cert->cert_pem);
  auto b = leaf_sha256(cert->cert_pem);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(parse_sha256_hex(to_hex(a->data(), a->size())), *a);
  EXPECT_FALSE(leaf_sha256("not a certificate"));
}

class TempRoot : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/tquic-io-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    base_ = tmpl;
    root_ = base_ + "/root";
    mkdir(root_.c_str(), 0755);
    mkdir((root_ + "/sub").c_str(), 0755);
    std::ofstream(root_ + "/sub/f.txt") << "inside";
    std::ofstream(base_ + "/secret") << "outside";
    ASSERT_EQ(symlink((base_ + "/secret").c_str(), (root_ + "/escape").c_str()), 0);
    ASSERT_EQ(symlink("sub/f.txt", (root_ + "/alias").c_str()), 0);
    char real[PATH_MAX];
    ASSERT_NE(realpath(root_.c_str(), real), nullptr);
    root_ = real;
  }
  void TearDown() override { std::system(("rm -rf " + base_).c_str()); }
  std::string base_, root_;
};

TEST_F(TempRoot, ResolvesFilesInsideTheRootOnly) {
  EXPECT_EQ(resolve_request_path(root_, "/sub/f.txt"), root_ + "/sub/f.txt");
  EXPECT_EQ(resolve_request_path(root_, "/alias"), root_ + "/sub/f.txt");  // symlink inside
  EXPECT_FALSE(resolve_request_path(root_, "/../secret"));
  EXPECT_FALSE(resolve_request_path(root_, "/sub/../../secret"));
  EXPECT_FALSE(resolve_request_path(root_, "/escape"));  // symlink out of the root
  EXPECT_FALSE(resolve_request_path(root_, "/sub"));     // directories are not files
  EXPECT_FALSE(resolve_request_path(root_, "/"));
  EXPECT_FALSE(resolve_request_path(root_, "sub/f.txt"));  // not absolute
  EXPECT_FALSE(resolve_request_path(root_, "/missing"));
  EXPECT_FALSE(resolve_request_path(root_, std::string("/sub/f.txt\0x", 12)));
}

// Runs HqServerApp (files under root_, perf routes on) and one HqClientApp connection.
class HqExchange : public TempRoot {
 protected:
  std::vector<HqRequest> run(std::vector<HqRequest> reqs, uint64_t datagrams = 0) {
    auto cert = quic::make_self_signed("localhost");
    quic::TlsConfig st, ct;
    st.server = true;
    st.alpn = ct.alpn = {kHqAlpn};
    st.cert_pem = cert->cert_pem;
    st.key_pem = cert->key_pem;
    ct.pinned_sha256 = *leaf_sha256(cert->cert_pem);
    ct.server_name = "localhost";
    quic::EndpointConfig se, ce;
    se.server = true;
    se.tls = *quic::make_tls_context(st);
    if (datagrams > 0) {
      se.connection.max_datagram_frame_size = ce.connection.max_datagram_frame_size = 65535;
    }
    ce.tls = *quic::make_tls_context(ct);
    auto lo = *quic::SocketAddress::parse("127.0.0.1:0");
    auto ss = io::UdpSocket::open(lo);
    auto cs = io::UdpSocket::open(lo);
    EXPECT_TRUE(ss && cs);
    io::OsRandom r1, r2;
    quic::Endpoint sep(se, r1), cep(ce, r2);
    HqServerApp server(root_, true, datagrams > 0);
    HqClientApp client((*cs)->local_address(), (*ss)->local_address(), std::move(reqs));
    client.set_datagrams(datagrams);
    std::atomic<bool> stop{false};
    std::thread t([&] {
      io::EndpointDriver d(sep, {ss->get()});
      d.set_app([&](quic::Endpoint& e, quic::Instant now) { server.on_activity(e, now); });
      while (!stop) (void)d.run_until([&] { return stop.load(); }, io::monotonic_now() + 20ms);
    });
    io::EndpointDriver d(cep, {cs->get()});
    d.set_app([&](quic::Endpoint& e, quic::Instant now) { client.on_activity(e, now); });
    auto ok = d.run_until([&] { return client.finished(); }, io::monotonic_now() + 30s);
    stop = true;
    t.join();
    EXPECT_TRUE(ok && *ok);
    EXPECT_EQ(client.connection_error(), "");
    echoed_ = client.datagrams_echoed();
    server_echoed_ = server.counters().datagrams_echoed;
    return std::move(client.requests());
  }
  uint64_t echoed_ = 0, server_echoed_ = 0;
  static HqRequest get(std::string line) {
    HqRequest r;
    r.line = std::move(line);
    return r;
  }
};

TEST_F(HqExchange, ServesFilesAndResetsMissingOrEscapingPaths) {
  auto out = run({get("GET /sub/f.txt"), get("GET /missing"), get("GET /../secret"),
                  get("GET /escape"), get("PUT /sub/f.txt")});
  ASSERT_EQ(out.size(), 5u);
  EXPECT_FALSE(out[0].failed);
  EXPECT_EQ(out[0].body, "inside");
  for (int i : {1, 2, 3}) {
    EXPECT_TRUE(out[i].failed) << i;
    EXPECT_NE(out[i].error.find("0x11"), std::string::npos) << out[i].error;  // kHqNotFound
  }
  EXPECT_TRUE(out[4].failed);
  EXPECT_NE(out[4].error.find("0x10"), std::string::npos) << out[4].error;  // kHqBadRequest
}

TEST_F(HqExchange, RequestLineLongerThanLimitIsReset) {
  auto out = run({get("GET /" + std::string(kMaxRequestLine, 'a')),
                  get("GET /" + std::string(kMaxRequestLine - 16, 'a'))});
  EXPECT_TRUE(out[0].failed);
  EXPECT_NE(out[0].error.find("0x10"), std::string::npos) << out[0].error;
  EXPECT_TRUE(out[1].failed);  // within the limit: an ordinary miss
  EXPECT_NE(out[1].error.find("0x11"), std::string::npos) << out[1].error;
}

TEST_F(HqExchange, PerfDownloadAndUploadAreExact) {
  HqRequest down = get("GET /perf/3000001");
  down.sink = HqRequest::Sink::kPerfCheck;
  down.expect = 3000001;
  HqRequest up = get("POST /perf");
  up.upload = 2000003;
  HqRequest too_big = get("GET /perf/" + std::to_string(kMaxPerfBytes + 1));
  auto out = run({down, up, too_big});
  EXPECT_FALSE(out[0].failed) << out[0].error;
  EXPECT_EQ(out[0].received, 3000001u);
  EXPECT_FALSE(out[1].failed) << out[1].error;
  EXPECT_EQ(out[1].body, "2000003\r\n");
  EXPECT_TRUE(out[2].failed);
}

TEST_F(HqExchange, DatagramsAreEchoedByteForByte) {
  auto out = run({get("GET /sub/f.txt")}, 300);
  EXPECT_FALSE(out[0].failed);
  EXPECT_EQ(echoed_, 300u);
  EXPECT_EQ(server_echoed_, 300u);
}

}  // namespace
}  // namespace apps
