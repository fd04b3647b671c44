// mp::PathManager on its own: wanted paths and their reopening backoff, failure detection
// decisions (suspect, fail, recover, abandon, outage) and keepalive times, from path figures.
#include "mp/path_manager.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

namespace quic::mp {
namespace {

using namespace std::chrono_literals;

const Instant t0 = Instant{} + 10s;
const Duration kIdle = 30s;  // the negotiated idle timeout
// keepalive_at's question "does another working path keep the connection alive?"
const auto alone = [] { return false; };

PathPolicy policy() {
  PathPolicy p;
  p.keep_alive = 0ms;
  p.path_keepalive = 1s;
  p.max_probe_interval = 1s;
  p.suspect_rtts = 3;
  p.suspect_min = 100ms;
  p.fail_ptos = 3;
  p.recover_acks = 3;
  p.abandon_after = 300s;
  return p;
}

SocketAddress addr(uint8_t last, uint16_t port) {
  return SocketAddress::v4(198, 18, 0, last, port);
}

PathFigures working(Duration srtt = 40ms) {
  PathFigures f;
  f.active = f.validated = true;
  f.srtt = srtt;
  f.last_ack_eliciting_sent = t0;
  f.last_progress = t0;
  return f;
}

TEST(PathManager, WantedPathsAreBoundedAndUnique) {
  PathManager m(policy());
  ASSERT_TRUE(m.add_wanted(addr(1, 1000), addr(2, 443), false));
  EXPECT_FALSE(m.add_wanted(addr(1, 1000), addr(2, 443), true));  // the same 4-tuple
  for (uint16_t i = 1; i < kMaxWantedPaths; ++i) {
    ASSERT_TRUE(m.add_wanted(addr(1, static_cast<uint16_t>(1000 + i)), addr(2, 443), false));
  }
  EXPECT_EQ(m.wanted_count(), kMaxWantedPaths);
  EXPECT_FALSE(m.add_wanted(addr(1, 2000), addr(2, 443), false));  // past the limit
  EXPECT_EQ(m.wanted_count(), kMaxWantedPaths);
}

TEST(PathManager, ClosedPathsReopenWithDoublingBackoffUpTo30s) {
  PathManager m(policy());
  ASSERT_TRUE(m.add_wanted(addr(1, 1000), addr(2, 443), true));
  EXPECT_TRUE(m.open_due(0, t0));
  EXPECT_EQ(m.next_open_at(), Instant{});
  m.opened(0, 3);
  EXPECT_FALSE(m.open_due(0, t0));
  EXPECT_EQ(m.next_open_at(), kNever);  // served
  Instant now = t0;
  std::vector<Duration> waits;
  for (int i = 0; i < 9; ++i) {
    m.on_path_closed(3, now);
    EXPECT_FALSE(m.open_due(0, now));
    waits.push_back(m.wanted(0).retry_at - now);
    now = m.wanted(0).retry_at;
    EXPECT_TRUE(m.open_due(0, now));
    EXPECT_EQ(m.next_open_at(), now);
    m.opened(0, 3);
  }
  EXPECT_EQ(waits[0], 500ms);  // 250 ms doubled by the first failure
  EXPECT_EQ(waits[1], 1000ms);
  EXPECT_EQ(waits[5], 16000ms);
  EXPECT_EQ(waits[6], kMaxReopenBackoff);
  EXPECT_EQ(waits[8], kMaxReopenBackoff);
  m.on_path_closed(7, now);  // another path: nothing to reopen
  EXPECT_EQ(m.wanted(0).path_id, 3u);
  m.open_deferred(0, now);  // (only touches the retry time)
  EXPECT_EQ(m.wanted(0).retry_at, now + kMinReopenBackoff);
  m.forget(3);
  EXPECT_TRUE(m.wanted_empty());
}

TEST(PathManager, BackupRoleOwesPathStatusOnlyOnChange) {
  PathManager m(policy());
  ASSERT_TRUE(m.add_wanted(addr(1, 1000), addr(2, 443), false));
  m.opened(0, 1);
  PathRole role;
  EXPECT_TRUE(m.set_backup(1, false, role));  // never sent: the first PATH_STATUS is owed
  role.set_local(false, true);
  EXPECT_TRUE(role.status_pending());
  EXPECT_EQ(role.status_seq(), 1u);
  role.status_sent();
  EXPECT_FALSE(m.set_backup(1, false, role));  // unchanged
  EXPECT_TRUE(m.set_backup(1, true, role));
  role.set_local(true, true);
  EXPECT_TRUE(role.backup());
  EXPECT_EQ(role.status_seq(), 2u);
  role.status_lost(1);  // replaced by seq 2: not sent again
  role.status_sent();
  role.status_lost(1);
  EXPECT_FALSE(role.status_pending());
  role.status_lost(2);
  EXPECT_TRUE(role.status_pending());
  EXPECT_TRUE(m.wanted(0).backup);  // remembered for a reopened path
}

TEST(PathRole, PeerStatusIsNewsOnlyWithAHigherSequence) {
  PathRole role;
  EXPECT_TRUE(role.on_peer_status(0, true));  // the first one, whatever its number
  EXPECT_TRUE(role.peer_backup());
  EXPECT_TRUE(role.backup());
  EXPECT_FALSE(role.local_backup());
  EXPECT_TRUE(role.on_peer_status(5, false));
  EXPECT_FALSE(role.on_peer_status(5, true));  // replayed
  EXPECT_FALSE(role.on_peer_status(2, true));  // reordered
  EXPECT_FALSE(role.backup());
}

TEST(PathHealth, SuspectFailAndRecoverWithHysteresis) {
  PathManager m(policy());
  PathHealth h;
  EXPECT_TRUE(h.healthy());
  h.start_silence(t0);
  EXPECT_EQ(h.last_progress(), t0);
  h.suspect_now();
  EXPECT_FALSE(h.healthy());
  auto recovers = [&](bool others_work) {
    return [&m, others_work](uint32_t& n) { return m.recovers(n, others_work); };
  };
  EXPECT_FALSE(h.on_progress(t0 + 10ms, recovers(true)));  // not failed: nothing to recover
  EXPECT_TRUE(h.healthy());
  h.fail(t0 + 20ms);
  EXPECT_EQ(h.failed_since(), t0 + 20ms);
  EXPECT_FALSE(h.on_progress(t0 + 30ms, recovers(true)));
  EXPECT_FALSE(h.on_progress(t0 + 40ms, recovers(true)));
  EXPECT_TRUE(h.on_progress(t0 + 50ms, recovers(true)));  // the third ACK in a row
  EXPECT_TRUE(h.healthy());
  h.fail(t0 + 60ms);
  h.suspect_now();  // a suspicion restarts the count
  EXPECT_TRUE(h.on_progress(t0 + 70ms, recovers(false)));  // nothing else works: at once
  EXPECT_EQ(h.last_progress(), t0 + 70ms);
  EXPECT_TRUE(PathManager::backup_carries_data(false));
  EXPECT_FALSE(PathManager::backup_carries_data(true));
}

TEST(PathManager, WeightBounds) {
  EXPECT_TRUE(PathManager::weight_in_range(kMinPathWeight));
  EXPECT_TRUE(PathManager::weight_in_range(kMaxPathWeight));
  EXPECT_FALSE(PathManager::weight_in_range(0));
  EXPECT_FALSE(PathManager::weight_in_range(kMaxPathWeight * 1.01));
  EXPECT_FALSE(PathManager::weight_in_range(std::nan("")));
  EXPECT_FALSE(PathManager::weight_in_range(std::numeric_limits<double>::infinity()));
}

TEST(PathManager, SuspectAfterThreeRttsOrTheMinimum) {
  PathManager m(policy());
  EXPECT_EQ(m.suspect_after(10ms), 100ms);  // the minimum
  EXPECT_EQ(m.suspect_after(50ms), 150ms);
  PathFigures f = working(50ms);
  EXPECT_EQ(m.suspect_at(f), kNever);  // nothing outstanding
  f.ack_eliciting_in_flight = true;
  EXPECT_EQ(m.suspect_at(f), t0 + 150ms);
  f.suspect = true;
  EXPECT_EQ(m.suspect_at(f), kNever);  // already
  f.suspect = false;
  f.failed = true;
  EXPECT_EQ(m.suspect_at(f), kNever);  // not usable
}

TEST(PathManager, FailsAfterPtosWhileOthersWorkAndRecoversWithHysteresis) {
  PathManager m(policy());
  PathFigures f = working();
  f.pto_count = 2;
  EXPECT_FALSE(m.fails(f, true));
  f.pto_count = 3;
  EXPECT_TRUE(m.fails(f, true));
  EXPECT_FALSE(m.fails(f, false));  // the only path left is kept
  f.failed = true;
  EXPECT_FALSE(m.fails(f, true));  // already failed
  uint32_t acks = 0;
  EXPECT_FALSE(m.recovers(acks, true));
  EXPECT_FALSE(m.recovers(acks, true));
  EXPECT_TRUE(m.recovers(acks, true));  // the third ACK in a row
  acks = 0;
  EXPECT_TRUE(m.recovers(acks, false));  // no other path works: at once
}

TEST(PathManager, AbandonsAFailedPathAfterTheBound) {
  PathManager m(policy());
  PathFigures f = working();
  EXPECT_EQ(m.abandon_failed_at(f), kNever);
  f.failed = true;
  f.failed_since = t0;
  EXPECT_EQ(m.abandon_failed_at(f), t0 + 300s);
  PathPolicy forever = policy();
  forever.abandon_after = 0s;
  EXPECT_EQ(PathManager(forever).abandon_failed_at(f), kNever);
}

TEST(PathManager, OutageNeedsTwoPathsAllDown) {
  PathManager m(policy());
  PathFigures up = working(), failed = working(), timing_out = working(), closing = working();
  failed.failed = true;
  timing_out.pto_count = 3;
  closing.active = false;
  EXPECT_FALSE(m.in_outage(std::vector<PathFigures>{failed}));  // a single path
  EXPECT_FALSE(m.in_outage(std::vector<PathFigures>{failed, up}));
  EXPECT_TRUE(m.in_outage(std::vector<PathFigures>{failed, timing_out, closing}));
  EXPECT_EQ(m.max_probe_interval(false), 1s);
  EXPECT_EQ(m.max_probe_interval(true), kOutageMaxProbeInterval);
}

TEST(PathManager, KeepaliveTimes) {
  PathPolicy p = policy();
  PathManager m(p);
  PathFigures f = working(40ms);
  int cap_asked = 0;
  auto cap = [&] {
    ++cap_asked;
    return Duration(300ms);
  };
  EXPECT_EQ(m.keepalive_at(f, true, kIdle, cap, alone), t0 + 1s);  // path_keepalive
  EXPECT_EQ(m.keepalive_at(f, false, kIdle, cap, alone), kNever);   // single path, keep_alive off
  p.keep_alive = 15s;
  EXPECT_EQ(PathManager(p).keepalive_at(f, false, kIdle, cap, alone), t0 + 15s);
  f.validated = false;
  EXPECT_EQ(m.keepalive_at(f, true, kIdle, cap, alone), kNever);
  f.validated = true;
  EXPECT_EQ(cap_asked, 0);  // the cap is only asked for a failed path
  f.failed = true;
  f.pto_count = 2;
  EXPECT_EQ(m.keepalive_at(f, true, kIdle, cap, alone), t0 + 160ms);  // SRTT x 2^pto_count
  f.pto_count = 4;
  EXPECT_EQ(m.keepalive_at(f, true, kIdle, cap, alone), t0 + 300ms);  // capped
  EXPECT_EQ(cap_asked, 2);
  f.srtt = 1ms;
  f.pto_count = 0;
  EXPECT_EQ(m.keepalive_at(f, true, kIdle, cap, alone), t0 + 10ms);  // at least 10 ms
  f.last_ack_eliciting_sent = kNever;
  EXPECT_EQ(m.keepalive_at(f, true, kIdle, cap, alone), kNever);
}

// A path's own interval replaces the connection-wide one for that path only; 0 restores it.
TEST(PathManager, APathsOwnKeepaliveOverridesTheConnectionWideOne) {
  PathManager m(policy());
  PathFigures f = working();
  f.id = 3;
  PathFigures other = working();
  other.id = 4;
  auto cap = [] { return Duration(1s); };
  ASSERT_TRUE(m.set_keepalive(3, 10s));
  EXPECT_EQ(m.keepalive_at(f, true, kIdle, cap, alone), t0 + 10s);
  EXPECT_EQ(m.keepalive_at(other, true, kIdle, cap, alone), t0 + 1s);  // the fallback
  EXPECT_EQ(m.keepalive_interval(3, true, kIdle, false), 10s);
  EXPECT_EQ(m.keepalive_interval(4, true, kIdle, false), 1s);
  EXPECT_EQ(m.keepalive_interval(3, false, kIdle, false), 0s);  // single path: keep_alive (off)
  ASSERT_TRUE(m.set_keepalive(3, 25s));
  EXPECT_EQ(m.keepalive_interval(3, true, kIdle, false), 15s);  // replaced, then capped at idle/2
  ASSERT_TRUE(m.set_keepalive(3, 0s));
  EXPECT_EQ(m.keepalive_at(f, true, kIdle, cap, alone), t0 + 1s);
  // While something ack-eliciting is unanswered its PTO probes the path: no keepalive (one
  // would push that PTO back). A failed path is probed on its own schedule all the same.
  ASSERT_TRUE(m.set_keepalive(3, 10s));
  f.ack_eliciting_in_flight = true;
  EXPECT_EQ(m.keepalive_at(f, true, kIdle, cap, alone), kNever);
  EXPECT_EQ(m.keepalive_at(f, false, kIdle, cap, alone), kNever);
  f.failed = true;
  EXPECT_EQ(m.keepalive_at(f, true, kIdle, cap, alone), t0 + 40ms);
}

TEST(PathManager, PathKeepaliveBoundsAreEnforced) {
  PathManager m(policy());
  EXPECT_FALSE(m.set_keepalive(1, 99ms));
  EXPECT_FALSE(m.set_keepalive(1, 600s + 1ns));
  EXPECT_FALSE(m.set_keepalive(1, -1s));
  EXPECT_EQ(m.keepalive_interval(1, true, kIdle, false), 1s);  // refused values changed nothing
  EXPECT_TRUE(m.set_keepalive(1, kMinPathKeepalive));
  EXPECT_EQ(m.keepalive_interval(1, true, kIdle, false), 100ms);
  EXPECT_TRUE(m.set_keepalive(1, kMaxPathKeepalive));
  EXPECT_EQ(m.keepalive_interval(1, true, 0s, false), 600s);  // no idle timeout: no cap
  // At most one entry per open path: past kMaxPathKeepalives distinct paths it refuses.
  for (uint64_t id = 2; id <= kMaxPathKeepalives; ++id) ASSERT_TRUE(m.set_keepalive(id, 5s));
  EXPECT_FALSE(m.set_keepalive(kMaxPathKeepalives + 1, 5s));
  EXPECT_TRUE(m.set_keepalive(2, 6s));  // an existing entry still changes
  m.on_path_closed(2, t0);              // a closed path's entry goes, making room
  EXPECT_TRUE(m.set_keepalive(kMaxPathKeepalives + 1, 5s));
  EXPECT_EQ(m.keepalive_interval(2, true, kIdle, false), 1s);
}

// The cap: never more than half the negotiated idle timeout, for the fallback too.
TEST(PathManager, KeepaliveIsCappedAtHalfTheIdleTimeout) {
  PathManager m(policy());
  ASSERT_TRUE(m.set_keepalive(1, 25s));
  EXPECT_EQ(m.keepalive_interval(1, true, 30s, false), 15s);
  EXPECT_EQ(m.keepalive_interval(1, true, 60s, false), 25s);
  EXPECT_EQ(m.keepalive_interval(2, true, 1s, false), 500ms);  // the connection-wide 1 s as well
  PathPolicy p = policy();
  p.keep_alive = 20s;
  EXPECT_EQ(PathManager(p).keepalive_interval(0, false, 30s, false), 15s);  // and single path
  // Another working path that keeps the connection alive lifts the cap (multipath only).
  EXPECT_EQ(m.keepalive_interval(1, true, 30s, true), 25s);
  EXPECT_EQ(PathManager(p).keepalive_interval(0, false, 30s, true), 15s);
  EXPECT_TRUE(m.keeps_alive(2, true, 30s));   // 1 s
  EXPECT_FALSE(m.keeps_alive(1, true, 30s));  // 25 s
  EXPECT_TRUE(m.keeps_alive(1, true, 0s));    // no idle timeout
}

// A metered backup beside a working primary PINGs at its own long interval; the moment nothing
// else keeps the connection alive the cap is back, so its PING is due at once.
TEST(PathManager, LongKeepaliveOnlyWhileAnotherPathKeepsTheConnectionAlive) {
  PathManager m(policy());
  PathFigures f = working();
  f.id = 1;
  ASSERT_TRUE(m.set_keepalive(1, 600s));
  auto cap = [] { return Duration(1s); };
  int asked = 0;
  bool primary_works = true;
  auto others = [&] {
    ++asked;
    return primary_works;
  };
  EXPECT_EQ(m.keepalive_at(f, true, kIdle, cap, others), t0 + 600s);
  primary_works = false;
  EXPECT_EQ(m.keepalive_at(f, true, kIdle, cap, others), t0 + 15s);
  EXPECT_EQ(asked, 2);
  f.id = 2;  // the connection-wide 1 s keeps the connection alive by itself: not asked
  EXPECT_EQ(m.keepalive_at(f, true, kIdle, cap, others), t0 + 1s);
  EXPECT_EQ(asked, 2);
}

// The peer's PING on the path defers ours: only one end of an idle path PINGs it.
TEST(PathManager, ThePeersPingDefersOurKeepalive) {
  PathManager m(policy());
  PathFigures f = working();
  auto cap = [] { return Duration(1s); };
  EXPECT_EQ(m.keepalive_at(f, true, kIdle, cap, alone), t0 + 1s);
  f.last_ack_eliciting_received = t0 + 700ms;  // an SRTT (40 ms) more: the peer goes first
  EXPECT_EQ(m.keepalive_at(f, true, kIdle, cap, alone), t0 + 1740ms);
  f.last_ack_eliciting_received = t0 - 5s;  // older than ours: ours counts
  EXPECT_EQ(m.keepalive_at(f, true, kIdle, cap, alone), t0 + 1s);
  // A failed path is probed on its own schedule whatever the peer sends.
  f.last_ack_eliciting_received = t0 + 700ms;
  f.failed = true;
  EXPECT_LT(m.keepalive_at(f, true, kIdle, cap, alone), t0 + 1740ms);
}

// The interval belongs to the wanted 4-tuple: the path reopened there after a failure has it.
TEST(PathManager, PathKeepaliveSurvivesTheReopenedPath) {
  PathManager m(policy());
  ASSERT_TRUE(m.add_wanted(addr(1, 1000), addr(2, 443), true));
  ASSERT_TRUE(m.add_wanted(addr(3, 1000), addr(2, 443), false));
  m.opened(0, 1);
  m.opened(1, 2);
  ASSERT_TRUE(m.set_keepalive(1, 20s));
  EXPECT_EQ(m.wanted(0).keepalive, 20s);
  EXPECT_EQ(m.wanted(1).keepalive, 0s);
  m.on_path_closed(1, t0);
  EXPECT_EQ(m.keepalive_interval(1, true, 60s, false), 1s);  // the closed path's entry is gone
  ASSERT_TRUE(m.open_due(0, t0 + kMaxReopenBackoff));
  m.opened(0, 5);
  EXPECT_EQ(m.keepalive_interval(5, true, 60s, false), 20s);
  EXPECT_EQ(m.keepalive_interval(2, true, 60s, false), 1s);
  // Back to the default on the reopened path: the wish is dropped for later reopenings too.
  ASSERT_TRUE(m.set_keepalive(5, 0s));
  m.on_path_closed(5, t0);
  m.opened(0, 6);
  EXPECT_EQ(m.keepalive_interval(6, true, 60s, false), 1s);
  // A forgotten (abandoned by the application) path's entry goes with it.
  ASSERT_TRUE(m.set_keepalive(2, 3s));
  m.forget(2);
  EXPECT_EQ(m.keepalive_interval(2, true, 60s, false), 1s);
}

}  // namespace
}  // namespace quic::mp
