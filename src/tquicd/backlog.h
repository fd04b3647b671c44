// The size of the client's DATAGRAM backlog: how many bytes of tunnel packets the ingress pump
// lets into the connection's DATAGRAM send queue at once (docs/tquicd-datapath.md "Datagram
// backlog"). Everything beyond waits in the ingress queue, where CoDel sees it. The queue in
// the connection is FIFO over all paths, so after a path fails it drains at the survivors'
// rate ahead of every new packet: it is sized from what the paths carry now, 20 ms of their
// pacing rate plus one pacing burst each, and a path that stops carrying (failed, suspected,
// abandoned, idle backup) stops counting at once. The server bounds each client's queue with
// the same figure (it has no ingress queue: beyond it, packets are dropped). Sans-I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "common/time.h"

namespace bond {

// Bounds of the backlog whatever the paths say: the floor keeps one full GSO batch (the
// pacer's largest burst, 64 packets) queued so a path is never idle for want of a refill
// between two event-loop turns; the ceiling is about 8 ms at 1 Gbit/s.
inline constexpr size_t kBacklogFloorBytes = 96 << 10;
inline constexpr size_t kBacklogCeilingBytes = 1 << 20;

// What one of the connection's paths contributes.
struct BacklogPath {
  uint64_t pacing_rate_bps = 0;  // the rate its pacer lets packets out at (cwnd/srtt, its cap)
  uint32_t mtu = 0;              // bytes per packet on it
  bool usable = false;           // validated, open, neither failed nor suspected
  bool backup = false;           // standby: carries data only while no other path can
};

struct BacklogPolicy {
  // Queue time at the carrying paths' rate: covers the time between two turns of the event
  // loop (the pump refills before every send pass; the pacer wakes the loop), which on a
  // loaded machine is not always short: with 10 ms, one inner CUBIC flow lost a third of its
  // throughput in 2 of 3 runs of the bench topology; with 20 ms it kept it
  // (docs/bench/bond.md, "Datagram backlog sized from the paths").
  quic::Duration target = std::chrono::milliseconds(20);
  size_t floor_bytes = kBacklogFloorBytes;
  size_t ceiling_bytes = kBacklogCeilingBytes;
};

// The bytes one carrying path is worth: `target` at its pacing rate plus one pacing burst
// (what its pacer releases at once: 1 ms of its rate, 10 to 64 packets; cc/pacer.h).
size_t path_backlog_bytes(const BacklogPath& p, quic::Duration target);

// The backlog: the sum over the carrying paths (the usable non-backup ones, or the usable
// backups when no other path is usable), clamped to [floor, ceiling]. No carrying path: the
// floor (packets wait in the ingress queue, where CoDel drops them as they age).
size_t datagram_backlog_bytes(std::span<const BacklogPath> paths, const BacklogPolicy& policy = {});

}  // namespace bond
