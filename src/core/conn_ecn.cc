// Connection: ECN (RFC 9000 §13.4, RFC 9002 §7.1). Packets are sent ECT(0) (or ECT(1) when
// configured, for L4S) while the path is being tested or is known to be capable. Each ACK's ECN
// counts validate the path: the increase of our codepoint's count and CE must cover the newly
// acknowledged marked packets, the other ECT count must not move, and counts never go down;
// otherwise (bleaching, miscounting routers) marking stops for good. If every packet of the
// testing period is lost, marked packets are being black-holed and marking stops too. A CE
// increase is a congestion signal for the path's controller.
#include "core/connection.h"

namespace quic {

namespace {
// RFC 9000 §A.4: test with the first ten marked packets.
constexpr uint64_t kEcnTestingPackets = 10;
}  // namespace

uint8_t Connection::next_ecn_mark(const Path& path) const {
  if (!config_.ecn || path.ecn == Path::EcnState::kFailed) return kEcnNotEct;
  if (path.ecn == Path::EcnState::kTesting && path.ecn_testing_sent >= kEcnTestingPackets) {
    return kEcnNotEct;  // await the verdict
  }
  return ecn_marking(config_.ecn_codepoint);
}

uint8_t Connection::ecn_mark_for_send(Path& path) {
  const uint8_t mark = next_ecn_mark(path);
  if (path.ecn == Path::EcnState::kTesting && mark != kEcnNotEct) ++path.ecn_testing_sent;
  return mark;
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
  const bool ect1 = ecn_marking(config_.ecn_codepoint) == kEcnEct1;
  const uint64_t ours_now = ect1 ? now_counts.ect1 : now_counts.ect0;
  const uint64_t ours_last = ect1 ? last.ect1 : last.ect0;
  const uint64_t other_now = ect1 ? now_counts.ect0 : now_counts.ect1;
  const uint64_t other_last = ect1 ? last.ect0 : last.ect1;
  if (ours_now < ours_last || other_now < other_last || now_counts.ce < last.ce ||
      other_now > other_last ||  // we never send the other codepoint: remarked on the way
      (ours_now - ours_last) + (now_counts.ce - last.ce) < newly_marked) {
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
