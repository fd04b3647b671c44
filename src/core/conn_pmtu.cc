// Connection: Datagram Packetization Layer PMTU Discovery (RFC 8899, RFC 9000 §14.3).
// After the handshake is confirmed, the path's datagram size is searched by binary search
// between the validated size and max_mtu with ack-eliciting probe packets padded to the probed
// size. An acknowledged probe raises the path MTU; three lost probes of one size lower the
// search ceiling. Probe losses are not congestion signals (RFC 9000 §14.4).
#include "core/connection.h"

namespace quic {

namespace {
// Stop searching when the window is this narrow (bytes).
constexpr uint16_t kPmtuSearchGranularity = 16;
// RFC 8899 §5.1.2 MAX_PROBES.
constexpr uint8_t kPmtuMaxProbes = 3;
}  // namespace

std::optional<Transmit> Connection::maybe_send_mtu_probe(Instant now, Path& path,
                                                        MutBytes buffer) {
  if (!config_.pmtud || !handshake_confirmed_ || path.probe_in_flight) return std::nullopt;
  if (path.pmtu_high < path.pmtu_low + kPmtuSearchGranularity) return std::nullopt;
  uint16_t size = static_cast<uint16_t>((path.pmtu_low + path.pmtu_high + 1) / 2);
  if (buffer.size() < size || bytes_in_flight(path) + size > path.cc->cwnd()) return std::nullopt;
  mtu_probe_size_ = size;
  datagram_ecn_ = kEcnNotEct;
  size_t n = build_packet(now, PnSpaceId::kApp, path, buffer.first(size), size, false, true);
  mtu_probe_size_ = 0;
  if (n == 0) return std::nullopt;
  path.probe_in_flight = true;
  path.probe_size = size;
  path.bytes_sent += n;
  stats_.bytes_sent += n;
  return Transmit{path.local, path.remote, 0, n, 0};
}

void Connection::on_mtu_probe_acked(Path& path, uint16_t size) {
  path.probe_in_flight = false;
  path.probe_failures = 0;
  if (size > path.pmtu_low) {
    path.pmtu_low = size;
    path.mtu = size;
    path.cc->on_mtu_changed(size);
  }
}

void Connection::on_mtu_probe_lost(Path& path, uint16_t size) {
  path.probe_in_flight = false;
  if (++path.probe_failures >= kPmtuMaxProbes) {
    path.probe_failures = 0;
    path.pmtu_high = static_cast<uint16_t>(size - 1);
  }
}

}  // namespace quic
