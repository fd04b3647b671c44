#include "api_pair.h"

#include <algorithm>
#include <cstdlib>

namespace apitest {

namespace {
tquic::Endpoint must(tquic::Result<tquic::Endpoint> r) {
  if (!r) std::abort();  // a fixture bug: the tests cannot run at all
  return std::move(*r);
}
tquic::Connection must_connect(tquic::Endpoint& ep, tquic::Instant now) {
  auto c = ep.connect(Pair::kClientAddr, Pair::kServerAddr, now);
  if (!c) std::abort();
  return *c;
}
}  // namespace

PairOptions::PairOptions() {
  auto cert = tquic::make_self_signed_certificate("localhost");
  if (!cert) std::abort();
  server.server = true;
  server.tls.alpn = {"echo"};
  server.tls.cert_pem = cert->cert_pem;
  server.tls.key_pem = cert->key_pem;
  server.random_seed = 2;
  server.retry = tquic::RetryPolicy::disabled;
  client.tls.alpn = {"echo"};
  client.tls.ca_pem = cert->cert_pem;
  client.tls.server_name = "localhost";
  client.random_seed = 1;
}

Pair::Pair(PairOptions options)
    : client_ep(must(tquic::Endpoint::create(options.client))),
      server_ep(must(tquic::Endpoint::create(options.server))),
      client(must_connect(client_ep, now)) {}

void Pair::flush(tquic::Endpoint& ep, bool to_server) {
  while (auto t = ep.poll_transmit(now, buffer_)) {
    size_t seg = t->segment_size > 0 ? t->segment_size : t->size;
    for (size_t off = 0; off < t->size; off += seg) {
      size_t n = std::min(seg, t->size - off);
      if (drop && drop(to_server)) continue;
      wire_.push_back(InFlight{now + 10ms, to_server, t->local, t->remote,
                               std::vector<uint8_t>(buffer_.begin() + off, buffer_.begin() + off + n)});
    }
  }
}

bool Pair::step(tquic::Instant end) {
  while (!wire_.empty() && wire_.front().at <= now) {
    InFlight d = std::move(wire_.front());
    wire_.pop_front();
    tquic::Endpoint& to = d.to_server ? server_ep : client_ep;
    to.on_datagram(now, d.to, d.from, 0, d.bytes);
  }
  if (client_ep.next_timeout() <= now) client_ep.on_timeout(now);
  if (server_ep.next_timeout() <= now) server_ep.on_timeout(now);
  if (!server) server = server_ep.accept();
  flush(client_ep, true);
  flush(server_ep, false);
  tquic::Instant next = std::min(client_ep.next_timeout(), server_ep.next_timeout());
  if (!wire_.empty()) next = std::min(next, wire_.front().at);
  // Never past `end`: a caller running for 30 ms must not sleep through an idle timeout.
  now = std::max(now + 1us, std::min(next, end));
  return next != tquic::kNever;
}

bool Pair::run_until(const std::function<bool()>& done, tquic::Duration limit) {
  tquic::Instant end = now + limit;
  while (now < end) {
    if (done()) return true;
    if (!step(end)) return done();
  }
  return done();
}

bool Pair::handshake() {
  return run_until([&] {
    return client.handshake_complete() && server && server->handshake_complete();
  });
}

void Pair::run_for(tquic::Duration d) {
  run_until([] { return false; }, d);
}

std::vector<tquic::Event> drain_events(tquic::Connection& c) {
  std::vector<tquic::Event> out;
  while (auto e = c.poll_event()) out.push_back(*e);
  return out;
}

bool has_event(const std::vector<tquic::Event>& events, tquic::EventKind kind,
               uint64_t stream_id) {
  return std::any_of(events.begin(), events.end(), [&](const tquic::Event& e) {
    return e.kind == kind && (stream_id == UINT64_MAX || e.stream_id == stream_id);
  });
}

std::vector<tquic::Event> wait_event(Pair& p, tquic::Connection& c, tquic::EventKind kind,
                                     uint64_t stream_id) {
  std::vector<tquic::Event> seen;
  p.run_until([&] {
    auto e = drain_events(c);
    seen.insert(seen.end(), e.begin(), e.end());
    return has_event(seen, kind, stream_id);
  });
  return seen;
}

std::vector<uint8_t> pattern(size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(i * 31 + seed + (i >> 8));
  return v;
}

}  // namespace apitest
