// CONNECT-IP (RFC 9484) over HTTP/3: what the client and server tunnel handlers share.
//
// A tunnel is an h3::StreamHandler on one extended CONNECT stream (":protocol connect-ip"). It
// moves IP packets between HTTP datagrams (context 0, §6) and a PacketSink (the TUN device in
// the tools, a vector in tests), checks every packet before forwarding it (ip_packet.h), and
// answers packets it cannot forward with ICMP (§8.3, icmp.h). The address and route capsules
// (connect_ip_capsules.h) are the subclasses' business (connect_ip_client.h,
// connect_ip_server.h).
//
// Errors: a capsule that breaks a §4.7 rule makes the tunnel stop (it handles nothing more)
// and report abort_code(); the handler cannot reset its own stream from inside a session call
// (extension.h: handlers only queue), so its TunnelSet's reap() (called by the owner after
// each Session::poll()) cancels the stream with that code.
//
// Extra context IDs (§5 leaves registration to extensions): a client may offer
// `tquic-context: seq=N` (N even and non-zero: client-allocated, §5) in its request; a server
// that understands it answers the same field in its 2xx. Only then do both sides send and
// accept context N, whose payload is Sequence Number (i), Send Time in microseconds (i), IP
// packet: the bonding tunnel's reorder buffer needs both. A standard peer ignores the unknown
// field and never answers it, so the tunnel stays plain context 0; a datagram with any context
// not agreed is dropped and counted (§6 "SHALL ... drop").
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/time.h"
#include "h3/extension.h"
#include "masque/connect_ip_capsules.h"
#include "masque/icmp.h"
#include "masque/proxy_handler.h"

namespace masque {

inline constexpr std::string_view kConnectIpProtocol = "connect-ip";
inline constexpr std::string_view kDefaultIpTemplate =
    "https://localhost/.well-known/masque/ip/{target}/{ipproto}/";
inline constexpr std::string_view kContextHeader = "tquic-context";

// Where a tunnel puts the packets its peer sent, already checked.
struct PacketMeta {
  uint64_t context_id = 0;
  std::optional<uint64_t> sequence;  // the seq context's fields, when it carried the packet
  std::optional<uint64_t> send_time_us;
  // Which tunnel (and so which sequence space) carried it: unique within its TunnelSet for the
  // set's lifetime, so a receiver keeps one reorder buffer per tunnel. 0 for ICMP we made.
  uint64_t tunnel = 0;
};
class PacketSink {
 public:
  virtual ~PacketSink() = default;
  virtual void deliver(Bytes packet, const PacketMeta& meta) = 0;
};

struct ConnectIpStats {
  uint64_t packets_in = 0, bytes_in = 0;         // from the peer, delivered to the sink
  uint64_t packets_out = 0, bytes_out = 0;       // sent to the peer
  uint64_t sequenced_in = 0, sequenced_out = 0;  // of those, on the negotiated seq context
  uint64_t dropped_malformed = 0;                // not a valid IP packet (either direction)
  uint64_t dropped_spoofed = 0;                  // server: source not assigned to this client
  uint64_t dropped_no_route = 0;                 // destination outside the advertised routes
  uint64_t dropped_not_ours = 0;                 // client: destination not an assigned address
  uint64_t dropped_unknown_context = 0;          // a context ID not agreed (§6)
  uint64_t dropped_too_big = 0;                  // above the tunnel MTU (answered with ICMP)
  uint64_t dropped_send_failed = 0;              // the transport refused the datagram
  uint64_t dropped_not_ready = 0;                // no address / tunnel not established yet
  uint64_t icmp_sent = 0;                        // ICMP errors generated
  void add(const ConnectIpStats& o);
};

// The request scope of §4.6: "target" and "ipproto" from the URI template.
struct IpScope {
  std::optional<IpPrefix> target;   // nullopt: "*"
  std::optional<uint8_t> protocol;  // nullopt: "*"
};
// nullopt: a malformed value (§4.6: the request is malformed). DNS names are not supported
// and are refused too, so a proxy answers them with an error rather than guessing.
std::optional<IpScope> parse_scope(std::string_view target, std::string_view ipproto);

// The `tquic-context` field: "seq=N" with N even, non-zero, at most 2^62 - 1.
std::optional<uint64_t> parse_context_offer(std::string_view value);
std::string context_offer(uint64_t context_id);
// The offer in a field list, when exactly one well-formed one is present.
std::optional<uint64_t> find_context_offer(std::span<const h3::Field> fields);

struct TunnelConfig {
  // Largest IP packet the tunnel carries; tools set it from the connection's
  // max_datagram_payload() less the datagram's own header (set_mtu()).
  size_t mtu = 1280;
  // The seq context, once both sides agreed (client: from the response; server: the offer
  // it accepted). Sent for every packet when set; context 0 is still accepted.
  std::optional<uint64_t> sequence_context;
};

class ConnectIpTunnel;

// The live tunnels of an owner (a client, or a proxy across its sessions). Tunnels join at
// construction and leave in their destructor, so the set must be made before, and outlive,
// every Session whose tunnels join it.
class TunnelSet {
 public:
  const std::vector<ConnectIpTunnel*>& entries() const { return entries_; }
  // Cancels the streams of tunnels that met a protocol violation (see the file comment).
  // Returns how many.
  size_t reap();
  // Stats of the live tunnels plus those of every tunnel that has ended.
  ConnectIpStats total() const;

 private:
  friend class ConnectIpTunnel;
  std::vector<ConnectIpTunnel*> entries_;
  ConnectIpStats ended_;
  uint64_t next_serial_ = 1;
};

// A ProxyHandler so that a MASQUE proxy application asks the server tunnel for its response
// (masque/proxy_handler.h); the client tunnel is never asked.
class ConnectIpTunnel : public ProxyHandler {
 public:
  ConnectIpTunnel(TunnelSet& set, h3::Session& session, uint64_t stream_id, PacketSink& sink,
                  TunnelConfig config);
  ~ConnectIpTunnel() override;
  ConnectIpTunnel(const ConnectIpTunnel&) = delete;
  ConnectIpTunnel& operator=(const ConnectIpTunnel&) = delete;

  // A packet from the local side (TUN) to the peer. Checked, size-checked (too big: an ICMP
  // error goes back into the sink), then sent as one HTTP datagram. `now` stamps the seq
  // context.
  void send_packet(h3::Outbox& out, Bytes packet, quic::Instant now,
                   quic::DatagramPriority priority = quic::DatagramPriority::kNormal);

  uint64_t stream_id() const { return stream_id_; }
  // The session the tunnel's stream is on (for its owner's use outside handler calls).
  h3::Session& session() const { return session_; }
  bool established() const { return established_; }
  const ConnectIpStats& stats() const { return stats_; }
  std::optional<uint64_t> abort_code() const { return abort_code_; }
  std::optional<CapsuleError> abort_reason() const { return abort_reason_; }
  void set_mtu(size_t mtu) { config_.mtu = mtu; }
  // Sets the MTU from the transport's largest DATAGRAM payload, less what this tunnel's
  // datagrams put before the packet (quarter stream ID, context ID, and on the seq context
  // two varints of up to 8 bytes each).
  void set_max_datagram_payload(size_t payload);
  size_t mtu() const { return config_.mtu; }
  std::optional<uint64_t> sequence_context() const { return config_.sequence_context; }
  // Client: what the 2xx agreed to (agreed_context()); the server sets it at creation.
  void set_sequence_context(std::optional<uint64_t> id) { config_.sequence_context = id; }

  // ProxyHandler: the client side is never asked; ServerTunnel answers.
  std::optional<ConnectResponse> on_request(Respond) override { return std::nullopt; }
  // h3::StreamHandler
  void on_established(h3::Outbox& out) override;
  void on_capsule(h3::Outbox& out, uint64_t type, Bytes value) override;
  void on_datagram(h3::Outbox& out, Bytes payload) override;

 protected:
  // Subclass hooks: the capsule (already typed), and the checks a packet from the peer or
  // from the local side must pass. A false check has counted its own drop.
  virtual void established(h3::Outbox& out) = 0;
  virtual std::expected<void, CapsuleError> capsule(h3::Outbox& out, uint64_t type,
                                                    Bytes value) = 0;
  virtual bool accept_from_peer(const IpPacketInfo& info) = 0;
  virtual bool accept_from_local(Bytes packet, const IpPacketInfo& info,
                                 quic::DatagramPriority priority) = 0;
  // The address ICMP errors about local packets come from (same version as the packet).
  virtual std::optional<IpAddress> icmp_source(uint8_t version) const = 0;

  // A capsule broke a rule: the owner should reap() soon (from outside the session).
  virtual void aborted() {}
  // An ICMP error about `packet` back into the sink (never about an ICMP error).
  void answer_icmp(IcmpKind kind, Bytes packet, const IpPacketInfo& info);
  ConnectIpStats stats_;
  PacketSink& sink_;

 private:
  void deliver(Bytes packet, const PacketMeta& meta);
  void abort(CapsuleError e);

  TunnelSet& set_;
  h3::Session& session_;
  uint64_t stream_id_;
  TunnelConfig config_;
  bool established_ = false;
  std::optional<uint64_t> abort_code_;
  std::optional<CapsuleError> abort_reason_;
  uint64_t next_sequence_ = 0;
  uint64_t serial_;  // PacketMeta::tunnel
  std::vector<uint8_t> icmp_buf_;
};

}  // namespace masque
