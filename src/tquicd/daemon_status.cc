#include "tquicd/daemon_status.h"

#include <algorithm>

#include "core/connection.h"

namespace bond {

namespace {

uint64_t to_us(quic::Duration d) {
  return static_cast<uint64_t>(std::max<int64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(d).count(), 0));
}

}  // namespace

std::vector<PathSample> sample_paths(const quic::Connection& c) {
  std::vector<PathSample> out;
  for (size_t i = 0; i < c.path_count(); ++i) {
    const quic::Path& p = c.path(i);
    PathSample s;
    s.id = p.id;
    s.local = p.local;
    s.remote = p.remote;
    s.usable = p.usable();
    s.failed = p.health.failed();
    s.abandoned = p.state == quic::PathState::kAbandoned;
    s.backup = p.role.backup();
    s.srtt = p.rtt.smoothed();
    s.rttvar = p.rtt.rttvar();
    s.cwnd = p.cc ? p.cc->cwnd() : 0;
    s.bytes_sent = p.bytes_sent;
    s.bytes_received = p.bytes_received;
    s.packets_sent = p.packets_sent;
    s.packets_lost = p.packets_lost;
    s.keepalive = c.path_keepalive(p.id);
    out.push_back(s);
  }
  return out;
}

PathStatus to_path_status(const PathSample& p, std::string link) {
  PathStatus s;
  s.path_id = p.id;
  s.link = std::move(link);
  s.local = p.local.to_string();
  s.remote = p.remote.to_string();
  s.active = p.usable;
  s.standby = p.backup;
  s.rtt_us = to_us(p.srtt);
  s.rtt_var_us = to_us(p.rttvar);
  s.cwnd_bytes = p.cwnd;
  s.packets_sent = p.packets_sent;
  s.packets_lost = p.packets_lost;
  s.keepalive_ms = static_cast<uint64_t>(std::max<int64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(p.keepalive).count(), 0));
  return s;
}

void LinkTracker::Counters::add(const Counters& o) {
  sent += o.sent;
  received += o.received;
  packets_sent += o.packets_sent;
  packets_lost += o.packets_lost;
}

LinkTracker::LinkTracker(std::vector<Link> links) {
  for (Link& l : links) {
    Track t;
    t.link = std::move(l);
    tracks_.push_back(std::move(t));
  }
}

const LinkTracker::Link* LinkTracker::find(std::string_view name) const {
  for (const Track& t : tracks_) {
    if (t.link.config.name == name) return &t.link;
  }
  return nullptr;
}

bool LinkTracker::set_admin_down(std::string_view name, bool down, quic::Instant now,
                                 EventBus& bus) {
  for (Track& t : tracks_) {
    if (t.link.config.name != name) continue;
    if (t.link.admin_down != down) {
      t.link.admin_down = down;
      bus.push(now, down ? EventKind::kLinkDown : EventKind::kLinkUp, name, "administratively");
    }
    return true;
  }
  return false;
}

void LinkTracker::set_local(std::string_view name, const quic::SocketAddress& local) {
  for (Track& t : tracks_) {
    if (t.link.config.name == name) t.link.local = local;
  }
}

void LinkTracker::configure(const std::vector<LinkConfig>& links) {
  std::vector<Track> next;
  for (const LinkConfig& cfg : links) {
    auto old = std::find_if(tracks_.begin(), tracks_.end(),
                            [&](const Track& t) { return t.link.config.name == cfg.name; });
    Track t;
    if (old != tracks_.end()) t = std::move(*old);
    t.link.config = cfg;
    next.push_back(std::move(t));
  }
  tracks_ = std::move(next);
}

void LinkTracker::set_quota(std::string_view name, uint64_t quota_bytes, uint64_t used_bytes) {
  for (Track& t : tracks_) {
    if (t.link.config.name == name) t.quota_bytes = quota_bytes, t.quota_used = used_bytes;
  }
}

// A link's counters are the sum over every path it has had: a path's own counters restart
// when the link's path is re-opened (new path id), the link's must not.
void LinkTracker::on_new_connection() {
  for (Track& t : tracks_) {
    for (const auto& [id, c] : t.paths) t.folded.add(c);
    t.paths.clear();
  }
}

void LinkTracker::update_link(Track& t, const std::vector<const PathSample*>& mine,
                              quic::Instant now, LinkStatus& s) {
  bool usable = false, failed = false;
  uint64_t rtt = 0;
  for (const PathSample* p : mine) {
    t.paths[p->id] = Counters{p->bytes_sent, p->bytes_received, p->packets_sent, p->packets_lost};
    if (p->usable && (!usable || to_us(p->srtt) < rtt)) rtt = to_us(p->srtt);
    usable = usable || p->usable;
    failed = failed || p->failed;
  }
  while (t.paths.size() > kMaxTrackedPathsPerLink) {
    t.folded.add(t.paths.begin()->second);
    t.paths.erase(t.paths.begin());
  }
  Counters total = t.folded;
  for (const auto& [id, c] : t.paths) total.add(c);
  // Loss over the interval since the previous update: what the link does now, not since start.
  uint64_t dsent = total.packets_sent - std::min(total.packets_sent, t.last_packets_sent);
  uint64_t dlost = total.packets_lost - std::min(total.packets_lost, t.last_packets_lost);
  if (dsent > 0) t.loss = std::min(1.0, static_cast<double>(dlost) / static_cast<double>(dsent));
  t.last_packets_sent = total.packets_sent;
  t.last_packets_lost = total.packets_lost;
  t.tx.update(now, total.sent);
  t.rx.update(now, total.received);
  t.state = usable && !t.link.admin_down ? LinkHealth::kUp
            : failed                    ? LinkHealth::kFailed
                                        : LinkHealth::kDown;
  s.name = t.link.config.name;
  s.interface = t.link.config.interface;
  s.role = t.link.config.role;
  s.state = t.state;
  s.admin_down = t.link.admin_down;
  s.rtt_us = usable ? rtt : 0;
  s.loss = t.loss;
  s.tx_bytes = total.sent;
  s.rx_bytes = total.received;
  s.tx_rate_bps = t.tx.bits_per_second();
  s.rx_rate_bps = t.rx.bits_per_second();
  s.quota_bytes = t.quota_bytes;
  s.quota_used_bytes = t.quota_used;
}

void LinkTracker::update(const std::vector<PathSample>& paths, quic::Instant now, EventBus& bus,
                         Status& out) {
  std::vector<LinkHealth> before;
  for (const Track& t : tracks_) before.push_back(t.state);
  out.links.clear();
  out.paths.clear();
  for (Track& t : tracks_) {
    std::vector<const PathSample*> mine;
    for (const PathSample& p : paths) {
      if (p.local == t.link.local) mine.push_back(&p);
    }
    LinkStatus s;
    update_link(t, mine, now, s);
    out.links.push_back(s);
    for (const PathSample* p : mine) {
      if (!p->abandoned) out.paths.push_back(to_path_status(*p, t.link.config.name));
    }
  }
  out.bond = derive_bond_state(out.links);
  report(before, out.bond, now, bus);
  bond_ = out.bond;
}

// Events for what changed since the previous update (links start down, the bond down).
void LinkTracker::report(const std::vector<LinkHealth>& before, BondState bond,
                         quic::Instant now, EventBus& bus) {
  std::string up_now;
  for (const Track& t : tracks_) {
    if (t.state == LinkHealth::kUp) up_now += (up_now.empty() ? "" : ",") + t.link.config.name;
  }
  for (size_t i = 0; i < tracks_.size(); ++i) {
    const Track& t = tracks_[i];
    if (t.state == before[i]) continue;
    const std::string& name = t.link.config.name;
    if (t.state == LinkHealth::kUp) {
      bus.push(now, EventKind::kPathUp, name);
    } else if (before[i] == LinkHealth::kUp) {
      bus.push(now, EventKind::kPathDown, name,
               t.state == LinkHealth::kFailed ? "failed"
               : t.link.admin_down           ? "administratively down"
                                             : "closed");
      bus.push(now, EventKind::kFailover, name,
               up_now.empty() ? "no link left" : "to " + up_now);
    }
  }
  if (bond != bond_) {
    bus.push(now, EventKind::kBondState, "",
             std::string(to_string(bond_)) + " -> " + to_string(bond));
  }
}

void ClientTracker::on_authenticated(uint64_t handle, const std::string& client,
                                     quic::Instant now, EventBus& bus) {
  auto it = clients_.find(handle);
  if (it != clients_.end() && it->second.name == client) return;  // another request, same client
  if (it == clients_.end() && clients_.size() >= kMaxTrackedClients) return;
  // A connection that authenticates as another client stops being the first one.
  if (it != clients_.end()) bus.push(now, EventKind::kClientDown, it->second.name);
  clients_[handle] = Client{client, now};
  bus.push(now, EventKind::kClientUp, client);
}

std::vector<uint64_t> ClientTracker::handles() const {
  std::vector<uint64_t> out;
  for (const auto& [handle, client] : clients_) out.push_back(handle);
  return out;
}

void ClientTracker::update(const Lookup& lookup, quic::Instant now, EventBus& bus,
                           Status& out) {
  out.conns.clear();
  out.paths.clear();
  size_t best = 0;
  for (auto it = clients_.begin(); it != clients_.end();) {
    quic::Connection* c = lookup(it->first);
    if (c == nullptr || c->is_closed() || c->is_draining_or_closing()) {
      bus.push(now, EventKind::kClientDown, it->second.name);
      it = clients_.erase(it);
      continue;
    }
    ConnStatus s;
    s.client = it->second.name;
    s.inner_address = inner_ ? inner_(it->second.name) : "";
    size_t usable = 0;
    for (const PathSample& p : sample_paths(*c)) {
      if (p.abandoned) continue;
      out.paths.push_back(to_path_status(p, it->second.name));
      if (!p.usable) continue;
      if (usable++ == 0) s.remote = p.remote.to_string();
    }
    s.paths = usable;
    s.tx_bytes = c->stats().bytes_sent;
    s.rx_bytes = c->stats().bytes_received;
    s.age_ms = static_cast<uint64_t>(std::max<int64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(now - it->second.since).count(), 0));
    best = std::max(best, usable);
    out.conns.push_back(std::move(s));
    ++it;
  }
  out.bond = best >= 2 ? BondState::kBonded : best == 1 ? BondState::kSingle : BondState::kDown;
}

}  // namespace bond
