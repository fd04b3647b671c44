#include "tquicd/backlog.h"

#include <algorithm>

#include "cc/pacer.h"

namespace bond {

namespace {

// Bytes `rate_bps` sends in `d`, saturating at kBacklogCeilingBytes (integers, so a table of
// rates gives exact figures; any rate up to 2^64 bit/s without overflow).
uint64_t bytes_in(uint64_t rate_bps, quic::Duration d) {
  if (d.count() <= 0) return 0;
  constexpr uint64_t kNsPerS = 1'000'000'000;
  const uint64_t ns = static_cast<uint64_t>(d.count());
  const uint64_t bytes_per_s = rate_bps / 8;
  // bytes_per_s * ns / 1e9 > cap exactly when bytes_per_s > cap * 1e9 / ns (cap * 1e9 ~ 1e15).
  if (bytes_per_s > kBacklogCeilingBytes * kNsPerS / ns) return kBacklogCeilingBytes;
  return bytes_per_s * ns / kNsPerS;
}

}  // namespace

size_t path_backlog_bytes(const BacklogPath& p, quic::Duration target) {
  const uint64_t mtu = std::max<uint32_t>(p.mtu, 1);
  const uint64_t burst = std::clamp(bytes_in(p.pacing_rate_bps, quic::kPacerBurstInterval),
                                    quic::kPacerBurstPackets * mtu,
                                    quic::kPacerMaxBurstPackets * mtu);
  return static_cast<size_t>(std::min<uint64_t>(bytes_in(p.pacing_rate_bps, target) + burst,
                                                kBacklogCeilingBytes));
}

size_t datagram_backlog_bytes(std::span<const BacklogPath> paths, const BacklogPolicy& policy) {
  const bool any_primary = std::any_of(paths.begin(), paths.end(),
                                       [](const BacklogPath& p) { return p.usable && !p.backup; });
  size_t sum = 0;  // at most policy.ceiling_bytes throughout: no overflow whatever the policy
  for (const BacklogPath& p : paths) {
    // Backups count only when no primary is usable (the scheduler's rule, multipath-21 §3.3).
    if (!p.usable || p.backup == any_primary) continue;
    sum += std::min(path_backlog_bytes(p, policy.target), policy.ceiling_bytes - sum);
  }
  // A ceiling below the floor (a misconfigured policy) yields the ceiling: it is the bound.
  return std::min(std::max(sum, policy.floor_bytes), policy.ceiling_bytes);
}

}  // namespace bond
