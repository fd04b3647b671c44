// A non-blocking UDP socket with the kernel's batching and per-datagram metadata:
// recvmmsg/sendmmsg, UDP GSO (UDP_SEGMENT) and GRO (UDP_GRO) with runtime fallback, ECN through
// IP_TOS/IPV6_TCLASS control messages, IP_PKTINFO/IPV6_PKTINFO for the local address of each
// datagram (and as the source on send), and DF without kernel PMTU shrinking
// (IP_PMTUDISC_PROBE: the core runs its own DPLPMTUD, RFC 8899).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/address.h"
#include "common/error.h"
#include "wire/varint.h"

namespace io {

// Largest UDP payload over IPv4 (65535 - 20 - 8); a GRO buffer or a GSO message never exceeds it.
inline constexpr size_t kMaxUdpPayload = 65507;
// The kernel rejects more segments per GSO send (UDP_MAX_SEGMENTS in include/linux/udp.h).
inline constexpr size_t kMaxGsoSegments = 64;
// Messages per recvmmsg/sendmmsg call.
inline constexpr size_t kRecvBatch = 32;
inline constexpr size_t kSendBatch = 64;

// Longest interface name SO_BINDTODEVICE takes (IFNAMSIZ - 1 in include/uapi/linux/if.h).
inline constexpr size_t kMaxInterfaceName = 15;

struct SocketOptions {
  bool gso = true;             // use UDP_SEGMENT when the kernel accepts it
  bool gro = true;             // enable UDP_GRO when the kernel accepts it
  int buffer_bytes = 4 << 20;  // SO_RCVBUF / SO_SNDBUF request
  // SO_BINDTODEVICE: send and receive only through this interface (a WAN link's device), set
  // before bind. Empty: any interface.
  std::string bind_device;
  // SO_MARK: the fwmark every datagram carries, for policy routing (`ip rule fwmark`). Needs
  // CAP_NET_ADMIN (or CAP_NET_RAW); without it open() fails with EPERM.
  std::optional<uint32_t> mark;
};

// "what: <strerror> (ENAME)", the form of every system-call error io reports.
std::string errno_message(const std::string& what, int err);

// One buffer as received. With GRO it holds several datagrams of segment_size bytes each (the
// last may be shorter); without, segment_size == data.size().
struct RecvDatagram {
  quic::SocketAddress local, remote;
  uint8_t ecn = 0;
  quic::MutBytes data;
  size_t segment_size = 0;
};

// One message to send: a single datagram, or (segment_size > 0 and < data.size()) a GSO run of
// datagrams of segment_size bytes, the last one possibly shorter.
struct SendMessage {
  quic::SocketAddress local, remote;  // local with an unspecified IP: let the kernel choose
  uint8_t ecn = 0;
  quic::Bytes data;
  size_t segment_size = 0;
};

struct SocketStats {
  uint64_t recv_calls = 0, send_calls = 0;
  uint64_t datagrams_received = 0, datagrams_sent = 0;
  uint64_t gro_buffers = 0;    // received buffers that held more than one datagram
  uint64_t gso_messages = 0;   // sent messages carrying more than one datagram
  uint64_t gso_datagrams = 0;  // the datagrams those messages carried
  uint64_t send_errors = 0;    // messages dropped on a hard error (EMSGSIZE, unreachable ...)
  uint64_t truncated = 0;      // received datagrams dropped because they were truncated
  uint64_t gso_fallbacks = 0;  // times the kernel refused a GSO send and we split it
};

class UdpSocket {
 public:
  // Binds to `bind` (port 0: ephemeral). IPv6 sockets are IPv6-only. Fails when an explicit
  // option (bind_device, mark) cannot be applied; GSO, GRO and buffer sizes only warn.
  static quic::Result<std::unique_ptr<UdpSocket>> open(const quic::SocketAddress& bind,
                                                       const SocketOptions& options = {});
  ~UdpSocket();
  UdpSocket(const UdpSocket&) = delete;
  UdpSocket& operator=(const UdpSocket&) = delete;

  int fd() const { return fd_; }
  // The bound address (port resolved); the IP may be unspecified.
  const quic::SocketAddress& local_address() const { return local_; }
  bool gso_enabled() const { return gso_; }
  bool gro_enabled() const { return gro_; }
  // Why an option could not be applied as asked (buffer sizes capped, GSO/GRO refused).
  const std::vector<std::string>& warnings() const { return warnings_; }
  const SocketStats& stats() const { return stats_; }
  // Turns GSO off from now on (the caller then sends one datagram per message).
  void disable_gso() { gso_ = false; }

  // One recvmmsg call. `out` is replaced by what arrived (empty: nothing pending); the spans
  // point into buffers owned by the socket and stay valid until the next recv().
  quic::Status recv(std::vector<RecvDatagram>& out);

  // sendmmsg until everything is sent or the socket buffer is full. Returns how many of `msgs`
  // were consumed (sent, or dropped on a per-datagram error); fewer than msgs.size() means the
  // socket would block (wait for EPOLLOUT). A GSO message the kernel refuses turns GSO off and is
  // sent as separate datagrams.
  quic::Result<size_t> send(std::span<const SendMessage> msgs);

 private:
  UdpSocket() = default;
  quic::Status configure(const SocketOptions& options);
  size_t send_split(const SendMessage& m);  // one sendmmsg per segment batch; returns 1 or 0

  int fd_ = -1;
  quic::SocketAddress local_;
  bool gso_ = false, gro_ = false;
  std::vector<std::string> warnings_;
  SocketStats stats_;
  size_t recv_buffer_size_ = 2048;
  std::vector<uint8_t> recv_arena_;
};

}  // namespace io
