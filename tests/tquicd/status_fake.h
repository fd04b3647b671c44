// Test support for the control plane: a changing fake status (links whose figures move with a
// step counter), a ControlBackend over it, and an event loop (an io::EndpointDriver over one
// idle socket) to host the control and metrics servers.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/endpoint.h"
#include "io/endpoint_driver.h"
#include "io/os_random.h"
#include "io/udp_socket.h"
#include "tquicd/control.h"

namespace bond::test {

// Step `n` of a two- or three-link bond: rates, RTT and quota use change with n; link "lte"
// fails on steps where n % 10 == 9 (then the bond is degraded).
Status fake_status(uint64_t n, bool server = false);

class FakeBackend : public ControlBackend {
 public:
  Status state = fake_status(0);
  EventLog log{16};
  std::vector<std::string> calls;  // "set K V", "link up NAME", ...

  const Status& status() override { return state; }
  const EventLog& events() override { return log; }
  std::expected<std::string, std::string> set(std::string_view key,
                                              std::string_view value) override;
  std::expected<std::string, std::string> link_admin(std::string_view name, bool up) override;
};

struct TestLoop {
  io::OsRandom random;
  std::unique_ptr<quic::Endpoint> endpoint;
  std::unique_ptr<io::UdpSocket> socket;
  std::unique_ptr<io::EndpointDriver> driver;
  TestLoop();
  // Runs the loop until `done` or `seconds` pass; returns whether done held.
  bool run(const std::function<bool()>& done, double seconds);
};

}  // namespace bond::test
