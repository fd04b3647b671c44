#include "cc/pacer.h"

#include <algorithm>
#include <cmath>

namespace quic {

double Pacer::burst(uint64_t rate_bps, uint32_t mtu) {
  double m = std::max<uint32_t>(mtu, 1);
  double per_interval = static_cast<double>(rate_bps) / 8.0 *
                        static_cast<double>(kPacerBurstInterval.count()) / 1e9;
  return std::clamp(per_interval, kPacerBurstPackets * m, kPacerMaxBurstPackets * m);
}

double Pacer::capacity(uint64_t cwnd, uint32_t mtu, uint64_t rate_bps) {
  double m = std::max<uint32_t>(mtu, 1);
  // Never burst more than the window allows, but always allow two packets so a tiny window
  // still gets ACK clocking.
  return std::max(2 * m, std::min(static_cast<double>(cwnd), burst(rate_bps, m)));
}

double Pacer::tokens_at(Instant now, uint64_t rate_bps, double cap) const {
  if (!has_state_) return cap;
  double elapsed_s = now > last_ ? static_cast<double>((now - last_).count()) / 1e9 : 0.0;
  return std::min(cap, tokens_ + elapsed_s * static_cast<double>(rate_bps) / 8.0);
}

Instant Pacer::next_send_time(Instant now, uint32_t bytes, uint64_t rate_bps, uint64_t cwnd,
                              uint32_t mtu) const {
  if (rate_bps == 0) return now;
  double cap = capacity(cwnd, mtu, rate_bps);
  // A packet larger than the bucket only waits for a full bucket.
  double need = std::min(static_cast<double>(bytes), cap);
  double tokens = tokens_at(now, rate_bps, cap);
  if (tokens >= need) return now;
  // Fast path, bucket drained: wait for the whole burst (one GSO batch), not one packet. The
  // average rate is the same; slow paths (burst = the RFC's 10 packets) still go one by one.
  if (burst(rate_bps, mtu) > kPacerBurstPackets * static_cast<double>(std::max<uint32_t>(mtu, 1)))
    need = cap;
  double wait_ns = std::ceil((need - tokens) * 8e9 / static_cast<double>(rate_bps));
  constexpr double kMaxWaitNs = 60e9;  // a rate of a few bits per second must not overflow
  return now + Duration(static_cast<int64_t>(std::min(wait_ns, kMaxWaitNs)));
}

void Pacer::on_packet_sent(Instant now, uint32_t bytes, uint64_t rate_bps, uint64_t cwnd,
                           uint32_t mtu) {
  double cap = capacity(cwnd, mtu, rate_bps);
  double tokens = rate_bps == 0 ? cap : tokens_at(now, rate_bps, cap);
  // Early sends (probes) may borrow, but at most one bucket, so a stall stays short.
  tokens_ = std::max(tokens - static_cast<double>(bytes), -cap);
  last_ = std::max(now, has_state_ ? last_ : now);
  has_state_ = true;
}

}  // namespace quic
