// `tquic masque-proxy` and `tquic masque-udp` as real processes on loopback: 10,000 DNS-like
// request/answer exchanges through the forwarded port with none lost and no retries, the
// DATAGRAM-capsule fallback, one flow per local source with the flow bound, idle flows closed,
// refusals (403 destination_ip_prohibited) reported, and usage errors exiting 2.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "connect_udp_harness.h"
#include "io/sockaddr.h"
#include "support/child_process.h"

namespace masque_test {
namespace {

using test_support::Daemon;
using test_support::Server;

// A blocking UDP socket on 127.0.0.1 with a receive timeout.
class UdpClient {
 public:
  // `timeout_ms`: how long recv() waits (short where the test expects no answer).
  explicit UdpClient(long timeout_ms = 1000) {
    fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }
  ~UdpClient() { close(fd_); }
  bool send_to(const std::string& addr, const std::vector<uint8_t>& b) {
    sockaddr_storage ss{};
    socklen_t len = io::to_sockaddr(*quic::SocketAddress::parse(addr), ss);
    return sendto(fd_, b.data(), b.size(), 0, reinterpret_cast<sockaddr*>(&ss), len) ==
           static_cast<ssize_t>(b.size());
  }
  std::optional<std::vector<uint8_t>> recv() {
    std::vector<uint8_t> b(70000);
    ssize_t n = ::recv(fd_, b.data(), b.size(), 0);
    if (n < 0) return std::nullopt;
    b.resize(static_cast<size_t>(n));
    return b;
  }

 private:
  int fd_ = -1;
};

// A DNS-like query: 2-byte ID, flags, one question; the echo server answers with the same bytes.
std::vector<uint8_t> query(uint32_t i) {
  std::vector<uint8_t> q{static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i), 0x01, 0x00, 0, 1,
                         0, 0, 0, 0, 0, 0};
  std::string name = "host" + std::to_string(i) + ".example";
  q.push_back(static_cast<uint8_t>(name.size()));
  q.insert(q.end(), name.begin(), name.end());
  for (uint8_t b : {0, 0, 1, 0, 1}) q.push_back(b);
  return q;
}

struct Tools {
  Server proxy;
  Daemon udp;
  std::string local;  // the forwarded port
  bool start(const std::vector<std::string>& proxy_args, const std::vector<std::string>& udp_args,
             uint16_t target_port) {
    std::vector<std::string> p{TQUIC_BINARY, "masque-proxy", "--listen", "127.0.0.1:0"};
    p.insert(p.end(), proxy_args.begin(), proxy_args.end());
    if (!proxy.start_server(p) || proxy.sha256.size() != 64) return false;
    std::vector<std::string> u{TQUIC_BINARY, "masque-udp", "--proxy",
                               "https://127.0.0.1:" + proxy.port() + "/", "--pin", proxy.sha256,
                               "--listen", "127.0.0.1:0"};
    u.insert(u.end(), udp_args.begin(), udp_args.end());
    u.push_back("127.0.0.1:" + std::to_string(target_port));
    local = udp.start(u, "listening on ");
    return !local.empty();
  }
};

// Sends `n` queries one at a time; returns how many answers came back equal (no retries).
size_t exchange(UdpClient& c, const std::string& to, uint32_t n, uint32_t first = 0) {
  size_t ok = 0;
  for (uint32_t i = first; i < first + n; ++i) {
    auto q = query(i);
    if (!c.send_to(to, q)) continue;
    auto a = c.recv();
    ok += a && *a == q;
  }
  return ok;
}

// Sequential exchanges: 10,000 take about a second in a release build; an ASan build of both
// tools is ~10x slower per exchange (measured 2 ms), so it runs 2,000.
#ifdef __SANITIZE_ADDRESS__
constexpr uint32_t kExchanges = 2000;
#else
constexpr uint32_t kExchanges = 10000;
#endif

TEST(ConnectUdpTools, TenThousandExchangesNoneLost) {
  auto echo = echo_server();
  Tools t;
  ASSERT_TRUE(t.start({"--allow", "127.0.0.1/32"}, {}, echo->port())) << t.proxy.log << t.udp.log;
  UdpClient c;
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(exchange(c, t.local, kExchanges), kExchanges);
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(echo->received(), kExchanges);  // every query reached the target exactly once
  EXPECT_EQ(t.udp.stop(), 0);
  EXPECT_EQ(t.proxy.stop(), 0);
  std::string n = std::to_string(kExchanges);
  EXPECT_NE(t.udp.log.find("masque-udp: 1 flows"), std::string::npos) << t.udp.log;
  EXPECT_NE(t.udp.log.find(n + " datagrams in, " + n + " out"), std::string::npos) << t.udp.log;
  EXPECT_NE(t.proxy.log.find(n + " datagrams to targets, " + n + " from targets (0 as capsules)"),
            std::string::npos)
      << t.proxy.log;
  std::printf("%u exchanges in %.2f s\n", kExchanges, std::chrono::duration<double>(took).count());
}

TEST(ConnectUdpTools, CapsuleFallbackCarriesEveryExchange) {
  auto echo = echo_server();
  Tools t;
  ASSERT_TRUE(t.start({"--allow-private"}, {"--no-h3-datagram"}, echo->port()));
  UdpClient c;
  EXPECT_EQ(exchange(c, t.local, 500), 500u);
  t.udp.stop();
  t.proxy.stop();
  EXPECT_NE(t.proxy.log.find("500 from targets (500 as capsules)"), std::string::npos)
      << t.proxy.log;
}

TEST(ConnectUdpTools, OneFlowPerSourceBoundedAndIdleFlowsClosed) {
  auto echo = echo_server();
  Tools t;
  ASSERT_TRUE(t.start({"--allow-private"}, {"--max-flows", "2", "--idle-timeout", "1"},
                      echo->port()));
  UdpClient a, b, extra(300);
  EXPECT_EQ(exchange(a, t.local, 20), 20u);
  EXPECT_EQ(exchange(b, t.local, 20, 100), 20u);
  // A third source is over --max-flows: dropped, never forwarded.
  ASSERT_TRUE(extra.send_to(t.local, query(7)));
  EXPECT_FALSE(extra.recv());
  // After the idle timeout both flows are gone; a source then gets a new flow.
  std::this_thread::sleep_for(std::chrono::milliseconds(1600));
  EXPECT_EQ(exchange(extra, t.local, 5), 5u);
  t.udp.stop();
  t.proxy.stop();
  EXPECT_NE(t.udp.log.find("masque-udp: 3 flows (0 refused, 2 idle-closed)"), std::string::npos)
      << t.udp.log;
  EXPECT_NE(t.udp.log.find("1 flow limit"), std::string::npos) << t.udp.log;
  EXPECT_NE(t.proxy.log.find("3 established"), std::string::npos) << t.proxy.log;
}

TEST(ConnectUdpTools, RefusedTargetIsReportedAndNothingForwarded) {
  auto echo = echo_server();
  Tools t;
  ASSERT_TRUE(t.start({}, {}, echo->port()));  // loopback target without --allow-private
  UdpClient c(300);
  ASSERT_TRUE(c.send_to(t.local, query(1)));
  EXPECT_FALSE(c.recv());
  t.udp.stop();
  t.proxy.stop();
  EXPECT_EQ(echo->received(), 0u);
  EXPECT_NE(t.udp.log.find("(1 refused"), std::string::npos) << t.udp.log;
  EXPECT_NE(t.proxy.log.find("1 refused"), std::string::npos) << t.proxy.log;
}

TEST(ConnectUdpTools, WrongPinExitsOne) {
  Server proxy;
  ASSERT_TRUE(proxy.start_server({TQUIC_BINARY, "masque-proxy", "--listen", "127.0.0.1:0"}));
  auto r = test_support::run({TQUIC_BINARY, "masque-udp", "--proxy",
                              "https://127.0.0.1:" + proxy.port() + "/", "--pin",
                              std::string(64, 'a'), "--listen", "127.0.0.1:0", "127.0.0.1:53"},
                             std::chrono::seconds(20));
  EXPECT_EQ(r.rc, 1);
}

TEST(ConnectUdpTools, UsageErrorsExitTwo) {
  using test_support::run;
  auto rc = [](std::vector<std::string> args) {
    args.insert(args.begin(), TQUIC_BINARY);
    return run(args, std::chrono::seconds(10)).rc;
  };
  EXPECT_EQ(rc({"masque-proxy", "--listen", "127.0.0.1:0", "--allow", "10.0.0.0/33"}), 2);
  EXPECT_EQ(rc({"masque-proxy", "--listen", "127.0.0.1:0", "--udp-template", "/x/{target_host}/"}), 2);
  EXPECT_EQ(rc({"masque-proxy", "--listen", "nonsense"}), 2);
  EXPECT_EQ(rc({"masque-udp", "--proxy", "https://127.0.0.1:1/", "--listen", "127.0.0.1:0",
                "bad target:53"}), 2);
  EXPECT_EQ(rc({"masque-udp", "--proxy", "ftp://x", "--listen", "127.0.0.1:0", "a.example:53"}), 2);
  EXPECT_EQ(rc({"masque-udp", "--proxy", "https://127.0.0.1:1/", "--listen", "127.0.0.1:0",
                "a.example:0"}), 2);
  EXPECT_EQ(rc({"masque-udp", "--proxy", "https://127.0.0.1:1/", "127.0.0.1:53"}), 2);  // --listen
  for (const char* q : {"8K", "65M", "lots"}) {  // outside kMinDatagramQueue..kMaxDatagramQueue
    EXPECT_EQ(rc({"masque-udp", "--proxy", "https://127.0.0.1:1/", "--listen", "127.0.0.1:0",
                  "--datagram-queue", q, "127.0.0.1:53"}),
              2)
        << q;
  }
  EXPECT_EQ(rc({"masque-proxy", "--help"}), 0);
  EXPECT_EQ(rc({"udp-blast", "send", "--seconds", "1"}), 2);  // --to
  EXPECT_EQ(rc({"udp-blast", "send", "--to", "nonsense"}), 2);
  EXPECT_EQ(rc({"udp-blast", "sink", "--listen", "127.0.0.1:0", "--seconds", "9999"}), 2);
}

// The number after `"key": ` in a udp-blast JSON line (0 when absent).
uint64_t json_number(const std::string& text, const std::string& key) {
  size_t at = text.rfind("\"" + key + "\": ");
  return at == std::string::npos ? 0 : std::stoull(text.substr(at + key.size() + 4));
}

// The bench's load tools: the sink counts exactly what the paced source sent (with and without
// GSO), tells the warm-up datagrams apart, and the source never runs ahead of its rate.
TEST(ConnectUdpTools, UdpBlastSinkCountsWhatThePacedSourceSent) {
  using test_support::run;
  test_support::Daemon sink;
  std::string addr = sink.start(
      {TQUIC_BINARY, "udp-blast", "sink", "--listen", "127.0.0.1:0", "--seconds", "30"},
      "listening on ");
  ASSERT_FALSE(addr.empty()) << sink.log;
  uint64_t sent = 0;
  for (bool gso : {true, false}) {
    std::vector<std::string> args{TQUIC_BINARY, "udp-blast", "send", "--to", addr, "--seconds",
                                  "0.3", "--rate", "100", "--payload", "1000", "--warmup-ms", "20"};
    if (!gso) args.push_back("--no-gso");
    auto r = run(args, std::chrono::seconds(10));
    ASSERT_EQ(r.rc, 0) << r.out;
    uint64_t n = json_number(r.out, "sent_datagrams");
    // 100 Mbit/s of 1,000-byte payloads for 0.3 s: 3,750, never more than one message early.
    EXPECT_LE(n, 3750u + 64u) << r.out;
    EXPECT_GE(n, 3750u / 2) << r.out;
    sent += n;
  }
  // The sink's buffer holds all of it even if it never ran meanwhile; give it time to read.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_EQ(sink.stop(), 0);
  EXPECT_EQ(json_number(sink.log, "datagrams"), sent) << sink.log;
  EXPECT_EQ(json_number(sink.log, "bytes"), sent * 1000) << sink.log;
  EXPECT_EQ(json_number(sink.log, "warmup"), 2u) << sink.log;
}

}  // namespace
}  // namespace masque_test
