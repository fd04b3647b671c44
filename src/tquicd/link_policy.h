// The client's per-link decisions, sans-I/O (docs/tquicd.md "Links"): whether a [[link]] can
// run now (its interface up with carrier and holding an address, or its source address
// present), which links the handshake races over and in what order, and what a link's quota
// and keepalive budget allow its path to do. link_manager.h applies them to sockets and paths.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "mp/path_manager.h"
#include "tquicd/config.h"
#include "tquicd/netlink_watch.h"

namespace bond {

// Where a link's socket binds when the link can run; nullopt with the reason when not.
struct LinkPlan {
  std::optional<quic::SocketAddress> bind;  // port 0
  std::string why_not;                      // "interface wan0 down", "no IPv4 address", ...
};
LinkPlan plan_link(const LinkConfig& link, const InterfaceTable& interfaces, bool v6);

// The order the handshake tries links in: primaries, then secondaries, then backups, each in
// configuration order. Indices into `links`.
std::vector<size_t> race_order(const std::vector<LinkConfig>& links);

// How far a metered link may go (QuotaLedger::remaining() against a margin for what is in
// flight when its path stops): kOpen carries data; kDraining is marked backup so the peer and
// we stop putting new data on it while what is in flight lands; kStopped closes the path.
enum class QuotaStage { kOpen, kDraining, kStopped };
// Bytes a path may still see after it is marked backup: up to a congestion window in each
// direction, so the link stops close to its quota, not over it (docs/tquicd.md). The margin
// is at least kMinQuotaMargin and at most an eighth of the quota.
inline constexpr uint64_t kMinQuotaMargin = 16 << 10;
uint64_t quota_margin(uint64_t quota_bytes, uint64_t cwnd_bytes);
QuotaStage quota_stage(uint64_t quota_bytes, uint64_t remaining, uint64_t margin);

// A backup link's path while an available link works spends its keepalive budget; once the
// budget is gone the path closes until no available link works (then it is all there is).
// `others_work`: some primary or secondary link has a usable path.
bool backup_path_wanted(const LinkConfig& link, bool others_work, bool keepalive_budget_left);

// A backup's keepalives spaced so that its keepalive budget lasts the quota period (instead of
// the path closing once it is spent; that close stays as the backstop). One end's PINGs prove
// an idle path for both (the core defers a path's keepalive after a PING from the peer), and
// the server's interval on a path its client marked backup is the longest there is
// (backup_keepalive.h), so only the client's keepalives cost anything while they keep coming.
// One keepalive costs kKeepaliveExchangeBytes on the wire: the PING packet and the ACK packet
// it draws, each at most kKeepalivePacketBytes of QUIC (the largest packet on an idle backup
// path in tests/tquicd/backup_keepalive_test.cc was 52 bytes with 8-byte connection IDs: a PING,
// an ACK and 16 bytes of AEAD tag; a 20-byte connection ID adds 12) plus 48 bytes of IPv6 and
// UDP headers (IPv4's 28 leave a margin). The budget is spread over the longest period (31
// days, from quota_reset_day to the next), less a reserve of an eighth for what else a backup's
// idle path carries (its validation when reopened, PATH_STATUS frames):
//   interval = 31 days * 224 B / (budget * 7/8)
// rounded up to the millisecond and kept within kMinPathKeepalive..kMaxBudgetKeepalive
// (100 ms..540 s). The longest (540 s, 1.11 MB per period) stays under the server's 600 s so
// the client's PING always comes first; a budget below 1.27 MB is spent before the period
// ends and the close takes over.
inline constexpr uint64_t kKeepalivePacketBytes = 64;
inline constexpr uint64_t kKeepaliveIpUdpBytes = 48;
inline constexpr uint64_t kKeepaliveExchangeBytes =
    2 * (kKeepalivePacketBytes + kKeepaliveIpUdpBytes);
inline constexpr quic::Duration kKeepaliveBudgetPeriod = std::chrono::hours(24 * 31);
inline constexpr quic::Duration kMaxBudgetKeepalive = quic::mp::kMaxPathKeepalive * 9 / 10;
quic::Duration keepalive_for_budget(uint64_t budget_bytes);
// The keepalive interval for `link`'s path (Connection::set_path_keepalive): the configured
// `keepalive` when set; else, for a backup, keepalive_for_budget(keepalive_budget); else 0
// (the connection-wide interval).
quic::Duration link_keepalive(const LinkConfig& link);

}  // namespace bond
