// The control plane's view of a running daemon (docs/tquicd-control.md): the connection's
// paths sampled into PathSamples, and LinkTracker, which turns successive samples into the
// links' status (state, RTT, recent loss and rates, byte counters that stay monotonic across
// the paths a link has had) and into events — path_up, path_down, failover, bond_state — on
// the daemon's EventBus. No I/O, no clock: the daemon passes the paths and the time in.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/address.h"
#include "common/time.h"
#include "tquicd/config.h"
#include "tquicd/events.h"
#include "tquicd/status.h"

namespace quic {
class Connection;
}

namespace bond {

// One path of a connection, as read from the core.
struct PathSample {
  uint64_t id = 0;
  quic::SocketAddress local, remote;
  bool usable = false;     // validated, active and not failed
  bool failed = false;     // the core declared it failed (no answer within its timeout)
  bool abandoned = false;  // PATH_ABANDON sent or received
  bool backup = false;     // PATH_STATUS backup, either side
  quic::Duration srtt{0}, rttvar{0};
  uint64_t cwnd = 0;
  uint64_t bytes_sent = 0, bytes_received = 0, packets_sent = 0, packets_lost = 0;
  quic::Duration keepalive{0};  // the PING interval in force on the idle path (0: none)
};
std::vector<PathSample> sample_paths(const quic::Connection& c);
PathStatus to_path_status(const PathSample& p, std::string link);

// A link's per-path history is bounded: paths beyond this many are folded into the totals.
inline constexpr size_t kMaxTrackedPathsPerLink = 64;

class LinkTracker {
 public:
  struct Link {
    LinkConfig config;
    quic::SocketAddress local;  // the link socket's address: its paths are those from here
    bool admin_down = false;
  };
  explicit LinkTracker(std::vector<Link> links);

  // Refreshes out.links, out.paths and out.bond from the connection's paths at `now` and
  // pushes an event for every change seen since the previous update.
  void update(const std::vector<PathSample>& paths, quic::Instant now, EventBus& bus, Status& out);
  // `tquicctl link up|down`: recorded (shown as down*) and reported as link_up/link_down.
  bool set_admin_down(std::string_view name, bool down, quic::Instant now, EventBus& bus);
  const Link* find(std::string_view name) const;
  // The link's socket moved to another address (a link manager reopened it): its paths are
  // those from `local` from now on; its counters carry on.
  void set_local(std::string_view name, const quic::SocketAddress& local);
  // The configured links changed (SIGHUP, `set`): a link that keeps its name keeps its
  // counters, address and admin state; new ones start down, removed ones are forgotten.
  void configure(const std::vector<LinkConfig>& links);
  // The paths that follow are a new connection's (the client reconnected; path ids start
  // over): what the old paths counted is kept in the links' totals.
  void on_new_connection();
  // Quota figures the quota ledger (when the daemon runs one) hands in.
  void set_quota(std::string_view name, uint64_t quota_bytes, uint64_t used_bytes);

 private:
  struct Counters {
    uint64_t sent = 0, received = 0, packets_sent = 0, packets_lost = 0;
    void add(const Counters& o);
  };
  struct Track {
    Link link;
    LinkHealth state = LinkHealth::kDown;
    // Per path id the counters last seen; paths folded into `folded` once beyond the bound.
    std::map<uint64_t, Counters> paths;
    Counters folded;
    uint64_t last_packets_sent = 0, last_packets_lost = 0;
    double loss = 0;
    RateMeter tx, rx;
    uint64_t quota_bytes = 0, quota_used = 0;
  };
  void update_link(Track& t, const std::vector<const PathSample*>& mine, quic::Instant now,
                   LinkStatus& s);
  void report(const std::vector<LinkHealth>& before, BondState bond, quic::Instant now,
              EventBus& bus);

  std::vector<Track> tracks_;
  BondState bond_ = BondState::kDown;
};

// Server: the authenticated clients' connections, for `conns`/`paths` and the client_up and
// client_down events. A connection is tracked from its first authenticated request until the
// endpoint drops it.
inline constexpr size_t kMaxTrackedClients = 4096;

class ClientTracker {
 public:
  // `inner` names the address the client holds ("" when unknown).
  using InnerAddress = std::function<std::string(const std::string& client)>;
  explicit ClientTracker(InnerAddress inner) : inner_(std::move(inner)) {}
  void on_authenticated(uint64_t handle, const std::string& client, quic::Instant now,
                        EventBus& bus);
  // The live connection behind a handle, nullptr once gone (the endpoint's connection()).
  using Lookup = std::function<quic::Connection*(uint64_t handle)>;
  // Drops the connections that are gone or closing (client_down) and fills out.conns,
  // out.paths (link = client name) and out.bond (the best client's: bonded when one has two
  // usable paths).
  void update(const Lookup& lookup, quic::Instant now, EventBus& bus, Status& out);
  size_t size() const { return clients_.size(); }
  // The handles of the connections tracked (authenticated clients) as of the last update().
  std::vector<uint64_t> handles() const;

 private:
  struct Client {
    std::string name;
    quic::Instant since;
  };
  InnerAddress inner_;
  std::map<uint64_t, Client> clients_;
};

}  // namespace bond
