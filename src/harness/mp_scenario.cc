#include "harness/mp_scenario.h"

#include <algorithm>
#include <map>
#include <set>

#include "harness/gap_meter.h"
#include "harness/mp_datagram_flow.h"
#include "harness/sim_endpoint.h"
#include "harness/transfer_app.h"
#include "sim/network.h"
#include "tls/test_certs.h"
#include "tls/tls_config.h"

namespace harness {

namespace {

using namespace std::chrono_literals;

constexpr Duration kSampleEvery = 5ms;
constexpr Duration kStallHorizon = 2s;
constexpr double kResumeShare = 0.8;
constexpr uint64_t kMaxEventsAtOneInstant = 100000;

sim::LinkConfig link(double mbps, Duration rtt, double loss = 0) {
  sim::LinkConfig l;
  l.rate_bps = mbps * 1e6;
  l.header_bytes = sim::kIpv4UdpHeaderBytes;  // the rate is the link's, headers included
  l.delay = rtt / 2;
  // A bandwidth-delay product of queue (at least 25 packets), as a sized router buffer.
  l.queue_bytes = std::max<size_t>(
      25 * 1500, static_cast<size_t>(mbps * 1e6 / 8 * std::chrono::duration<double>(rtt).count()));
  l.loss = loss;
  return l;
}

}  // namespace

MpLink mp_link(double mbps, Duration rtt, double loss, bool backup) {
  // The uplink carries ACKs only; it gets the same delay at the same rate.
  return MpLink{link(mbps, rtt, loss), link(mbps, rtt, loss), backup};
}

namespace {

// The sender's per-path policy of each link (path i is link i's), applied once its path
// exists and again if it was reopened.
void apply_path_policy(quic::Connection& c, const std::vector<MpLink>& links) {
  for (size_t i = 0; i < links.size(); ++i) {
    const quic::Path* p = c.find_path(i);
    if (p == nullptr || p->state == quic::PathState::kAbandoned) continue;
    if (p->role.weight() != links[i].weight) (void)c.set_path_weight(i, links[i].weight);
    if (p->rate_cap_bps != links[i].rate_cap_bps) (void)c.set_path_rate_cap(i, links[i].rate_cap_bps);
  }
}

MpLink both(double mbps, Duration rtt, double loss = 0, bool backup = false) {
  return mp_link(mbps, rtt, loss, backup);
}

quic::SocketAddress client_addr(size_t i) {
  return quic::SocketAddress::v4(10, 0, static_cast<uint8_t>(i + 1), 2, 40000);
}

constexpr size_t kCidLen = 8;

// The 1-RTT packet of a datagram (it comes last when packets are coalesced), if any.
std::optional<quic::DatagramPacket> short_packet(const std::vector<uint8_t>& d) {
  quic::CoalescedPackets packets(quic::Bytes(d.data(), d.size()), kCidLen);
  while (auto p = packets.next()) {
    if (!p->header.long_header) return p;
  }
  return std::nullopt;
}

// Whether a datagram's 1-RTT packet carries PATH_CHALLENGE. The scenarios run with the null
// AEAD: payloads are plaintext and the header-protection mask is zero.
bool has_path_challenge(const std::vector<uint8_t>& d) {
  auto p = short_packet(d);
  if (!p) return false;
  size_t pn_len = (p->bytes[0] & 0x03) + 1;
  size_t start = p->header.pn_offset + pn_len;
  if (p->bytes.size() < start + quic::kAeadTagSize) return false;
  quic::Reader r(p->bytes.subspan(start, p->bytes.size() - start - quic::kAeadTagSize));
  while (!r.empty()) {
    auto f = quic::decode_frame(r);
    if (!f) return false;
    if (std::holds_alternative<quic::PathChallengeFrame>(*f)) return true;
  }
  return false;
}

// Whether a short-header packet is a real packet (the null AEAD's tag is all zeros), not a
// stateless reset (random bytes and a token) that only looks like one.
bool null_aead_tag(const quic::DatagramPacket& p) {
  return p.bytes.size() >= quic::kAeadTagSize &&
         std::all_of(p.bytes.end() - quic::kAeadTagSize, p.bytes.end(),
                     [](uint8_t b) { return b == 0; });
}

// Watches one side's datagrams: the first 4-tuple is the handshake's; every later new one
// must open with a PATH_CHALLENGE. Also collects the DCIDs used per client address.
struct TupleWatch {
  bool client = false;
  std::set<std::pair<quic::SocketAddress, quic::SocketAddress>> seen;
  uint64_t new_tuples = 0, without_challenge = 0, same_dcid = 0;
  std::vector<uint8_t> first_dcid;  // of the first short-header datagram
  std::map<quic::SocketAddress, std::set<std::vector<uint8_t>>> dcids;
  void on_send(const sim::Datagram& d) {
    auto p = short_packet(d.payload);
    std::vector<uint8_t> dcid;
    if (p) dcid.assign(p->header.dcid.bytes.begin(), p->header.dcid.bytes.begin() + kCidLen);
    if (p && null_aead_tag(*p)) dcids[client ? d.src : d.dst].insert(dcid);
    bool is_new = seen.insert({d.src, d.dst}).second;
    if (seen.size() == 1) {
      if (first_dcid.empty() && p) first_dcid = dcid;  // the handshake tuple's DCID
      return;
    }
    if (!is_new) return;
    ++new_tuples;
    if (!has_path_challenge(d.payload)) ++without_challenge;
    if (p && dcid == first_dcid) ++same_dcid;
  }
};

// The first link-down event, if any.
std::optional<size_t> first_failure(const MpScenario& s) {
  std::optional<size_t> first;
  for (size_t k = 0; k < s.events.size(); ++k) {
    if (!s.events[k].up && (!first || s.events[k].at < s.events[*first].at)) first = k;
  }
  return first;
}

// A link direction that drops UDP payloads above `*mtu` (a path with a smaller MTU; 0: none).
// The value is shared with the scenario's MTU events, which change it during the run.
sim::LinkConfig with_mtu(sim::LinkConfig l, std::shared_ptr<const size_t> mtu) {
  l.drop_filter = [mtu](const sim::Datagram& d, uint64_t) {
    return *mtu > 0 && d.payload.size() > *mtu;
  };
  return l;
}

}  // namespace

void configure_gap_meter(GapMeter& m, const MpScenario& s, quic::Instant start) {
  auto first = first_failure(s);
  if (!first) return;
  m.set_from(start + s.events[*first].at);
  std::vector<const MpLinkEvent*> events;
  for (const auto& e : s.events) events.push_back(&e);
  std::stable_sort(events.begin(), events.end(),
                   [](const MpLinkEvent* a, const MpLinkEvent* b) { return a->at < b->at; });
  std::vector<bool> up(s.links.size(), true);
  std::vector<std::pair<Instant, Instant>> dead;
  Instant dead_since = quic::kNever;  // kNever: some link is up
  for (const MpLinkEvent* e : events) {
    if (e->link >= up.size()) continue;
    up[e->link] = e->up;
    const bool all_down = std::none_of(up.begin(), up.end(), [](bool u) { return u; });
    if (all_down && dead_since == quic::kNever) dead_since = start + e->at;
    if (!all_down && dead_since != quic::kNever) {
      dead.emplace_back(dead_since, start + e->at);
      dead_since = quic::kNever;
    }
  }
  if (dead_since != quic::kNever) dead.emplace_back(dead_since, quic::kNever);
  m.set_dead_windows(std::move(dead));
}

MpResult run_mp_scenario(const MpScenario& s) {
  MpResult res;
  auto tls = quic::make_test_tls_pair({"hq-interop"});
  if (!tls) {
    res.error = "tls: " + tls.error().reason;
    return res;
  }
  const auto& stls = tls->server;
  const auto& ctls = tls->client;
  if (s.links.empty()) {
    res.error = "no links";
    return res;
  }

  quic::ConnectionConfig conn;
  conn.multipath = s.multipath;
  conn.cid_length = kCidLen;
  // A client that only receives says nothing once a NAT binding is lost under it; a
  // keepalive lets the server find it at its new address (RFC 9000 §10.1.2).
  if (!s.rebinds.empty()) conn.keep_alive = 200ms;
  conn.scheduler = s.scheduler;
  conn.cc = s.cc;
  conn.aead = quic::AeadBackend::kNull;  // the wire is simulated; crypto cost is not measured
  // Room for the reordering that paths of different RTTs cause at the receiver.
  if (!s.default_windows) {
    conn.initial_max_data = 64 << 20;
    conn.initial_max_stream_data = 64 << 20;
    conn.max_connection_window = 64 << 20;
    conn.max_stream_window = 64 << 20;
    // Unacknowledged data waits longer than on one path (the slowest path's RTT plus its loss
    // recovery), so the send buffer must hold more than the sum of the BDPs.
    conn.stream_send_buffer = 64 << 20;
  }
  if (s.datagrams > 0) conn.max_datagram_frame_size = s.max_datagram_frame_size;
  conn.datagram_resend_on_path_failure = s.datagram_resend;
  conn.datagram_resend_on_loss = s.datagram_resend_on_loss;
  conn.datagram_resend_buffer = s.datagram_resend_buffer;
  conn.ack_frequency = s.ack_frequency;
  if (s.path_abandon_after) conn.path_abandon_after = *s.path_abandon_after;
  if (s.pmtu_raise_interval) conn.pmtu_raise_interval = *s.pmtu_raise_interval;
  if (s.skip_pn_period) conn.skip_pn_period = *s.skip_pn_period;
  const auto server_addr = quic::SocketAddress::v4(10, 0, 0, 1, 443);
  const auto server_preferred = quic::SocketAddress::v4(10, 0, 0, 2, 4433);
  quic::EndpointConfig ccfg{false, conn, ctls};
  quic::ConnectionConfig sconn = conn;
  if (s.preferred_address) sconn.preferred_address_v4 = server_preferred;
  quic::EndpointConfig scfg{true, sconn, stls};
  scfg.retry = quic::RetryPolicy::kDisabled;
  SimEndpoint client(ccfg, s.seed * 2 + 1);
  SimEndpoint server(scfg, s.seed * 2 + 2);
  TransferPlan plan;
  plan.sizes = {s.bytes};
  std::optional<MpDatagramFlow> flow;  // from the network's start instant on
  // The connection stays open until the datagram flow is over.
  plan.linger = [&](Instant now) { return flow && !flow->done(now); };
  TransferClient client_app(client_addr(0), server_addr, plan);
  TransferServer server_app;
  client.set_app(&client_app);
  server.set_app(&server_app);
  client.set_max_segments(s.gso_segments);
  server.set_max_segments(s.gso_segments);

  sim::Network net(s.seed);
  std::vector<quic::SocketAddress> addrs;
  for (size_t i = 0; i < s.links.size(); ++i) addrs.push_back(client_addr(i));
  // Addresses a NAT rebinding to a new IP moves a link's client to (one per rebind).
  std::vector<quic::SocketAddress> rebind_targets;
  for (size_t k = 0; k < s.rebinds.size(); ++k) {
    const auto& from = addrs[std::min(s.rebinds[k].link, addrs.size() - 1)];
    quic::SocketAddress to = from;
    if (s.rebinds[k].new_address) {
      to.ip[2] = static_cast<uint8_t>(100 + k);
    } else {
      to.port = static_cast<uint16_t>(from.port + 1 + k);
    }
    rebind_targets.push_back(to);
  }
  net.add_node(&client, addrs);
  std::vector<quic::SocketAddress> server_addrs{server_addr};
  if (s.preferred_address) server_addrs.push_back(server_preferred);
  net.add_node(&server, server_addrs);
  std::vector<int> link_ids;
  std::vector<std::shared_ptr<size_t>> link_mtus;
  for (size_t i = 0; i < s.links.size(); ++i) {
    link_mtus.push_back(std::make_shared<size_t>(s.links[i].mtu));
    if (s.shared_bottleneck && i > 0) {
      net.share_link(addrs[i], server_addr, link_ids[0]);
      link_ids.push_back(link_ids[0]);
      continue;
    }
    link_ids.push_back(net.add_link(addrs[i], server_addr, with_mtu(s.links[i].up, link_mtus[i]),
                                    with_mtu(s.links[i].down, link_mtus[i])));
    if (s.preferred_address) {
      net.add_link(addrs[i], server_preferred, s.links[i].up, s.links[i].down);
    }
    // Single-path runs use link 0; the others only offer addresses to migrate to.
    if ((s.multipath && !s.shared_bottleneck) || i == 0) {
      res.sum_rate_bps += s.links[i].down.rate_bps;
    }
  }
  Instant start = net.now();
  MpDatagramFlow& datagram_flow = flow.emplace(s, start);
  server_app.on_event = [&](const quic::Event& e, Instant now) {
    if (e.kind == quic::EventKind::kDatagramPayloadChanged) {
      res.datagram_payload_events.emplace_back(now - start, static_cast<size_t>(e.stream_id));
    }
  };
  for (size_t k = 0; k < s.rebinds.size(); ++k) {
    const MpLink& l = s.links[std::min(s.rebinds[k].link, s.links.size() - 1)];
    if (s.rebinds[k].new_address) net.add_link(rebind_targets[k], server_addr, l.up, l.down);
    net.schedule_rebind(addrs[std::min(s.rebinds[k].link, addrs.size() - 1)], rebind_targets[k],
                        start + s.rebinds[k].at);
  }
  TupleWatch client_watch{true}, server_watch{false};
  client.on_send = [&](const sim::Datagram& d, Instant) { client_watch.on_send(d); };
  server.on_send = [&](const sim::Datagram& d, Instant) { server_watch.on_send(d); };
  for (const MpMtuEvent& e : s.mtu_events) {
    if (e.link >= link_mtus.size()) continue;
    net.schedule_call(start + e.at, [mtu = link_mtus[e.link], value = e.mtu](Instant) {
      *mtu = value;
    });
  }
  if (s.abandon_at) {
    net.schedule_call(start + *s.abandon_at, [&](Instant) {
      if (auto* c = client_app.current(client.endpoint())) (void)c->abandon_path(1);
    });
  }
  if (s.migrate_at && addrs.size() > 1) {
    net.schedule_call(start + *s.migrate_at, [&](Instant) {
      if (auto* c = client_app.current(client.endpoint())) (void)c->migrate(addrs[1]);
    });
  }
  // The competitor: plain QUIC with its own controller over link 0, from 10 ms on.
  std::unique_ptr<SimEndpoint> rival;
  std::unique_ptr<TransferClient> rival_app;
  const auto rival_addr = quic::SocketAddress::v4(10, 0, 250, 2, 40000);
  if (s.competitor) {
    quic::ConnectionConfig rconn = conn;
    rconn.multipath = false;
    rconn.cc = *s.competitor;
    rival = std::make_unique<SimEndpoint>(quic::EndpointConfig{false, rconn, ctls}, s.seed * 2 + 3);
    rival->set_max_segments(s.gso_segments);
    TransferPlan rplan;
    rplan.sizes = {kMaxResponseBytes};
    rival_app = std::make_unique<TransferClient>(rival_addr, server_addr, rplan);
    net.add_node(rival.get(), {rival_addr});
    net.share_link(rival_addr, server_addr, link_ids[0]);
    net.schedule_call(start + 10ms, [&](Instant) { rival->set_app(rival_app.get()); });
  }
  for (const MpCidAction& a : s.cid_actions) {
    net.schedule_call(start + a.at, [&, a](Instant) {
      quic::Connection* c =
          a.server ? server.endpoint().connection(1) : client_app.current(client.endpoint());
      if (c == nullptr) return;
      auto st = a.rotate ? c->rotate_peer_cid(a.path) : c->retire_local_cids(a.path);
      if (!st) res.error = "CID action: " + st.error().reason;
    });
  }
  for (const MpLinkEvent& e : s.events) {
    if (e.link >= link_ids.size()) continue;
    if (e.up) {
      net.schedule_up(link_ids[e.link], start + e.at);
    } else {
      net.schedule_down(link_ids[e.link], start + e.at);
    }
  }
  auto server_conn = [&]() { return server.endpoint().connection(1); };
  // Backup share: stream bytes per path on the server at the failure instant (or the end).
  // Path IDs follow link order: the client opens path i for link i.
  std::vector<uint64_t> backup_ids;
  for (size_t i = 0; i < s.links.size(); ++i) {
    if (s.links[i].backup) backup_ids.push_back(i);
  }
  uint64_t before_total = 0, before_backup = 0;
  auto snapshot_backup = [&]() {
    before_total = before_backup = 0;
    const quic::Connection* c = server_conn();
    if (c == nullptr) return;
    for (size_t i = 0; i < c->path_count(); ++i) {
      const quic::Path& p = c->path(i);
      before_total += p.stream_bytes_sent;
      if (std::find(backup_ids.begin(), backup_ids.end(), p.id) != backup_ids.end()) {
        before_backup += p.stream_bytes_sent;
      }
    }
  };
  std::optional<Instant> failure_at;
  if (s.failure_event && *s.failure_event < s.events.size()) {
    failure_at = start + s.events[*s.failure_event].at;
    net.schedule_call(*failure_at, [&](Instant) { snapshot_backup(); });
  }

  bool paths_added = false;
  bool drain_wake = false;
  Instant flow_wake = quic::kNever;  // the flow's next send time a call is scheduled at
  // A timer reported as due that the connection does not act on makes the owner spin at one
  // instant; in virtual time that shows as endless events without time moving. Fail instead.
  Instant spin_at{};
  uint64_t spin_events = 0;
  bool spinning = false;
  std::vector<std::pair<Instant, uint64_t>> samples;  // in-order bytes over time
  Instant next_sample = start;
  GapMeter stream_gaps;
  configure_gap_meter(stream_gaps, s, start);
  uint64_t delivered = 0;
  net.run(start + s.time_limit, [&]() {
    quic::Connection* c = client_app.current(client.endpoint());
    if (c != nullptr && s.multipath && !paths_added) {
      paths_added = true;
      if (s.links[0].backup) (void)c->set_path_backup(0, true);
      // Every link is a wanted path, the handshake's too: a path abandoned after a long
      // failure is reopened on the same link (with backoff) when it returns.
      for (size_t i = 0; i < s.links.size(); ++i) {
        (void)c->add_path(addrs[i], server_addr, s.links[i].backup);
      }
    }
    if (net.now() == spin_at) {
      if (++spin_events > kMaxEventsAtOneInstant) spinning = true;
    } else {
      spin_at = net.now();
      spin_events = 0;
    }
    datagram_flow.tick(net.now(), server_conn(), c);
    if (Instant t = datagram_flow.next_send_at(); t != flow_wake && t != quic::kNever) {
      flow_wake = t;
      net.schedule_call(t, [](Instant) {});
    }
    if (quic::Connection* sc = server_conn()) {
      apply_path_policy(*sc, s.links);
      sc->set_send_rate_cap(s.server_rate_cap_bps);
    }
    if (client_app.bytes_received() > delivered) {
      delivered = client_app.bytes_received();
      stream_gaps.on_delivery(net.now());
    }
    if (datagram_flow.all_sent() && !drain_wake) {
      // Nothing else may happen by then: an event at the end of the drain time ends the run.
      drain_wake = true;
      net.schedule_call(net.now() + MpDatagramFlow::kDrain, [](Instant) {});
    }
    if (net.now() >= next_sample) {
      samples.emplace_back(net.now(), client_app.bytes_received());
      next_sample = net.now() + kSampleEvery;
    }
    bool finished = client_app.done() || (client_app.complete() && datagram_flow.done(net.now()));
    return finished || spinning;
  });
  res.sim_events = net.events_processed();
  res.stateless_resets_sent = client.endpoint().stats().stateless_resets_sent +
                              server.endpoint().stats().stateless_resets_sent;
  res.bytes = client_app.bytes_received();
  if (spinning) {
    res.error = "a timer stayed due without action (event loop spinning at one instant)";
  } else if (client_app.failed()) {
    res.error = client_app.error();
  } else if (!res.error.empty()) {
    // a scenario action failed
  } else if (!client_app.done() && !client_app.complete()) {
    res.error = "time limit reached after " + std::to_string(res.bytes) + " bytes";
  } else {
    res.ok = true;
  }
  const auto& recs = client_app.records();
  if (!recs.empty()) {
    Instant end = recs.back().completed ? recs.back().finished : net.now();
    res.elapsed = end - recs.front().started;
  }
  double secs = std::chrono::duration<double>(res.elapsed).count();
  if (secs > 0) res.goodput_bps = static_cast<double>(res.bytes) * 8.0 / secs;
  if (res.sum_rate_bps > 0) res.share = res.goodput_bps / res.sum_rate_bps;
  if (rival_app && !rival_app->records().empty()) {
    // Over the same interval: from the rival's start to the end of the multipath transfer.
    double rsecs =
        std::chrono::duration<double>(start + res.elapsed - rival_app->records().front().started)
            .count();
    if (rsecs > 0) {
      res.competitor_goodput_bps = static_cast<double>(rival_app->bytes_received()) * 8.0 / rsecs;
    }
    if (res.competitor_goodput_bps > 0) res.fairness = res.goodput_bps / res.competitor_goodput_bps;
  }

  res.new_tuples = client_watch.new_tuples + server_watch.new_tuples;
  res.new_tuples_without_challenge =
      client_watch.without_challenge + server_watch.without_challenge;
  for (const auto& r : recs) {
    res.challenges_sent += r.stats.path_challenges_sent;
    res.responses_sent += r.stats.path_responses_sent;
    res.client_used_preferred_address |= r.stats.preferred_address_used;
  }
  res.client_dcid_changed = client_watch.new_tuples > 0 && client_watch.same_dcid == 0;
  for (const auto& a : addrs) {
    res.client_dcids.push_back(client_watch.dcids[a].size());
    res.server_dcids.push_back(server_watch.dcids[a].size());
  }
  for (const auto& r : recs) {
    res.client_cids_retired += r.stats.local_cids_retired;
    res.client_ack_frames += r.stats.ack_frames_sent;
  }
  if (const quic::Connection* c = server_conn()) {
    res.challenges_sent += c->stats().path_challenges_sent;
    res.responses_sent += c->stats().path_responses_sent;
    res.server_migrations = c->stats().migrations;
    res.server_cids_retired = c->stats().local_cids_retired;
    for (size_t i = 0; i < c->path_count(); ++i) {
      const quic::Path& p = c->path(i);
      res.paths.push_back(MpPathFigures{p.id, p.stream_bytes_sent, p.datagrams_sent, p.packets_sent,
                                        p.packets_lost, p.rtt.smoothed(), p.health.failed()});
      if (p.ack_freq.sent_any) res.paths.back().ack_threshold = p.ack_freq.requested.threshold;
      res.paths.back().mtu = p.mtu;
      res.paths.back().pmtu_black_holes = p.pmtu_black_holes;
    }
    res.server_ack_frequency_frames = c->stats().ack_frequency_sent;
    res.server_pns_skipped = c->stats().packet_numbers_skipped;
    res.reinjected_packets = c->stats().reinjected_packets;
    res.paths_failed = c->stats().paths_failed;
    res.paths_validated = c->stats().paths_validated;
    res.paths_abandoned = c->stats().paths_abandoned;
    res.server_paths_at_end = c->path_count();
    if (!failure_at) snapshot_backup();
  }
  datagram_flow.finish(res, server_conn(), client_app.current(client.endpoint()));
  res.longest_gap = stream_gaps.longest();
  if (auto first = first_failure(s); first && s.events[*first].link < link_ids.size()) {
    const int failed = link_ids[s.events[*first].link];
    res.failure_happened = net.stats(failed, true).dropped_blackhole +
                               net.stats(failed, false).dropped_blackhole > 0;
    // The survivor: the first link not down right after the failure.
    std::vector<bool> up(s.links.size(), true);
    for (const MpLinkEvent& e : s.events) {
      if (e.at <= s.events[*first].at && e.link < up.size()) up[e.link] = e.up;
    }
    for (const auto& p : res.paths) {
      if (p.id < up.size() && up[p.id]) {
        res.surviving_srtt = p.srtt;
        break;
      }
    }
  }
  if (before_total > 0) {
    res.backup_share_before_failure =
        static_cast<double>(before_backup) / static_cast<double>(before_total);
  }

  if (failure_at) {
    // Surviving capacity: every link that is not down after the failure event.
    double surviving = 0;
    for (size_t i = 0; i < s.links.size(); ++i) {
      bool down = false;
      for (size_t k = 0; k <= *s.failure_event; ++k) {
        if (s.events[k].link == i) down = !s.events[k].up;
      }
      if (!down) surviving += s.links[i].down.rate_bps;
    }
    uint64_t base = 0;
    for (const auto& [t, b] : samples) {
      if (t <= *failure_at) base = b;
    }
    double worst = 0;
    for (const auto& [t, b] : samples) {
      if (t <= *failure_at || t > *failure_at + kStallHorizon) continue;
      if (b >= res.bytes && res.ok) break;  // finished: nothing left to deliver
      double dt = std::chrono::duration<double>(t - *failure_at).count();
      double delivered_s = static_cast<double>(b - base) * 8.0 / (kResumeShare * surviving);
      worst = std::max(worst, dt - delivered_s);
    }
    res.stall = std::chrono::duration_cast<Duration>(std::chrono::duration<double>(worst));
  }
  return res;
}

std::vector<std::string> mp_scenario_names() {
  return {"aggregation-a",
          "aggregation-b",
          "aggregation-c",
          "failover",
          "backup",
          "flapping",
          "both-die",
          "datagrams",
          "datagrams-redundant",
          "datagrams-failover",
          "datagrams-burst",
          "datagrams-mtu",
          "deadline",
          "deadline-streams",
          "mp-rebind",
          "abandon",
          "cid-retire",
          "shared-bottleneck",
          "shared-lossy",
          "rebind-port",
          "rebind-addr",
          "migration",
          "connectionmigration"};
}

std::optional<MpScenario> named_mp_scenario(std::string_view name) {
  MpScenario s;
  s.name = std::string(name);
  if (name == "aggregation-a") {
    s.description = "50 Mbit/s 20 ms + 30 Mbit/s 60 ms, one bulk stream";
    s.links = {both(50, 20ms), both(30, 60ms)};
  } else if (name == "aggregation-b") {
    s.description = "100 Mbit/s 10 ms + 20 Mbit/s 40 ms + 10 Mbit/s 600 ms (satellite)";
    s.links = {both(100, 10ms), both(20, 40ms), both(10, 600ms)};
    s.bytes = 128ull << 20;
  } else if (name == "aggregation-c") {
    s.description = "4 x 25 Mbit/s, RTT 20/30/50/80 ms, 1% loss on the 30 ms link";
    s.links = {both(25, 20ms), both(25, 30ms, 0.01), both(25, 50ms), both(25, 80ms)};
    s.bytes = 96ull << 20;
  } else if (name == "failover") {
    s.description = "50 Mbit/s 20 ms + 30 Mbit/s 60 ms; the faster link dies at 3 s";
    s.links = {both(50, 20ms), both(30, 60ms)};
    s.events = {{3s, 0, false}};
    s.failure_event = 0;
  } else if (name == "backup") {
    s.description = "50 Mbit/s 20 ms primary + 30 Mbit/s 60 ms backup; the primary dies at 3 s";
    s.links = {both(50, 20ms), both(30, 60ms, 0, true)};
    s.events = {{3s, 0, false}};
    s.failure_event = 0;
    s.bytes = 32ull << 20;
  } else if (name == "flapping") {
    s.description = "50 Mbit/s 20 ms flapping (down 3 s, up 3 s) + 30 Mbit/s 60 ms steady";
    s.links = {both(50, 20ms), both(30, 60ms)};
    for (int k = 0; k < 4; ++k) {
      s.events.push_back({std::chrono::seconds(2 + 6 * k), 0, false});
      s.events.push_back({std::chrono::seconds(5 + 6 * k), 0, true});
    }
    s.bytes = 96ull << 20;
  } else if (name == "both-die") {
    s.description = "aggregation-a links; both die (2 s, 2.5 s), the slower returns at 4 s";
    s.links = {both(50, 20ms), both(30, 60ms)};
    s.events = {{2s, 0, false}, {2500ms, 1, false}, {4s, 1, true}};
    s.bytes = 32ull << 20;
  } else if (name == "datagrams") {
    s.description = "aggregation-a with 2000 DATAGRAM frames (1 per ms) beside the download";
    s.links = {both(50, 20ms), both(30, 60ms)};
    s.datagrams = 2000;
    s.bytes = 32ull << 20;
  } else if (name == "mp-rebind") {
    s.description = "aggregation-a with a NAT rebinding (new port) on the slower link at 2 s";
    s.links = {both(50, 20ms), both(30, 60ms)};
    s.rebinds = {{2s, 1, false}};
    s.bytes = 48ull << 20;
  } else if (name == "abandon") {
    s.description = "aggregation-a; the client abandons the slower path at 2 s";
    s.links = {both(50, 20ms), both(30, 60ms)};
    s.abandon_at = 2s;
    s.bytes = 48ull << 20;
  } else if (name == "cid-retire") {
    s.description = "aggregation-a; both sides rotate and retire CIDs on both paths at 1-3 s";
    s.links = {both(50, 20ms), both(30, 60ms)};
    s.cid_actions = {{1s, false, 1, true},
                     {1500ms, false, 0, true},
                     {2s, true, 1, false},
                     {2500ms, false, 0, false},
                     {3s, true, 1, true}};
    s.bytes = 48ull << 20;
  } else if (name == "shared-bottleneck") {
    s.description = "two paths through one 50 Mbit/s 40 ms bottleneck beside a NewReno flow";
    s.links = {both(50, 40ms), both(50, 40ms)};
    s.shared_bottleneck = true;
    s.competitor = quic::CcAlgorithm::kNewReno;
    s.cc = quic::CcAlgorithm::kNewReno;
    s.bytes = 160ull << 20;
  } else if (name == "shared-lossy") {
    s.description = "shared-bottleneck with 0.2% random loss on the shared link";
    s.links = {both(50, 40ms, 0.002), both(50, 40ms, 0.002)};
    s.shared_bottleneck = true;
    s.competitor = quic::CcAlgorithm::kNewReno;
    s.cc = quic::CcAlgorithm::kNewReno;
    s.bytes = 48ull << 20;
  } else if (name == "rebind-port" || name == "rebind-addr") {
    s.description = name == "rebind-port" ? "single path; the client's NAT port changes at 1 s"
                                          : "single path; the client's NAT address changes at 1 s";
    s.multipath = false;
    s.links = {both(10, 30ms)};
    s.rebinds = {{1s, 0, name == "rebind-addr"}};
    s.bytes = 5ull << 20;
  } else if (name == "migration") {
    s.description = "single path; the client moves to a new local address at 1 s";
    s.multipath = false;
    s.links = {both(10, 30ms), both(10, 30ms)};
    s.migrate_at = 1s;
    s.bytes = 5ull << 20;
  } else if (name == "connectionmigration") {
    s.description = "single path; the client moves to the server's preferred_address";
    s.multipath = false;
    s.links = {both(10, 30ms)};
    s.preferred_address = true;
    s.bytes = 5ull << 20;
  } else {
    return deadline_mp_scenario(name);
  }
  return s;
}

}  // namespace harness
