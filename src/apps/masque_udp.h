// `tquic masque-udp --proxy URL --listen ADDR:PORT TARGET_HOST:PORT`: a local UDP port forwarded
// through a MASQUE proxy with CONNECT-UDP (RFC 9298). Each local source address:port is a flow
// with its own CONNECT-UDP stream; all flows share one QUIC connection, opened at start and
// opened again on the next datagram after it closed (idle timeout, proxy restart). A first
// connection that fails (no proxy, wrong --pin) ends the command with exit code 1. Flows
// are bounded in number (--max-flows: further sources are dropped and counted) and closed after
// --idle-timeout seconds without traffic either way. docs/masque-udp.md has the usage.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "apps/hq_client.h"
#include "apps/net_options.h"
#include "core/endpoint.h"
#include "h3/session.h"
#include "h3/uri_template.h"
#include "masque/connect_udp.h"

namespace io {
class EndpointDriver;
}

namespace apps {

inline constexpr uint32_t kDefaultMasqueUdpFlows = 256;
inline constexpr uint32_t kMaxMasqueUdpFlows = 4096;
// Local datagrams read per readiness event (the rest wait in the socket buffer). Checked
// between recvmmsg calls: with GRO one call may return up to kLocalRecvSlots x 64 datagrams.
inline constexpr size_t kMaxLocalReadsPerWakeup = 256;
// Messages taken from the local socket per recvmmsg call (docs/performance-datagrams.md).
inline constexpr size_t kLocalRecvSlots = 16;
// The local socket's receive buffer (asked for; net.core.rmem_max caps it for non-root): it
// absorbs a source's bursts while the loop is busy sending, and holds what waits while QUIC
// congestion control is the limit (reading stops then, see MasqueUdpApp::pause_local).
inline constexpr int kLocalRecvBuffer = 4 << 20;
// --datagram-queue: the QUIC DATAGRAM send queue's bound. With back pressure it is the queue
// between the local socket and the network, so it sets the delay a saturated tunnel adds
// (4 MiB, the core's default: 13 ms at 2.5 Gbit/s, 340 ms at 100 Mbit/s).
inline constexpr uint64_t kMinDatagramQueue = 16 << 10;
inline constexpr uint64_t kMaxDatagramQueue = 64 << 20;

struct MasqueUdpOptions {
  std::string proxy;   // https://host:port[/]
  std::string listen;  // local ADDR:PORT
  std::string target;  // HOST:PORT or [IPv6]:PORT
  std::string udp_template;  // empty: masque::kDefaultUdpPathTemplate
  uint32_t max_flows = kDefaultMasqueUdpFlows;
  double idle_timeout_s = 30;
  bool no_h3_datagram = false;  // do not offer H3_DATAGRAM: payloads go as DATAGRAM capsules
  std::string datagram_queue;   // empty: the core's default
  TrustOptions trust;
  NetOptions net;
};
void add_masque_udp_options(CLI::App& cmd, MasqueUdpOptions& o);
int run_masque_udp(const MasqueUdpOptions& o);

// The forwarded socket: bound, non-blocking, kLocalRecvBuffer and UDP_GRO asked for; -1 after
// printing why.
int open_masque_udp_local(const quic::SocketAddress& a);

// "host:port" / "[v6]:port" -> host (brackets stripped) and port; nullopt when malformed.
std::optional<std::pair<std::string, uint16_t>> split_host_port(const std::string& text);

struct MasqueUdpCounters {
  uint64_t flows_opened = 0, flows_closed_idle = 0, flows_refused = 0;
  uint64_t local_received = 0, local_sent = 0;
  uint64_t dropped_flow_limit = 0;  // a new source beyond --max-flows
  uint64_t dropped_pending = 0;     // held before the stream existed, over the bound
  uint64_t dropped_refused = 0;     // for a flow the proxy refused
  uint64_t dropped_send = 0;        // not handed to the session (too large, queue full ...)
  uint64_t connections = 0;
  uint64_t read_pauses = 0;  // times the local socket was left unread: the QUIC queue was full
};

// The application half, driven by io::EndpointDriver's hook and the local socket's handler.
class MasqueUdpApp {
 public:
  struct Config {
    quic::SocketAddress local_quic, proxy;  // the QUIC socket's address and the proxy's
    h3::UriTemplate udp_template;
    std::string target_host;
    uint16_t target_port = 0;
    size_t max_flows = kDefaultMasqueUdpFlows;
    quic::Duration idle_timeout = std::chrono::seconds(30);
    bool h3_datagram = true;
  };
  // `local_fd` is the forwarded UDP socket (non-blocking, bound); the app registers it.
  MasqueUdpApp(io::EndpointDriver& loop, quic::Endpoint& endpoint, int local_fd, Config config);
  ~MasqueUdpApp();
  void on_activity(quic::Endpoint& endpoint, quic::Instant now);
  // A connection that never completed its handshake, or a proxy without extended CONNECT.
  const std::string& fatal_error() const { return fatal_; }
  const MasqueUdpCounters& counters() const { return counters_; }
  size_t open_flows() const { return flows_.size(); }
  bool local_paused() const { return local_paused_; }
  // The current connection to the proxy, if any (for the exit summary).
  const quic::Connection* connection() const {
    return handle_ ? endpoint_.connection(*handle_) : nullptr;
  }

 private:
  struct Flow {
    uint64_t stream_id = 0;  // 0: no stream yet (client bidi stream 0 is never a flow's: see open)
    bool has_stream = false;
    bool refused = false;
    masque::ConnectUdpClient* handler = nullptr;  // owned by the session
    quic::Instant last{};
    std::vector<std::vector<uint8_t>> early;  // before the stream exists, bounded
    size_t early_bytes = 0;
  };
  void on_local_readable();
  // Hands the datagrams of the last read (rx_[held_next_, held_end_)) to their flows; stops at
  // one the QUIC datagram queue refuses, which stays held with the rest (pause_local).
  void forward_held();
  // False: the connection's datagram queue refused it (nothing counted; try again later).
  bool on_local_datagram(const quic::SocketAddress& from, quic::Bytes data);
  bool session_ready() const;
  void open_streams();
  void open_stream(const quic::SocketAddress& source, Flow& f);
  void on_event(const h3::Event& e);
  void sweep(quic::Instant now);
  void connect(quic::Instant now);
  void reset_connection();
  void send_local(const quic::SocketAddress& to, quic::Bytes data);
  // Back pressure: when the connection's datagram queue refuses a payload (QUIC congestion
  // control, not this process, is the limit), stop reading the local socket and keep what was
  // read but not yet queued, so excess datagrams wait in (and beyond kLocalRecvBuffer are
  // dropped by) the kernel at no cost here instead of being read, framed and refused; resume
  // once the queue drained to its low-water mark (checked in on_activity).
  bool pause_local();  // false: reading could not be stopped
  void resume_local();

  io::EndpointDriver& loop_;
  int fd_;
  Config config_;
  quic::Endpoint& endpoint_;
  std::optional<quic::ConnectionHandle> handle_;
  std::unique_ptr<h3::Session> session_;
  bool ever_connected_ = false;
  std::map<quic::SocketAddress, Flow> flows_;
  std::map<uint64_t, quic::SocketAddress> by_stream_;
  std::optional<quic::SocketAddress> opening_;  // the flow send_request is opening
  std::optional<uint64_t> sweep_timer_;
  quic::Instant now_{};
  bool local_paused_ = false;
  size_t held_next_ = 0, held_end_ = 0;  // rx_ entries read but not yet handed on
  masque::UdpRecvBatch rx_{kLocalRecvSlots, masque::kMaxUdpPayload + 1};
  std::string fatal_;
  MasqueUdpCounters counters_;
};

}  // namespace apps
