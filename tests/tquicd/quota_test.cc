// Metered-link accounting: quota and keepalive budget, events, monthly reset-day rollover,
// state text round trip across a restart, corrupt state refused, the atomic state file.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "tquicd/quota.h"
#include "tquicd/quota_file.h"

namespace bond {
namespace {

using namespace std::chrono;

// A UTC wall-clock time.
WallTime utc(int y, unsigned m, unsigned d, int hh = 0, int mm = 0, int ss = 0) {
  return sys_days{year{y} / month{m} / day{d}} + hours{hh} + minutes{mm} + seconds{ss};
}

std::vector<QuotaLink> links() {
  return {{"lte", 5'000'000, 15, 100'000}, {"fibre", 0, 1, 0}};
}

std::vector<QuotaEvent> drain(QuotaLedger& l) {
  std::vector<QuotaEvent> out;
  QuotaEvent e;
  while (l.poll_event(e)) out.push_back(e);
  return out;
}

TEST(QuotaPeriod, StartsOnTheResetDay) {
  EXPECT_EQ(period_start(utc(2026, 3, 20), 15), year{2026} / 3 / 15);
  EXPECT_EQ(period_start(utc(2026, 3, 15), 15), year{2026} / 3 / 15);
  EXPECT_EQ(period_start(utc(2026, 3, 14, 23, 59, 59), 15), year{2026} / 2 / 15);
  EXPECT_EQ(period_start(utc(2026, 1, 10), 15), year{2025} / 12 / 15);  // year boundary
  EXPECT_EQ(period_start(utc(2028, 2, 29), 28), year{2028} / 2 / 28);
  EXPECT_EQ(period_start(utc(2026, 1, 1), 1), year{2026} / 1 / 1);
}

// The scheduler asks remaining() before each 1,200-byte packet: the link stops at its quota
// (never over it), and quota_reached fires once.
TEST(QuotaLedger, StopsAtTheQuotaAndReportsItOnce) {
  QuotaLedger l;
  WallTime now = utc(2026, 12, 6, 12);
  l.configure(now, links());
  uint64_t sent = 0;
  for (int i = 0; i < 10'000 && l.remaining(now, "lte") >= 1200; ++i) {
    l.on_bytes(now, "lte", 1200);
    sent += 1200;
  }
  EXPECT_LE(sent, 5'000'000u);
  EXPECT_GT(sent, 5'000'000u * 99 / 100);
  EXPECT_TRUE(drain(l).empty());  // below the quota by less than a packet: not reached yet
  l.on_bytes(now, "lte", 1200);   // e.g. received bytes the sender does not control
  auto events = drain(l);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, QuotaEventKind::kQuotaReached);
  EXPECT_EQ(events[0].link, "lte");
  EXPECT_EQ(events[0].limit, 5'000'000u);
  EXPECT_EQ(l.remaining(now, "lte"), 0u);
  l.on_bytes(now, "lte", 1200);
  EXPECT_TRUE(drain(l).empty());
  EXPECT_EQ(l.remaining(now, "fibre"), kUnmetered);
  EXPECT_EQ(l.remaining(now, "nosuch"), kUnmetered);
  l.on_bytes(now, "nosuch", 100);  // ignored
  EXPECT_EQ(l.used("nosuch"), 0u);
}

TEST(QuotaLedger, KeepaliveBudgetForBackupLinks) {
  QuotaLedger l;
  WallTime now = utc(2026, 12, 6);
  l.configure(now, links());
  int sent = 0;
  while (l.keepalive_allowed(now, "lte", 60) && sent < 10'000) {
    l.on_bytes(now, "lte", 60, true);
    ++sent;
  }
  EXPECT_EQ(sent, 100'000 / 60);
  EXPECT_LE(l.keepalive_used("lte"), 100'000u);
  EXPECT_EQ(l.used("lte"), l.keepalive_used("lte"));  // keepalives count against the quota too
  l.on_bytes(now, "lte", 100, true);  // over the budget: reported once
  auto events = drain(l);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, QuotaEventKind::kKeepaliveBudgetExhausted);
  EXPECT_FALSE(l.keepalive_allowed(now, "lte", 1));
  EXPECT_TRUE(l.keepalive_allowed(now, "unknown", 1));
}

TEST(QuotaLedger, ResetDayRollsThePeriodOver) {
  QuotaLedger l;
  l.configure(utc(2026, 12, 1), links());
  l.on_bytes(utc(2026, 12, 14, 23, 59, 59), "lte", 6'000'000);
  l.on_bytes(utc(2026, 12, 14, 23, 59, 59), "fibre", 1'000);
  ASSERT_EQ(drain(l).size(), 1u);  // quota reached
  EXPECT_EQ(l.remaining(utc(2026, 12, 14, 23, 59, 59), "lte"), 0u);
  // Midnight UTC on the 15th: a new period.
  EXPECT_EQ(l.remaining(utc(2026, 12, 15), "lte"), 5'000'000u);
  auto events = drain(l);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, QuotaEventKind::kPeriodReset);
  EXPECT_EQ(l.used("fibre"), 1'000u);  // fibre resets on the 1st
  l.on_bytes(utc(2027, 1, 1), "fibre", 1);
  EXPECT_EQ(l.used("fibre"), 1u);
  l.on_bytes(utc(2027, 1, 14), "lte", 6'000'000);  // same period as Dec 15
  EXPECT_EQ(drain(l).size(), 2u);                  // fibre's reset, lte's quota
}

// Nobody polls for 300 months: the event queue keeps the newest kMaxQuotaEvents.
TEST(QuotaLedger, PendingEventsAreBounded) {
  QuotaLedger l;
  l.configure(utc(2000, 1, 1), {{"lte", 0, 1, 0}});
  year_month m = year{2000} / 2;
  for (int i = 0; i < 300; ++i, m += months{1}) l.on_bytes(sys_days{m / 1}, "lte", 1);
  auto events = drain(l);
  ASSERT_EQ(events.size(), kMaxQuotaEvents);
  EXPECT_EQ(events.back().kind, QuotaEventKind::kPeriodReset);
  EXPECT_EQ(l.used("lte"), 1u);
}

TEST(QuotaLedger, UsageSurvivesARestart) {
  WallTime now = utc(2026, 12, 20);
  std::string state;
  {
    QuotaLedger l;
    l.configure(now, links());
    l.on_bytes(now, "lte", 5'000'000);
    l.on_bytes(now, "lte", 500, true);
    EXPECT_TRUE(l.dirty());
    state = l.serialize();
    EXPECT_FALSE(l.dirty());
  }
  EXPECT_EQ(state, "tquicd-quota 1\nlink lte 2026-12-15 5000500 500 1\nlink fibre 2026-12-01 0 0 0\n");
  QuotaLedger after;
  after.configure(now + hours{1}, links());
  ASSERT_TRUE(after.restore(now + hours{1}, state));
  EXPECT_EQ(after.used("lte"), 5'000'500u);
  EXPECT_EQ(after.keepalive_used("lte"), 500u);
  EXPECT_EQ(after.remaining(now, "lte"), 0u);
  EXPECT_TRUE(drain(after).empty());  // reached before the restart: not reported again
  // Restored after the period ended: usage starts afresh.
  QuotaLedger next_month;
  next_month.configure(utc(2027, 1, 16), links());
  ASSERT_TRUE(next_month.restore(utc(2027, 1, 16), state));
  EXPECT_EQ(next_month.used("lte"), 0u);
  // A link renamed in the configuration keeps nothing; links only in the file are ignored.
  QuotaLedger renamed;
  renamed.configure(now, {{"lte2", 5'000'000, 15, 0}});
  ASSERT_TRUE(renamed.restore(now, state));
  EXPECT_EQ(renamed.used("lte2"), 0u);
}

TEST(QuotaLedger, LoweringTheQuotaBelowUsageReportsIt) {
  QuotaLedger l;
  WallTime now = utc(2026, 12, 20);
  l.configure(now, links());
  l.on_bytes(now, "lte", 3'000'000);
  EXPECT_TRUE(drain(l).empty());
  l.configure(now, {{"lte", 2'000'000, 15, 0}});
  auto events = drain(l);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, QuotaEventKind::kQuotaReached);
  EXPECT_EQ(l.used("lte"), 3'000'000u);  // usage kept across the reload
}

TEST(QuotaLedger, CorruptStateIsAnErrorAndChangesNothing) {
  WallTime now = utc(2026, 12, 20);
  const std::pair<std::string, std::string> cases[] = {
      {"", "line 1: empty file"},
      {"garbage\n", "line 1: not a tquicd quota file"},
      {"tquicd-quota 1", "line 1: no newline"},
      {"tquicd-quota 1\nlink lte 2026-12-15 5 0\n", "line 2: expected"},
      {"tquicd-quota 1\nlink lte 2026-02-30 5 0 0\n", "line 2: bad date '2026-02-30'"},
      {"tquicd-quota 1\nlink lte 2026-12-15 -5 0 0\n", "line 2: bad byte count"},
      {"tquicd-quota 1\nlink lte 2026-12-15 99999999999999999999 0 0\n", "line 2: bad byte count"},
      {"tquicd-quota 1\nlink l/e 2026-12-15 5 0 0\n", "line 2: bad link name"},
      {"tquicd-quota 1\nlink lte 2026-12-15 5 0 2\n", "line 2: bad reached flag"},
      {"tquicd-quota 1\nlink lte 2026-12-15 5 0 0 extra\n", "line 2: expected"},
      {"tquicd-quota 1\nlink lte 2026-12-15 5 0 0\n\n", "line 3: expected"},
      // A long or binary date is quoted in part, printable (found by fuzz_tquicd_quota_state:
      // the whole field went into the message).
      {"tquicd-quota 1\nlink lte 2026-12" + std::string(3000, '\xff') + " 5 0 0\n",
       "line 2: bad date '2026-12?????????????????????????...'"},
  };
  for (const auto& [text, error] : cases) {
    QuotaLedger l;
    l.configure(now, links());
    l.on_bytes(now, "lte", 7);
    auto r = l.restore(now, text);
    ASSERT_FALSE(r) << text;
    EXPECT_EQ(r.error().rfind(error, 0), 0u) << r.error();
    EXPECT_EQ(l.used("lte"), 7u);
  }
  std::string many = "tquicd-quota 1\n";
  for (size_t i = 0; i <= kMaxQuotaLinks; ++i) many += "link l" + std::to_string(i) + " 2026-12-15 1 0 0\n";
  QuotaLedger l;
  EXPECT_EQ(l.restore(now, many).error(), "line 66: more than 64 links");
  EXPECT_FALSE(l.restore(now, std::string(kMaxQuotaStateBytes + 1, 'x')));
}

class QuotaFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("tquicd-quota-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "quota.state").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(QuotaFile, WritesAtomicallyAndReadsBack) {
  auto missing = read_state_file(path_);
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->has_value());  // first start: no file, no error
  ASSERT_TRUE(write_state_file(path_, "tquicd-quota 1\n"));
  ASSERT_TRUE(write_state_file(path_, "tquicd-quota 1\nlink lte 2026-12-15 1 0 0\n"));
  auto back = read_state_file(path_);
  ASSERT_TRUE(back && back->has_value());
  EXPECT_EQ(**back, "tquicd-quota 1\nlink lte 2026-12-15 1 0 0\n");
  EXPECT_FALSE(std::filesystem::exists(path_ + ".tmp"));
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // A ledger restarted from the file gets its usage back.
  QuotaLedger l;
  l.configure(utc(2026, 12, 20), links());
  ASSERT_TRUE(l.restore(utc(2026, 12, 20), **back));
  EXPECT_EQ(l.used("lte"), 1u);
}

TEST_F(QuotaFile, ErrorsAreReportedNotThrown) {
  std::filesystem::create_directories(dir_ / "adir");
  auto r = read_state_file((dir_ / "adir").string());
  EXPECT_FALSE(r);  // a directory: read fails with EISDIR
  EXPECT_FALSE(write_state_file((dir_ / "no" / "such" / "dir" / "f").string(), "x\n"));
  { std::ofstream(path_) << std::string(kMaxQuotaStateBytes + 10, 'x'); }
  auto big = read_state_file(path_);
  ASSERT_FALSE(big);
  EXPECT_NE(big.error().find("larger than 64 KiB"), std::string::npos);
}

}  // namespace
}  // namespace bond
