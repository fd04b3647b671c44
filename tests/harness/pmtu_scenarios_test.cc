// DPLPMTUD (RFC 8899, RFC 9000 §14.3) in virtual time over a link that carries UDP payloads
// only up to an MTU which changes during the run (MpScenario::mtu_events): the search finds
// the link's MTU, a drop under a running transfer (a PMTU black hole) is survived by falling
// back to the base size and searching again, and the path climbs back once the MTU grows
// (PMTU_RAISE_TIMER). Deterministic runs: the figures are asserted.
#include <gtest/gtest.h>

#include "harness/mp_scenario.h"

namespace harness {
namespace {

using namespace std::chrono_literals;

// One 50 Mbit/s link, 40 ms RTT, plain QUIC (path 0 only); every byte is verified.
MpScenario one_link(size_t mtu) {
  MpScenario s;
  s.name = "pmtu";
  s.multipath = false;
  s.links = {mp_link(50, 40ms)};
  s.links[0].mtu = mtu;
  s.bytes = 24ull << 20;
  return s;
}

MpResult run(const MpScenario& s) {
  MpResult r = run_mp_scenario(s);
  EXPECT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.bytes, s.bytes);
  EXPECT_EQ(r.paths.size(), 1u);
  return r;
}

// The binary search ends within its 16-byte granularity under the link's MTU, never above.
TEST(PmtuScenario, SearchFindsTheLinkMtu) {
  for (size_t mtu : {1250u, 1350u, 1440u}) {
    MpResult r = run(one_link(mtu));
    ASSERT_EQ(r.paths.size(), 1u);
    EXPECT_LE(r.paths[0].mtu, mtu);
    EXPECT_GT(r.paths[0].mtu + 16, mtu) << "link MTU " << mtu;
    EXPECT_EQ(r.paths[0].pmtu_black_holes, 0u);
  }
}

// The MTU drops from 1452 to 1280 at 2 s under a full-size transfer: every full-size packet
// is lost from then on. Two PTOs in a row drop the path to 1200; the search then finds 1280
// and the transfer completes with most of the link's rate.
TEST(PmtuScenario, MtuDropMidTransferIsSurvivedAndFoundAgain) {
  MpScenario s = one_link(0);
  s.mtu_events = {{2s, 0, 1280}};
  MpResult r = run(s);
  ASSERT_EQ(r.paths.size(), 1u);
  EXPECT_GE(r.paths[0].pmtu_black_holes, 1u);
  EXPECT_LE(r.paths[0].mtu, 1280u);
  EXPECT_GT(r.paths[0].mtu + 16, 1280u);
  EXPECT_GT(r.share, 0.6) << "goodput " << r.goodput_bps / 1e6 << " Mbit/s";
}

// The MTU is 1280 at first, then grows to 1452 at 2 s. With a 1 s raise timer the search
// starts again and the path ends at the larger size.
TEST(PmtuScenario, PathClimbsBackWhenTheMtuGrows) {
  MpScenario s = one_link(1280);
  s.mtu_events = {{2s, 0, 0}};
  s.pmtu_raise_interval = 1s;
  MpResult r = run(s);
  ASSERT_EQ(r.paths.size(), 1u);
  EXPECT_GT(r.paths[0].mtu, 1452u - 16);
  // Without the raise timer the search stays where it ended.
  s.pmtu_raise_interval = 0s;
  MpResult stuck = run(s);
  ASSERT_EQ(stuck.paths.size(), 1u);
  EXPECT_LE(stuck.paths[0].mtu, 1280u);
}

// Multipath: link 0's MTU drops at 2 s. Its full-size packets die while its small packets
// (PINGs) are still acknowledged: that is a black hole, not a dead path, so it starts again at
// the base size, finds 1280 and goes on carrying data (it is not left failed).
TEST(PmtuScenario, MultipathPathWithAShrunkenMtuComesBackAtTheSmallerSize) {
  MpScenario s;
  s.name = "pmtu-mp";
  s.links = {mp_link(50, 40ms), mp_link(30, 60ms)};
  s.mtu_events = {{2s, 0, 1280}};
  s.bytes = 48ull << 20;
  MpResult r = run_mp_scenario(s);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.bytes, s.bytes);
  ASSERT_EQ(r.paths.size(), 2u);
  EXPECT_FALSE(r.paths[0].failed);
  EXPECT_GT(r.paths[0].stream_bytes, 16u << 20);
  EXPECT_GE(r.paths[0].pmtu_black_holes, 1u);
  EXPECT_LE(r.paths[0].mtu, 1280u);
  EXPECT_GT(r.paths[0].mtu + 16, 1280u);
}

}  // namespace
}  // namespace harness
