#include "emu/relay_core.h"

#include <algorithm>

#include "sim/random.h"

namespace emu {

struct RelayCore::Link {
  quic::SocketAddress ip;
  bool configured;
  sim::LinkShaper up, down;
};

RelayCore::RelayCore(RelayConfig config, quic::Instant start)
    : config_(std::move(config)), start_(start) {
  // Configured links first, in command-line order, so their indices (and random streams) do not
  // depend on which client happens to speak first.
  for (const LinkArg& l : config_.links) {
    if (links_.size() < config_.max_links) link_for(l.ip);
  }
}

RelayCore::~RelayCore() = default;

std::optional<size_t> RelayCore::link_for(const quic::SocketAddress& addr) {
  quic::SocketAddress ip = addr;
  ip.port = 0;
  for (size_t i = 0; i < links_.size(); ++i) {
    if (links_[i]->ip == ip) return i;
  }
  if (links_.size() >= config_.max_links) return std::nullopt;
  LinkProfile p = config_.default_profile;
  bool configured = false;
  for (const LinkArg& l : config_.links) {
    if (l.ip == ip) {
      p = l.profile, configured = true;
      break;
    }
  }
  size_default_queues(p);
  for (const DownArg& d : config_.downs) {
    if (d.ip != ip) continue;
    p.up.blackholes.emplace_back(d.start, d.end);
    p.down.blackholes.emplace_back(d.start, d.end);
  }
  // The stream seeds of sim::Network's link i, so a relay link and a simulated link with the
  // same seed and index draw the same loss/jitter patterns.
  const uint64_t i = links_.size();
  links_.push_back(std::make_unique<Link>(Link{
      ip, configured,
      sim::LinkShaper(p.up, sim::mix64(config_.seed ^ sim::mix64(i * 2)), start_),
      sim::LinkShaper(p.down, sim::mix64(config_.seed ^ sim::mix64(i * 2 + 1)), start_)}));
  return i;
}

std::optional<RelayCore::Accepted> RelayCore::from_client(quic::Instant now,
                                                          const quic::SocketAddress& client,
                                                          uint8_t ecn, std::span<const uint8_t> payload) {
  bool created = false;
  uint64_t id;
  if (auto it = by_client_.find(client); it != by_client_.end()) {
    id = it->second;
  } else {
    if (flows_.size() >= config_.max_flows) {
      ++counters_.rejected_flow_limit;
      return std::nullopt;
    }
    auto link = link_for(client);
    if (!link) {
      ++counters_.rejected_link_limit;
      return std::nullopt;
    }
    id = next_flow_++;
    flows_.emplace(id, Flow{client, *link, now});
    by_client_.emplace(client, id);
    ++counters_.flows_opened;
    created = true;
  }
  Flow& f = flows_.at(id);
  f.last_seen = now;
  links_[f.link]->up.offer(
      now, sim::Datagram{client, config_.server, ecn, {payload.begin(), payload.end()}});
  return Accepted{id, created};
}

void RelayCore::from_server(quic::Instant now, uint64_t flow, uint8_t ecn, std::span<const uint8_t> payload) {
  auto it = flows_.find(flow);
  if (it == flows_.end()) {
    ++counters_.unroutable;
    return;
  }
  it->second.last_seen = now;
  links_[it->second.link]->down.offer(
      now, sim::Datagram{config_.server, it->second.client, ecn, {payload.begin(), payload.end()}});
}

void RelayCore::poll(quic::Instant now, std::vector<Outgoing>& out) {
  for (auto& link : links_) {
    scratch_.clear();
    link->up.poll(now, scratch_);
    for (sim::Datagram& d : scratch_) {
      // The flow is found again by client address: it may have expired while in flight.
      auto it = by_client_.find(d.src);
      if (it == by_client_.end()) {
        ++counters_.unroutable;
        continue;
      }
      out.push_back(Outgoing{it->second, true, d.dst, d.ecn, std::move(d.payload)});
    }
    scratch_.clear();
    link->down.poll(now, scratch_);
    for (sim::Datagram& d : scratch_) {
      out.push_back(Outgoing{0, false, d.dst, d.ecn, std::move(d.payload)});
    }
  }
}

quic::Instant RelayCore::next_wakeup() const {
  quic::Instant t = quic::kNever;
  for (const auto& link : links_) {
    t = std::min({t, link->up.next_wakeup(), link->down.next_wakeup()});
  }
  return t;
}

std::vector<uint64_t> RelayCore::expire(quic::Instant now) {
  std::vector<uint64_t> gone;
  for (const auto& [id, f] : flows_) {
    if (now - f.last_seen >= config_.flow_idle) gone.push_back(id);
  }
  for (uint64_t id : gone) {
    close_flow(id);
    ++counters_.flows_expired;
  }
  return gone;
}

void RelayCore::close_flow(uint64_t flow) {
  auto it = flows_.find(flow);
  if (it == flows_.end()) return;
  by_client_.erase(it->second.client);
  flows_.erase(it);
}

std::optional<quic::SocketAddress> RelayCore::client_of(uint64_t flow) const {
  auto it = flows_.find(flow);
  if (it == flows_.end()) return std::nullopt;
  return it->second.client;
}

std::vector<LinkReport> RelayCore::report() const {
  std::vector<LinkReport> out;
  for (const auto& l : links_) {
    out.push_back(LinkReport{l->ip, l->configured, l->up.config(), l->down.config(),
                             l->up.counters(), l->down.counters()});
  }
  return out;
}

}  // namespace emu
