// Connection: Datagram Packetization Layer PMTU Discovery (RFC 8899, RFC 9000 §14.3).
// After the handshake is confirmed, the path's datagram size is searched by binary search
// between the validated size and max_mtu with ack-eliciting probe packets padded to the probed
// size. An acknowledged probe raises the path MTU; three lost probes of one size lower the
// search ceiling. Probe losses are not congestion signals (RFC 9000 §14.4).
// The path MTU can shrink under a running connection (a tunnel, a new route). A black hole
// (§4.3) shows as full-size packets declared lost while only small ones (PINGs, keepalives)
// are acknowledged, or, on a connection's only path, as two PTOs in a row; the path then falls
// back to the base size (1200, which every QUIC path carries) and the search starts again. A search
// that ended below max_mtu is repeated after pmtu_raise_interval (§5.1.1), so the path climbs
// back when the MTU grows again.
#include "core/connection.h"

namespace quic {

namespace {
// Stop searching when the window is this narrow (bytes).
constexpr uint16_t kPmtuSearchGranularity = 16;
// A probe goes ahead of waiting data only in a window of at least this many packets (it then
// takes a tenth of the window for one round trip at most).
constexpr uint64_t kPmtuProbeAheadWindow = 10;
// Full-size packets declared lost, with nothing above the base size acknowledged meanwhile,
// that are taken as a black hole.
constexpr uint32_t kPmtuBlackHoleLosses = 6;
// RFC 8899 §5.1.2 MAX_PROBES.
constexpr uint8_t kPmtuMaxProbes = 3;
}  // namespace

uint16_t Connection::mtu_probe_size(Instant now, const Path& path, bool ahead_of_data) const {
  if (!config_.pmtud || !handshake_confirmed_ || path.probe_in_flight) return 0;
  if (ahead_of_data && path.cc->cwnd() < kPmtuProbeAheadWindow * path.mtu) return 0;
  // A search that ended under max_mtu starts again from max_mtu at pmtu_raise_at.
  const uint16_t high = now >= path.pmtu_raise_at ? config_.max_mtu : path.pmtu_high;
  if (high < path.pmtu_low + kPmtuSearchGranularity) return 0;
  uint16_t size = static_cast<uint16_t>((path.pmtu_low + high + 1) / 2);
  return bytes_in_flight(path) + size > path.cc->cwnd() ? 0 : size;
}

std::optional<Transmit> Connection::maybe_send_mtu_probe(Instant now, Path& path,
                                                        MutBytes buffer, bool ahead_of_data) {
  const uint16_t size = mtu_probe_size(now, path, ahead_of_data);
  if (size == 0 || buffer.size() < size) return std::nullopt;
  if (now >= path.pmtu_raise_at) {
    path.pmtu_raise_at = kNever;
    path.pmtu_high = config_.max_mtu;
  }
  const DatagramBuild d{kEcnNotEct, size, false};
  size_t n = build_packet(now, PnSpaceId::kApp, path, buffer.first(size), size, false, true, d);
  if (n == 0) return std::nullopt;
  path.probe_in_flight = true;
  path.probe_size = size;
  path.bytes_sent += n;
  stats_.bytes_sent += n;
  return Transmit{path.local, path.remote, 0, n, 0};
}

// A search that ended under max_mtu (a probe was lost on the way) looks again later.
void Connection::arm_pmtu_raise(Instant now, Path& path) const {
  if (path.pmtu_high >= path.pmtu_low + kPmtuSearchGranularity ||
      path.pmtu_high >= config_.max_mtu || config_.pmtu_raise_interval.count() == 0) {
    return;
  }
  path.pmtu_raise_at = now + config_.pmtu_raise_interval;
}

void Connection::on_mtu_probe_acked(Instant now, Path& path, uint16_t size) {
  path.probe_in_flight = false;
  path.probe_failures = 0;
  if (size > path.pmtu_low) {
    path.pmtu_low = size;
    path.mtu = size;
    path.cc->on_mtu_changed(size);
  }
  arm_pmtu_raise(now, path);
}

void Connection::on_mtu_probe_lost(Instant now, Path& path, uint16_t size) {
  path.probe_in_flight = false;
  if (++path.probe_failures >= kPmtuMaxProbes) {
    path.probe_failures = 0;
    path.pmtu_high = static_cast<uint16_t>(size - 1);
    arm_pmtu_raise(now, path);
  }
}

void Connection::watch_mtu_black_hole(Path& path, const AckResult& res) {
  if (!config_.pmtud || path.mtu <= config_.initial_mtu) return;
  // Anything above the base size acknowledged: large packets get through (losses are
  // congestion's or chance's).
  for (const SentPacket& p : res.acked) {
    if (p.bytes > config_.initial_mtu) {
      path.pmtu_large_lost = 0;
      return;
    }
  }
  for (const SentPacket& p : res.lost) {
    if (!p.is_mtu_probe && p.bytes > config_.initial_mtu) ++path.pmtu_large_lost;
  }
  if (path.pmtu_large_lost >= kPmtuBlackHoleLosses) on_mtu_black_hole(path);
}

void Connection::on_mtu_black_hole(Path& path) {
  if (!config_.pmtud || path.mtu <= config_.initial_mtu) return;
  ++path.pmtu_black_holes;
  path.pmtu_large_lost = 0;
  path.mtu = config_.initial_mtu;
  path.pmtu_low = config_.initial_mtu;
  path.pmtu_high = config_.max_mtu;
  path.pmtu_raise_at = kNever;
  path.probe_failures = 0;
  path.cc->on_mtu_changed(path.mtu);
}

}  // namespace quic
