// HTTP/3 file server: answers GET /file with the bytes of --file (404 for other paths).
//
//   h3_server --file FILE [--listen 127.0.0.1:4433] [--cert-out cert.pem]
//             [--port-file port.txt] [--max-connections N] [--timeout-s S]
//
// Written against the public headers only (tquic/tquic.h).
#include <cstdio>
#include <map>
#include <vector>

#include "example_util.h"
#include "tquic/tquic.h"

namespace {

struct Response {
  size_t sent = 0;
  bool done = false;
};

struct Http {
  tquic::Connection conn;
  tquic::h3::Session session;
  std::map<uint64_t, Response> responses;
  bool closed = false;
};

std::string header(const std::vector<tquic::h3::Header>& hs, std::string_view name) {
  for (const auto& h : hs) {
    if (h.name == name) return h.value;
  }
  return {};
}

// Sends what the stream takes now; the rest after the `writable` event.
void send_more(Http& h, uint64_t id, Response& r, const std::vector<uint8_t>& file) {
  while (!r.done) {
    auto n = h.session.send_body(id, std::span(file).subspan(r.sent), true);
    if (!n) return;  // would_block: wait for `writable`; other errors: the request is gone
    r.sent += *n;
    r.done = r.sent == file.size();
  }
}

void on_request(Http& h, const tquic::h3::Event& e, const std::vector<uint8_t>& file) {
  bool found = header(e.headers, ":method") == "GET" && header(e.headers, ":path") == "/file";
  std::vector<tquic::h3::Header> head = {{":status", found ? "200" : "404"},
                                         {"content-length", std::to_string(found ? file.size() : 0)}};
  if (auto r = h.session.send_response(e.stream_id, head, {}, !found); !r) {
    std::fprintf(stderr, "response: %s\n", tquic::to_string(r.error()).c_str());
    return;
  }
  if (found) send_more(h, e.stream_id, h.responses[e.stream_id], file);
}

void serve(Http& h, tquic::Instant now, const std::vector<uint8_t>& file) {
  // Until a drive() queues no new event (see h3_client.cc): the last one sends what the
  // answers queued.
  for (bool progress = true; progress;) {
    progress = false;
    h.session.drive(now);
    while (auto e = h.session.poll_event()) {
      progress = true;
      switch (e->kind) {
        case tquic::h3::EventKind::headers: on_request(h, *e, file); break;
        case tquic::h3::EventKind::writable:
          if (auto it = h.responses.find(e->stream_id); it != h.responses.end()) {
            send_more(h, e->stream_id, it->second, file);
          }
          break;
        case tquic::h3::EventKind::reset: h.responses.erase(e->stream_id); break;
        case tquic::h3::EventKind::closed: h.closed = true; break;
        default: break;
      }
    }
  }
  std::erase_if(h.responses, [](const auto& kv) { return kv.second.done; });
}

}  // namespace

int main(int argc, char** argv) {
  auto flags = example::parse_flags(argc, argv);
  auto file = flags ? example::read_file(example::flag(*flags, "file", "")) : std::nullopt;
  if (!file) {
    std::fprintf(stderr, "usage: h3_server --file FILE [--listen ADDR] [--cert-out FILE] "
                         "[--port-file FILE] [--max-connections N] [--timeout-s S]\n");
    return 2;
  }
  tquic::EndpointOptions options;
  options.tls.alpn = {"h3"};
  auto server = example::start_server(*flags, options);
  if (!server) return 1;
  std::vector<Http> sessions;
  size_t served = 0;
  auto hook = [&](tquic::Endpoint& ep, tquic::Instant now) {
    while (auto c = ep.accept()) {
      auto s = tquic::h3::Session::create(*c, tquic::h3::Role::server);
      if (s) sessions.push_back(Http{*c, std::move(*s), {}, false});
    }
    for (auto& h : sessions) serve(h, now, *file);
    served += static_cast<size_t>(std::erase_if(sessions, [](const Http& h) { return h.closed; }));
  };
  return example::run_server(*server, *flags, hook, [&] { return served; });
}
