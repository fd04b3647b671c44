// The per-tunnel ingress queue: IP packets read from the TUN device wait here until the
// connection has room for another datagram (the DATAGRAM "room" signal drains it, so the
// tunnel queues instead of dropping at the QUIC layer). A sojourn-time limit keeps inner TCP's
// queue short: CoDel's control law (RFC 8289 §5) drops -- or, for ECN-capable packets, marks
// CE (RFC 3168) -- once packets have waited longer than `target` for at least `interval`,
// at intervals shrinking with the square root of the drop count. Bounded in bytes and packets
// (tail drop beyond). Sans-I/O: times are passed in.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "common/time.h"
#include "wire/varint.h"

namespace bond {

// Packets queued at once whatever their size (a flood of tiny packets stays bounded too).
inline constexpr size_t kIngressMaxPackets = 65536;
// Below this many queued bytes CoDel never drops: one packet is not a standing queue
// (RFC 8289 §4.2's maxpacket, for a 1500-byte inner MTU).
inline constexpr size_t kIngressMinQueueBytes = 1500;
// While there is no tunnel (before the first connection, during a reconnection) a packet that
// has waited this long is dropped from the head of the queue, and again at the moment the
// tunnel takes packets: a TCP sender has retransmitted it by then (RFC 6298 §2.4: the RTO is
// at least 1 s; Linux's floor is 200 ms), so the old copy would only arrive as a duplicate
// ahead of the fresh one, and a late interactive packet (a ping, a voice frame, a DNS query
// already retried) is worth even less. What is younger is kept: with the senders' RTO backoff,
// the last second holds each flow's newest retransmission, the one that gets it going again.
inline constexpr quic::Duration kIngressOutageMaxSojourn = std::chrono::seconds(1);

struct IngressLimits {
  quic::Duration target = std::chrono::milliseconds(5);
  quic::Duration interval = std::chrono::milliseconds(100);
  size_t max_bytes = 2 << 20;
};

struct IngressStats {
  uint64_t enqueued = 0;
  uint64_t dequeued = 0;
  uint64_t tail_drops = 0;   // refused: the byte or packet bound was reached
  uint64_t codel_drops = 0;  // sojourn above target, not ECN-capable
  uint64_t ce_marks = 0;     // sojourn above target, ECN-capable: marked instead
  uint64_t outage_drops = 0;  // waited longer than the outage bound while there was no tunnel
};

class IngressQueue {
 public:
  explicit IngressQueue(IngressLimits limits) : limits_(limits) {}
  void set_limits(IngressLimits limits) { limits_ = limits; }

  // Queues a copy of `packet`; false (counted as a tail drop) when the queue is full.
  bool enqueue(quic::Instant now, quic::Bytes packet);
  // The next packet to send, after CoDel's verdict on the head of the queue; nullopt when
  // empty. Call when the connection has room for a datagram.
  std::optional<std::vector<uint8_t>> dequeue(quic::Instant now);
  // Drops the packets that have waited longer than `max_sojourn` (counted as outage drops):
  // what the pump does while there is no tunnel to dequeue into. Returns how many.
  size_t expire(quic::Instant now, quic::Duration max_sojourn);
  // The pump's turn: whether the tunnel takes packets now. While it does not, and at the
  // turn it does again, what has waited longer than kIngressOutageMaxSojourn is dropped.
  void note_tunnel(quic::Instant now, bool tunnel_up);

  size_t bytes() const { return bytes_; }
  size_t packets() const { return queue_.size(); }
  bool dropping() const { return dropping_; }
  // How long the head packet has waited (zero when empty).
  quic::Duration head_sojourn(quic::Instant now) const;
  const IngressStats& stats() const { return stats_; }

 private:
  struct Entry {
    quic::Instant enqueued;
    std::vector<uint8_t> bytes;
  };
  std::optional<Entry> pop();
  bool should_drop(const Entry& e, quic::Instant now);
  // Drops `e`, or marks it CE and returns true when it is ECN-capable (then it is sent).
  bool drop_or_mark(Entry& e);
  quic::Instant control_law(quic::Instant t) const;

  IngressLimits limits_;
  bool tunnel_up_ = false;  // as of the last note_tunnel()
  std::deque<Entry> queue_;
  size_t bytes_ = 0;
  // CoDel state (RFC 8289 §5.1 names).
  bool dropping_ = false;
  quic::Instant first_above_time_{};
  bool first_above_set_ = false;
  quic::Instant drop_next_{};
  uint32_t count_ = 0, last_count_ = 0;
  IngressStats stats_;
};

}  // namespace bond
