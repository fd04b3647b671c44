// sim::LinkShaper: the link model driven by a caller's clock (the real-socket relay's engine).
// The first test is the contract that matters: fed the same packets at the same instants, it
// delivers exactly what sim::Network delivers, at the same times, with the same counters.
#include "sim/link_shaper.h"

#include <gtest/gtest.h>

#include "sim/random.h"
#include "toy_nodes.h"

namespace sim::test {
namespace {

using namespace std::chrono_literals;

LinkConfig impaired() {
  LinkConfig c;  // 10 Mbit/s, 15 ms
  c.jitter = 2ms;
  c.loss = 0.03;
  c.burst_loss = 0.01;
  c.corrupt = 0.01;
  c.reorder = 0.05;
  c.queue_bytes = 20 * 1237;
  c.blackholes = {{300ms, 400ms}};
  return c;
}

TEST(LinkShaper, DeliversExactlyWhatTheSimulatedLinkDelivers) {
  const uint64_t seed = 7, count = 3000;
  const size_t size = 1237;
  const Duration interval = 600001ns;  // 1.65x the link rate: the queue fills and drops
  Network net(seed);
  CbrSender sender(addr(1), addr(2), size, interval, Instant{}, count);
  Sink sink(/*keep_payload=*/true);
  net.add_node(&sender, {addr(1)});
  net.add_node(&sink, {addr(2)});
  const int link = net.add_link(addr(1), addr(2), impaired(), LinkConfig{});
  net.run(quic::kNever);

  // Link 0, direction a->b of a Network with `seed` draws from this stream seed.
  LinkShaper shaper(impaired(), mix64(seed ^ mix64(0)), Instant{});
  std::vector<Arrival> got;
  std::vector<Datagram> out;
  Instant next_send{};
  uint64_t sent = 0;
  for (;;) {
    const Instant wake = shaper.next_wakeup();
    const Instant send = sent < count ? next_send : quic::kNever;
    if (wake == quic::kNever && send == quic::kNever) break;
    if (send <= wake) {
      shaper.offer(send, Datagram{addr(1), addr(2), kNotEct, payload_for(sent, size)});
      ++sent;
      next_send += interval;
    } else {
      out.clear();
      shaper.poll(wake, out);
      for (Datagram& d : out) got.push_back(Arrival{wake, seq_of(d.payload), std::move(d)});
    }
  }

  ASSERT_EQ(got.size(), sink.arrivals.size());
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(got[i].seq, sink.arrivals[i].seq) << i;
    ASSERT_EQ(got[i].at, sink.arrivals[i].at) << i;
    ASSERT_EQ(got[i].d.payload, sink.arrivals[i].d.payload) << i;  // same corruption
  }
  const auto s = net.stats(link, true);
  const DirCounters& c = shaper.counters();
  EXPECT_EQ(c.sent_packets, s.sent_packets);
  EXPECT_EQ(c.delivered_packets, s.delivered_packets);
  EXPECT_EQ(c.dropped_queue, s.dropped_queue);
  EXPECT_EQ(c.dropped_loss, s.dropped_loss);
  EXPECT_EQ(c.dropped_blackhole, s.dropped_blackhole);
  EXPECT_EQ(c.corrupted, s.corrupted);
  EXPECT_EQ(c.reordered, s.reordered);
  // Every impairment actually happened, so the comparison covered each of them.
  EXPECT_GT(c.dropped_queue, 0u);
  EXPECT_GT(c.dropped_loss, 0u);
  EXPECT_GT(c.dropped_blackhole, 0u);
  EXPECT_GT(c.corrupted, 0u);
  EXPECT_GT(c.reordered, 0u);
}

TEST(LinkShaper, ALateCallerStillGetsTheConfiguredRate) {
  LinkConfig c;
  c.rate_bps = 10e6;  // 1250-byte packets: exactly 1 ms each
  c.delay = 0ms;
  c.queue_bytes = 1 << 20;
  LinkShaper shaper(c, 1, Instant{});
  for (uint64_t i = 0; i < 100; ++i) {
    shaper.offer(Instant{}, Datagram{addr(1), addr(2), kNotEct, payload_for(i, 1250)});
  }
  EXPECT_EQ(shaper.next_wakeup(), Instant{} + 1ms);
  std::vector<Datagram> out;
  // Woken 49.5 ms late: the 50 packets whose serialisation ended by then, no more, no fewer.
  shaper.poll(Instant{} + 50500us, out);
  ASSERT_EQ(out.size(), 50u);
  EXPECT_EQ(seq_of(out.back().payload), 49u);
  EXPECT_EQ(shaper.next_wakeup(), Instant{} + 51ms);
  EXPECT_EQ(shaper.queued_packets(), 50u);
  out.clear();
  shaper.poll(Instant{} + 1s, out);
  EXPECT_EQ(out.size(), 50u);
  EXPECT_EQ(shaper.next_wakeup(), quic::kNever);
}

TEST(LinkShaper, DelayLineIsBoundedWhenTheRateIsUnlimited) {
  LinkConfig c;
  c.rate_bps = 0;  // nothing queues: every packet goes straight into the delay line
  c.delay = 1s;
  LinkShaper shaper(c, 1, Instant{});
  const size_t extra = 10;
  for (size_t i = 0; i < kMaxShaperInFlight + extra; ++i) {
    shaper.offer(Instant{}, Datagram{addr(1), addr(2), kNotEct, {1, 2, 3}});
  }
  std::vector<Datagram> out;
  shaper.poll(Instant{}, out);  // the last packet leaves its (zero-length) serialisation
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(shaper.in_flight(), kMaxShaperInFlight);
  EXPECT_EQ(shaper.counters().dropped_queue, extra);
  shaper.poll(Instant{} + 999ms, out);
  EXPECT_TRUE(out.empty());
  shaper.poll(Instant{} + 1s, out);
  EXPECT_EQ(out.size(), kMaxShaperInFlight);
}

TEST(LinkShaper, BlackholeWindowCountsFromTheGivenStart) {
  LinkConfig c;
  c.rate_bps = 0;
  c.delay = 0ms;
  c.blackholes = {{5s, 8s}};
  const Instant start = Instant{} + 100s;  // a real clock's epoch is not the relay's start
  LinkShaper shaper(c, 1, start);
  std::vector<Datagram> out;
  for (Duration t : {Duration(1s), Duration(5s), Duration(7999ms), Duration(8s)}) {
    shaper.offer(start + t, Datagram{addr(1), addr(2), kNotEct, {1}});
    shaper.poll(start + t, out);
  }
  EXPECT_EQ(out.size(), 2u);
  EXPECT_EQ(shaper.counters().dropped_blackhole, 2u);
}

}  // namespace
}  // namespace sim::test
