// The client's links over the connection's life (docs/tquicd.md "Links"): each [[link]] has a
// socket while it can run (link_policy.h's plan from the interface table that rtnetlink keeps
// current) and a path on the connection while it has a socket. A link whose interface loses
// carrier or its address has its path abandoned and its socket closed at once; when it
// returns, a new socket and path join by themselves. The link's policy is applied to its
// path: role -> PATH_STATUS (backup), weight (weighted scheduler), rate (pacer cap), quota
// (drain, then stop; usage in the QuotaLedger) and the keepalive budget of backups.
#pragma once

#include <expected>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/connection.h"
#include "io/endpoint_driver.h"
#include "tquicd/daemon.h"
#include "tquicd/events.h"
#include "tquicd/link_policy.h"
#include "tquicd/quota.h"

namespace bond {

// How long a metered link's path stays marked backup (its in-flight data landing) before it
// stops, counted in its smoothed RTTs, with a floor.
inline constexpr int kQuotaDrainRtts = 3;
inline constexpr quic::Duration kMinQuotaDrain = std::chrono::milliseconds(100);

class LinkManager {
 public:
  using Emit = std::function<void(EventKind, std::string_view link, std::string_view detail)>;
  LinkManager(io::EndpointDriver& driver, const quic::SocketAddress& remote, QuotaLedger& ledger,
              Emit emit);
  ~LinkManager();
  LinkManager(const LinkManager&) = delete;
  LinkManager& operator=(const LinkManager&) = delete;

  // At start and on SIGHUP: links added, removed, or with changed keys (applied to their
  // paths at the next tick; a changed interface or source reopens the link's socket).
  void configure(const std::vector<LinkConfig>& links, quic::Connection* c);
  // The interfaces changed: opens the sockets of links that can run, closes the others (and
  // abandons their paths while another path is open).
  void sync(const InterfaceTable& interfaces, quic::Connection* c, quic::Instant now);
  // After each batch of the event loop: matches paths to links, asks for paths of links that
  // have none, counts bytes into the ledger, applies role, weight, rate, quota and budget.
  void tick(quic::Connection* c, quic::Instant now, WallTime wall);
  // The tunnel has a new connection (the client reconnected): the links' paths were the old
  // one's, so every link with a socket asks the new one for a path at the next tick; the
  // sockets stay and the quota usage carries on.
  void on_new_connection();
  // A socket failed (the driver has removed it): the link reopens at the next sync.
  void on_socket_error(const io::UdpSocket& s, const quic::Error& e);
  // `tquicctl link down|up NAME`: a link taken down keeps no socket and no path, whatever its
  // interface does, until it is taken up again (the next sync() acts on it). Down is refused
  // when the link's path is the connection's only usable one (it would end the tunnel).
  std::expected<std::string, std::string> set_admin_down(std::string_view name, bool down,
                                                         const quic::Connection* c);

  // Links with a socket, in race order (link_policy.h), not in `busy`: where the next
  // handshake attempt goes.
  std::optional<size_t> next_race_link(const std::vector<size_t>& busy) const;
  // The socket of link `i` (null when it has none).
  const io::UdpSocket* socket(size_t i) const;
  const std::string& name(size_t i) const { return links_[i].cfg.name; }
  // Whether link `i` still has the socket `s` (a race attempt on a link that went is dropped).
  bool holds(size_t i, const io::UdpSocket* s) const { return i < links_.size() && socket(i) == s; }
  bool needs_resync() const { return resync_; }
  std::vector<LinkState> states(const quic::Connection* c) const;

 private:
  struct Link {
    LinkConfig cfg;
    std::unique_ptr<io::UdpSocket> socket;
    std::string down_reason;                       // why it has no socket (logged once per change)
    std::optional<uint64_t> path_id;               // its path on the connection
    std::optional<quic::SocketAddress> requested;  // local address a path was asked for
    uint64_t counted = 0;                          // bytes of path_id already fed to the ledger
    bool policy_applied = false;                   // role/weight/rate set on path_id
    bool usable = false;                           // path_id validated and not failed
    bool draining = false, quota_stopped = false, standby = false, socket_failed = false;
    bool admin_down = false;  // taken down by the operator (kept across reloads)
    quic::Instant draining_since{}, retry_at{};
  };

  void open_socket(Link& l, const quic::SocketAddress& bind);
  void close_link(Link& l, quic::Connection* c, std::string_view why);
  void match_path(Link& l, quic::Connection& c);
  void apply_policy(Link& l, quic::Connection& c);
  void account(Link& l, const quic::Connection& c, WallTime wall, bool others);
  void quota_step(Link& l, quic::Connection& c, quic::Instant now, WallTime wall);
  bool others_work(const quic::Connection& c) const;
  bool another_path_open(const quic::Connection& c, uint64_t id) const;
  void apply_scheduler(quic::Connection& c);
  void drain_ledger_events(quic::Instant now);
  // A link's path went down: says where the traffic went (kFailover).
  void report_failover(const Link& gone);

  io::EndpointDriver& driver_;
  quic::SocketAddress remote_;
  QuotaLedger& ledger_;
  Emit emit_;
  std::vector<Link> links_;
  bool resync_ = true;  // sync() has work: start, reconfigure, a socket error, a quota change
  bool scheduler_dirty_ = true;
};

}  // namespace bond
