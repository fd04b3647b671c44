// Batched UDP socket I/O for the MASQUE data paths (docs/performance-datagrams.md). Profiling
// the CONNECT-UDP bench showed one system call per tunnelled datagram on each edge socket (the
// proxy's send() to the target, the client's recvfrom() of the local socket) as the largest
// single cost; these move many datagrams per call.
//
// UdpSendBatch queues payloads for *connected* UDP sockets and sends them with sendmmsg(2);
// consecutive payloads for one socket with one size (the last may be shorter) go as a single
// UDP GSO message (UDP_SEGMENT, Linux >= 4.18), which the kernel segments back into the same
// datagrams. Memory is bounded (kSendBatchBytes, kSendBatchDatagrams): a full batch is sent
// before more is queued. UdpRecvBatch reads up to its slot count with one recvmmsg(2); on a
// socket with UDP_GRO (enable_udp_gro) a message may hold a run of datagrams from one source,
// which it splits back into those datagrams.
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
// Datagrams one received GRO message may be split into. GRO joins at most 64, but on loopback a
// local GSO sender's message arrives whole, and newer kernels let a sender use 128 segments;
// a message claiming more is treated as truncated (dropped and counted by the owner).
inline constexpr size_t kMaxGroSegments = 128;

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

// Turns on UDP_GRO (Linux >= 5.0) for `fd`: the kernel then hands over a run of same-sized
// datagrams of one source (a GSO sender's burst, or what the NIC's GRO joined) as one message
// of up to 64 datagrams, one copy and one recvmmsg slot instead of one each. False when the
// kernel refuses it (datagrams then arrive one per message, as before).
bool enable_udp_gro(int fd);

class UdpRecvBatch {
 public:
  struct Datagram {
    quic::Bytes data;  // at most the slot size
    bool truncated;    // the datagram (or GRO message) was larger than its slot
    const sockaddr_storage* from;  // valid until the next recv()
    socklen_t from_len;
  };
  // `slots` messages of up to `slot_bytes` each per call; the buffer is allocated here and
  // reused (pages the kernel never writes stay untouched). A slot must hold a GRO message
  // (kMaxGsoBytes) when the socket has UDP_GRO, or the message is reported truncated.
  UdpRecvBatch(size_t slots, size_t slot_bytes);
  // Reads up to min(max, slots) waiting messages and returns the number of datagrams they held
  // (a GRO message counts its datagrams; a truncated one is a single truncated entry), 0 when
  // none is waiting, or -1 with errno set (an error the socket reported, e.g. a queued ICMP
  // error).
  int recv(int fd, size_t max);
  const Datagram& operator[](size_t i) const { return got_[i]; }
  size_t slots() const { return slots_; }

 private:
  // Room for one UDP_GRO control message (an int: the segment size) per slot.
  struct alignas(cmsghdr) Control {
    uint8_t bytes[CMSG_SPACE(sizeof(int))];
  };
  size_t slots_, slot_bytes_;
  std::unique_ptr<uint8_t[]> buf_;
  std::vector<Datagram> got_;  // grows to the most datagrams one call returned, then reused
  std::vector<sockaddr_storage> from_;
  std::vector<Control> control_;
  std::vector<mmsghdr> msgs_;
  std::vector<iovec> iov_;
};

}  // namespace masque
