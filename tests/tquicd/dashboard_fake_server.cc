// Serves the dashboard over a changing fake status for the browser test
// (tests/browser/dashboard_test.mjs): the metrics server on 127.0.0.1:0, "listening on
// 127.0.0.1:PORT" on stdout, the fake status stepped every 100 ms and an event logged every
// tenth step; "--server" gives the server's view. Ends when stdin closes (its parent went away) or after 60 s.
#include <unistd.h>

#include <cstdio>
#include <string_view>

#include "io/clock.h"
#include "status_fake.h"
#include "tquicd/dashboard.h"
#include "tquicd/metrics_server.h"

int main(int argc, char** argv) {
  // "--server": the server's view (two links, one client connection).
  bool server_role = argc > 1 && std::string_view(argv[1]) == "--server";
  using namespace std::chrono_literals;
  bond::test::TestLoop loop;
  bond::test::FakeBackend backend;
  bond::StatusHistory history;
  if (!loop.driver || !loop.driver->ok()) return 1;
  bond::MetricsServerOptions o;
  o.listen = quic::SocketAddress::v4(127, 0, 0, 1, 0);
  auto server = bond::MetricsServer::open(
      *loop.driver,
      [&](const bond::HttpRequest& r) {
        return bond::dashboard_route(r, backend.state, backend.log, &history);
      },
      o);
  if (!server) {
    fprintf(stderr, "%s\n", server.error().c_str());
    return 1;
  }
  printf("listening on %s\n", (*server)->local_address().to_string().c_str());
  fflush(stdout);
  uint64_t step = 0;
  std::function<void(quic::Instant)> advance = [&](quic::Instant now) {
    backend.state = bond::test::fake_status(++step, server_role);
    history.record(backend.state);
    if (step % 10 == 9)
      backend.log.add({0, step * 100, bond::EventKind::kFailover, "lte", "to fibre"});
    loop.driver->add_timer(now + 100ms, advance);
  };
  loop.driver->add_timer(io::monotonic_now(), advance);
  bool stdin_closed = false;
  (void)loop.driver->register_fd(0, io::kReadable, [&](int fd, uint32_t) {
    char buf[256];
    if (read(fd, buf, sizeof buf) <= 0) {
      stdin_closed = true;
      loop.driver->unregister_fd(fd);
    }
  });
  loop.run([&] { return stdin_closed; }, 60);
  return 0;
}
