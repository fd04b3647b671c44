// The model of one direction of a link: a drop-tail byte queue in front of a serialiser running
// at rate_bps, then a propagation delay with optional jitter, plus the impairments the
// quic-interop-runner ns-3 scenarios use (random and burst loss, corruption, reordering,
// blackholes, ECN CE marking).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <tuple>
#include <utility>
#include <vector>

#include "sim/node.h"

namespace sim {

using namespace std::chrono_literals;

// IP and UDP header bytes a link carries per datagram beside the UDP payload.
inline constexpr size_t kIpv4UdpHeaderBytes = 20 + 8;
inline constexpr size_t kIpv6UdpHeaderBytes = 40 + 8;

struct LinkConfig {
  // Serialisation: a packet of n bytes (UDP payload + header_bytes) occupies the link for
  // n*8/rate_bps seconds, rounded up to whole nanoseconds. rate_bps <= 0 means infinitely fast.
  double rate_bps = 10e6;
  Duration delay = 15ms;
  // Uniform extra delay in [0, jitter]; arrival order stays FIFO except for reordered packets.
  Duration jitter = 0ms;
  // Drop-tail limit on the bytes waiting behind the packet being serialised.
  size_t queue_bytes = 25 * 1500;
  // Per-packet IP/UDP overhead counted for serialisation and the queue (e.g. 28 for IPv4). Zero
  // keeps "size" equal to the UDP payload, which makes test arithmetic exact.
  size_t header_bytes = 0;

  double loss = 0;  // independent random loss probability per packet
  // Probability that a packet starts a loss burst; the burst's length is uniform in
  // 1..max_burst and consecutive bursts are separated by at least one packet.
  double burst_loss = 0;
  int max_burst = 3;
  double corrupt = 0;  // probability to flip one random byte among the first 50 of the payload
  double reorder = 0;  // probability a packet gets reorder_delay extra and may be overtaken
  Duration reorder_delay = 5ms;

  // [start, end) windows relative to the network's start instant: everything dropped.
  std::vector<std::pair<Duration, Duration>> blackholes;
  // (period, dark, offset): from `offset` on, dark for the first `dark` of every `period`.
  std::optional<std::tuple<Duration, Duration, Duration>> periodic_blackhole;
  // Test hook: return true to drop the index-th packet sent on this direction (0-based, counting
  // every packet offered to the link). Counted as dropped_loss.
  std::function<bool(const Datagram&, uint64_t index)> drop_filter;

  // false: the path bleaches ECN (every packet arrives Not-ECT).
  bool ecn_capable = true;
  double ce_mark = 0;  // probability to mark an ECT packet CE
  // Mark ECT packets CE when more than this many bytes wait in the queue at enqueue; 0 = off.
  size_t ce_threshold_bytes = 0;
};

}  // namespace sim
