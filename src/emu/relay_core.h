// The link emulator's sans-I/O core: a transparent UDP relay between clients and one server,
// with one emulated link per client IP address (each multipath client path binds its own IP, so
// a link is a path). Datagrams go in with the time they arrived; poll() says what to send now;
// next_wakeup() says when to call again. The sockets and the event loop are in emu/relay.h;
// tests drive this class with a fake clock.
//
// Mapping: every client 4-tuple is a flow. The relay sends a flow's datagrams to the server
// from its own upstream socket (bound, by the caller, to the client's IP with an ephemeral
// port), so the server sees one 4-tuple per client path; the server's replies to that socket go
// back to the client. Flows expire after kFlowIdleTimeout without traffic.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "common/address.h"
#include "common/time.h"
#include "emu/link_spec.h"
#include "sim/link_shaper.h"

namespace emu {

// Client 4-tuples with a live mapping (each costs the caller a socket). New 4-tuples beyond it
// are dropped and counted until an idle one expires.
inline constexpr size_t kMaxFlows = 1024;
// Distinct client IPs, i.e. emulated links (each holds two queues of up to kMaxQueueBytes).
inline constexpr size_t kMaxLinks = 64;
inline constexpr quic::Duration kFlowIdleTimeout = std::chrono::seconds(120);

struct RelayConfig {
  quic::SocketAddress server;
  std::vector<LinkArg> links;  // by client IP; others get default_profile
  LinkProfile default_profile = transparent_profile();
  std::vector<DownArg> downs;
  uint64_t seed = 1;
  size_t max_flows = kMaxFlows;  // lower in tests only
  size_t max_links = kMaxLinks;
  quic::Duration flow_idle = kFlowIdleTimeout;
};

// A datagram to send now. to_server: from flow's upstream socket to the server; otherwise from
// the listening socket to `to` (the client).
struct Outgoing {
  uint64_t flow = 0;
  bool to_server = false;
  quic::SocketAddress to;
  uint8_t ecn = 0;
  std::vector<uint8_t> payload;
};

struct LinkReport {
  quic::SocketAddress ip;
  bool configured = false;  // named by --link (else the default profile)
  sim::LinkConfig up_config, down_config;
  sim::DirCounters up, down;
};

struct RelayCounters {
  uint64_t flows_opened = 0, flows_expired = 0;
  uint64_t rejected_flow_limit = 0;  // datagrams from a new 4-tuple while kMaxFlows were live
  uint64_t rejected_link_limit = 0;  // datagrams from a new IP while kMaxLinks existed
  uint64_t unroutable = 0;           // arrived for a flow that had expired meanwhile
};

class RelayCore {
 public:
  // Blackhole windows (--down) count from `start`.
  RelayCore(RelayConfig config, quic::Instant start);
  ~RelayCore();

  struct Accepted {
    uint64_t flow;
    bool created;  // a new flow: the caller opens its upstream socket (or calls close_flow)
  };
  // A datagram from a client to the relay. nullopt: dropped (flow or link table full).
  std::optional<Accepted> from_client(quic::Instant now, const quic::SocketAddress& client,
                                      uint8_t ecn, std::span<const uint8_t> payload);
  // A datagram from the server to flow's upstream socket (unknown flows are ignored).
  void from_server(quic::Instant now, uint64_t flow, uint8_t ecn, std::span<const uint8_t> payload);
  // Appends what is due at `now`.
  void poll(quic::Instant now, std::vector<Outgoing>& out);
  quic::Instant next_wakeup() const;
  // Removes flows idle for flow_idle; returns their ids (the caller closes their sockets).
  std::vector<uint64_t> expire(quic::Instant now);
  void close_flow(uint64_t flow);

  // The client address of a live flow.
  std::optional<quic::SocketAddress> client_of(uint64_t flow) const;
  size_t live_flows() const { return flows_.size(); }
  std::vector<LinkReport> report() const;
  const RelayCounters& counters() const { return counters_; }

 private:
  struct Link;
  struct Flow {
    quic::SocketAddress client;
    size_t link;
    quic::Instant last_seen;
  };
  std::optional<size_t> link_for(const quic::SocketAddress& ip);

  RelayConfig config_;
  quic::Instant start_;
  std::vector<std::unique_ptr<Link>> links_;
  std::unordered_map<uint64_t, Flow> flows_;
  std::unordered_map<quic::SocketAddress, uint64_t> by_client_;
  uint64_t next_flow_ = 1;
  RelayCounters counters_;
  std::vector<sim::Datagram> scratch_;
};

}  // namespace emu
