// tquicd's observable state as a plain model (docs/tquicd-control.md). The daemon fills a
// Status snapshot (or updates one in place) and hands it to the control socket, the metrics
// endpoint and the dashboard, which only read it; events (events.h) go into an EventLog, a
// bounded ring with sequence numbers that `tquicctl monitor` and the dashboard follow. No I/O,
// no clock: times are passed in as quic::Instant.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/time.h"
#include "tquicd/classifier.h"
#include "tquicd/config.h"
#include "tquicd/events.h"

namespace bond {

// single: one usable path; bonded: two or more usable paths carry traffic; degraded: fewer
// usable links than configured non-backup links (a primary/secondary failed, or a backup carries
// traffic); down: no usable path; reconnecting: the client lost its connection and makes a
// new one (Status::reconnect says which attempt, and when).
enum class BondState { kSingle, kBonded, kDegraded, kDown, kReconnecting };
enum class LinkHealth { kUp, kDown, kFailed };

const char* to_string(BondState s);
const char* to_string(LinkHealth s);

struct LinkStatus {
  std::string name;
  std::string interface;  // empty when the link is given by source address only
  LinkRole role = LinkRole::kPrimary;
  LinkHealth state = LinkHealth::kDown;
  bool admin_down = false;     // taken down by `link down NAME`
  uint64_t rtt_us = 0;         // smoothed RTT of the link's path, 0 when unknown
  double loss = 0;             // fraction of packets lost, 0..1
  uint64_t tx_bytes = 0, rx_bytes = 0;
  uint64_t tx_rate_bps = 0, rx_rate_bps = 0;  // bits per second, recent
  uint64_t quota_bytes = 0;    // 0: the link is not metered
  uint64_t quota_used_bytes = 0;
};

struct PathStatus {
  uint64_t path_id = 0;
  std::string link;            // name of the link the path uses
  std::string local, remote;   // "addr:port"
  bool active = false;         // validated and usable for sending
  bool standby = false;        // PATH_STATUS standby (backup role)
  uint64_t rtt_us = 0, rtt_var_us = 0;
  uint64_t cwnd_bytes = 0;
  uint64_t packets_sent = 0, packets_lost = 0;
  uint64_t keepalive_ms = 0;  // PING interval in force while the path idles; 0: none
};

// A connected client on the server side.
struct ConnStatus {
  std::string client;          // the client's token or certificate name
  std::string inner_address;   // address assigned from the pool
  std::string remote;          // the current main path's peer "addr:port"
  size_t paths = 0;
  uint64_t tx_bytes = 0, rx_bytes = 0;
  uint64_t age_ms = 0;
};

struct FlowStatus {
  std::string protocol;        // "tcp", "udp", "icmp", or the number
  std::string src, dst;        // "addr:port"
  std::string klass;           // "interactive" or "bulk"
  uint64_t bytes = 0, packets = 0;
};

// The client's connection over time (reconnect.h): how often it was lost and made again, and
// while it is being made again, which attempt and when the next one starts.
struct ReconnectStatus {
  uint64_t disconnects = 0, reconnects = 0;
  uint64_t attempt = 0;            // while reconnecting: the attempt running or due (1, 2, ...)
  uint64_t next_attempt_ms = 0;    // while reconnecting: ms until the next attempt, 0 if running
  uint64_t down_ms = 0;            // while reconnecting: ms since the connection was lost
  uint64_t last_downtime_ms = 0;   // how long the last outage lasted
  std::string last_reason;         // why the connection was last lost
};

// The client's ingress queue (ingress_queue.h): what waits in it and why packets left it
// other than into the tunnel.
struct IngressStatus {
  uint64_t queued_bytes = 0, queued_packets = 0;
  uint64_t tail_drops = 0;    // the queue's byte or packet bound was reached
  uint64_t codel_drops = 0;   // CoDel: the sojourn stayed above target
  uint64_t outage_drops = 0;  // waited past kIngressOutageMaxSojourn while there was no tunnel
  uint64_t ce_marks = 0;      // CoDel marked instead of dropping (ECN-capable)
};

struct Status {
  DaemonRole role = DaemonRole::kClient;
  BondState bond = BondState::kDown;
  uint64_t uptime_ms = 0;
  std::string tunnel_interface;  // TUN device name
  std::vector<LinkStatus> links;
  std::vector<PathStatus> paths;
  std::vector<ConnStatus> conns;  // server side only
  std::vector<FlowStatus> flows;  // top flows by bytes, at most kMaxFlows
  uint64_t control_refused = 0;   // control clients refused (peer credentials, limit)
  uint64_t tx_bytes = 0, rx_bytes = 0;  // tunnel totals
  ReconnectStatus reconnect;            // client side only
  IngressStatus ingress;                // client side only

  static constexpr size_t kMaxFlows = 32;
};

// The bond state that follows from the links: what a daemon without a better view reports.
BondState derive_bond_state(const std::vector<LinkStatus>& links);

// The recent rate of a byte counter the daemon samples now and then (for LinkStatus's
// tx_rate_bps/rx_rate_bps): each sample's rate over the time since the previous one, smoothed
// with a weight that follows the elapsed time, so irregular sampling gives the same average.
class RateMeter {
 public:
  static constexpr quic::Duration kDefaultWindow = std::chrono::seconds(2);
  explicit RateMeter(quic::Duration window = kDefaultWindow) : window_(window) {}
  // A counter that went backwards (a restart, a reset) restarts the meter from it.
  void update(quic::Instant now, uint64_t counter);
  uint64_t bits_per_second() const { return static_cast<uint64_t>(rate_bps_ + 0.5); }

 private:
  quic::Duration window_;
  std::optional<quic::Instant> last_time_;
  uint64_t last_counter_ = 0;
  double rate_bps_ = 0;
};

// The classifier's flows with the most bytes, at most `max` (`tquicctl flows`).
std::vector<FlowStatus> top_flows(const FlowClassifier& c, size_t max = Status::kMaxFlows);

}  // namespace bond
