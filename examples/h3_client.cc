// HTTP/3 client: GETs one path and writes the response body to a file.
//
//   h3_client --connect 127.0.0.1:4433 --ca cert.pem [--path /file] --output FILE
//             [--timeout-s S]
//
// Exit status 0 on a complete 200 response. Written against the public headers only.
#include <cstdio>
#include <vector>

#include "example_util.h"
#include "tquic/tquic.h"

int main(int argc, char** argv) {
  auto flags = example::parse_flags(argc, argv);
  if (!flags || !flags->contains("connect") || !flags->contains("output")) {
    std::fprintf(stderr, "usage: h3_client --connect ADDR --ca CERT [--path P] --output FILE "
                         "[--timeout-s S]\n");
    return 2;
  }
  auto remote = tquic::Address::parse(flags->at("connect"));
  if (!remote) return 2;
  tquic::EndpointOptions options;
  options.tls.alpn = {"h3"};
  auto client = example::start_client(*flags, *remote, options);
  if (!client) return 1;
  auto conn = client->endpoint.connect(client->socket.local_address(), *remote,
                                       tquic::io::monotonic_now());
  if (!conn) return 1;
  auto session = tquic::h3::Session::create(*conn, tquic::h3::Role::client);
  auto driver = tquic::io::Driver::create(client->endpoint, {&client->socket});
  if (!session || !driver) return 1;

  std::optional<uint64_t> request;
  std::string status;
  std::vector<uint8_t> body;
  bool complete = false, closed = false;
  driver->set_app([&](tquic::Endpoint&, tquic::Instant now) {
    // drive() reads what arrived and sends what is queued, and either can queue new events
    // (reading the body frees flow control; the next drive() reads what that let in). Loop
    // until a pass finds nothing to do: data left queued after the hook returns waits for the
    // next packet, which may never come once the response is complete.
    for (bool progress = true; progress;) {
      progress = false;
      session->drive(now);
      if (!request && conn->handshake_complete()) {
        std::vector<tquic::h3::Header> get = {{":method", "GET"}, {":scheme", "https"},
                                              {":authority", "localhost"},
                                              {":path", example::flag(*flags, "path", "/file")}};
        auto id = session->send_request(get);
        if (id) request = *id, progress = true;
      }
      while (auto e = session->poll_event()) {
        progress = true;
        if (e->kind == tquic::h3::EventKind::headers && e->stream_id == request) {
          for (const auto& h : e->headers) {
            if (h.name == ":status") status = h.value;
          }
        }
        if (e->kind == tquic::h3::EventKind::closed) closed = true;
      }
      uint8_t buf[16384];
      while (request && !complete) {
        auto r = session->read_body(*request, buf);
        if (!r) break;  // would_block: more comes with the next `data` event
        body.insert(body.end(), buf, buf + r->bytes);
        complete = r->fin;
        progress = true;
      }
    }
  });
  bool ok = example::run(*driver, [&] { return complete || closed; },
                         std::stoi(example::flag(*flags, "timeout-s", "20")));
  conn->close(0, "done", tquic::io::monotonic_now());
  (void)driver->run_until([] { return false; },
                          tquic::io::monotonic_now() + std::chrono::milliseconds(300));
  std::printf("status %s, %zu body bytes\n", status.c_str(), body.size());
  if (!example::write_file(flags->at("output"), body.data(), body.size())) return 1;
  return ok && complete && status == "200" ? 0 : 1;
}
