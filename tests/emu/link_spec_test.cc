// The relay's link-spec parser: every key and unit, direction prefixes, defaults, limits, and
// error messages that name the offending text.
#include "emu/link_spec.h"

#include <gtest/gtest.h>

namespace emu {
namespace {

using namespace std::chrono_literals;

TEST(LinkSpec, UnitsOfEachValueKind) {
  EXPECT_EQ(*parse_rate("50mbit"), 50e6);
  EXPECT_EQ(*parse_rate("1.5Gbit"), 1.5e9);
  EXPECT_EQ(*parse_rate("64kbit"), 64e3);
  EXPECT_EQ(*parse_rate("9600bit"), 9600);
  EXPECT_EQ(*parse_rate("0"), 0);  // unlimited
  EXPECT_EQ(*parse_duration("10ms"), 10ms);
  EXPECT_EQ(*parse_duration("1.5s"), 1500ms);
  EXPECT_EQ(*parse_duration("250us"), 250us);
  EXPECT_EQ(*parse_duration("7ns"), 7ns);
  EXPECT_EQ(*parse_duration("0"), 0ns);
  EXPECT_EQ(*parse_bytes("1500"), 1500u);
  EXPECT_EQ(*parse_bytes("64k"), 65536u);
  EXPECT_EQ(*parse_bytes("2m"), 2u << 20);
  EXPECT_EQ(*parse_bytes("40p"), 60000u);
  EXPECT_EQ(*parse_probability("0.01"), 0.01);
  EXPECT_EQ(*parse_probability("5%"), 0.05);
  EXPECT_EQ(*parse_probability("1"), 1.0);
}

TEST(LinkSpec, BadValuesAreRefusedWithTheTextInTheMessage) {
  // "mbps" is ambiguous (tc reads it as megabytes): refused rather than guessed.
  auto r = parse_rate("50mbps");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("'50mbps'"), std::string::npos) << r.error();
  EXPECT_FALSE(parse_rate("50"));  // a rate needs a unit
  EXPECT_FALSE(parse_rate("-5mbit"));
  EXPECT_FALSE(parse_rate("nanmbit"));
  EXPECT_FALSE(parse_rate("infmbit"));
  EXPECT_FALSE(parse_rate("2000gbit"));  // above kMaxRateBps
  EXPECT_FALSE(parse_duration("10"));
  EXPECT_FALSE(parse_duration("10min"));
  EXPECT_FALSE(parse_duration("61s"));  // above kMaxDelay
  EXPECT_FALSE(parse_duration("1.2.3ms"));
  EXPECT_FALSE(parse_bytes("1g"));
  EXPECT_FALSE(parse_bytes("257m"));  // above kMaxQueueBytes
  EXPECT_FALSE(parse_probability("1.5"));
  EXPECT_FALSE(parse_probability("101%"));
  EXPECT_FALSE(parse_probability("5 %"));
  EXPECT_FALSE(parse_probability(""));
}

TEST(LinkSpec, ProfileAppliesKeysToBothDirectionsOrOne) {
  auto p = parse_profile("rate=50mbit,delay=10ms,loss=1%,up.rate=5mbit,down.jitter=2ms,queue=64k",
                         transparent_profile());
  ASSERT_TRUE(p) << p.error();
  EXPECT_EQ(p->up.rate_bps, 5e6);
  EXPECT_EQ(p->down.rate_bps, 50e6);
  EXPECT_EQ(p->up.delay, 10ms);
  EXPECT_EQ(p->down.delay, 10ms);
  EXPECT_EQ(p->up.loss, 0.01);
  EXPECT_EQ(p->down.loss, 0.01);
  EXPECT_EQ(p->up.jitter, 0ms);
  EXPECT_EQ(p->down.jitter, 2ms);
  EXPECT_EQ(p->up.queue_bytes, 65536u);
  EXPECT_TRUE(p->queue_set[0] && p->queue_set[1]);
  EXPECT_EQ(p->up.header_bytes, 28u);  // the transparent base's IPv4+UDP overhead

  auto all = parse_profile(
      "burst_loss=0.1,max_burst=5,corrupt=0.2,reorder=0.3,reorder_delay=7ms,header=0",
      transparent_profile());
  ASSERT_TRUE(all) << all.error();
  EXPECT_EQ(all->down.burst_loss, 0.1);
  EXPECT_EQ(all->down.max_burst, 5);
  EXPECT_EQ(all->down.corrupt, 0.2);
  EXPECT_EQ(all->down.reorder, 0.3);
  EXPECT_EQ(all->down.reorder_delay, 7ms);
  EXPECT_EQ(all->down.header_bytes, 0u);
}

TEST(LinkSpec, ProfileErrorsNameTheKeyOrItem) {
  auto unknown = parse_profile("rate=5mbit,bandwidth=5mbit", transparent_profile());
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().find("unknown key 'bandwidth'"), std::string::npos) << unknown.error();
  auto bad = parse_profile("delay=10", transparent_profile());
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().find("delay"), std::string::npos) << bad.error();
  EXPECT_NE(bad.error().find("'10'"), std::string::npos) << bad.error();
  EXPECT_FALSE(parse_profile("rate", transparent_profile()));
  EXPECT_FALSE(parse_profile("=5", transparent_profile()));
  EXPECT_FALSE(parse_profile("rate=5mbit,", transparent_profile()));  // empty item
  EXPECT_FALSE(parse_profile("sideways.rate=5mbit", transparent_profile()));
  EXPECT_FALSE(parse_profile("max_burst=0", transparent_profile()));
  EXPECT_FALSE(parse_profile("header=2000", transparent_profile()));
  EXPECT_FALSE(parse_profile(std::string(kMaxSpecLength + 1, 'a'), transparent_profile()));
  // An empty spec is the base unchanged.
  auto empty = parse_profile("", transparent_profile());
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->up.rate_bps, 0);
}

TEST(LinkSpec, LinkAndDownArguments) {
  auto l = parse_link_arg("127.0.0.2=rate=50mbit,delay=10ms", transparent_profile());
  ASSERT_TRUE(l) << l.error();
  EXPECT_EQ(l->ip, *quic::SocketAddress::parse("127.0.0.2:0"));
  EXPECT_EQ(l->profile.up.rate_bps, 50e6);
  auto v6 = parse_link_arg("::1=delay=5ms", transparent_profile());
  ASSERT_TRUE(v6) << v6.error();
  EXPECT_TRUE(v6->ip.v6);
  auto bracketed = parse_link_arg("[::1]=delay=5ms", transparent_profile());
  ASSERT_TRUE(bracketed) << bracketed.error();
  EXPECT_EQ(bracketed->ip, v6->ip);
  EXPECT_FALSE(parse_link_arg("127.0.0.2", transparent_profile()));
  auto badip = parse_link_arg("127.0.0.300=delay=5ms", transparent_profile());
  ASSERT_FALSE(badip);
  EXPECT_NE(badip.error().find("'127.0.0.300'"), std::string::npos) << badip.error();
  EXPECT_FALSE(parse_link_arg("127.0.0.2:80=delay=5ms", transparent_profile()));

  auto d = parse_down_arg("127.0.0.2@5s-8s");
  ASSERT_TRUE(d) << d.error();
  EXPECT_EQ(d->start, 5s);
  EXPECT_EQ(d->end, 8s);
  EXPECT_TRUE(parse_down_arg("::1@0-500ms"));
  EXPECT_TRUE(parse_down_arg("127.0.0.2@90s-100s"));  // windows may lie beyond kMaxDelay
  EXPECT_FALSE(parse_down_arg("127.0.0.2@0s-90000s"));  // but not beyond kMaxScheduleTime
  EXPECT_FALSE(parse_down_arg("127.0.0.2@8s-5s"));
  EXPECT_FALSE(parse_down_arg("127.0.0.2@5s"));
  EXPECT_FALSE(parse_down_arg("127.0.0.2"));
  EXPECT_FALSE(parse_down_arg("127.0.0.2@5x-8s"));
}

TEST(LinkSpec, DefaultQueueIsOneBandwidthDelayProductAtLeastSixteenPackets) {
  auto p = parse_profile("rate=50mbit,delay=10ms", transparent_profile());
  ASSERT_TRUE(p);
  size_default_queues(*p);
  EXPECT_EQ(p->up.queue_bytes, 125000u);  // 50 Mbit/s x 20 ms RTT / 8
  auto slow = parse_profile("rate=1mbit,delay=1ms,down.queue=3000", transparent_profile());
  ASSERT_TRUE(slow);
  size_default_queues(*slow);
  EXPECT_EQ(slow->up.queue_bytes, 16u * 1500);
  EXPECT_EQ(slow->down.queue_bytes, 3000u);  // given: kept
}

}  // namespace
}  // namespace emu
