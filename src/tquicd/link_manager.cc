#include "tquicd/link_manager.h"

#include <algorithm>

#include "apps/net_options.h"

namespace bond {

namespace {

using apps::log_at;

const quic::Path* find_path(const quic::Connection& c, std::optional<uint64_t> id) {
  if (!id) return nullptr;
  const quic::Path* p = c.find_path(*id);
  return p != nullptr && p->state != quic::PathState::kAbandoned ? p : nullptr;
}

// After a socket error, the link's socket is not reopened sooner than this.
constexpr quic::Duration kSocketRetry = std::chrono::seconds(1);

}  // namespace

LinkManager::LinkManager(io::EndpointDriver& driver, const quic::SocketAddress& remote,
                         QuotaLedger& ledger, Emit emit)
    : driver_(driver), remote_(remote), ledger_(ledger), emit_(std::move(emit)) {}

LinkManager::~LinkManager() {
  for (Link& l : links_) {
    if (l.socket) driver_.remove_socket(l.socket.get());
  }
}

void LinkManager::configure(const std::vector<LinkConfig>& links, quic::Connection* c) {
  std::vector<Link> next;
  for (const LinkConfig& cfg : links) {
    auto old = std::find_if(links_.begin(), links_.end(),
                            [&](const Link& l) { return l.cfg.name == cfg.name; });
    if (old == links_.end()) {
      next.push_back(Link{cfg});
      emit_(EventKind::kLinkAdded, cfg.name, cfg.interface);
      continue;
    }
    if (old->cfg.interface != cfg.interface || old->cfg.source != cfg.source ||
        old->cfg.mark != cfg.mark) {
      close_link(*old, c, "interface, source or mark changed");
    }
    old->cfg = cfg;
    old->policy_applied = false;
    next.push_back(std::move(*old));
    links_.erase(old);
  }
  for (Link& gone : links_) {
    close_link(gone, c, "removed from the configuration");
    emit_(EventKind::kLinkRemoved, gone.cfg.name, {});
  }
  links_ = std::move(next);
  resync_ = scheduler_dirty_ = true;
}

void LinkManager::open_socket(Link& l, const quic::SocketAddress& bind) {
  io::SocketOptions so;
  so.bind_device = l.cfg.interface;
  if (l.cfg.mark != 0) so.mark = l.cfg.mark;
  quic::SocketAddress at = bind;
  at.port = 0;
  auto sock = io::UdpSocket::open(at, so);
  if (!sock) {
    l.down_reason = sock.error().reason;
    log_at(0, "tquicd: link %s: %s", l.cfg.name.c_str(), l.down_reason.c_str());
    return;
  }
  if (auto st = driver_.add_socket(sock->get()); !st) {
    log_at(0, "tquicd: link %s: %s", l.cfg.name.c_str(), st.error().reason.c_str());
    return;
  }
  l.socket = std::move(*sock);
  l.down_reason.clear();
  emit_(EventKind::kLinkUp, l.cfg.name, l.socket->local_address().to_string());
}

void LinkManager::close_link(Link& l, quic::Connection* c, std::string_view why) {
  if (!l.socket) return;
  if (c != nullptr && l.path_id && find_path(*c, l.path_id) != nullptr &&
      another_path_open(*c, *l.path_id)) {
    // The interface said it first: no need to wait for the core's failure detection.
    if (auto st = c->abandon_path(*l.path_id); !st) {
      log_at(0, "tquicd: link %s: abandon: %s", l.cfg.name.c_str(), st.error().reason.c_str());
    }
  }
  if (l.usable) {
    emit_(EventKind::kPathDown, l.cfg.name, why);
    report_failover(l);
  }
  driver_.remove_socket(l.socket.get());
  l.socket.reset();
  l.path_id.reset();
  l.requested.reset();
  l.counted = 0;
  l.policy_applied = l.draining = l.usable = false;
  emit_(EventKind::kLinkDown, l.cfg.name, why);
}

void LinkManager::report_failover(const Link& gone) {
  if (gone.cfg.role == LinkRole::kBackup) return;  // it carried no traffic to move
  std::string to;
  for (const Link& l : links_) {
    if (&l != &gone && l.usable) to += (to.empty() ? "to " : ", ") + l.cfg.name;
  }
  emit_(EventKind::kFailover, gone.cfg.name, to.empty() ? "no link left" : to);
}

void LinkManager::on_new_connection() {
  for (Link& l : links_) {
    l.path_id.reset();
    l.requested.reset();
    l.counted = 0;
    l.policy_applied = l.usable = l.draining = false;
  }
  scheduler_dirty_ = true;
}

void LinkManager::on_socket_error(const io::UdpSocket& s, const quic::Error& e) {
  for (Link& l : links_) {
    if (l.socket.get() != &s) continue;
    log_at(0, "tquicd: link %s: socket error: %s", l.cfg.name.c_str(), e.reason.c_str());
    l.socket_failed = true;
    resync_ = true;
  }
}

std::expected<std::string, std::string> LinkManager::set_admin_down(std::string_view name,
                                                                    bool down,
                                                                    const quic::Connection* c) {
  auto it =
      std::find_if(links_.begin(), links_.end(), [&](const Link& l) { return l.cfg.name == name; });
  if (it == links_.end()) return std::unexpected("no link named '" + std::string(name) + "'");
  if (it->admin_down == down)
    return std::string(name) + (down ? " is already down" : " is already up");
  if (down && c != nullptr && it->usable && it->path_id && !another_path_open(*c, *it->path_id)) {
    return std::unexpected("no other usable link: taking it down would end the tunnel");
  }
  it->admin_down = down;
  resync_ = true;
  return std::string(name) + (down ? " down: its path is abandoned" : " up: its path reopens");
}

void LinkManager::sync(const InterfaceTable& interfaces, quic::Connection* c, quic::Instant now) {
  resync_ = false;
  for (Link& l : links_) {
    LinkPlan plan = plan_link(l.cfg, interfaces, remote_.v6);
    std::string why = plan.why_not;
    if (ledger_.stopped(l.cfg.name)) why = "quota reached";
    if (l.standby) why = "backup standby (keepalive budget spent)";
    if (l.admin_down) why = "taken down by the operator";
    if (l.socket_failed) {
      why = "socket error";
      l.retry_at = now + kSocketRetry;
      l.socket_failed = false;
    }
    bool moved = plan.bind && l.socket && !plan.bind->same_ip(l.socket->local_address());
    if (l.socket && (!why.empty() || moved)) close_link(l, c, moved ? "address changed" : why);
    if (!l.socket && why.empty() && now >= l.retry_at) open_socket(l, *plan.bind);
    if (!l.socket && why.empty() && now < l.retry_at) resync_ = true;  // try again later
    if (!l.socket && !why.empty() && why != l.down_reason) {
      log_at(0, "tquicd: link %s down: %s", l.cfg.name.c_str(), why.c_str());
      l.down_reason = why;
    }
  }
}

std::optional<size_t> LinkManager::next_race_link(const std::vector<size_t>& busy) const {
  std::vector<LinkConfig> cfgs;
  for (const Link& l : links_) cfgs.push_back(l.cfg);
  for (size_t i : race_order(cfgs)) {
    if (links_[i].socket && std::find(busy.begin(), busy.end(), i) == busy.end()) return i;
  }
  return std::nullopt;
}

const io::UdpSocket* LinkManager::socket(size_t i) const {
  return i < links_.size() ? links_[i].socket.get() : nullptr;
}

bool LinkManager::another_path_open(const quic::Connection& c, uint64_t id) const {
  for (size_t i = 0; i < c.path_count(); ++i) {
    const quic::Path& p = c.path(i);
    if (p.id != id && p.usable()) return true;
  }
  return false;
}

bool LinkManager::others_work(const quic::Connection& c) const {
  return std::any_of(links_.begin(), links_.end(), [&](const Link& l) {
    const quic::Path* p = find_path(c, l.path_id);
    return l.cfg.role != LinkRole::kBackup && p != nullptr && p->usable();
  });
}

void LinkManager::match_path(Link& l, quic::Connection& c) {
  if (!l.socket) return;
  const quic::SocketAddress& local = l.socket->local_address();
  std::optional<uint64_t> found;
  bool usable = false;
  for (size_t i = 0; i < c.path_count(); ++i) {
    const quic::Path& p = c.path(i);
    if (p.local == local && p.state != quic::PathState::kAbandoned) {
      found = p.id;
      usable = p.usable();
    }
  }
  if (found != l.path_id) {
    l.path_id = found;
    l.counted = 0;
    l.policy_applied = false;
  }
  if (usable != l.usable) {
    l.usable = usable;
    emit_(usable ? EventKind::kPathUp : EventKind::kPathDown, l.cfg.name,
          usable ? local.to_string() : "path failed");
    if (!usable) report_failover(l);
  }
  if (!found && c.handshake_complete() && c.multipath() && l.requested != local) {
    l.requested = local;
    bool backup = l.cfg.role == LinkRole::kBackup || l.draining;
    if (auto st = c.add_path(local, remote_, backup); !st) {
      log_at(0, "tquicd: link %s: add_path: %s", l.cfg.name.c_str(), st.error().reason.c_str());
    }
  }
}

void LinkManager::apply_policy(Link& l, quic::Connection& c) {
  if (!l.path_id || l.policy_applied || find_path(c, l.path_id) == nullptr) return;
  l.policy_applied = true;
  uint64_t id = *l.path_id;
  bool backup = l.cfg.role == LinkRole::kBackup || l.draining;
  for (auto st :
       {c.set_path_backup(id, backup), c.set_path_weight(id, l.cfg.weight),
        c.set_path_rate_cap(id, l.cfg.rate_bps), c.set_path_keepalive(id, link_keepalive(l.cfg))}) {
    if (!st) log_at(0, "tquicd: link %s: %s", l.cfg.name.c_str(), st.error().reason.c_str());
  }
}

void LinkManager::apply_scheduler(quic::Connection& c) {
  scheduler_dirty_ = false;
  bool weighted = std::any_of(links_.begin(), links_.end(), [&](const Link& l) {
    return l.cfg.weight != links_.front().cfg.weight;
  });
  // minrtt unless weights differ (docs/tquicd.md: it keeps window-limited tunnels busy).
  c.set_scheduler(weighted ? quic::SchedulerKind::kWeighted : quic::SchedulerKind::kMinRtt);
}

void LinkManager::account(Link& l, const quic::Connection& c, WallTime wall, bool others) {
  const quic::Path* p = find_path(c, l.path_id);
  if (p == nullptr) return;
  uint64_t total = p->bytes_sent + p->bytes_received;
  if (total < l.counted) l.counted = 0;
  // A backup's bytes while an available link works are its keepalives (§3.3 of the
  // multipath draft: a backup path carries no data then).
  ledger_.on_bytes(wall, l.cfg.name, total - l.counted, l.cfg.role == LinkRole::kBackup && others);
  l.counted = total;
}

void LinkManager::quota_step(Link& l, quic::Connection& c, quic::Instant now, WallTime wall) {
  if (l.cfg.quota_bytes == 0) return;
  const quic::Path* p = find_path(c, l.path_id);
  if (p == nullptr) return;
  uint64_t remaining = ledger_.remaining(wall, l.cfg.name);
  QuotaStage stage = quota_stage(l.cfg.quota_bytes, remaining,
                                 quota_margin(l.cfg.quota_bytes, p->cc->cwnd()));
  if (stage == QuotaStage::kOpen) {
    if (l.draining) l.draining = false, l.policy_applied = false;  // quota raised (SIGHUP)
    return;
  }
  if (!l.draining) {
    l.draining = true;
    l.draining_since = now;
    if (auto st = c.set_path_backup(*l.path_id, true); !st) {
      log_at(0, "tquicd: link %s: %s", l.cfg.name.c_str(), st.error().reason.c_str());
    }
    log_at(0, "tquicd: link %s: %llu bytes of quota left: draining", l.cfg.name.c_str(),
           static_cast<unsigned long long>(remaining));
  }
  quic::Duration drain = std::max(kQuotaDrainRtts * p->rtt.smoothed(), kMinQuotaDrain);
  if (stage == QuotaStage::kStopped || now - l.draining_since >= drain) {
    ledger_.stop(l.cfg.name);
    std::string detail = std::to_string(ledger_.used(l.cfg.name)) + " of " +
                         std::to_string(l.cfg.quota_bytes) + " bytes";
    close_link(l, &c, "quota reached");
    emit_(EventKind::kQuotaReached, l.cfg.name, detail);
  }
}

void LinkManager::tick(quic::Connection* c, quic::Instant now, WallTime wall) {
  for (Link& l : links_) {
    // A new quota period lets a stopped link run again (remaining() starts it).
    (void)ledger_.remaining(wall, l.cfg.name);
    bool stopped = ledger_.stopped(l.cfg.name);
    if (stopped != l.quota_stopped) {
      l.quota_stopped = stopped;
      resync_ = true;
    }
  }
  drain_ledger_events(now);
  if (c == nullptr) return;
  if (scheduler_dirty_) apply_scheduler(*c);
  bool others = others_work(*c);
  for (Link& l : links_) {
    match_path(l, *c);
    apply_policy(l, *c);
    account(l, *c, wall, others);
    quota_step(l, *c, now, wall);
    bool standby = !backup_path_wanted(l.cfg, others, ledger_.keepalive_allowed(wall, l.cfg.name, 1));
    if (standby != l.standby) {
      l.standby = standby;
      resync_ = true;
    }
  }
}

void LinkManager::drain_ledger_events(quic::Instant) {
  QuotaEvent e;
  while (ledger_.poll_event(e)) {
    if (e.kind == QuotaEventKind::kPeriodReset) emit_(EventKind::kQuotaReset, e.link, {});
    if (e.kind == QuotaEventKind::kKeepaliveBudgetExhausted) {
      log_at(0, "tquicd: link %s: keepalive budget of %llu bytes spent", e.link.c_str(),
             static_cast<unsigned long long>(e.limit));
    }
  }
}

std::vector<LinkState> LinkManager::states(const quic::Connection* c) const {
  std::vector<LinkState> out;
  for (const Link& l : links_) {
    LinkState s;
    s.name = l.cfg.name;
    s.interface = l.cfg.interface;
    s.role = l.cfg.role;
    if (l.socket) s.local = l.socket->local_address();
    const quic::Path* p = c != nullptr ? find_path(*c, l.path_id) : nullptr;
    if (p != nullptr) {
      s.path_open = true;
      s.failed = p->health.failed();
      s.bytes_sent = p->bytes_sent;
      s.bytes_received = p->bytes_received;
      s.srtt = p->rtt.smoothed();
    }
    s.quota_used = ledger_.used(l.cfg.name);
    s.quota_bytes = l.cfg.quota_bytes;
    s.quota_stopped = ledger_.stopped(l.cfg.name);
    s.down_reason = l.socket ? std::string() : l.down_reason;
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace bond
