// Batched UDP socket I/O for the MASQUE data paths (docs/performance-datagrams.md). Profiling
// the CONNECT-UDP bench showed one system call per tunnelled datagram on each edge socket (the
// proxy's send() to the target, the client's recvfrom() of the local socket) as the largest
// single cost; these move many datagrams per call.
//
// UdpSendBatch queues payloads for *connected* UDP sockets and sends them with sendmmsg(2);
// consecutive payloads for one socket with one size (the last may be shorter) go as a single
// UDP GSO message (UDP_SEGMENT, Linux >= 4.18), which the kernel segments back into the same
// datagrams. Memory is bounded (kSendBatchBytes, kSendBatchDatagrams): a full batch is sent
// before more is queued. UdpRecvBatch reads up to its slot count with one recvmmsg(2).
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <vector>

#include "wire/varint.h"  // quic::Bytes

namespace masque {

// A batch is sent once it holds this many datagrams or bytes (or when its owner flushes).
inline constexpr size_t kSendBatchDatagrams = 64;
inline constexpr size_t kSendBatchBytes = 256 * 1024;
// One GSO message: the kernel's UDP_MAX_SEGMENTS, and the payload of one IPv4 datagram.
inline constexpr size_t kMaxGsoSegments = 64;
inline constexpr size_t kMaxGsoBytes = 65507;

class UdpSendBatch {
 public:
  // Monotonic counts of datagrams (GSO segments count one each) since construction.
  struct Totals {
    uint64_t sent = 0, sent_bytes = 0;
    uint64_t failed = 0;       // refused by the socket (full buffer, ICMP error, too large)
    uint64_t syscalls = 0;     // sendmmsg / send calls made
    uint64_t gso_messages = 0;  // messages carrying more than one segment
  };

  UdpSendBatch();
  // Queues a copy of `payload` for connected socket `fd`, sending the batch first when it is
  // full. A payload larger than kSendBatchBytes is refused and counted as failed.
  void add(int fd, quic::Bytes payload);
  // Sends every queued datagram (in order per socket); nothing is left queued afterwards.
  void flush();
  bool empty() const { return entries_.empty(); }
  size_t queued_bytes() const { return arena_used_; }
  const Totals& totals() const { return totals_; }
  // Off: one datagram per message (also switched off by itself when the kernel refuses GSO).
  void set_gso(bool on) { gso_ = on; }
  bool gso() const { return gso_; }

 private:
  struct Entry {
    int fd;
    size_t offset, size;
  };
  // Builds messages for entries_[first, end) (all one fd) and sends them.
  void send_run(size_t first, size_t end);
  // Entries from `first` that fit one GSO message; at least one.
  size_t gso_span(size_t first, size_t end) const;
  // One entry range sent without GSO, one send() each (the fallback).
  void send_each(size_t first, size_t end);

  std::unique_ptr<uint8_t[]> arena_;
  size_t arena_used_ = 0;
  std::vector<Entry> entries_;
  bool gso_ = true;
  size_t gso_limit_ = std::numeric_limits<size_t>::max();  // segment sizes from here up were refused (EINVAL)
  Totals totals_;
};

class UdpRecvBatch {
 public:
  struct Datagram {
    quic::Bytes data;  // at most the slot size
    bool truncated;    // the datagram was larger than its slot
    sockaddr_storage from;
    socklen_t from_len;
  };
  // `slots` datagrams of up to `slot_bytes` each per call; the buffer is allocated here and
  // reused (pages the kernel never writes stay untouched).
  UdpRecvBatch(size_t slots, size_t slot_bytes);
  // Reads up to min(max, slots) waiting datagrams: their count, 0 when none is waiting, or -1
  // with errno set (an error the socket reported, e.g. a queued ICMP error).
  int recv(int fd, size_t max);
  const Datagram& operator[](size_t i) const { return got_[i]; }
  size_t slots() const { return slots_; }

 private:
  size_t slots_, slot_bytes_;
  std::unique_ptr<uint8_t[]> buf_;
  std::vector<Datagram> got_;
  std::vector<mmsghdr> msgs_;
  std::vector<iovec> iov_;
};

}  // namespace masque
