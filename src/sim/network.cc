#include "sim/network.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace sim {
namespace {

// Misuse of the simulator by test code (not peer input): fail loudly and at once.
void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "sim::Network misuse: %s\n", what);
    std::abort();
  }
}

uint64_t fnv(const uint8_t* p, size_t n, uint64_t h) {
  for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

}  // namespace

size_t Network::IpKeyHash::operator()(const IpKey& k) const noexcept {
  uint64_t h = fnv(k.src.data(), k.src.size(), 1469598103934665603ull);
  h = fnv(k.dst.data(), k.dst.size(), h);
  return static_cast<size_t>(mix64(h ^ k.families));
}

Network::IpKey Network::ip_key(const SocketAddress& src, const SocketAddress& dst) {
  // Both families are in the key, so a mixed-family pair never matches a link.
  return IpKey{src.ip, dst.ip, static_cast<uint8_t>(src.v6 | dst.v6 << 1)};
}

Network::Network(uint64_t seed, Instant start) : seed_(seed), start_(start), now_(start) {}

Network::~Network() = default;

void Network::push(Instant at, EventKind kind, uint32_t a, uint64_t b) {
  events_queue_.push(quic::to_ns(std::max(at, now_)), kind, a, b);
}

void Network::add_node(Node* node, std::vector<SocketAddress> addresses) {
  check(node != nullptr, "add_node(nullptr)");
  const auto idx = static_cast<uint32_t>(nodes_.size());
  nodes_.push_back(NodeSlot{node});
  for (const auto& a : addresses) {
    check(owner_.emplace(a, idx).second, "address already owned by another node");
  }
  push(now_, EventKind::kPoll, idx);
}

int Network::add_link(SocketAddress a, SocketAddress b, LinkConfig a_to_b, LinkConfig b_to_a) {
  if (a.same_ip(b) || a.v6 != b.v6) return -1;
  if (routes_.contains(ip_key(a, b)) || routes_.contains(ip_key(b, a))) return -1;
  const auto id = static_cast<uint32_t>(links_.size());
  Link link{a, b};
  // Per-direction streams derived from (seed, link id, direction): adding a link never perturbs
  // the random pattern of the links created before it.
  link.dir[0] = std::make_unique<LinkDirection>(std::move(a_to_b), mix64(seed_ ^ mix64(id * 2)));
  link.dir[1] =
      std::make_unique<LinkDirection>(std::move(b_to_a), mix64(seed_ ^ mix64(id * 2 + 1)));
  links_.push_back(std::move(link));
  routes_.emplace(ip_key(a, b), id * 2);
  routes_.emplace(ip_key(b, a), id * 2 + 1);
  return static_cast<int>(id);
}

bool Network::share_link(SocketAddress a, SocketAddress b, int link) {
  if (a.same_ip(b) || a.v6 != b.v6 || link < 0 || static_cast<size_t>(link) >= links_.size()) {
    return false;
  }
  if (routes_.contains(ip_key(a, b)) || routes_.contains(ip_key(b, a))) return false;
  const auto id = static_cast<uint32_t>(link);
  routes_.emplace(ip_key(a, b), id * 2);
  routes_.emplace(ip_key(b, a), id * 2 + 1);
  return true;
}

void Network::schedule_down(int link, Instant at) {
  check(link >= 0 && static_cast<size_t>(link) < links_.size(), "schedule_down: bad link");
  push(at, EventKind::kDown, static_cast<uint32_t>(link));
}

void Network::schedule_up(int link, Instant at) {
  check(link >= 0 && static_cast<size_t>(link) < links_.size(), "schedule_up: bad link");
  push(at, EventKind::kUp, static_cast<uint32_t>(link));
}

void Network::schedule_change(int link, bool a_to_b, Instant at,
                              std::function<void(LinkConfig&)> change) {
  check(link >= 0 && static_cast<size_t>(link) < links_.size(), "schedule_change: bad link");
  check(static_cast<bool>(change), "schedule_change: empty function");
  changes_.push_back(std::move(change));
  change_dir_.push_back(static_cast<uint32_t>(link) * 2 + (a_to_b ? 0 : 1));
  push(at, EventKind::kChange, static_cast<uint32_t>(changes_.size() - 1));
}

void Network::schedule_rebind(SocketAddress from, SocketAddress to, Instant at) {
  rebinds_.push_back(Rebind{from, to});
  push(at, EventKind::kRebind, static_cast<uint32_t>(rebinds_.size() - 1));
}

void Network::schedule_call(Instant at, std::function<void(Instant)> fn) {
  check(static_cast<bool>(fn), "schedule_call: empty function");
  calls_.push_back(std::move(fn));
  push(at, EventKind::kCall, static_cast<uint32_t>(calls_.size() - 1));
}

Instant Network::run(Instant until, std::function<bool()> done) {
  if (done && done()) return now_;
  const int64_t limit = quic::to_ns(until);
  while (!events_queue_.empty() && events_queue_.top().time <= limit) {
    Event e = events_queue_.pop();
    now_ = quic::instant_from_ns(e.time);
    ++events_;
    dispatch(e);
    if (done && done()) return now_;
  }
  if (until != quic::kNever) now_ = std::max(now_, until);
  return now_;
}

void Network::dispatch(const Event& e) {
  switch (e.kind) {
    case EventKind::kPoll:
      poll_node(e.a);
      break;
    case EventKind::kTimer: {
      NodeSlot& n = nodes_[e.a];
      if (n.gen != e.b) break;  // superseded by a later next_timeout()
      n.armed = quic::kNever;
      n.node->on_timeout(now_);
      poll_node(e.a);
      break;
    }
    case EventKind::kTxDone:
      on_tx_done(e.a, e.b);
      break;
    case EventKind::kArrival:
      on_arrival(e.a);
      break;
    case EventKind::kDown:
      set_link_up(e.a, false);
      break;
    case EventKind::kUp:
      set_link_up(e.a, true);
      break;
    case EventKind::kChange:
      changes_[e.a](dir(change_dir_[e.a]).config());
      changes_[e.a] = nullptr;  // release captures; each change runs once
      break;
    case EventKind::kRebind:
      apply_rebind(rebinds_[e.a]);
      break;
    case EventKind::kCall: {
      auto fn = std::move(calls_[e.a]);
      fn(now_);
      for (uint32_t i = 0; i < nodes_.size(); ++i) poll_node(i);
      break;
    }
  }
}

void Network::poll_node(uint32_t idx) {
  for (size_t i = 0; i < kMaxDatagramsPerPoll; ++i) {
    std::optional<Datagram> d = nodes_[idx].node->poll_transmit(now_);
    if (!d) break;
    send(std::move(*d));
  }
  rearm(idx);
}

void Network::rearm(uint32_t idx) {
  NodeSlot& n = nodes_[idx];
  const Instant t = n.node->next_timeout();
  if (t == n.armed) return;
  n.armed = t;
  ++n.gen;
  if (t != quic::kNever) push(t, EventKind::kTimer, idx, n.gen);
}

const SocketAddress& Network::resolve_public(const SocketAddress& a) const {
  auto it = nat_in_.find(a);
  return it == nat_in_.end() ? a : it->second;
}

void Network::send(Datagram d) {
  // Route on the private (pre-NAT) addresses: a link joins two physical interfaces.
  auto route = routes_.find(ip_key(d.src, resolve_public(d.dst)));
  if (route == routes_.end()) {
    ++unroutable_;
    record(-1, 0, d.payload.size(), Fate::kUnroutable);
    return;
  }
  if (auto nat = nat_out_.find(d.src); nat != nat_out_.end()) d.src = nat->second;
  if (pcap_) pcap_->write(now_, d);

  const uint32_t ref = route->second;
  const Link& link = links_[ref >> 1];
  LinkDirection& ld = dir(ref);
  const size_t size = d.payload.size();
  const uint64_t index = ld.counters.sent_packets++;
  ld.counters.sent_bytes += size;
  const int link_id = static_cast<int>(ref >> 1), direction = static_cast<int>(ref & 1);

  if (ld.config().drop_filter && ld.config().drop_filter(d, index)) {
    ++ld.counters.dropped_loss;
    record(link_id, direction, size, Fate::kFilter);
    return;
  }
  if (!link.up || ld.dark(since_start())) {
    ++ld.counters.dropped_blackhole;
    record(link_id, direction, size, Fate::kBlackhole);
    return;
  }
  if (!ld.busy) {
    ld.mark_on_enqueue(d);
    start_service(ref, alloc_packet(std::move(d), ref));
    return;
  }
  const size_t wire = ld.wire_size(size);
  if (ld.queued_bytes + wire > ld.config().queue_bytes) {
    ++ld.counters.dropped_queue;
    record(link_id, direction, size, Fate::kQueueDrop);
    return;
  }
  ld.mark_on_enqueue(d);
  ld.queue.push_back(alloc_packet(std::move(d), ref));
  ld.queued_bytes += wire;
}

void Network::start_service(uint32_t ref, uint32_t slot) {
  LinkDirection& ld = dir(ref);
  ld.busy = true;
  ld.in_service = slot;
  ++ld.service_seq;
  push(now_ + ld.tx_time(pool_[slot].d.payload.size()), EventKind::kTxDone, ref, ld.service_seq);
}

void Network::on_tx_done(uint32_t ref, uint64_t service_seq) {
  LinkDirection& ld = dir(ref);
  if (!ld.busy || ld.service_seq != service_seq) return;  // aborted by a link-down
  const uint32_t slot = ld.in_service;
  ld.busy = false;
  const int link_id = static_cast<int>(ref >> 1), direction = static_cast<int>(ref & 1);
  Packet& p = pool_[slot];
  const size_t size = p.d.payload.size();
  if (ld.dark(since_start())) {
    // A blackhole also swallows what was queued before it began.
    ++ld.counters.dropped_blackhole;
    record(link_id, direction, size, Fate::kBlackhole);
    free_packet(slot);
  } else if (WireOutcome out = ld.depart(now_, p.d); out.lost) {
    record(link_id, direction, size, Fate::kLoss);
    free_packet(slot);
  } else {
    p.epoch = ld.epoch;
    push(out.arrival, EventKind::kArrival, slot);
  }
  if (!ld.queue.empty()) {
    const uint32_t next = ld.queue.front();
    ld.queue.pop_front();
    ld.queued_bytes -= ld.wire_size(pool_[next].d.payload.size());
    start_service(ref, next);
  }
}

void Network::on_arrival(uint32_t slot) {
  const uint32_t ref = pool_[slot].dir_ref;
  LinkDirection& ld = dir(ref);
  const int link_id = static_cast<int>(ref >> 1), direction = static_cast<int>(ref & 1);
  const size_t size = pool_[slot].d.payload.size();
  if (pool_[slot].epoch != ld.epoch) {  // the link went down while the packet was in flight
    ++ld.counters.dropped_blackhole;
    record(link_id, direction, size, Fate::kBlackhole);
    free_packet(slot);
    return;
  }
  ++ld.counters.delivered_packets;
  ld.counters.delivered_bytes += size;
  Datagram d = std::move(pool_[slot].d);
  free_packet(slot);

  // A rebound public address reaches the private one; an abandoned binding reaches nobody.
  auto owner = owner_.end();
  if (auto nat = nat_in_.find(d.dst); nat != nat_in_.end()) {
    d.dst = nat->second;
    owner = owner_.find(d.dst);
  } else if (!abandoned_.contains(d.dst)) {
    owner = owner_.find(d.dst);
  }
  if (owner == owner_.end()) {
    ++undeliverable_;
    record(link_id, direction, size, Fate::kUndeliverable);
    return;
  }
  record(link_id, direction, size, Fate::kDelivered);
  const uint32_t idx = owner->second;
  nodes_[idx].node->on_datagram(now_, std::move(d));
  poll_node(idx);
}

void Network::set_link_up(uint32_t id, bool up) {
  Link& link = links_[id];
  if (link.up == up) return;
  link.up = up;
  if (up) return;
  for (uint32_t direction = 0; direction < 2; ++direction) {
    LinkDirection& ld = *link.dir[direction];
    auto drop = [&](uint32_t slot) {
      ++ld.counters.dropped_blackhole;
      record(static_cast<int>(id), static_cast<int>(direction), pool_[slot].d.payload.size(),
             Fate::kBlackhole);
      free_packet(slot);
    };
    if (ld.busy) drop(ld.in_service);
    for (uint32_t slot : ld.queue) drop(slot);
    ld.queue.clear();
    ld.queued_bytes = 0;
    ld.busy = false;
    ++ld.service_seq;
    ++ld.epoch;
  }
}

void Network::apply_rebind(const Rebind& r) {
  // `from` may name the node's private address or its current public one.
  const SocketAddress priv = resolve_public(r.from);
  if (auto old = nat_out_.find(priv); old != nat_out_.end()) {
    nat_in_.erase(old->second);
    abandoned_.insert(old->second);
    nat_out_.erase(old);
  } else {
    abandoned_.insert(priv);
  }
  if (r.to == priv) {
    abandoned_.erase(priv);
    return;
  }
  nat_out_[priv] = r.to;
  nat_in_[r.to] = priv;
  abandoned_.erase(r.to);
}

uint32_t Network::alloc_packet(Datagram&& d, uint32_t dir_ref) {
  if (free_slots_.empty()) {
    pool_.push_back(Packet{std::move(d), dir_ref, 0});
    return static_cast<uint32_t>(pool_.size() - 1);
  }
  const uint32_t slot = free_slots_.back();
  free_slots_.pop_back();
  pool_[slot].d = std::move(d);
  pool_[slot].dir_ref = dir_ref;
  return slot;
}

void Network::free_packet(uint32_t slot) {
  pool_[slot].d.payload = {};
  free_slots_.push_back(slot);
}

void Network::record(int link, int direction, size_t size, Fate fate) {
  uint64_t h = trace_hash_;
  h = mix64(h ^ static_cast<uint64_t>(quic::to_ns(now_)));
  h = mix64(h ^ (static_cast<uint64_t>(static_cast<uint32_t>(link)) << 32 |
                 static_cast<uint64_t>(direction) << 8 | static_cast<uint64_t>(fate)));
  trace_hash_ = mix64(h ^ size);
}

Network::DirStats Network::stats(int link, bool a_to_b) const {
  check(link >= 0 && static_cast<size_t>(link) < links_.size(), "stats: bad link");
  const DirCounters& c = links_[static_cast<size_t>(link)].dir[a_to_b ? 0 : 1]->counters;
  return DirStats{c.sent_packets,  c.sent_bytes,   c.delivered_packets, c.delivered_bytes,
                  c.dropped_queue, c.dropped_loss, c.dropped_blackhole, c.corrupted,
                  c.reordered,     c.ce_marked};
}

bool Network::set_pcap(const std::string& path) {
  pcap_ = std::make_unique<PcapWriter>();
  if (pcap_->open(path)) return true;
  pcap_.reset();
  return false;
}

}  // namespace sim
