// CONNECT-UDP (RFC 9298) over HTTP/3: the proxy's service and handler, and the client's
// handler. UDP payloads travel as HTTP datagrams (RFC 9297 §2) with context ID 0 (RFC 9298 §4);
// when the peer did not negotiate H3_DATAGRAM they travel as DATAGRAM capsules on the CONNECT
// stream instead (RFC 9297 §3.5). Datagrams with another context ID are dropped and counted
// (§4: none is registered).
//
// Proxy: ConnectUdpProxy::factory() is registered for :protocol "connect-udp" on each session.
// A request is validated (connect_udp_request.h); a name is resolved off the loop (resolver.h);
// every resolved address is checked by the access policy (access.h) and the first allowed one
// gets a non-blocking UDP socket connected to it and registered on the event loop. Refusals
// carry Proxy-Status (proxy_status.h). Memory per flow is a fixed record plus the kernel's
// socket buffers: no user-space queue grows with traffic; what does not fit is dropped and
// counted.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "h3/session.h"
#include "masque/access.h"
#include "masque/connect_udp_request.h"
#include "masque/proxy_handler.h"
#include "masque/resolver.h"
#include "masque/udp_batch.h"

namespace io {
class EndpointDriver;
}

namespace masque {

// Flows (one UDP socket each) the whole proxy keeps at once, and per HTTP/3 connection.
inline constexpr size_t kDefaultMaxFlows = 16384;
inline constexpr size_t kDefaultMaxFlowsPerSession = 1024;
// UDP datagrams taken from one flow socket per readiness event (fairness between flows; the
// kernel's socket buffer holds the rest, bounded by SO_RCVBUF). Checked between recvmmsg calls:
// with GRO one call may return up to kTargetRecvSlots x 64 datagrams.
inline constexpr size_t kMaxReadsPerWakeup = 32;
// Datagrams read from a target socket per recvmmsg call (the shared buffer holds this many of
// kMaxUdpPayload + 1 bytes; the pages of unused slots are never touched).
inline constexpr size_t kTargetRecvSlots = 16;
// Capsule fallback: while this many bytes of the CONNECT stream are unacknowledged, further
// payloads are dropped rather than queued behind them.
inline constexpr size_t kMaxCapsuleBacklog = 256 * 1024;
// Client: payloads held before the 2xx arrives (per flow), beyond which new ones are dropped.
inline constexpr size_t kMaxPendingPayloads = 32;
inline constexpr size_t kMaxPendingBytes = 64 * 1024;

// Why a payload was or was not handed to the HTTP/3 session.
enum class SendOutcome : uint8_t {
  kDatagram,         // as an HTTP datagram
  kCapsule,          // as a DATAGRAM capsule (no H3_DATAGRAM)
  kTooLarge,         // above kMaxUdpPayload
  kQueueFull,        // the transport's datagram queue refused it
  kBacklog,          // capsule fallback over kMaxCapsuleBacklog
  kFailed,           // the stream is gone
};
// Sends `payload` as context 0 on `out`'s stream: an HTTP datagram when both sides negotiated
// them and it fits a QUIC DATAGRAM frame, else a DATAGRAM capsule. `scratch` is a reused
// encoding buffer.
SendOutcome send_udp_payload(h3::Outbox& out, const h3::Session& session, quic::Connection& conn,
                             std::vector<uint8_t>& scratch, quic::Bytes payload);

struct ConnectUdpStats {
  uint64_t requests = 0, established = 0, refused = 0;
  uint64_t open_flows = 0, open_sockets = 0;  // now
  uint64_t peak_open_sockets = 0;
  uint64_t to_target = 0, from_target = 0;              // datagrams
  uint64_t bytes_to_target = 0, bytes_from_target = 0;  // UDP payload bytes
  uint64_t as_capsules = 0;  // sent as DATAGRAM capsules (no H3_DATAGRAM, or too large)
  // Drops, by reason.
  uint64_t dropped_unknown_context = 0;  // RFC 9298 §4
  uint64_t dropped_malformed = 0;        // no context ID
  uint64_t dropped_oversize = 0;         // payload above kMaxUdpPayload
  uint64_t dropped_not_connected = 0;    // before the 2xx (RFC 9298 §5 allows dropping)
  uint64_t dropped_send_error = 0;       // socket send: EAGAIN/ENOBUFS/ICMP errors
  uint64_t dropped_queue_full = 0;       // transport datagram queue full
  uint64_t dropped_backlog = 0;          // capsule fallback over its bound
  uint64_t dropped_truncated = 0;        // target datagram larger than our buffer
  uint64_t dropped_closed = 0;           // target datagram while the stream is going away
};

struct ConnectUdpConfig {
  std::string udp_template = std::string(kDefaultUdpPathTemplate);
  std::string proxy_name = "tquic";  // in Proxy-Status
  AccessPolicy policy;
  size_t max_flows = kDefaultMaxFlows;
  size_t max_flows_per_session = kDefaultMaxFlowsPerSession;
};

class ConnectUdpProxy {
 public:
  // The template must parse (a path-only one is fine); the error says why not.
  static quic::Result<std::unique_ptr<ConnectUdpProxy>> create(io::EndpointDriver& loop,
                                                               Resolver& resolver,
                                                               ConnectUdpConfig config);
  // Register as session.register_protocol("connect-udp", proxy.factory(session, conn)). The
  // session and connection must outlive their handlers (the session owns them).
  h3::HandlerFactory factory(h3::Session& session, quic::Connection& conn);
  const ConnectUdpStats& stats() const { return stats_; }
  const ConnectUdpConfig& config() const { return config_; }

 private:
  friend class ProxyFlow;
  ConnectUdpProxy(io::EndpointDriver& loop, Resolver& resolver, ConnectUdpConfig config,
                  h3::UriTemplate tmpl)
      : loop_(loop), resolver_(resolver), config_(std::move(config)), template_(std::move(tmpl)) {}
  // Queues a payload for a target socket; the batch goes out when full or at the loop's next
  // turn (a deferred flush), so datagrams of one receive burst share system calls.
  void send_to_target(int fd, quic::Bytes payload);
  void flush_targets();
  void sync_tx_stats();  // the batch's totals into stats_
  io::EndpointDriver& loop_;
  Resolver& resolver_;
  ConnectUdpConfig config_;
  h3::UriTemplate template_;
  ConnectUdpStats stats_;
  UdpSendBatch tx_;
  uint64_t tx_failed_seen_ = 0;  // tx_.totals().failed already in stats_.dropped_send_error
  bool flush_scheduled_ = false;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // the deferred flush checks it
  std::unique_ptr<UdpRecvBatch> rx_;  // one receive buffer shared by every flow, on first use
  std::vector<uint8_t> scratch_;      // one encoding buffer
};

struct ClientFlowStats {
  uint64_t sent = 0, received = 0;
  uint64_t dropped_pending = 0;          // over kMaxPendingPayloads / kMaxPendingBytes
  uint64_t dropped_unknown_context = 0;  // RFC 9298 §4
  uint64_t dropped_malformed = 0;
  uint64_t dropped_send = 0;             // SendOutcome other than datagram / capsule
};

// The client's handler of one CONNECT-UDP stream. Create it from the factory registered for
// "connect-udp" on the client session (send_request attaches it).
class ConnectUdpClient : public h3::StreamHandler {
 public:
  struct Callbacks {
    std::function<void(quic::Bytes)> on_payload;  // a UDP payload from the target
    std::function<void()> on_established;
    std::function<void(uint64_t code)> on_closed;
  };
  ConnectUdpClient(const h3::Session& session, quic::Connection& conn, Callbacks cb)
      : session_(session), conn_(conn), cb_(std::move(cb)) {}
  // Sends now when established, else holds it (bounded) until the 2xx.
  SendOutcome send(h3::Outbox& out, quic::Bytes payload);
  bool established() const { return established_; }
  const ClientFlowStats& stats() const { return stats_; }

  void on_established(h3::Outbox& out) override;
  void on_datagram(h3::Outbox& out, quic::Bytes payload) override;
  void on_closed(uint64_t code) override;

 private:
  const h3::Session& session_;
  quic::Connection& conn_;
  Callbacks cb_;
  bool established_ = false;
  std::vector<std::vector<uint8_t>> pending_;
  size_t pending_bytes_ = 0;
  std::vector<uint8_t> scratch_;
  ClientFlowStats stats_;
};

}  // namespace masque
