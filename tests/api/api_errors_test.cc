// The public error model: every per-call result the facade maps from the core, and how the
// end of a connection is reported (issue #12 item 2).
#include <gtest/gtest.h>

#include <cerrno>

#include "api_pair.h"

namespace apitest {
namespace {

using tquic::Errc;
using tquic::EventKind;

// A client bidirectional stream with 100 bytes written, once the server has seen it.
uint64_t open_seen_stream(Pair& p) {
  auto id = p.client.open_stream(true);
  EXPECT_TRUE(id.has_value());
  EXPECT_TRUE(p.client.stream_write(*id, pattern(100)).has_value());
  EXPECT_TRUE(has_event(wait_event(p, *p.server, EventKind::stream_opened, *id),
                        EventKind::stream_opened, *id));
  return *id;
}

template <class T>
Errc code_of(const tquic::Result<T>& r) {
  EXPECT_FALSE(r.has_value());
  return r.has_value() ? Errc{} : r.error().code;
}

TEST(ApiErrors, UnknownStreamIds) {
  Pair p;
  ASSERT_TRUE(p.handshake());
  uint8_t buf[8] = {};
  EXPECT_EQ(code_of(p.client.stream_write(4, buf)), Errc::unknown_stream);   // not opened yet
  EXPECT_EQ(code_of(p.client.stream_read(0, buf)), Errc::unknown_stream);
  EXPECT_EQ(code_of(p.client.stream_read(1, buf)), Errc::unknown_stream);    // server's, unseen
  EXPECT_EQ(code_of(p.client.stream_reset(8, 1)), Errc::unknown_stream);
  EXPECT_EQ(code_of(p.client.stream_stop_sending(12, 1)), Errc::unknown_stream);
  EXPECT_EQ(code_of(p.client.set_stream_priority(16, 3, true)), Errc::unknown_stream);
  EXPECT_EQ(code_of(p.server->stream_write(0, buf)), Errc::unknown_stream);
}

TEST(ApiErrors, WouldBlockOnEmptyStreamFullBufferAndStreamLimit) {
  PairOptions o;
  o.client.connection.stream_send_buffer = 8192;
  o.server.connection.max_streams_bidi = 2;
  Pair p(o);
  ASSERT_TRUE(p.handshake());
  auto id = p.client.open_stream(true);
  ASSERT_TRUE(id.has_value());
  uint8_t buf[64];
  // Nothing received yet on our own new stream.
  EXPECT_EQ(code_of(p.client.stream_read(*id, buf)), Errc::would_block);
  // The send buffer takes 8 KiB, then a short count, then would_block.
  auto big = pattern(20000);
  auto n = p.client.stream_write(*id, big);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(*n, 8192u);
  auto blocked = p.client.stream_write(*id, std::span(big).subspan(*n));
  EXPECT_EQ(code_of(blocked), Errc::would_block);
  // The peer allows two bidirectional streams at once.
  ASSERT_TRUE(p.client.open_stream(true).has_value());
  EXPECT_EQ(code_of(p.client.open_stream(true)), Errc::would_block);
  // Once the buffer drains the stream is writable again.
  auto ev = wait_event(p, p.client, EventKind::stream_writable, *id);
  EXPECT_TRUE(has_event(ev, EventKind::stream_writable, *id));
  EXPECT_TRUE(p.client.stream_write(*id, big).has_value());
}

TEST(ApiErrors, WriteAfterPeerStopSendingReportsItsCode) {
  Pair p;
  ASSERT_TRUE(p.handshake());
  const uint64_t id = open_seen_stream(p);
  ASSERT_TRUE(p.server->stream_stop_sending(id, 77).has_value());
  // Our own stop: further reads on the server are "finished", not would_block.
  uint8_t buf[16];
  EXPECT_EQ(code_of(p.server->stream_read(id, buf)), Errc::finished);
  EXPECT_EQ(code_of(p.server->stream_stop_sending(id, 77)), Errc::finished);

  auto ev = wait_event(p, p.client, EventKind::stop_sending, id);
  ASSERT_TRUE(has_event(ev, EventKind::stop_sending, id));
  for (const auto& e : ev) {
    if (e.kind == EventKind::stop_sending) {
      EXPECT_EQ(e.app_code, 77u);
    }
  }
  auto w = p.client.stream_write(id, pattern(10));
  ASSERT_FALSE(w.has_value());
  EXPECT_EQ(w.error().code, Errc::stop_sending);
  EXPECT_EQ(w.error().app_code, 77u);
  EXPECT_EQ(code_of(p.client.stream_reset(id, 1)), Errc::stop_sending);
}

TEST(ApiErrors, StopSendingCodeSurvivesWithoutPollingEvents) {
  // The application writes before it polls: the facade still knows why the stream stopped.
  Pair p;
  ASSERT_TRUE(p.handshake());
  const uint64_t id = open_seen_stream(p);
  ASSERT_TRUE(p.server->stream_stop_sending(id, 5).has_value());
  p.run_for(200ms);
  auto w = p.client.stream_write(id, pattern(10));
  ASSERT_FALSE(w.has_value());
  EXPECT_EQ(w.error().code, Errc::stop_sending);
  EXPECT_EQ(w.error().app_code, 5u);
}

TEST(ApiErrors, ReadAfterPeerResetReportsItsCode) {
  Pair p;
  ASSERT_TRUE(p.handshake());
  const uint64_t id = open_seen_stream(p);
  ASSERT_TRUE(p.client.stream_reset(id, 42).has_value());
  // A second reset of our own part: finished (already reset); writes too.
  EXPECT_EQ(code_of(p.client.stream_reset(id, 42)), Errc::finished);
  EXPECT_EQ(code_of(p.client.stream_write(id, pattern(3))), Errc::finished);

  auto ev = wait_event(p, *p.server, EventKind::stream_reset, id);
  ASSERT_TRUE(has_event(ev, EventKind::stream_reset, id));
  for (const auto& e : ev) {
    if (e.kind == EventKind::stream_reset) {
      EXPECT_EQ(e.app_code, 42u);
    }
  }
  uint8_t buf[256];
  for (int i = 0; i < 2; ++i) {  // stays reported, read after read
    auto r = p.server->stream_read(id, buf);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, Errc::stream_reset);
    EXPECT_EQ(r.error().app_code, 42u);
  }
  EXPECT_EQ(code_of(p.server->stream_stop_sending(id, 1)), Errc::stream_reset);
  // The server's own sending part is untouched by the client's reset.
  EXPECT_TRUE(p.server->stream_write(id, pattern(5), true).has_value());
}

TEST(ApiErrors, DirectionMisuseIsInvalidArgument) {
  Pair p;
  ASSERT_TRUE(p.handshake());
  auto uni = p.client.open_stream(false);
  ASSERT_TRUE(uni.has_value());
  ASSERT_TRUE(p.client.stream_write(*uni, pattern(10)).has_value());
  wait_event(p, *p.server, EventKind::stream_opened, *uni);
  uint8_t buf[16];
  EXPECT_EQ(code_of(p.client.stream_read(*uni, buf)), Errc::invalid_argument);   // send-only
  EXPECT_EQ(code_of(p.client.stream_stop_sending(*uni, 1)), Errc::invalid_argument);
  EXPECT_EQ(code_of(p.server->stream_write(*uni, buf)), Errc::invalid_argument);  // receive-only
  EXPECT_EQ(code_of(p.server->stream_reset(*uni, 1)), Errc::invalid_argument);
  auto bidi = p.client.open_stream(true);
  ASSERT_TRUE(bidi.has_value());
  EXPECT_EQ(code_of(p.client.set_stream_priority(*bidi, 8, false)), Errc::invalid_argument);
  EXPECT_TRUE(p.client.set_stream_priority(*bidi, 0, false).has_value());
  EXPECT_EQ(code_of(p.client.stream_read(*bidi, std::span<uint8_t>())), Errc::invalid_argument);
}

TEST(ApiErrors, DatagramMisuseIsInvalidArgument) {
  PairOptions o;
  o.server.connection.max_datagram_frame_size = 500;
  Pair p(o);  // the client offers no DATAGRAM support: the server cannot send any
  ASSERT_TRUE(p.handshake());
  EXPECT_EQ(p.server->max_datagram_payload(), 0u);
  EXPECT_EQ(code_of(p.server->send_datagram(pattern(1))), Errc::invalid_argument);
  size_t max = p.client.max_datagram_payload();
  ASSERT_GT(max, 0u);
  EXPECT_LT(max, 500u);
  EXPECT_EQ(code_of(p.client.send_datagram(pattern(max + 1))), Errc::invalid_argument);
  EXPECT_TRUE(p.client.send_datagram(pattern(max)).has_value());
}

TEST(ApiErrors, ApplicationCloseFromThePeerAndConnectionClosedResults) {
  Pair p;
  ASSERT_TRUE(p.handshake());
  auto id = p.client.open_stream(true);
  ASSERT_TRUE(id.has_value());
  EXPECT_FALSE(p.client.close_error().has_value());
  p.client.close(9, "bye", p.now);
  EXPECT_TRUE(p.client.is_closed());
  EXPECT_EQ(code_of(p.client.stream_write(*id, pattern(1))), Errc::connection_closed);
  EXPECT_EQ(code_of(p.client.open_stream(true)), Errc::connection_closed);
  auto local = p.client.close_error();
  ASSERT_TRUE(local.has_value());
  EXPECT_EQ(local->code, 9u);
  EXPECT_TRUE(local->application);
  EXPECT_FALSE(local->from_peer);

  auto ev = wait_event(p, *p.server, EventKind::closed);
  const tquic::Event* closed = nullptr;
  for (const auto& e : ev) {
    if (e.kind == EventKind::closed) closed = &e;
  }
  ASSERT_NE(closed, nullptr);
  ASSERT_TRUE(closed->close.has_value());
  EXPECT_EQ(closed->close->code, 9u);
  EXPECT_TRUE(closed->close->application);
  EXPECT_TRUE(closed->close->from_peer);
  EXPECT_EQ(closed->close->reason, "bye");
  EXPECT_EQ(code_of(p.server->open_stream(false)), Errc::connection_closed);

  // After the closing period the endpoint frees it: the handle then reports it gone.
  p.run_for(5s);
  p.server_ep.reap_closed();
  p.client_ep.reap_closed();
  EXPECT_EQ(p.server_ep.connection_count(), 0u);
  EXPECT_EQ(code_of(p.server->info()), Errc::connection_closed);
  EXPECT_EQ(code_of(p.client.stream_read(*id, std::span<uint8_t>())), Errc::connection_closed);
  EXPECT_FALSE(p.server->poll_event().has_value());
}

TEST(ApiErrors, PeerTransportErrorIsReportedAsFromThePeer) {
  // The server does not speak the client's ALPN: the server's TLS stack refuses the
  // handshake and closes with a CRYPTO_ERROR (0x100 + TLS alert), a transport error.
  PairOptions o;
  o.client.tls.alpn = {"not-echo"};
  Pair p(o);
  ASSERT_TRUE(p.run_until([&] { return p.client.close_error().has_value(); }));
  auto at_client = p.client.close_error();
  EXPECT_FALSE(at_client->application);
  EXPECT_GE(at_client->code, 0x100u);
  EXPECT_LT(at_client->code, 0x200u);
  std::optional<tquic::TransportError> from_event;
  for (const auto& e : drain_events(p.client)) {
    if (e.kind == EventKind::closed) from_event = e.close;
  }
  ASSERT_TRUE(from_event.has_value());
  EXPECT_EQ(from_event->code, at_client->code);
  // One side detected it, the other heard it from its peer, with the same code.
  ASSERT_TRUE(p.server.has_value());
  ASSERT_TRUE(p.run_until([&] { return p.server->close_error().has_value(); }, 2s));
  auto at_server = p.server->close_error();
  EXPECT_EQ(at_server->code, at_client->code);
  EXPECT_NE(at_server->from_peer, at_client->from_peer);
  EXPECT_TRUE(at_client->from_peer);  // the server refused: the client heard it
  EXPECT_NE(tquic::to_string(*at_client).find("from the peer"), std::string::npos);
}

TEST(ApiErrors, BadOptionsAreInvalidArgument) {
  tquic::EndpointOptions o;  // no ALPN
  auto e = tquic::Endpoint::create(o);
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().code, Errc::invalid_argument);
  o.tls.alpn = {"x"};
  o.server = true;
  o.tls.cert_file = "/nonexistent/cert.pem";
  o.tls.key_file = "/nonexistent/key.pem";
  auto bad_cert = tquic::Endpoint::create(o);
  ASSERT_FALSE(bad_cert.has_value());
  EXPECT_EQ(bad_cert.error().code, Errc::invalid_argument);
  EXPECT_FALSE(bad_cert.error().detail.empty());
  // A server endpoint does not make client connections.
  auto server = tquic::Endpoint::create(PairOptions().server);
  ASSERT_TRUE(server.has_value());
  EXPECT_EQ(code_of(server->connect(Pair::kClientAddr, Pair::kServerAddr, tquic::instant_from_ns(1))),
            Errc::invalid_argument);
  tquic::EndpointOptions c;
  c.tls.alpn = {"x"};
  c.connection.max_paths = 0;
  EXPECT_EQ(code_of(tquic::Endpoint::create(c)), Errc::invalid_argument);
}

TEST(ApiErrors, IoErrorCarriesErrno) {
  // 192.0.2.1 (TEST-NET-1) is not an address of this host: bind fails with EADDRNOTAVAIL.
  auto s = tquic::io::UdpSocket::open(tquic::Address::v4(192, 0, 2, 1, 0));
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().errno_value, EADDRNOTAVAIL);
  EXPECT_NE(s.error().what.find("bind"), std::string::npos);
  auto ok = tquic::io::UdpSocket::open(tquic::Address::v4(127, 0, 0, 1, 0));
  ASSERT_TRUE(ok.has_value()) << ok.error().what;
  EXPECT_NE(ok->local_address().port, 0);
}

}  // namespace
}  // namespace apitest
