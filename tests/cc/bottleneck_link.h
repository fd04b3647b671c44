// A small bottleneck model for driving one congestion controller: a FIFO link of fixed rate and
// propagation RTT, one ACK per packet, losses declared when the next packet's ACK arrives. The
// real Pacer paces the sender, so pacing_rate_bps() is exercised the way the connection uses it.
// Tests may change `rtt` between runs (a route change) or add `standing_queue` (somebody else's
// packets ahead of ours in the buffer).
#pragma once

#include <algorithm>
#include <deque>
#include <functional>
#include <vector>

#include "cc/congestion_controller.h"
#include "cc/pacer.h"

namespace quic {

struct BottleneckLink {
  static constexpr uint32_t kPacket = 1200;

  CongestionController& cc;
  double rate_Bps;  // bottleneck rate, bytes per second
  Duration rtt;     // propagation round trip
  size_t queue_packets = 100000;
  std::function<bool(uint64_t pn)> drop = [](uint64_t) { return false; };
  // Application: at most one packet per app_interval (zero: always data to send).
  Duration app_interval{0};
  // Extra delay every packet waits at the bottleneck (cross traffic holding a standing queue).
  Duration standing_queue{0};
  // Called after every send and every batch of ACKs.
  std::function<void()> observer = [] {};

  Instant now = instant_from_ns(1'000'000'000);
  Instant link_free = now;
  Instant next_app = now;
  uint64_t next_pn = 0, in_flight = 0, acked_bytes = 0, lost_packets = 0;
  RttEstimator rtt_est{kInitialRtt};
  Pacer pacer;
  struct InNetwork {
    Instant arrives;  // when its ACK reaches the sender
    SentPacket p;
    bool dropped;
  };
  std::deque<InNetwork> net;
  // How long each packet waited in the bottleneck's queue (ours and the standing one).
  std::vector<Duration> queueing;

  Instant next_send_time() const {
    if (in_flight + kPacket > cc.cwnd()) return kNever;
    Instant t = pacer.next_send_time(now, kPacket, cc.pacing_rate_bps(rtt_est), cc.cwnd(), kPacket);
    if (app_interval > Duration::zero()) t = std::max(t, next_app);
    return t;
  }

  void send() {
    SentPacket p{next_pn++, now, kPacket, true, true};
    in_flight += kPacket;
    cc.on_packet_sent(now, p.pn, p.bytes, in_flight);
    pacer.on_packet_sent(now, p.bytes, cc.pacing_rate_bps(rtt_est), cc.cwnd(), kPacket);
    next_app = now + app_interval;
    Instant start = std::max(now, link_free);
    size_t queued = static_cast<size_t>(static_cast<double>((start - now).count()) / 1e9 *
                                        rate_Bps / kPacket);
    bool dropped = drop(p.pn) || queued >= queue_packets;
    Instant arrives = now + rtt;  // a dropped packet's absence is noticed then
    if (!dropped) {
      link_free = start + Duration(static_cast<int64_t>(kPacket / rate_Bps * 1e9));
      arrives = link_free + rtt + standing_queue;
      queueing.push_back(start - now + standing_queue);
    }
    net.push_back({arrives, p, dropped});
  }

  void deliver_front() {
    InNetwork e = net.front();
    net.pop_front();
    in_flight -= kPacket;
    if (e.dropped) {
      ++lost_packets;
      cc.on_packets_lost(now, std::vector<SentPacket>{e.p}, false, in_flight);
      return;
    }
    acked_bytes += kPacket;
    rtt_est.update(now - e.p.time_sent, 0ms, true, 25ms, now);
    cc.on_packets_acked(now, std::vector<SentPacket>{e.p}, rtt_est, in_flight);
  }

  void run_for(Duration d) {
    Instant end = now + d;
    while (true) {
      // FIFO: ACKs (and the noticed absence of dropped packets) come back in send order.
      Instant ack_at = net.empty() ? kNever : net.front().arrives;
      Instant send_at = next_send_time();
      Instant t = std::min(ack_at, send_at);
      if (t > end) break;
      now = std::max(now, t);
      if (ack_at <= now) {
        while (!net.empty() && net.front().arrives <= now) deliver_front();
      } else {
        send();
      }
      observer();
      if (app_interval > Duration::zero() && now < next_app && in_flight + kPacket <= cc.cwnd()) {
        cc.on_app_limited(in_flight);
      }
    }
    now = end;
  }

  double bdp_bytes() const { return rate_Bps * std::chrono::duration<double>(rtt).count(); }
};

}  // namespace quic
