#include "tquicd/backup_keepalive.h"

#include "core/connection.h"

namespace bond {

size_t space_peer_backup_keepalives(quic::Connection& c) {
  if (!c.multipath() || !c.handshake_complete()) return 0;
  size_t refused = 0;
  for (size_t i = 0; i < c.path_count(); ++i) {
    const quic::Path& p = c.path(i);
    if (p.state == quic::PathState::kAbandoned) continue;
    quic::Duration want = p.role.peer_backup() ? kPeerBackupKeepalive : quic::Duration::zero();
    if (!c.set_path_keepalive(p.id, want)) ++refused;
  }
  return refused;
}

}  // namespace bond
