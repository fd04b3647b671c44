// Connection: ECN (RFC 9000 §13.4, RFC 9002 §7.1). Packets are sent ECT(0) while the path is
// being tested or is known to be capable. Each ACK's ECN counts validate the path: the ECT(0)
// and CE increase must cover the newly acknowledged marked packets and counts never go down;
// otherwise (bleaching, miscounting routers) marking stops for good. If every packet of the
// testing period is lost, marked packets are being black-holed and marking stops too. A CE
// increase is a congestion signal for the path's controller.
#include "core/connection.h"

namespace quic {

namespace {
// RFC 9000 §A.4: test with the first ten marked packets.
constexpr uint64_t kEcnTestingPackets = 10;
}  // namespace

uint8_t Connection::ecn_mark_for_send(Path& path) {
  if (!config_.ecn || path.ecn == Path::EcnState::kFailed) return kEcnNotEct;
  if (path.ecn == Path::EcnState::kTesting) {
    if (path.ecn_testing_sent >= kEcnTestingPackets) return kEcnNotEct;  // await the verdict
    ++path.ecn_testing_sent;
  }
  return kEcnEct0;
}

void Connection::on_ecn_marked_lost(Path& path, std::span<const SentPacket> lost) {
  if (path.ecn != Path::EcnState::kTesting) return;
  for (const SentPacket& p : lost) path.ecn_testing_lost += p.ecn_marked ? 1 : 0;
  if (path.ecn_testing_lost >= kEcnTestingPackets) path.ecn = Path::EcnState::kFailed;
}

void Connection::on_ecn_feedback(Instant now, Path& path, PnSpaceId space, const AckFrame& ack,
                                 const AckResult& res) {
  uint64_t newly_marked = 0;
  for (const SentPacket& p : res.acked) newly_marked += p.ecn_marked ? 1 : 0;
  if (path.ecn == Path::EcnState::kFailed) return;
  EcnCounts& last =
      space == PnSpaceId::kApp ? path.peer_ecn : peer_ecn_[static_cast<size_t>(space)];
  if (!ack.ecn) {
    if (newly_marked > 0) path.ecn = Path::EcnState::kFailed;  // bleached or unsupported
    return;
  }
  const EcnCounts& now_counts = *ack.ecn;
  if (now_counts.ect0 < last.ect0 || now_counts.ect1 < last.ect1 || now_counts.ce < last.ce ||
      now_counts.ect1 > last.ect1 ||  // we never send ECT(1)
      (now_counts.ect0 - last.ect0) + (now_counts.ce - last.ce) < newly_marked) {
    path.ecn = Path::EcnState::kFailed;
    return;
  }
  if (now_counts.ce > last.ce) {
    stats_.ecn_ce_received += now_counts.ce - last.ce;
    path.cc->on_ecn_ce(now, res.largest_acked_time_sent);
  }
  last = now_counts;
  if (newly_marked > 0 && path.ecn == Path::EcnState::kTesting) {
    path.ecn = Path::EcnState::kCapable;
    stats_.ecn_capable = true;
  }
}

}  // namespace quic
