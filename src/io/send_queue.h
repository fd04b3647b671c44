// The driver's outgoing batch: transmits polled from the endpoint are written into one arena,
// grouped into sendmmsg messages and sent in order. A GSO run the core built
// (Transmit::segment_size) is one message as it is, split into single datagrams for a socket
// without GSO. Consecutive equal-size single datagrams to the same peer are still joined into
// one GSO message: the core builds runs only of full-size datagrams, so this is what batches
// equal-size datagrams below the MTU (DATAGRAM frames of a tunnel carrying a bulk flow, whose
// inner packets have one size) and several connections sharing one 4-tuple. For a bulk stream
// transfer it joins next to nothing (9 of 149,573 datagrams of a 200 MB upload: handshake). A transmit whose send time (Transmit::send_at, pacing) lies
// ahead is held until then, and so is everything queued after it, so datagrams never overtake.
#pragma once

#include <cstdint>
#include <vector>

#include "core/connection.h"
#include "io/udp_socket.h"

namespace io {

struct SendQueueStats {
  uint64_t messages = 0;  // sendmmsg messages handed to the kernel
  uint64_t blocked = 0;   // sends cut short by a full socket buffer
  uint64_t held = 0;      // transmits queued with a send time still ahead
  // Single-datagram transmits appended to the previous message as GSO segments.
  uint64_t merged = 0;
  // Datagrams dropped unsent because their socket was removed while they waited.
  uint64_t dropped_removed = 0;
};

class SendQueue {
 public:
  enum class State { kDrained, kBlocked, kHeld };

  SendQueue();

  // Room for the next transmit, or an empty span when the batch is full and must be sent first.
  quic::MutBytes slot();
  // Queues a transmit the endpoint just wrote into slot(), to go out through `socket`.
  void push(UdpSocket* socket, const quic::Transmit& t, quic::Instant now);
  // Sends queued messages in order until all went out (the arena is free again), a socket
  // would block (wait for EPOLLOUT), or the next message's send time lies ahead (held_until()).
  quic::Result<State> send(quic::Instant now);
  bool empty() const { return head_ == pending_.size(); }
  quic::Instant held_until() const;
  // Drops what is queued for `socket` (it is being removed); returns the datagrams dropped.
  uint64_t drop(const UdpSocket* socket);

  const SendQueueStats& stats() const { return stats_; }

 private:
  struct Pending {
    UdpSocket* socket;
    SendMessage msg;
    quic::Instant not_before;  // epoch: due at once
    bool closed;               // a shorter last segment (or a core-built run) ended the GSO run
  };
  bool extend_run(UdpSocket* socket, const quic::Transmit& t, quic::Instant not_before,
                  quic::Bytes data);
  void reset();

  std::vector<uint8_t> arena_;
  size_t used_ = 0;
  std::vector<Pending> pending_;
  size_t head_ = 0;
  std::vector<SendMessage> batch_;  // reused for every sendmmsg call
  SendQueueStats stats_;
};

// How many datagrams a transmit (or a received buffer) of `size` bytes in `segment` byte
// segments holds; segment 0 means one datagram.
size_t datagram_count(size_t size, size_t segment);

}  // namespace io
