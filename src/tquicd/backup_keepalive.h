// The server's keepalives on a client's backup paths (docs/tquicd.md "Role, weight, rate").
// A backup link's client spaces its own keepalives by the link's budget (link_keepalive() in
// link_policy.h). At the connection-wide 1 s the server alone would spend a 1 MB budget in well
// under a day; the peer marking the path backup (PATH_STATUS_BACKUP, multipath draft §3.3)
// says that the client keeps it alive, so the server's interval on it is the longest the core
// takes. The core defers that interval after each of the client's PINGs and lifts its
// idle-timeout cap while the primary keeps the connection alive, so the server PINGs the path
// only when the client's keepalives stop.
#pragma once

#include <cstddef>

#include "common/time.h"
#include "mp/path_manager.h"

namespace quic {
class Connection;
}

namespace bond {

// The server's keepalive on a path its peer marked backup: the longest the core takes (the
// client's budget-derived interval stays under it: kMaxBudgetKeepalive in link_policy.h).
inline constexpr quic::Duration kPeerBackupKeepalive = quic::mp::kMaxPathKeepalive;

// Gives each open path of `c` that the peer marked backup kPeerBackupKeepalive, and every other
// open path the connection-wide interval again (a path the peer made available). Idempotent:
// the server calls it for every client connection once a second. Returns how many paths the
// core refused (more than mp::kMaxPathKeepalives backup paths on one connection).
size_t space_peer_backup_keepalives(quic::Connection& c);

}  // namespace bond
