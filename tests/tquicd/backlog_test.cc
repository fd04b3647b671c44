// The client's DATAGRAM backlog sized from the paths (tquicd/backlog.h): a table of link sets
// and the bytes each gets, the bounds, and what the sizing is for (the queue left behind when
// the fastest link fails drains quickly at the survivor's rate).
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "tquicd/backlog.h"

namespace bond {
namespace {

using namespace std::chrono_literals;

constexpr uint32_t kMtu = 1350;
constexpr uint64_t kMbit = 1'000'000;

BacklogPath up(uint64_t mbit) { return {mbit * kMbit, kMtu, true, false}; }
BacklogPath down(uint64_t mbit) { return {mbit * kMbit, kMtu, false, false}; }
BacklogPath backup(uint64_t mbit) { return {mbit * kMbit, kMtu, true, true}; }

struct Row {
  const char* what;
  std::vector<BacklogPath> paths;
  size_t bytes;
};

TEST(TquicdBacklog, LinkSetsToBytes) {
  // 20 ms of each carrying path's rate plus one pacing burst (1 ms of the rate, 10 to 64
  // packets), floor 96 KiB, ceiling 1 MiB.
  const std::vector<Row> rows = {
      {"no path yet", {}, kBacklogFloorBytes},
      {"one 20 Mbit/s link: 50,000 + 10 packets, below the floor", {up(20)}, kBacklogFloorBytes},
      {"the bench's 40 + 20 Mbit/s", {up(40), up(20)}, 100'000 + 13'500 + 50'000 + 13'500},
      {"40 + 20 with the 40 failed", {down(40), up(20)}, kBacklogFloorBytes},
      {"four 50 Mbit/s links", {up(50), up(50), up(50), up(50)}, 4 * (125'000 + 13'500)},
      {"one 300 Mbit/s link: burst 37,500 (1 ms)", {up(300)}, 750'000 + 37'500},
      {"one 1 Gbit/s link: past the ceiling", {up(1000)}, kBacklogCeilingBytes},
      {"four 100 Mbit/s links: past the ceiling", {up(100), up(100), up(100), up(100)},
       kBacklogCeilingBytes},
      {"a backup idles while a primary works", {up(100), backup(100)}, 250'000 + 13'500},
      {"the backup counts once no primary can", {down(100), backup(200)}, 500'000 + 25'000},
      {"nothing usable", {down(100), down(100)}, kBacklogFloorBytes},
      {"a rate of 0 (no estimate yet)", {up(0)}, kBacklogFloorBytes},
  };
  for (const Row& r : rows) {
    EXPECT_EQ(datagram_backlog_bytes(r.paths), r.bytes) << r.what;
  }
}

TEST(TquicdBacklog, BurstIsTenToSixtyFourPackets) {
  EXPECT_EQ(path_backlog_bytes({0, kMtu, true, false}, 0ms), 10u * kMtu);
  EXPECT_EQ(path_backlog_bytes({80 * kMbit, kMtu, true, false}, 0ms), 10u * kMtu);  // 10,000 in 1 ms
  EXPECT_EQ(path_backlog_bytes({200 * kMbit, kMtu, true, false}, 0ms), 25'000u);
  EXPECT_EQ(path_backlog_bytes({10'000 * kMbit, kMtu, true, false}, 0ms), 64u * kMtu);
  // An MTU of 0 (not known yet) counts as one byte per packet, never a division by zero.
  EXPECT_EQ(path_backlog_bytes({0, 0, true, false}, 0ms), 10u);
  // A negative target counts as none.
  EXPECT_EQ(path_backlog_bytes({0, kMtu, true, false}, -5ms), 10u * kMtu);
}

TEST(TquicdBacklog, HugeRatesStayAtTheCeiling) {
  std::vector<BacklogPath> paths(16, BacklogPath{UINT64_MAX, UINT16_MAX, true, false});
  EXPECT_EQ(path_backlog_bytes(paths[0], 1h), kBacklogCeilingBytes);
  EXPECT_EQ(datagram_backlog_bytes(paths), kBacklogCeilingBytes);
  // A policy without a ceiling: each path is still at most kBacklogCeilingBytes, and the
  // sum saturates instead of wrapping.
  BacklogPolicy p;
  p.ceiling_bytes = SIZE_MAX;
  EXPECT_EQ(datagram_backlog_bytes(paths, p), 16 * kBacklogCeilingBytes);
  p.ceiling_bytes = SIZE_MAX - 1000;
  std::vector<BacklogPath> many(4096, paths[0]);
  EXPECT_EQ(datagram_backlog_bytes(many, p), 4096 * kBacklogCeilingBytes);
}

TEST(TquicdBacklog, PolicyTargetAndBounds) {
  const std::vector<BacklogPath> bench = {up(40), up(20)};
  BacklogPolicy p;
  p.target = 5ms;
  p.floor_bytes = 0;
  EXPECT_EQ(datagram_backlog_bytes(bench, p), 25'000u + 13'500 + 12'500 + 13'500);
  p.floor_bytes = 1 << 20;
  EXPECT_EQ(datagram_backlog_bytes(bench, p), size_t{1} << 20);
  p.floor_bytes = 0;
  p.ceiling_bytes = 48 << 10;
  EXPECT_EQ(datagram_backlog_bytes(bench, p), size_t{48} << 10);
  // A ceiling below the floor: the ceiling is the bound.
  p.floor_bytes = 1 << 20;
  EXPECT_EQ(datagram_backlog_bytes(bench, p), size_t{48} << 10);
}

TEST(TquicdBacklog, MoreRateNeverLessBacklog) {
  size_t last = 0;
  for (uint64_t mbit = 0; mbit <= 2000; mbit += 7) {
    size_t b = datagram_backlog_bytes(std::vector<BacklogPath>{up(mbit), up(mbit / 2)});
    EXPECT_GE(b, last) << mbit;
    last = b;
  }
}

// What the sizing is for (docs/bench/bond.md): when the fastest link fails, what was queued
// for both drains at the survivor's rate ahead of every new packet. The fixed 512 KiB took
// 210 ms at 20 Mbit/s; sized from the links it takes under 75 ms, and a queue of 20 ms at the
// bonded rate plus the bursts stays under 25 ms while both links work.
TEST(TquicdBacklog, QueueLeftByAFailedLinkDrainsQuickly) {
  const double survivor_bytes_per_ms = 20.0 * kMbit / 8 / 1000;
  const double bonded_bytes_per_ms = 60.0 * kMbit / 8 / 1000;
  const size_t both = datagram_backlog_bytes(std::vector<BacklogPath>{up(40), up(20)});
  EXPECT_LT(static_cast<double>(both) / survivor_bytes_per_ms, 75.0);
  EXPECT_LT(static_cast<double>(both) / bonded_bytes_per_ms, 25.0);
  EXPECT_GT(static_cast<double>(512 << 10) / survivor_bytes_per_ms, 200.0);
}

}  // namespace
}  // namespace bond
