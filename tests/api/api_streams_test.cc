// The facade end to end in-process: handshake, info snapshots, stream transfer both ways,
// datagrams, through public headers only.
#include <gtest/gtest.h>

#include <algorithm>

#include "api_pair.h"

namespace apitest {
namespace {

using tquic::Errc;
using tquic::EventKind;

// Reads everything the stream has now; fin once the end was read.
void read_all(tquic::Connection& c, uint64_t id, std::vector<uint8_t>& out, bool& fin) {
  uint8_t buf[4096];
  while (!fin) {
    auto r = c.stream_read(id, buf);
    if (!r) {
      ASSERT_EQ(r.error().code, Errc::would_block) << tquic::to_string(r.error());
      return;
    }
    out.insert(out.end(), buf, buf + r->bytes);
    fin = r->fin;
  }
}

// Sends a growing buffer: as much of data[off..] as the stream takes, FIN once `last` says
// the buffer is complete and everything was accepted.
struct Sender {
  size_t off = 0;
  bool fin_sent = false;
  void pump(tquic::Connection& c, uint64_t id, const std::vector<uint8_t>& data, bool last) {
    while (!fin_sent && (off < data.size() || last)) {
      auto n = c.stream_write(id, std::span(data).subspan(off), last);
      if (!n) {
        ASSERT_EQ(n.error().code, Errc::would_block) << tquic::to_string(n.error());
        return;
      }
      off += *n;
      fin_sent = last && off == data.size();
    }
  }
};

TEST(ApiStreams, HandshakeEventsAndInfoSnapshot) {
  Pair p;
  ASSERT_TRUE(p.handshake());
  auto ce = drain_events(p.client);
  auto se = drain_events(*p.server);
  EXPECT_TRUE(has_event(ce, EventKind::handshake_completed));
  EXPECT_TRUE(has_event(se, EventKind::handshake_completed));

  // Move some data so the figures are non-trivial.
  auto id = p.client.open_stream(true);
  ASSERT_TRUE(id.has_value());
  auto data = pattern(50000);
  Sender tx;
  ASSERT_TRUE(p.run_until([&] {
    tx.pump(p.client, *id, data, true);
    return tx.fin_sent;
  }));
  p.run_for(500ms);

  auto info = p.client.info();
  ASSERT_TRUE(info.has_value());
  EXPECT_FALSE(info->server);
  EXPECT_TRUE(info->handshake_complete);
  EXPECT_EQ(info->version, 1u);
  EXPECT_EQ(info->alpn, "echo");
  EXPECT_FALSE(info->multipath);
  EXPECT_GT(info->handshake_time.count(), 0);
  EXPECT_GE(info->bytes_sent, data.size());
  EXPECT_GT(info->packets_received, 0u);
  ASSERT_EQ(info->paths.size(), 1u);
  const tquic::PathInfo& path = info->paths[0];
  EXPECT_EQ(path.id, 0u);
  EXPECT_EQ(path.local, Pair::kClientAddr);
  EXPECT_EQ(path.remote, Pair::kServerAddr);
  EXPECT_EQ(path.state, tquic::PathState::active);
  // Round trip of the wire: 2 x 10 ms (plus the peer's ack delay at most).
  EXPECT_GE(path.min_rtt, 20ms);
  EXPECT_LT(path.min_rtt, 60ms);
  EXPECT_GE(path.srtt, path.min_rtt);
  EXPECT_GT(path.cwnd, 0u);
  EXPECT_GT(path.pacing_rate_bps, 0u);
  EXPECT_GE(path.bytes_sent, data.size());
  EXPECT_GT(path.bytes_received, 0u);
  EXPECT_GT(path.packets_sent, data.size() / 1500);
  EXPECT_EQ(path.packets_lost, 0u);
  EXPECT_GE(path.pmtu, 1200);
  EXPECT_EQ(path.bytes_in_flight, 0u);  // all acknowledged after 500 ms of quiet

  auto sinfo = p.server->info();
  ASSERT_TRUE(sinfo.has_value());
  EXPECT_TRUE(sinfo->server);
  EXPECT_EQ(sinfo->paths.at(0).remote, Pair::kClientAddr);
  EXPECT_GE(sinfo->bytes_received, data.size());
}

// Sends `data` on a new client stream, which the server echoes as it arrives; returns the
// stream ID, with what each side read.
uint64_t echo(Pair& p, const std::vector<uint8_t>& data, std::vector<uint8_t>& at_server,
              std::vector<uint8_t>& at_client) {
  auto id = p.client.open_stream(true);
  if (!id) return UINT64_MAX;
  Sender ctx, stx;
  bool sfin = false, cfin = false, opened = false;
  p.run_until([&] {
    ctx.pump(p.client, *id, data, true);
    opened = opened || has_event(drain_events(*p.server), EventKind::stream_opened, *id);
    if (!opened) return false;
    read_all(*p.server, *id, at_server, sfin);
    stx.pump(*p.server, *id, at_server, sfin);  // echo what arrived so far
    read_all(p.client, *id, at_client, cfin);
    return cfin;
  });
  return *id;
}

TEST(ApiStreams, EchoIsByteExactAndReadAfterEndIsFinished) {
  Pair p;
  ASSERT_TRUE(p.handshake());
  auto data = pattern(300000, 7);
  std::vector<uint8_t> at_server, at_client;
  const uint64_t id = echo(p, data, at_server, at_client);
  EXPECT_EQ(id, 0u);
  EXPECT_EQ(at_server, data);
  EXPECT_EQ(at_client, data);
  EXPECT_EQ(p.client_transmits().longest_run, 1u);  // max_segments 1: one datagram per call

  uint8_t buf[16];
  auto again = p.client.stream_read(id, buf);
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code, Errc::finished);
  auto server_again = p.server->stream_read(id, buf);
  ASSERT_FALSE(server_again.has_value());
  EXPECT_EQ(server_again.error().code, Errc::finished);
  // Writing after our FIN is "finished" too.
  auto w = p.client.stream_write(id, data);
  ASSERT_FALSE(w.has_value());
  EXPECT_EQ(w.error().code, Errc::finished);

  // Once both directions are acknowledged the core frees the stream; the answers stay.
  p.run_for(1s);
  auto ce = drain_events(p.client);
  EXPECT_TRUE(has_event(ce, EventKind::stream_acked, id));
  auto freed = p.client.stream_read(id, buf);
  ASSERT_FALSE(freed.has_value());
  EXPECT_EQ(freed.error().code, Errc::finished);
}

// The zero-copy forms through public headers: the client fills the send buffer in place, the
// server takes the bytes in place, at most 999 of the first span; every byte arrives in order.
TEST(ApiStreams, ZeroCopyWriteAndReadMoveEveryByteInOrder) {
  Pair p;
  ASSERT_TRUE(p.handshake());
  auto data = pattern(250000, 3);
  auto id = p.client.open_stream(true);
  ASSERT_TRUE(id.has_value());
  size_t off = 0;
  bool fin_sent = false, fin = false, opened = false;
  std::vector<uint8_t> got;
  auto fill = [&](std::span<uint8_t> dst) {
    std::copy_n(data.begin() + static_cast<ptrdiff_t>(off), dst.size(), dst.begin());
    off += dst.size();
    return dst.size();
  };
  auto take = [&](std::span<const std::span<const uint8_t>> spans) {
    size_t n = std::min<size_t>(spans[0].size(), 999);
    got.insert(got.end(), spans[0].begin(), spans[0].begin() + static_cast<ptrdiff_t>(n));
    return n;
  };
  ASSERT_TRUE(p.run_until([&] {
    while (!fin_sent) {
      const size_t left = data.size() - off;
      auto n = p.client.stream_write_with(*id, left, fill, true);
      if (!n) {
        EXPECT_EQ(n.error().code, Errc::would_block) << tquic::to_string(n.error());
        break;
      }
      fin_sent = *n == left;
    }
    opened = opened || has_event(drain_events(*p.server), EventKind::stream_opened, *id);
    while (opened && !fin) {
      auto r = p.server->stream_read_with(*id, 1 << 20, take);
      if (!r) {
        EXPECT_EQ(r.error().code, Errc::would_block) << tquic::to_string(r.error());
        break;
      }
      fin = r->fin;
    }
    return fin;
  }));
  EXPECT_EQ(got, data);
  const auto count = [](std::span<const std::span<const uint8_t>> spans) { return spans.size(); };
  auto empty = p.server->stream_read_with(*id, 0, count);  // (a const callable compiles too)
  ASSERT_FALSE(empty.has_value());
  EXPECT_EQ(empty.error().code, Errc::invalid_argument);
  auto after = p.client.stream_write_with(*id, 10, fill);
  ASSERT_FALSE(after.has_value());
  EXPECT_EQ(after.error().code, Errc::finished);
}

// poll_transmit(now, buffer, max_segments): an embedder with GSO gets runs of one path's
// datagrams, every one but the last of segment_size bytes, and the transfer is the same.
TEST(ApiStreams, GsoRunsThroughThePublicPollTransmit) {
  PairOptions o;
  o.max_segments = 16;
  Pair p(o);
  ASSERT_TRUE(p.handshake());
  auto data = pattern(1 << 20, 9);
  std::vector<uint8_t> at_server, at_client;
  echo(p, data, at_server, at_client);
  EXPECT_EQ(at_server, data);
  EXPECT_EQ(at_client, data);
  for (const TransmitFigures* f : {&p.client_transmits(), &p.server_transmits()}) {
    EXPECT_GT(f->longest_run, 1u);
    EXPECT_LE(f->longest_run, 16u);
    EXPECT_EQ(f->bad_segments, 0u);
    EXPECT_LT(f->transmits, f->datagrams);  // runs saved calls
  }
}

TEST(ApiStreams, PeerStreamOpenedEventAndUniStream) {
  Pair p;
  ASSERT_TRUE(p.handshake());
  auto id = p.client.open_stream(false);
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(*id, 2u);  // client-initiated unidirectional
  auto msg = pattern(1000);
  auto n = p.client.stream_write(*id, msg, true);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(*n, msg.size());
  auto se = wait_event(p, *p.server, EventKind::stream_readable, *id);
  ASSERT_TRUE(has_event(se, EventKind::stream_readable, *id));
  EXPECT_TRUE(has_event(se, EventKind::stream_opened, *id));
  std::vector<uint8_t> got;
  bool fin = false;
  read_all(*p.server, *id, got, fin);
  EXPECT_TRUE(fin);
  EXPECT_EQ(got, msg);
}

TEST(ApiStreams, DatagramsBothWays) {
  PairOptions o;
  o.client.connection.max_datagram_frame_size = 1200;
  o.server.connection.max_datagram_frame_size = 1200;
  Pair p(o);
  ASSERT_TRUE(p.handshake());
  size_t max = p.client.max_datagram_payload();
  EXPECT_GT(max, 1000u);
  EXPECT_LT(max, 1200u);
  auto info = p.client.info();
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->max_datagram_payload, max);

  // A datagram of exactly the largest payload fits; the server reads into its own buffer.
  std::vector<std::vector<uint8_t>> sent = {pattern(10, 1), pattern(max, 2), pattern(1, 3)};
  for (const auto& d : sent) ASSERT_TRUE(p.client.send_datagram(d).has_value());
  std::vector<std::vector<uint8_t>> got;
  bool event = false;
  ASSERT_TRUE(p.run_until([&] {
    auto se = drain_events(*p.server);
    event = event || has_event(se, EventKind::datagram_received);
    std::vector<uint8_t> buf(2048);
    while (auto n = p.server->recv_datagram(std::span<uint8_t>(buf))) {
      got.emplace_back(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(*n));
    }
    return got.size() == sent.size();
  }));
  EXPECT_TRUE(event);
  EXPECT_EQ(got, sent);
  std::vector<uint8_t> empty(16);
  auto none = p.server->recv_datagram(std::span<uint8_t>(empty));
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().code, Errc::would_block);

  // And back.
  ASSERT_TRUE(p.server->send_datagram(pattern(99, 9)).has_value());
  std::optional<std::vector<uint8_t>> back;
  ASSERT_TRUE(p.run_until([&] { return (back = p.client.recv_datagram()).has_value(); }));
  EXPECT_EQ(*back, pattern(99, 9));
}

TEST(ApiStreams, ResumptionWithTheSessionTicket) {
  Pair p;
  ASSERT_TRUE(p.handshake());
  ASSERT_TRUE(p.run_until([&] { return !p.client.session_ticket().empty(); }));
  auto first = p.client.info();
  ASSERT_TRUE(first.has_value());
  EXPECT_FALSE(first->resumed);
  tquic::ConnectParams params;
  params.session_ticket = p.client.session_ticket();
  params.token = p.client.new_token();
  constexpr tquic::Address kOtherPort = tquic::Address::v4(10, 0, 0, 1, 5002);
  auto second = p.client_ep.connect(kOtherPort, Pair::kServerAddr, p.now, params);
  ASSERT_TRUE(second.has_value());
  EXPECT_NE(second->id(), p.client.id());
  ASSERT_TRUE(p.run_until([&] { return second->handshake_complete(); }));
  auto info = second->info();
  ASSERT_TRUE(info.has_value());
  EXPECT_TRUE(info->resumed);
  EXPECT_EQ(info->paths.at(0).local, kOtherPort);
  EXPECT_EQ(p.client_ep.connection_count(), 2u);
}

TEST(ApiStreams, MultipathPathsInTheSnapshot) {
  PairOptions o;
  o.client.connection.multipath = true;
  o.server.connection.multipath = true;
  Pair p(o);
  ASSERT_TRUE(p.handshake());
  constexpr tquic::Address kSecond = tquic::Address::v4(10, 0, 0, 3, 5001);
  ASSERT_TRUE(p.client.add_path(kSecond, Pair::kServerAddr).has_value());
  auto ev = wait_event(p, p.client, EventKind::path_validated);
  const tquic::Event* validated = nullptr;
  for (const auto& e : ev) {
    if (e.kind == EventKind::path_validated) validated = &e;
  }
  ASSERT_NE(validated, nullptr);
  EXPECT_EQ(validated->path_id, 1u);
  ASSERT_TRUE(p.client.set_path_backup(1, true).has_value());
  ASSERT_TRUE(p.client.set_path_keepalive(1, 10s).has_value());
  EXPECT_EQ(p.client.set_path_keepalive(9, 10s).error().code, tquic::Errc::invalid_argument);
  EXPECT_EQ(p.client.set_path_keepalive(1, 1ms).error().code, tquic::Errc::invalid_argument);
  p.run_for(200ms);

  auto info = p.client.info();
  ASSERT_TRUE(info.has_value());
  EXPECT_TRUE(info->multipath);
  ASSERT_EQ(info->paths.size(), 2u);
  EXPECT_EQ(info->paths[0].state, tquic::PathState::active);
  EXPECT_EQ(info->paths[1].id, 1u);
  EXPECT_EQ(info->paths[1].local, kSecond);
  EXPECT_EQ(info->paths[1].remote, Pair::kServerAddr);
  EXPECT_EQ(info->paths[1].state, tquic::PathState::backup);
  EXPECT_EQ(info->paths[1].keepalive, 10s);  // its own
  EXPECT_EQ(info->paths[0].keepalive, 1s);   // the connection-wide default
  EXPECT_GE(info->paths[1].min_rtt, 20ms);
  EXPECT_GE(info->paths_validated, 1u);
  auto sinfo = p.server->info();
  ASSERT_TRUE(sinfo.has_value());
  ASSERT_EQ(sinfo->paths.size(), 2u);
  EXPECT_EQ(sinfo->paths[1].remote, kSecond);
  EXPECT_EQ(sinfo->paths[1].state, tquic::PathState::backup);  // the peer's status counts

  // Misuse of path calls is invalid_argument.
  auto bad = p.client.abandon_path(7);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, tquic::Errc::invalid_argument);
}

}  // namespace
}  // namespace apitest
