// GSO runs built by the core (Connection::poll_transmit with max_segments > 1): a bulk upload
// over test::Pair with the client's endpoint building runs, checked transmit by transmit, and
// against the same upload with runs of at most two (a run must change how datagrams are handed
// over, never what is sent or when). Runs of one (max_segments 1) differ only in that STREAM
// frames do not top up their packets (conn_streams.cc fill_stream_chunk).
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "cc/pacer.h"
#include "harness/sim_endpoint.h"
#include "support/pair.h"

namespace quic {
namespace {

using namespace std::chrono_literals;

constexpr size_t kRunMax = 64;  // what the driver asks for on a GSO socket (UDP_MAX_SEGMENTS)
constexpr size_t kUpload = 1 << 20;
const SocketAddress kSecond = SocketAddress::v4(192, 0, 2, 11, 50001);

struct Sent {
  Instant at;
  Transmit t;
  std::vector<std::vector<uint8_t>> datagrams;
};

struct Outcome {
  uint64_t trace_hash = 0;
  uint64_t datagrams = 0;
  uint64_t dropped_at_server = 0;
  std::vector<Sent> transmits;  // the client's, with their datagrams
};

struct Scenario {
  size_t max_segments = 1;
  bool multipath = false;
  sim::LinkConfig link = test::NetConfig::instant_link();
};

// The client uploads kUpload bytes on one stream; the server reads as it arrives.
Outcome upload(const Scenario& s) {
  test::PairConfig c;
  c.max_segments = s.max_segments;
  c.net.to_server = c.net.to_client = s.link;
  if (s.multipath) {
    c.client.connection.multipath = c.server.connection.multipath = true;
    c.net.extra_client_addrs = {kSecond};
  }
  test::Pair p(c);
  Outcome out;
  p.client_host().on_transmit = [&](const Transmit& t, Instant now) {
    out.transmits.push_back({now, t, {}});
  };
  p.client_host().on_send = [&](const sim::Datagram& d, Instant) {
    out.transmits.back().datagrams.push_back(d.payload);
  };
  EXPECT_TRUE(p.handshake());
  EXPECT_TRUE(p.settle(100ms));  // confirmed: runs may start
  if (s.multipath) {
    EXPECT_TRUE(p.client()->add_path(kSecond, c.net.server_addr).has_value());
    EXPECT_TRUE(p.settle(200ms));
  }
  auto id = p.client()->open_stream(true);
  EXPECT_TRUE(id.has_value());
  std::vector<uint8_t> data(kUpload, 0x42);
  EXPECT_EQ(p.client()->stream_write(*id, data, true).value_or(0), data.size());
  uint64_t received = 0;
  bool fin = false;
  std::vector<uint8_t> buf(64 * 1024);
  p.server_side_state().on_activity_hook = [&](Instant) {
    Connection* conn = p.server();
    if (conn == nullptr) return;
    while (conn->poll_event()) {
    }
    while (!fin) {
      auto n = conn->stream_read(*id, buf, &fin);
      if (!n || *n == 0) break;
      received += *n;
    }
  };
  EXPECT_TRUE(p.drive_until([&] { return fin; }, test::Limits{2'000'000, 60s}));
  EXPECT_EQ(received, kUpload);
  out.trace_hash = p.network().trace_hash();
  for (const Sent& t : out.transmits) out.datagrams += t.datagrams.size();
  if (p.server() != nullptr) out.dropped_at_server = p.server()->stats().packets_dropped;
  return out;
}

size_t runs_of_several(const Outcome& o) {
  return static_cast<size_t>(std::ranges::count_if(
      o.transmits, [](const Sent& s) { return s.datagrams.size() > 1; }));
}

// Every run: all datagrams but the last of exactly segment_size bytes, within max_segments,
// only short-header (1-RTT) packets; single transmits carry no segment size.
void expect_well_formed_runs(const Outcome& o) {
  for (const Sent& s : o.transmits) {
    ASSERT_FALSE(s.datagrams.empty());
    if (s.datagrams.size() == 1) {
      EXPECT_EQ(s.t.segment_size, 0u);
      continue;
    }
    ASSERT_LE(s.datagrams.size(), kRunMax);
    EXPECT_EQ(s.datagrams.front().size(), s.t.segment_size);
    for (size_t i = 0; i < s.datagrams.size(); ++i) {
      const auto& d = s.datagrams[i];
      if (i + 1 < s.datagrams.size()) {
        EXPECT_EQ(d.size(), s.t.segment_size);
      }
      EXPECT_LE(d.size(), s.t.segment_size);
      EXPECT_EQ(d[0] & 0x80, 0) << "a long-header (handshake) packet inside a run";
    }
  }
}

size_t longest_run(const Outcome& o) {
  size_t longest = 0;
  for (const Sent& s : o.transmits) longest = std::max(longest, s.datagrams.size());
  return longest;
}

TEST(GsoRun, BulkUploadBuildsFullSizeRunsThatSendWhatShorterRunsSend) {
  Outcome runs = upload({kRunMax});
  Outcome pairs = upload({2});
  Outcome singles = upload({1});
  expect_well_formed_runs(runs);
  expect_well_formed_runs(pairs);
  EXPECT_GT(runs_of_several(runs), 10u);
  EXPECT_EQ(longest_run(pairs), 2u);
  EXPECT_EQ(longest_run(singles), 1u);
  // Long runs, not pairs: a fast link lets the pacer release whole bursts.
  EXPECT_GE(longest_run(runs), size_t{kPacerBurstPackets});
  // Same datagrams, same bytes, same times on the wire.
  EXPECT_EQ(runs.datagrams, pairs.datagrams);
  EXPECT_EQ(runs.trace_hash, pairs.trace_hash);
  EXPECT_LT(runs.transmits.size(), runs.datagrams / 4);  // far fewer calls than datagrams
  // Full packets: the same upload in fewer datagrams than without runs.
  EXPECT_LT(runs.datagrams, singles.datagrams);
}

TEST(GsoRun, HandshakeDatagramsAreNeverInARun) {
  Outcome runs = upload({kRunMax});
  size_t long_header = 0;
  for (const Sent& s : runs.transmits) {
    if ((s.datagrams.front()[0] & 0x80) == 0) continue;
    ++long_header;
    EXPECT_EQ(s.datagrams.size(), 1u);
    EXPECT_EQ(s.t.segment_size, 0u);
  }
  EXPECT_GT(long_header, 0u);  // the client's Initial and Handshake datagrams were seen
}

// A 10 Mbit/s link, 40 ms RTT: the pacer's rate sends well under kPacerBurstPackets per
// millisecond, so its bucket holds kPacerBurstPackets packets (cc/pacer.h) and no run may carry
// more. Each run leaves at one instant; between two runs the bucket refills at most by what
// the elapsed time allows, which the identical trace against runs of at most two shows.
TEST(GsoRun, PacingBoundsEveryRunOnASlowLink) {
  Scenario s{kRunMax};
  s.link.rate_bps = 10e6;
  s.link.delay = 20ms;
  s.link.queue_bytes = 64 * 1500;
  Outcome runs = upload(s);
  s.max_segments = 2;
  Outcome pairs = upload(s);
  expect_well_formed_runs(runs);
  EXPECT_GT(runs_of_several(runs), 0u);
  for (const Sent& t : runs.transmits) {
    EXPECT_LE(t.datagrams.size(), size_t{kPacerBurstPackets}) << "at " << to_us(t.at.time_since_epoch());
  }
  EXPECT_EQ(runs.trace_hash, pairs.trace_hash);
  // Two runs at distinct instants: the second never exceeds the bucket, and datagrams sent at
  // one instant never exceed it either (runs of one connection do not follow each other at
  // the same instant unless the first ended on something else than pacing).
  std::vector<std::pair<Instant, size_t>> per_instant;
  for (const Sent& t : runs.transmits) {
    size_t full = static_cast<size_t>(std::ranges::count_if(
        t.datagrams, [&](const auto& d) { return d.size() >= 1200; }));
    if (!per_instant.empty() && per_instant.back().first == t.at) {
      per_instant.back().second += full;
    } else {
      per_instant.emplace_back(t.at, full);
    }
  }
  for (const auto& [at, n] : per_instant) EXPECT_LE(n, size_t{kPacerBurstPackets} + 1);
}

TEST(GsoRun, MultipathRunsNeverMixPaths) {
  Outcome runs = upload({kRunMax, true});
  Outcome pairs = upload({2, true});
  expect_well_formed_runs(runs);
  // Runs on both paths (both client addresses sent runs) ...
  std::vector<SocketAddress> run_sources;
  for (const Sent& s : runs.transmits) {
    if (s.datagrams.size() > 1 &&
        std::ranges::find(run_sources, s.t.local) == run_sources.end()) {
      run_sources.push_back(s.t.local);
    }
  }
  EXPECT_EQ(run_sources.size(), 2u);
  // ... and every datagram went where and when it goes in runs of at most two: a datagram
  // built for one path inside another path's run would change the trace (and fail to open at
  // the server, the path ID being part of the nonce).
  EXPECT_EQ(runs.trace_hash, pairs.trace_hash);
  EXPECT_EQ(runs.dropped_at_server, 0u);
}

// Direct calls: the buffer, max_segments and 1 bound a run.
TEST(GsoRun, BufferAndMaxSegmentsBoundTheRun) {
  test::Pair p;
  ASSERT_TRUE(p.handshake());
  ASSERT_TRUE(p.settle(100ms));
  Connection* c = p.client();
  auto id = c->open_stream(true);
  ASSERT_TRUE(id.has_value());
  std::vector<uint8_t> data(200'000, 0x17);
  ASSERT_EQ(c->stream_write(*id, data, true).value_or(0), data.size());
  const size_t mtu = c->path().mtu;
  std::vector<uint8_t> buf(65536);
  const Instant now = p.now();

  auto one = c->poll_transmit(now, buf, 1);
  ASSERT_TRUE(one.has_value());
  EXPECT_EQ(one->segment_size, 0u);
  EXPECT_LE(one->size, mtu);

  auto small = c->poll_transmit(now, MutBytes(buf.data(), 2 * mtu - 1), kRunMax);
  ASSERT_TRUE(small.has_value());
  EXPECT_EQ(small->segment_size, 0u);  // no room for a second datagram
  EXPECT_EQ(small->size, mtu);

  auto two = c->poll_transmit(now, MutBytes(buf.data(), 2 * mtu), kRunMax);
  ASSERT_TRUE(two.has_value());
  EXPECT_EQ(two->segment_size, mtu);
  EXPECT_EQ(two->size, 2 * mtu);

  auto three = c->poll_transmit(now, buf, 3);
  ASSERT_TRUE(three.has_value());
  EXPECT_EQ(three->segment_size, mtu);
  EXPECT_EQ(three->size, 3 * mtu);
}

}  // namespace
}  // namespace quic
