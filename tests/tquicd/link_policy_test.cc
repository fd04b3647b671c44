// The client's per-link decisions: when a link can run (interface, carrier, address, source),
// the handshake race order, the quota stages and margin, the keepalive budget of backups, and
// the quota ledger's stop that survives a restart.
#include <gtest/gtest.h>

#include "mp/path_manager.h"
#include "tquicd/link_policy.h"
#include "tquicd/quota.h"
#include "tquicd/units.h"
#include "tquicd_test_util.h"

namespace bond {
namespace {

using testutil::v4;

InterfaceTable table(bool running, std::optional<quic::SocketAddress> address) {
  InterfaceTable t;
  InterfaceEvent l;
  l.kind = InterfaceEvent::Kind::kLink;
  l.ifindex = 5;
  l.name = "wan0";
  l.running = running;
  t.apply(l);
  if (address) {
    InterfaceEvent a;
    a.kind = InterfaceEvent::Kind::kAddress;
    a.ifindex = 5;
    a.address = *address;
    t.apply(a);
  }
  return t;
}

LinkConfig link(std::string name, LinkRole role = LinkRole::kPrimary) {
  LinkConfig l;
  l.name = std::move(name);
  l.interface = "wan0";
  l.role = role;
  return l;
}

TEST(LinkPlan, InterfaceMustRunAndHoldAnAddressOfTheServersFamily) {
  LinkConfig l = link("a");
  EXPECT_EQ(plan_link(l, table(true, v4(198, 18, 160, 2)), false).bind, v4(198, 18, 160, 2));
  LinkPlan down = plan_link(l, table(false, v4(198, 18, 160, 2)), false);
  EXPECT_FALSE(down.bind);
  EXPECT_EQ(down.why_not, "interface wan0 down");
  LinkPlan none = plan_link(l, table(true, std::nullopt), false);
  EXPECT_EQ(none.why_not, "interface wan0 has no IPv4 address");
  EXPECT_EQ(plan_link(l, table(true, v4(198, 18, 160, 2)), true).why_not,
            "interface wan0 has no IPv6 address");
  l.interface = "wan1";  // not there at all
  EXPECT_EQ(plan_link(l, table(true, v4(198, 18, 160, 2)), false).why_not, "interface wan1 down");
}

TEST(LinkPlan, SourceMustBeOnARunningInterface) {
  LinkConfig l = link("a");
  l.source = v4(198, 18, 160, 2);
  EXPECT_EQ(plan_link(l, table(true, v4(198, 18, 160, 2)), false).bind, l.source);
  EXPECT_FALSE(plan_link(l, table(false, v4(198, 18, 160, 2)), false).bind);
  EXPECT_FALSE(plan_link(l, table(true, v4(198, 18, 160, 3)), false).bind);
  EXPECT_FALSE(plan_link(l, table(true, v4(198, 18, 160, 2)), true).bind);  // family
  l.interface.clear();  // source only: any running interface holding it
  EXPECT_TRUE(plan_link(l, table(true, v4(198, 18, 160, 2)), false).bind);
}

TEST(RaceOrder, PrimariesThenSecondariesThenBackupsInFileOrder) {
  std::vector<LinkConfig> links{link("lte", LinkRole::kBackup), link("dsl", LinkRole::kSecondary),
                                link("fibre"), link("sat", LinkRole::kBackup), link("cable")};
  EXPECT_EQ(race_order(links), (std::vector<size_t>{2, 4, 1, 0, 3}));
  EXPECT_TRUE(race_order({}).empty());
}

TEST(QuotaStages, OpenDrainingStopped) {
  EXPECT_EQ(quota_stage(0, 0, 100), QuotaStage::kOpen);  // unmetered
  EXPECT_EQ(quota_stage(5'000'000, 5'000'000, 100'000), QuotaStage::kOpen);
  EXPECT_EQ(quota_stage(5'000'000, 100'001, 100'000), QuotaStage::kOpen);
  EXPECT_EQ(quota_stage(5'000'000, 100'000, 100'000), QuotaStage::kDraining);
  EXPECT_EQ(quota_stage(5'000'000, 1, 100'000), QuotaStage::kDraining);
  EXPECT_EQ(quota_stage(5'000'000, 0, 100'000), QuotaStage::kStopped);
}

TEST(QuotaStages, MarginIsTwoWindowsWithinBounds) {
  EXPECT_EQ(quota_margin(5'000'000, 100'000), 200'000u);
  EXPECT_EQ(quota_margin(5'000'000, 1'000), kMinQuotaMargin);
  EXPECT_EQ(quota_margin(5'000'000, 10'000'000), 5'000'000u / 8);  // at most an eighth
  EXPECT_EQ(quota_margin(10'000, 10'000'000), kMinQuotaMargin);    // tiny quota: the floor
  EXPECT_EQ(quota_margin(UINT64_MAX, UINT64_MAX), UINT64_MAX / 8);  // no overflow
}

TEST(BackupBudget, BackupClosesWhenItsBudgetIsSpentOnlyWhileOthersWork) {
  LinkConfig b = link("lte", LinkRole::kBackup);
  EXPECT_TRUE(backup_path_wanted(b, true, true));
  EXPECT_FALSE(backup_path_wanted(b, true, false));
  EXPECT_TRUE(backup_path_wanted(b, false, false));  // nothing else works: it is all there is
  EXPECT_TRUE(backup_path_wanted(link("fibre"), true, false));  // not a backup
}

// interval = 31 days * 224 B / (budget * 7/8), rounded up, within 100 ms..540 s.
TEST(BackupKeepalive, SpacedSoTheBudgetLastsThePeriod) {
  using std::chrono::milliseconds;
  EXPECT_EQ(kKeepaliveExchangeBytes, 224u);
  EXPECT_EQ(kMaxBudgetKeepalive, std::chrono::seconds(540));
  EXPECT_LT(kMaxBudgetKeepalive, quic::mp::kMaxPathKeepalive);  // the client PINGs first
  EXPECT_EQ(keepalive_for_budget(1'000'000), kMaxBudgetKeepalive);  // 686 s, clamped
  EXPECT_EQ(keepalive_for_budget(1'269'760), kMaxBudgetKeepalive);  // exactly 540 s
  EXPECT_EQ(keepalive_for_budget(1'300'000), milliseconds(527'439));
  EXPECT_EQ(keepalive_for_budget(100'000'000), milliseconds(6'857));
  EXPECT_EQ(keepalive_for_budget(1'000'000'000), milliseconds(686));
  // No budget gets the longest interval; a huge one the shortest.
  for (uint64_t b : {uint64_t{0}, uint64_t{1}, uint64_t{7}, uint64_t{1'000}}) {
    EXPECT_EQ(keepalive_for_budget(b), kMaxBudgetKeepalive) << b;
  }
  for (uint64_t b : {uint64_t{10'000'000'000}, kMaxSizeBytes}) {
    EXPECT_EQ(keepalive_for_budget(b), quic::mp::kMinPathKeepalive) << b;
  }
  // The budget does last: a period of the client's keepalives at its interval fits in 7/8 of
  // it, and uses most of that (the interval is rounded up to a millisecond).
  for (uint64_t b : {uint64_t{2'000'000}, uint64_t{100'000'000}, uint64_t{123'456'789}}) {
    uint64_t client = static_cast<uint64_t>(kKeepaliveBudgetPeriod / keepalive_for_budget(b));
    EXPECT_LE(client * kKeepaliveExchangeBytes, b - b / 8) << b;
    EXPECT_GT(client * kKeepaliveExchangeBytes, (b - b / 8) / 100 * 99) << b;
  }
}

TEST(BackupKeepalive, ConfiguredIntervalWinsAndOnlyBackupsDerive) {
  LinkConfig backup = link("lte", LinkRole::kBackup);
  backup.keepalive_budget_bytes = 100'000'000;
  EXPECT_EQ(link_keepalive(backup), std::chrono::milliseconds(6'857));
  backup.keepalive = std::chrono::seconds(7);  // the operator's `keepalive`
  EXPECT_EQ(link_keepalive(backup), std::chrono::seconds(7));
  for (LinkRole r : {LinkRole::kPrimary, LinkRole::kSecondary}) {
    LinkConfig l = link("fibre", r);
    EXPECT_EQ(link_keepalive(l), quic::Duration::zero());  // the connection-wide interval
    l.keepalive = std::chrono::seconds(25);
    EXPECT_EQ(link_keepalive(l), std::chrono::seconds(25));
  }
}

TEST(QuotaLedgerStop, StopsUntilTheNextPeriodAndAcrossARestart) {
  using namespace std::chrono;
  WallTime now = sys_days{year{2026} / 12 / 6} + hours{12};
  std::vector<QuotaLink> links{{"lte", 5'000'000, 15, 0}, {"fibre", 0, 1, 0}};
  QuotaLedger l;
  l.configure(now, links);
  l.on_bytes(now, "lte", 4'900'000);
  EXPECT_FALSE(l.stopped("lte"));
  l.stop("lte");
  l.stop("fibre");  // unmetered: never stopped
  EXPECT_TRUE(l.stopped("lte"));
  EXPECT_FALSE(l.stopped("fibre"));
  EXPECT_TRUE(l.dirty());
  l.on_bytes(now, "lte", 200'000);  // past the quota after the stop: no second report
  QuotaEvent e;
  EXPECT_FALSE(l.poll_event(e));
  QuotaLedger restarted;
  restarted.configure(now, links);
  ASSERT_TRUE(restarted.restore(now, l.serialize()).has_value());
  EXPECT_TRUE(restarted.stopped("lte"));
  EXPECT_EQ(restarted.used("lte"), 5'100'000u);
  WallTime next = sys_days{year{2026} / 12 / 15};  // the reset day
  EXPECT_EQ(restarted.remaining(next, "lte"), 5'000'000u);
  EXPECT_FALSE(restarted.stopped("lte"));
}

}  // namespace
}  // namespace bond
