// The one two-endpoint test harness (quinn's Pair is the model): a client and a server joined
// through sim/ links in virtual time. step() advances to the next wake-up (the earlier of both
// sides' timers and the next datagram arrival) and delivers/polls; drive_until() steps under a
// bound on steps and virtual time and never hangs. Both sides stay inspectable, datagrams can be
// intercepted (rewritten, dropped) or injected in either direction, links can be reshaped, and
// extra client addresses give extra paths. Same seed, same run. See docs/sim.md "Testing two
// endpoints: Pair".
//
// PairCore is the stepping and shuttling alone over any two sim::Node hosts (the public-API
// tests wrap tquic::Endpoint in one); Pair puts a quic::Endpoint on each side.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "core/endpoint.h"
#include "harness/sim_endpoint.h"
#include "sim/network.h"

namespace test {

using namespace std::chrono_literals;
using quic::Duration;
using quic::Instant;
using quic::SocketAddress;

// Which way a datagram travels.
enum class Dir : uint8_t { kToServer = 0, kToClient = 1 };

enum class Verdict : uint8_t { kPass, kDrop };
// Sees every datagram a side sends into the network (not those take() hands to the test); may
// rewrite its bytes, addresses or ECN codepoint, or drop it.
using Interceptor = std::function<Verdict(Dir, sim::Datagram&, Instant)>;

// Bounds of one drive: whichever is reached first stops it.
struct Limits {
  uint64_t max_steps = 1'000'000;
  Duration max_time = 30s;
};

// A host that keeps sending from poll_transmit is a bug in the host; one poll round stops here.
inline constexpr size_t kMaxDatagramsPerTake = 10'000;

struct NetConfig {
  uint64_t seed = 7;
  Instant start = quic::instant_from_ns(1'000'000'000);
  SocketAddress client_addr = SocketAddress::v4(192, 0, 2, 1, 50000);
  SocketAddress server_addr = SocketAddress::v4(192, 0, 2, 2, 443);
  // Every path's two directions start from these (default: 0.5 ms one way, unlimited rate).
  sim::LinkConfig to_server = instant_link(), to_client = instant_link();
  // More client addresses, each joined to the server address by its own link: paths 1, 2, ...
  // Addresses the client first uses later (migration, a new path, another port) are adopted
  // when its first datagram from them leaves: a new link if the IP has none (the next path),
  // and replies to them are delivered.
  std::vector<SocketAddress> extra_client_addrs;

  static sim::LinkConfig instant_link(Duration delay = 500us);
};

class PairCore {
 public:
  // The hosts must outlive the PairCore.
  PairCore(const NetConfig& config, sim::Node& client, sim::Node& server);
  virtual ~PairCore();
  PairCore(const PairCore&) = delete;
  PairCore& operator=(const PairCore&) = delete;

  Instant now() const { return net_->now(); }
  // Polls both sides (the test may have acted on them), then runs the network to the next event
  // that touches a side (a datagram delivered or a timer fired), at most until `end`. False when nothing touched a side before `end` (with
  // end == kNever: nothing will ever happen again).
  bool step(Instant end = quic::kNever);
  // Steps until pred() holds; false (never a hang) once `limits` is exhausted first.
  bool drive_until(const std::function<bool()>& pred, Limits limits = {});
  // Steps for exactly `d` of virtual time (less if `max_steps` run out first).
  void run_for(Duration d, uint64_t max_steps = Limits{}.max_steps);
  // Steps until no datagram is on a link and neither side wants waking within `quiet`; false
  // when `limits` ran out first.
  bool settle(Duration quiet, Limits limits = {});
  // Moves the clock without waking either side (datagrams arriving meanwhile are delivered once
  // it is over): for tests that move datagrams by hand with take()/deliver().
  void advance(Duration d);

  // By hand: the datagrams (at most `max`) the side sending `from_side` has to send now, taken
  // out of the host without crossing a link or the interceptor (recorded in sent()).
  std::vector<sim::Datagram> take(Dir from_side, size_t max = kMaxDatagramsPerTake);
  // By hand: hands `d` to the side `to` now, bypassing the links and the interceptor.
  void deliver(Dir to, sim::Datagram d);

  Interceptor intercept;

  // Path i joins client IP i (0: client_addr, then extra_client_addrs, then adopted ones) to the
  // server.
  size_t paths() const { return links_.size(); }
  int link_id(size_t path) const { return links_.at(path); }
  // Edits one direction of a path's link from now on (rate, delay, loss, ...).
  void change_link(size_t path, Dir dir, std::function<void(sim::LinkConfig&)> change);
  sim::Network& network() { return *net_; }
  // Datagrams on links right now (sent, not yet delivered or dropped).
  uint64_t in_flight() const;
  // Everything each side sent so far, through the network or take().
  const std::vector<sim::Datagram>& sent(Dir dir) const;
  uint64_t steps() const { return steps_; }

 private:
  class Tap;
  class Alias;

  void sync();
  // Makes `a` (a client source address) routable and deliverable.
  void adopt_client_address(const SocketAddress& a);
  Instant next_wakeup() const;

  std::unique_ptr<sim::Network> net_;
  std::unique_ptr<Tap> taps_[2];  // [Dir]: the tap of the side sending that way
  std::vector<int> links_;
  sim::LinkConfig to_server_, to_client_;  // for adopted paths
  SocketAddress server_addr_;
  std::vector<SocketAddress> client_addrs_;     // every address the client node receives on
  std::vector<std::unique_ptr<Alias>> aliases_;  // nodes of adopted addresses
  uint64_t steps_ = 0;
};

struct PairConfig {
  NetConfig net;
  quic::EndpointConfig client, server;  // tls may stay empty: the test certificate is used
  uint64_t client_seed = 1, server_seed = 2;
  quic::ConnectOptions connect;  // for the client's connection (tokens, tickets)
  // The client is a lone quic::Connection (Connection::connect, no Endpoint around it), as the
  // hostile tests play it: client_endpoint() must not be used then.
  bool bare_client = false;
  // Sides without an on_activity hook poll their connection's events into Side::events.
  bool drain_events = true;
  // GSO runs the endpoints may build (harness::SimEndpoint::set_max_segments); 1: none.
  size_t max_segments = 1;
};

// One side of a Pair: its connection and what the test sees of it.
struct Side final : harness::App {
  bool is_server = false;
  bool drain = true;
  std::optional<quic::ConnectionHandle> handle;
  quic::Connection* conn = nullptr;
  std::vector<quic::Event> events;  // drained transport events, in order
  // Runs after every event that touched this side, instead of the event draining.
  std::function<void(Instant)> on_activity_hook;
  void on_activity(quic::Endpoint& endpoint, Instant now) override;
  // Finds the connection: the client's from its handle, the server's first accepted one.
  void resolve(quic::Endpoint& endpoint);
  // The application's turn: the hook, or draining the events.
  void activity(Instant now);
};

class BareClient;

namespace detail {
// The endpoints, built before PairCore (Pair's next base) is constructed on them.
struct EndpointHosts {
  explicit EndpointHosts(const PairConfig& config);
  ~EndpointHosts();
  std::unique_ptr<harness::SimEndpoint> client_ep, server_ep;  // client_ep unless bare_client
  std::unique_ptr<BareClient> bare;                            // with bare_client
  Side client_side, server_side;
  sim::Node& client_node();
};
}  // namespace detail

// A client and a server quic::Endpoint on a PairCore. The client connects at construction; the
// server's first connection is picked up as soon as the server accepted it.
class Pair : private detail::EndpointHosts, public PairCore {
 public:
  explicit Pair(PairConfig config = {});

  quic::Endpoint& client_endpoint();
  quic::Endpoint& server_endpoint() { return server_ep->endpoint(); }
  harness::SimEndpoint& server_host() { return *server_ep; }
  harness::SimEndpoint& client_host() { return *client_ep; }  // not with bare_client
  // The client's connection (nullptr if connect failed) and the server's first one (nullptr
  // until the server created it).
  quic::Connection* client() { return client_side.conn; }
  quic::Connection* server();
  Side& client_side_state() { return client_side; }
  Side& server_side_state() { return server_side; }
  // Steps until both connections completed the handshake (bounded by `limits`).
  bool handshake(Limits limits = {});
};

// TLS context of a self-signed "localhost" certificate: the server's (certificate and key) or a
// client's (trust anchor and SNI).
std::shared_ptr<const quic::TlsContext> test_tls_context(bool server,
                                                         const std::vector<std::string>& alpn);

}  // namespace test
