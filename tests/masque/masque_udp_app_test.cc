// `tquic masque-udp`'s application half (MasqueUdpApp) in-process, against the in-process proxy:
// back pressure. With a QUIC datagram queue far smaller than what the local source offers at
// once, reading pauses at the first refusal and resumes once the queue drained, so every
// datagram the source sent reaches the target and none is read only to be dropped.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <vector>

#include "apps/masque_udp.h"
#include "connect_udp_harness.h"
#include "io/sockaddr.h"

namespace masque_test {
namespace {

struct App {
  std::optional<apps::ClientSetup> setup;
  std::unique_ptr<io::EndpointDriver> driver;
  std::unique_ptr<apps::MasqueUdpApp> app;
  int fd = -1;
  quic::SocketAddress local;

  App(uint16_t proxy_port, uint16_t target_port, size_t datagram_queue) {
    apps::NetOptions net;
    net.datagrams = true;
    net.datagram_send_buffer = datagram_queue;
    apps::TrustOptions trust;
    trust.insecure = true;
    int rc = 0;
    setup = apps::make_client(apps::Url{"127.0.0.1", proxy_port, "/"}, net, trust, rc, "h3");
    if (!setup) return;
    fd = apps::open_masque_udp_local(quic::SocketAddress::v4(127, 0, 0, 1, 0));
    if (fd < 0) return;
    sockaddr_storage ss{};
    socklen_t len = sizeof(ss);
    getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
    local = *io::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len);
    driver = std::make_unique<io::EndpointDriver>(
        *setup->endpoint, std::vector<io::UdpSocket*>{setup->socket.get()});
    auto authority = "127.0.0.1:" + std::to_string(proxy_port);
    apps::MasqueUdpApp::Config cfg{setup->local, setup->remote,
                                   *masque::make_udp_template(masque::kDefaultUdpPathTemplate,
                                                              authority),
                                   "127.0.0.1", target_port, apps::kDefaultMasqueUdpFlows,
                                   std::chrono::seconds(30), true};
    app = std::make_unique<apps::MasqueUdpApp>(*driver, *setup->endpoint, fd, std::move(cfg));
    driver->set_app([this](quic::Endpoint& ep, quic::Instant now) { app->on_activity(ep, now); });
  }
  ~App() {
    app.reset();
    driver.reset();
    if (fd >= 0) close(fd);
  }
};

TEST(MasqueUdpApp, PausesReadingWhileTheDatagramQueueIsFullAndLosesNothing) {
  auto sink = std::make_unique<UdpThread>([](const std::vector<uint8_t>&) {
    return std::optional<std::vector<uint8_t>>{};
  });
  ProxyThread proxy(ProxyOptions{});
  ASSERT_NE(proxy.port(), 0);
  // 16 KiB holds 16 of the 1,000-byte payloads below: each chunk of 100 overflows it.
  App a(proxy.port(), sink->port(), apps::kMinDatagramQueue);
  ASSERT_TRUE(a.app) << "client setup failed";
  int src = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(src, 0);
  sockaddr_storage to{};
  socklen_t to_len = io::to_sockaddr(a.local, to);
  auto send_one = [&](uint8_t tag) {
    std::vector<uint8_t> p(1000, tag);
    return sendto(src, p.data(), p.size(), 0, reinterpret_cast<sockaddr*>(&to), to_len) == 1000;
  };
  // The flow's CONNECT-UDP stream first.
  ASSERT_TRUE(send_one(0));
  ASSERT_TRUE(run_loop_until(*a.driver, [&] { return sink->received() == 1; }, 5000ms));

  // 20 chunks of 100 datagrams, each sent while the loop is not running (so all 100 wait in
  // the local socket's buffer and are read in one go), then the loop runs until they arrived.
  constexpr uint64_t kChunks = 20, kPerChunk = 100;
  uint64_t sent = 1;
  for (uint64_t c = 0; c < kChunks; ++c) {
    for (uint64_t i = 0; i < kPerChunk; ++i) ASSERT_TRUE(send_one(static_cast<uint8_t>(c + 1)));
    sent += kPerChunk;
    ASSERT_TRUE(run_loop_until(*a.driver, [&] { return sink->received() == sent; }, 5000ms))
        << "chunk " << c << ": " << sink->received() << " of " << sent << " arrived";
  }
  const apps::MasqueUdpCounters& k = a.app->counters();
  EXPECT_EQ(k.local_received, sent);
  EXPECT_EQ(k.dropped_send, 0u);  // nothing was read and then refused
  EXPECT_GE(k.read_pauses, kChunks);  // every chunk overflowed the queue at least once
  EXPECT_FALSE(a.app->local_paused());
  EXPECT_EQ(proxy.udp_stats().to_target, sent);
  close(src);
}

}  // namespace
}  // namespace masque_test
