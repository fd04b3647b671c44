// The tunnel's two directions as sans-I/O pipelines (docs/tquicd-datapath.md "Tunnel
// pipeline"), assembled from the components beside them:
//   TunnelSender:   TUN packet -> checks -> classifier -> interactive queue or CoDel bulk queue
//                   -> (when the connection has room) tunnel header + packet as one datagram
//   TunnelReceiver: datagram -> tunnel header -> checks -> per-path delay -> reorder buffer
//                   -> TUN packet
// Every packet that is not passed on is counted under one DropReason.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "tquicd/classifier.h"
#include "tquicd/config.h"
#include "tquicd/ingress_queue.h"
#include "tquicd/reorder.h"
#include "tquicd/reorder_delay.h"

namespace bond {

enum class DropReason : uint8_t {
  kMalformedIp,      // the inner packet's IP header does not parse (IpError)
  kMalformedTunnel,  // the tunnel header does not parse
  kSpoofedSource,    // inner source outside the addresses this peer may use
  kTooBig,           // larger than the tunnel MTU (the caller answers with ICMP "too big")
  kQueueFull,        // ingress queue at its bound
  kCodel,            // dropped by the ingress queue's sojourn limit
  kDuplicate,        // reorder buffer: sequence number seen before
  kTooOld,           // reorder buffer: behind its window
  kCount
};
const char* to_string(DropReason r);
using DropCounters = std::array<uint64_t, static_cast<size_t>(DropReason::kCount)>;

// True when `ip` (IPv4 in the first 4 bytes) lies inside `p`.
bool prefix_contains(const IpPrefix& p, const std::array<uint8_t, 16>& ip, bool v6);

// Interactive packets wait in their own small queue and go first.
inline constexpr size_t kInteractiveQueueBytes = 256 << 10;

struct SenderSettings {
  IngressLimits ingress;
  FlowPolicy flows;
  uint32_t mtu = 1400;                  // tunnel MTU: larger inner packets are refused
  std::vector<IpPrefix> allowed_sources;  // empty: any
};

struct OutgoingDatagram {
  size_t size = 0;  // bytes written: tunnel header + IP packet
  FlowClass flow_class = FlowClass::kBulk;
};

class TunnelSender {
 public:
  TunnelSender(const SenderSettings& s, uint64_t hash_seed);

  // A packet read from the TUN device. Returns the reason when it is not queued.
  std::optional<DropReason> on_tun_packet(quic::Instant now, quic::Bytes packet);
  // When the connection has room for one datagram: writes the next packet with its tunnel
  // header into `out` (interactive first), `out` being as large as the chosen path's largest
  // datagram payload. nullopt when nothing waits or the next packet does not fit `out`; that
  // packet then waits for a larger room (another path) for up to the ingress interval and is
  // dropped as kTooBig after it (the tunnel MTU should keep this rare).
  std::optional<OutgoingDatagram> next_datagram(quic::Instant now, quic::MutBytes out);

  size_t queued_bytes() const { return interactive_.bytes() + bulk_.bytes(); }
  const DropCounters& drops() const;
  const FlowClassifier& classifier() const { return classifier_; }

 private:
  SenderSettings settings_;
  FlowClassifier classifier_;
  IngressQueue interactive_, bulk_;
  struct Pending {
    std::vector<uint8_t> bytes;
    FlowClass flow_class;
    quic::Instant since;
  };
  std::optional<Pending> pending_;  // dequeued, waiting for a room it fits
  uint32_t next_seq_ = 0;
  mutable DropCounters drops_{};
};

struct ReceiverSettings {
  ReorderLimits reorder;
  FlowPolicy flows;                       // only udp_unordered is used (the order flag)
  std::vector<IpPrefix> allowed_sources;  // empty: any
};

class TunnelReceiver {
 public:
  explicit TunnelReceiver(const ReceiverSettings& s);

  // The number of paths now carrying traffic: the hold time follows the paths' delays once
  // that many have been measured.
  void set_active_paths(size_t n) { active_paths_ = n; }
  // A tunnel datagram's payload (after the context ID) from `path`. Returns a view of the IP
  // packet when it is to be written to the TUN device now; afterwards drain pop_ready().
  std::optional<quic::Bytes> on_datagram(quic::Instant now, size_t path, quic::Bytes payload);
  void on_timeout(quic::Instant now) { reorder_.on_timeout(now); }
  quic::Instant next_timeout() const { return reorder_.next_timeout(); }
  std::optional<std::vector<uint8_t>> pop_ready() { return reorder_.pop_ready(); }

  const ReorderBuffer& reorder() const { return reorder_; }
  const DropCounters& drops() const { return drops_; }

 private:
  void update_hold(quic::Instant now);

  ReceiverSettings settings_;
  ReorderBuffer reorder_;
  ReorderDelayTracker delays_;
  size_t active_paths_ = 1;
  uint64_t samples_ = 0;
  DropCounters drops_{};
};

}  // namespace bond
