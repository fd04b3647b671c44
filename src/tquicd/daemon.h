// The tquicd daemons (docs/tquicd.md): `tquicd client` carries a site's IP traffic from a TUN
// device over one multipath QUIC connection (one path per [[link]]) as CONNECT-IP datagrams on
// the seq context; `tquicd server` authenticates clients by token, hands each stable
// addresses from its pools and routes between its TUN device and every client's tunnel. Both
// put a reorder buffer (reorder_sink.h) in their receive direction.
//
// State for the control socket and metrics (written by another part of tquicd) is published
// as a DaemonState snapshot, refreshed every kStateInterval and on every change of readiness.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/time.h"
#include "io/endpoint_driver.h"
#include "masque/connect_ip.h"
#include "tquicd/classifier.h"
#include "tquicd/config.h"
#include "tquicd/reorder_sink.h"

namespace quic {
class Connection;
}

namespace bond {

inline constexpr quic::Duration kStateInterval = std::chrono::seconds(1);
// How long a stopping daemon lets its CONNECTION_CLOSE go out before it exits.
inline constexpr quic::Duration kShutdownFlush = std::chrono::milliseconds(200);
// Bound on the token file a client reads.
inline constexpr size_t kMaxClientTokenFile = 4096;
// The request field the client token travels in (RFC 9110 §11.6.2 with the Bearer scheme of
// RFC 6750 §2.1).
inline constexpr std::string_view kAuthField = "authorization";
inline constexpr std::string_view kBearerPrefix = "Bearer ";

struct LinkState {
  std::string name, interface;
  quic::SocketAddress local;
  LinkRole role = LinkRole::kPrimary;
  bool path_open = false;  // the connection has a path from this link's address
  bool failed = false;     // the core declared the path failed
  uint64_t bytes_sent = 0, bytes_received = 0;
  quic::Duration srtt{0};
  uint64_t quota_used = 0, quota_bytes = 0;  // this period's bytes both ways; 0: unmetered
  bool quota_stopped = false;                // stopped at its quota until the next period
  std::string down_reason;                   // why it has no socket ("interface wan0 down")
};

struct DaemonState {
  DaemonRole role = DaemonRole::kClient;
  bool ready = false;
  std::string tun;
  std::vector<LinkState> links;  // client
  uint64_t clients = 0;          // server: tunnels open
  uint64_t auth_refused = 0;     // server: requests refused for a missing or wrong token
  masque::ConnectIpStats tunnel;
  ReorderSinkStats reorder;
  quic::Duration reorder_hold{0};
  uint64_t reloads = 0;
};

// Called with every refreshed snapshot (the control socket's hook); may be empty.
using StateObserver = std::function<void(const DaemonState&)>;

int run_client_daemon(const std::string& config_path, const StateObserver& observe);
int run_server_daemon(const std::string& config_path, const StateObserver& observe);

// --- shared by both daemons (daemon_common.cc)

// Keeps one driver timer at the reorder buffer's next deadline; rearm() after every event
// that may have held a packet.
class ReorderTimer {
 public:
  ReorderTimer(io::EndpointDriver& d, ReorderSink& r) : driver_(d), reorder_(r) {}
  ~ReorderTimer();
  ReorderTimer(const ReorderTimer&) = delete;
  ReorderTimer& operator=(const ReorderTimer&) = delete;
  void rearm();

 private:
  io::EndpointDriver& driver_;
  ReorderSink& reorder_;
  std::optional<io::EndpointDriver::TimerId> armed_;
  quic::Instant armed_at_{};
};

// The connection's DATAGRAM backlog (backlog.h) from its paths now: what the client's ingress
// pump lets into the connection's send queue, and past which the server drops a client's
// packets instead of queueing them (docs/tquicd-datapath.md "Datagram backlog").
size_t datagram_backlog(const quic::Connection& c);

// The transport priority of a packet read from the TUN device: interactive flows (classifier.h:
// ICMP, DSCP EF/AF4x, the configured ports, flows of small packets) go ahead of everything
// queued, on the lowest-RTT path, and skip the ingress queue and the backlog bound (the
// transport's interactive queue has its own); the rest is bulk. Unparsable packets are bulk:
// the tunnel drops and counts them.
quic::DatagramPriority tun_priority(FlowClassifier& c, quic::Instant now, quic::Bytes packet);
// Copies the classifier keys that apply live (ports, DSCP, small_packet, udp_unordered; not
// max_flows, the table's size) from `next` into the running configuration.
void take_live_classifier_keys(Config& running, const Config& next);

// The token a client presents: the request field's value with the Bearer prefix removed, or
// empty when the field is missing, repeated or not Bearer.
std::string_view presented_token(std::span<const h3::Field> fields);
// "tquicd: ready ..." on stdout (flushed) and READY=1 to systemd when NOTIFY_SOCKET is set.
void announce_ready(const std::string& details);
// SIGTERM/SIGINT set stop_requested(), SIGHUP sets a reload that take_reload() consumes.
void install_signal_handlers();
bool stop_requested();
bool take_reload();
// The live keys a running daemon applies on SIGHUP (the others wait for a restart).
// (The client's ingress queue is live; the server has none yet, docs/tquicd.md "Limits".)
bool daemon_applies(DaemonRole role, std::string_view key);
// Reloads `path` and logs each changed key: applied live (returned true) or needing restart.
// Returns the new configuration when it parsed, nullopt (errors logged) otherwise.
std::optional<Config> reload_config(const std::string& path, const Config& running);
// The keys that differ between two configurations (for the config_reloaded event).
std::vector<std::string> changed_keys(const Config& before, const Config& after);

}  // namespace bond
