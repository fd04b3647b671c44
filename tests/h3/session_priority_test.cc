// RFC 9218 priorities end to end: responses of different urgency over a 10 Mbit/s bottleneck
// in virtual time. The server's Session applies each request's Priority field (and later
// PRIORITY_UPDATEs) to its response stream; the transport's scheduler does the rest.
#include <gtest/gtest.h>

#include <map>

#include "h3_fixture.h"

namespace h3test {
namespace {

using h3::Event;
using h3::EventKind;
using h3::Field;
using Fields = std::vector<Field>;
using Ms = std::chrono::milliseconds;

constexpr size_t kResponseBytes = 150'000;

struct Timeline {
  Instant start{};
  std::map<uint64_t, Instant> first_data, done;
  double ms(Instant t) const {
    return std::chrono::duration<double, std::milli>(t - start).count();
  }
};

// A server answering every request with kResponseBytes at once, and a client that sends
// `requests` (path, priority field value; empty: none) together and reads every body.
struct Scenario {
  Pair p{PairOptions{.rate_bps = 10e6}};
  Timeline t;
  std::vector<uint64_t> ids;
  std::function<void(Peer&, const Event&, Instant)> client_hook;

  explicit Scenario(std::vector<std::pair<std::string, std::string>> requests) {
    p.server.on_event = [](Peer& s, const Event& e, Instant) {
      if (e.kind != EventKind::kHeaders) return;
      std::vector<uint8_t> body(kResponseBytes, 0x42);
      ASSERT_TRUE(s.session->send_response(e.stream_id, Fields{{":status", "200"}}, body, true));
    };
    p.client.on_tick = [this, requests](Peer& c, Instant now) {
      if (!ids.empty() || !c.handshake_done() || !c.session->peer_settings()) return;
      t.start = now;
      for (const auto& [path, prio] : requests) {
        auto req = get_request(path);
        if (!prio.empty()) req.push_back({"priority", prio});
        auto id = c.session->send_request(req);
        ASSERT_TRUE(id);
        ids.push_back(*id);
      }
    };
    p.client.on_event = [this](Peer& c, const Event& e, Instant now) {
      if (e.kind == EventKind::kData) {
        t.first_data.try_emplace(e.stream_id, now);
        uint8_t buf[16384];
        bool fin = false;
        while (c.session->read_body(e.stream_id, buf, &fin) > 0) {
        }
      }
      if (e.kind == EventKind::kFinished) t.done[e.stream_id] = now;
      if (client_hook) client_hook(c, e, now);
    };
  }
  bool run() {
    return p.run_until([&] { return !ids.empty() && t.done.size() == ids.size(); });
  }
  std::vector<uint64_t> completion_order() const {
    std::vector<std::pair<Instant, uint64_t>> v;
    for (auto [id, at] : t.done) v.emplace_back(at, id);
    std::sort(v.begin(), v.end());
    std::vector<uint64_t> out;
    for (auto& [at, id] : v) out.push_back(id);
    return out;
  }
};

TEST(H3Priority, UrgentResponseFirstThenNonIncrementalOnesInStreamOrder) {
  Scenario s({{"/a", "u=5"}, {"/b", "u=1"}, {"/c", ""}, {"/d", ""}});
  ASSERT_TRUE(s.run());
  // Streams 0 (u=5), 4 (u=1), 8 and 12 (default u=3, non-incremental).
  EXPECT_EQ(s.completion_order(), (std::vector<uint64_t>{4, 8, 12, 0}));
  // One at a time: each response starts only once the one before it is complete.
  EXPECT_GE(s.t.first_data[8], s.t.done[4]);
  EXPECT_GE(s.t.first_data[12], s.t.done[8]);
  EXPECT_GE(s.t.first_data[0], s.t.done[12]);
  // 150 kB take ~124 ms at 10 Mbit/s (framing included); the first byte comes one RTT
  // (20 ms) after the requests. Each response then gets the whole link in turn.
  const double want[] = {162, 286, 410, 534};  // ms: streams 4, 8, 12, 0
  const uint64_t order[] = {4, 8, 12, 0};
  for (int i = 0; i < 4; ++i) {
    EXPECT_NEAR(s.t.ms(s.t.done[order[i]]), want[i], 10) << "stream " << order[i];
  }
  EXPECT_NEAR(s.t.ms(s.t.first_data[4]), 21, 3);
}

TEST(H3Priority, IncrementalResponsesShareTheLinkAndFinishTogether) {
  Scenario s({{"/a", "i"}, {"/b", "i"}, {"/c", "i"}});
  ASSERT_TRUE(s.run());
  // Round robin: all three get data from the start and complete within a few packets of
  // each other, at the time all 450 kB need (~410 ms).
  double first = s.t.ms(s.t.done[s.completion_order().at(0)]);
  double last = 0;
  for (auto [id, at] : s.t.done) last = std::max(last, s.t.ms(at));
  EXPECT_LT(last - first, 0.05 * last) << first << " ms vs " << last << " ms";
  for (uint64_t id : s.ids) EXPECT_LT(s.t.ms(s.t.first_data[id]), 25.0);
  EXPECT_NEAR(last, 410, 10);
}

TEST(H3Priority, PriorityUpdateMidResponseOvertakesTheOthers) {
  Scenario s({{"/a", ""}, {"/b", ""}, {"/c", ""}});
  bool updated = false;
  s.client_hook = [&](Peer& c, const Event& e, Instant) {
    // As soon as the first response is flowing, the last request becomes urgent.
    if (updated || e.kind != EventKind::kData || e.stream_id != 0) return;
    updated = true;
    ASSERT_TRUE(c.session->send_priority_update(8, {0, false}));
  };
  ASSERT_TRUE(s.run());
  ASSERT_TRUE(updated);
  EXPECT_EQ(s.completion_order(), (std::vector<uint64_t>{8, 0, 4}));
  // The update reaches the server one RTT after stream 0's first byte; stream 8 takes over
  // then (stream 0 pauses) and needs its ~124 ms.
  EXPECT_NEAR(s.t.ms(s.t.first_data[8]), 42, 5);
  EXPECT_NEAR(s.t.ms(s.t.done[8]), 170, 10);
  EXPECT_NEAR(s.t.ms(s.t.done[4]), 410, 10);
}

TEST(H3Priority, PriorityUpdateBeforeTheRequestOverridesItsHeader) {
  // RFC 9218 §7: the client's latest signal wins. The update for stream 4 is sent before the
  // request that opens stream 4 (whose header says u=6).
  Pair p;
  std::map<uint64_t, h3::Priority> seen;
  p.server.on_event = [&](Peer&, const Event& e, Instant) {
    if (e.kind == EventKind::kHeaders) seen[e.stream_id] = e.priority;
  };
  bool sent = false;
  p.client.on_tick = [&](Peer& c, Instant) {
    if (sent || !c.handshake_done()) return;
    sent = true;
    ASSERT_EQ(c.session->send_request(get_request("/a")), 0u);
    ASSERT_TRUE(c.session->send_priority_update(4, {0, false}));
    auto req = get_request("/late");
    req.push_back({"priority", "u=6"});
    ASSERT_EQ(c.session->send_request(req), 4u);
  };
  ASSERT_TRUE(p.run_until([&] { return seen.size() == 2; }));
  EXPECT_EQ(seen[0], (h3::Priority{}));
  EXPECT_EQ(seen[4], (h3::Priority{0, false}));
}

}  // namespace
}  // namespace h3test
