#include "status_fake.h"

#include "io/clock.h"
#include "tls/test_certs.h"

namespace bond::test {

Status fake_status(uint64_t n, bool server) {
  Status s;
  s.role = server ? DaemonRole::kServer : DaemonRole::kClient;
  s.uptime_ms = n * 200;
  s.tunnel_interface = "tquic0";
  LinkStatus fibre{"fibre",
                   "eth1",
                   LinkRole::kPrimary,
                   LinkHealth::kUp,
                   false,
                   20'000 + (n % 7) * 500,
                   0.001 * static_cast<double>(n % 3),
                   n * 1'000'000,
                   n * 800'000,
                   30'000'000 + (n % 5) * 2'000'000,
                   25'000'000 + (n % 4) * 1'000'000,
                   0,
                   0};
  LinkStatus lte{"lte",
                 "wwan0",
                 LinkRole::kSecondary,
                 n % 10 == 9 ? LinkHealth::kFailed : LinkHealth::kUp,
                 false,
                 50'000 + (n % 11) * 2'000,
                 0.01,
                 n * 400'000,
                 n * 300'000,
                 15'000'000 + (n % 3) * 1'000'000,
                 10'000'000,
                 5'000'000'000,
                 n * 10'000'000};
  s.links = {fibre, lte};
  if (!server) {
    s.links.push_back(
        {"sat", "", LinkRole::kBackup, LinkHealth::kUp, false, 300'000, 0, 1000, 1000, 0, 0, 0, 0});
  }
  s.bond = derive_bond_state(s.links);
  s.paths = {{0, "fibre", "198.18.1.2:4000", "198.19.0.1:443", true, false, 20'000, 1'000, 120'000,
              1000 * n, n},
             {1, "lte", "198.18.2.2:4001", "198.19.0.1:443", n % 10 != 9, false, 50'000, 5'000,
              60'000, 400 * n, 2 * n}};
  if (server) s.conns = {{"site-a", "10.8.0.2", "198.18.1.2:4000", 2, n * 100, n * 200, n * 200}};
  s.flows = {{"tcp", "10.8.0.2:5201", "10.9.0.1:40000", "bulk", n * 1'000'000, n * 700},
             {"udp", "10.8.0.2:5353", "10.9.0.1:53", "interactive", 64 * n, n}};
  s.tx_bytes = n * 1'400'000;
  s.rx_bytes = n * 1'100'000;
  return s;
}

std::expected<std::string, std::string> FakeBackend::set(std::string_view key,
                                                         std::string_view value) {
  calls.push_back("set " + std::string(key) + " " + std::string(value));
  if (key != "log.level") return std::unexpected("unknown key '" + std::string(key) + "'");
  return "log.level = " + std::string(value);
}

std::expected<std::string, std::string> FakeBackend::link_admin(std::string_view name, bool up) {
  calls.push_back(std::string("link ") + (up ? "up " : "down ") + std::string(name));
  for (auto& l : state.links) {
    if (l.name != name) continue;
    l.admin_down = !up;
    return std::string(name) + (up ? " up" : " down");
  }
  return std::unexpected("no link '" + std::string(name) + "'");
}

TestLoop::TestLoop() {
  static auto cert = quic::make_self_signed("localhost");
  quic::TlsConfig tc;
  tc.server = true;
  tc.alpn = {"hq-interop"};
  tc.cert_pem = cert->cert_pem;
  tc.key_pem = cert->key_pem;
  quic::EndpointConfig ec;
  ec.server = true;
  ec.tls = *quic::make_tls_context(tc);
  endpoint = std::make_unique<quic::Endpoint>(ec, random);
  auto s = io::UdpSocket::open(*quic::SocketAddress::parse("127.0.0.1:0"));
  if (s) socket = std::move(*s);
  driver =
      std::make_unique<io::EndpointDriver>(*endpoint, std::vector<io::UdpSocket*>{socket.get()});
}

bool TestLoop::run(const std::function<bool()>& done, double seconds) {
  auto deadline = io::monotonic_now() + std::chrono::duration_cast<quic::Duration>(
                                            std::chrono::duration<double>(seconds));
  // A 10 ms tick re-checks `done` when nothing else wakes the loop (a child exiting, a flag
  // set by a client thread).
  io::EndpointDriver::TimerId id = 0;  // the pending tick, cancelled on return
  std::function<void(quic::Instant)> tick = [&](quic::Instant now) {
    id = driver->add_timer(now + std::chrono::milliseconds(10), tick);
  };
  id = driver->add_timer(io::monotonic_now(), tick);
  auto r = driver->run_until(done, deadline);
  driver->cancel_timer(id);
  return r && *r;
}

}  // namespace bond::test
