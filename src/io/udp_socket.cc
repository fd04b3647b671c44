#include "io/udp_socket.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "io/sockaddr.h"

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif

namespace io {

namespace {

constexpr size_t kCmsgSpace = 128;  // pktinfo (v6: 20) + tos/tclass + segment size, aligned

std::string errno_text(const std::string& what) {
  return errno_message(what, errno);
}

bool set_int(int fd, int level, int name, int value) {
  return setsockopt(fd, level, name, &value, sizeof(value)) == 0;
}

// Asks for `bytes` of socket buffer; records a warning when the kernel grants less
// (net.core.rmem_max / wmem_max). SO_*BUFFORCE works for root and is tried first.
void size_buffer(int fd, int name, int force_name, int bytes, const char* label,
                 std::vector<std::string>& warnings) {
  if (!set_int(fd, SOL_SOCKET, force_name, bytes)) (void)set_int(fd, SOL_SOCKET, name, bytes);
  int got = 0;
  socklen_t len = sizeof(got);
  getsockopt(fd, SOL_SOCKET, name, &got, &len);
  // Linux reports twice the usable size (bookkeeping overhead is included).
  if (got / 2 < bytes) {
    warnings.push_back(std::string(label) + " capped by the kernel at " + std::to_string(got / 2) +
                       " bytes (asked " + std::to_string(bytes) + "); raise net.core." +
                       (name == SO_RCVBUF ? "rmem_max" : "wmem_max"));
  }
}

// Fills the control messages of one outgoing datagram; returns the control length.
size_t build_send_cmsgs(const SendMessage& m, bool with_gso, uint8_t* buf, msghdr& h) {
  std::memset(buf, 0, kCmsgSpace);
  h.msg_control = buf;
  h.msg_controllen = kCmsgSpace;
  // Headers are laid out by hand: CMSG_NXTHDR refuses to step past the last header written.
  size_t used = 0;
  cmsghdr* c = reinterpret_cast<cmsghdr*>(buf);
  if (!is_unspecified(m.local)) {
    if (m.local.v6) {
      c->cmsg_level = IPPROTO_IPV6;
      c->cmsg_type = IPV6_PKTINFO;
      c->cmsg_len = CMSG_LEN(sizeof(in6_pktinfo));
      in6_pktinfo pi{};
      std::memcpy(&pi.ipi6_addr, m.local.ip.data(), 16);
      std::memcpy(CMSG_DATA(c), &pi, sizeof(pi));
      used += CMSG_SPACE(sizeof(in6_pktinfo));
    } else {
      c->cmsg_level = IPPROTO_IP;
      c->cmsg_type = IP_PKTINFO;
      c->cmsg_len = CMSG_LEN(sizeof(in_pktinfo));
      in_pktinfo pi{};
      std::memcpy(&pi.ipi_spec_dst, m.local.ip.data(), 4);
      std::memcpy(CMSG_DATA(c), &pi, sizeof(pi));
      used += CMSG_SPACE(sizeof(in_pktinfo));
    }
    c = reinterpret_cast<cmsghdr*>(buf + used);
  }
  if (m.ecn != 0) {
    int tos = m.ecn & 0x03;  // the ECN field: the two low bits of TOS / Traffic Class
    c->cmsg_level = m.remote.v6 ? IPPROTO_IPV6 : IPPROTO_IP;
    c->cmsg_type = m.remote.v6 ? IPV6_TCLASS : IP_TOS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &tos, sizeof(tos));
    used += CMSG_SPACE(sizeof(int));
    c = reinterpret_cast<cmsghdr*>(buf + used);
  }
  if (with_gso) {
    uint16_t seg = static_cast<uint16_t>(m.segment_size);
    c->cmsg_level = SOL_UDP;
    c->cmsg_type = UDP_SEGMENT;
    c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
    std::memcpy(CMSG_DATA(c), &seg, sizeof(seg));
    used += CMSG_SPACE(sizeof(uint16_t));
  }
  h.msg_controllen = used;
  if (used == 0) h.msg_control = nullptr;
  return used;
}

bool is_gso(const SendMessage& m) {
  return m.segment_size > 0 && m.segment_size < m.data.size();
}

// The options that change where datagrams go; asked for explicitly, so failing them is an error.
quic::Status apply_routing_options(int fd, const SocketOptions& o) {
  if (!o.bind_device.empty()) {
    const std::string what = "SO_BINDTODEVICE \"" + o.bind_device + "\"";
    if (o.bind_device.size() > kMaxInterfaceName || o.bind_device.find('\0') != std::string::npos) {
      return quic::fail(0, what + ": not an interface name (at most " +
                               std::to_string(kMaxInterfaceName) + " bytes, no NUL)");
    }
    if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, o.bind_device.c_str(),
                   static_cast<socklen_t>(o.bind_device.size() + 1)) != 0) {
      return quic::fail(0, errno_text(what));
    }
  }
  if (o.mark) {
    int err = set_int(fd, SOL_SOCKET, SO_MARK, static_cast<int>(*o.mark)) ? 0 : errno;
    if (err != 0) {
      std::string what = "SO_MARK " + std::to_string(*o.mark);
      if (err == EPERM) what += " (needs CAP_NET_ADMIN)";
      return quic::fail(0, errno_message(what, err));
    }
  }
  return {};
}

}  // namespace

std::string errno_message(const std::string& what, int err) {
  const char* name = strerrorname_np(err);
  return what + ": " + std::strerror(err) + " (" +
         (name != nullptr ? std::string(name) : "errno " + std::to_string(err)) + ")";
}

quic::Result<std::unique_ptr<UdpSocket>> UdpSocket::open(const quic::SocketAddress& bind_addr,
                                                         const SocketOptions& options) {
  std::unique_ptr<UdpSocket> s(new UdpSocket());
  s->fd_ = socket(bind_addr.v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s->fd_ < 0) return quic::fail(0, errno_text("socket"));
  if (bind_addr.v6 && !set_int(s->fd_, IPPROTO_IPV6, IPV6_V6ONLY, 1)) {
    return quic::fail(0, errno_text("IPV6_V6ONLY"));
  }
  if (auto st = s->configure(options); !st) return std::unexpected(st.error());
  if (auto st = apply_routing_options(s->fd_, options); !st) return std::unexpected(st.error());
  sockaddr_storage ss;
  socklen_t len = to_sockaddr(bind_addr, ss);
  if (bind(s->fd_, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    return quic::fail(0, errno_text("bind " + bind_addr.to_string()));
  }
  sockaddr_storage bound{};
  socklen_t blen = sizeof(bound);
  if (getsockname(s->fd_, reinterpret_cast<sockaddr*>(&bound), &blen) != 0) {
    return quic::fail(0, errno_text("getsockname"));
  }
  auto local = from_sockaddr(reinterpret_cast<sockaddr*>(&bound), blen);
  if (!local) return quic::fail(0, "getsockname: unexpected family");
  s->local_ = *local;
  return s;
}

UdpSocket::~UdpSocket() {
  if (fd_ >= 0) close(fd_);
}

quic::Status UdpSocket::configure(const SocketOptions& o) {
  bool v6 = false;
  {
    sockaddr_storage ss{};
    socklen_t len = sizeof(ss);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&ss), &len);
    v6 = ss.ss_family == AF_INET6;
  }
  size_buffer(fd_, SO_RCVBUF, SO_RCVBUFFORCE, o.buffer_bytes, "SO_RCVBUF", warnings_);
  size_buffer(fd_, SO_SNDBUF, SO_SNDBUFFORCE, o.buffer_bytes, "SO_SNDBUF", warnings_);
  // Metadata every datagram needs: our address (servers bound to a wildcard) and the ECN bits.
  bool ok = v6 ? set_int(fd_, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1) &&
                     set_int(fd_, IPPROTO_IPV6, IPV6_RECVTCLASS, 1)
               : set_int(fd_, IPPROTO_IP, IP_PKTINFO, 1) && set_int(fd_, IPPROTO_IP, IP_RECVTOS, 1);
  if (!ok) return quic::fail(0, errno_text("pktinfo/tos options"));
  // DF on, and the kernel neither fragments nor lowers its cached PMTU: DPLPMTUD is ours.
  ok = v6 ? set_int(fd_, IPPROTO_IPV6, IPV6_MTU_DISCOVER, IPV6_PMTUDISC_PROBE)
          : set_int(fd_, IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_PROBE);
  if (!ok) warnings_.push_back(errno_text("IP_MTU_DISCOVER"));
  // GSO support is probed by setting a socket-wide segment size of 0 (no default segmentation);
  // kernels without UDP_SEGMENT reject the option.
  if (o.gso) {
    gso_ = set_int(fd_, SOL_UDP, UDP_SEGMENT, 0);
    if (!gso_) warnings_.push_back(errno_text("UDP_SEGMENT (GSO off)"));
  }
  if (o.gro) {
    gro_ = set_int(fd_, SOL_UDP, UDP_GRO, 1);
    if (!gro_) warnings_.push_back(errno_text("UDP_GRO (GRO off)"));
  }
  recv_buffer_size_ = gro_ ? kMaxUdpPayload + 1 : 2048;
  recv_arena_.assign(recv_buffer_size_ * kRecvBatch, 0);
  return {};
}

quic::Status UdpSocket::recv(std::vector<RecvDatagram>& out) {
  out.clear();
  std::array<mmsghdr, kRecvBatch> msgs{};
  std::array<iovec, kRecvBatch> iov{};
  std::array<sockaddr_storage, kRecvBatch> names;
  alignas(cmsghdr) std::array<std::array<uint8_t, kCmsgSpace>, kRecvBatch> ctrl;
  for (size_t i = 0; i < kRecvBatch; ++i) {
    iov[i] = {recv_arena_.data() + i * recv_buffer_size_, recv_buffer_size_};
    msghdr& h = msgs[i].msg_hdr;
    h.msg_name = &names[i];
    h.msg_namelen = sizeof(sockaddr_storage);
    h.msg_iov = &iov[i];
    h.msg_iovlen = 1;
    h.msg_control = ctrl[i].data();
    h.msg_controllen = kCmsgSpace;
  }
  int n;
  do {
    n = recvmmsg(fd_, msgs.data(), kRecvBatch, MSG_DONTWAIT, nullptr);
  } while (n < 0 && errno == EINTR);
  ++stats_.recv_calls;
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return {};
    // ICMP errors queued on the socket surface here; they concern one earlier datagram.
    if (errno == ECONNREFUSED || errno == EHOSTUNREACH || errno == ENETUNREACH) return {};
    return quic::fail(0, errno_text("recvmmsg on " + local_.to_string()));
  }
  for (int i = 0; i < n; ++i) {
    msghdr& h = msgs[i].msg_hdr;
    if (h.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
      ++stats_.truncated;
      continue;
    }
    auto remote = from_sockaddr(reinterpret_cast<sockaddr*>(&names[i]), h.msg_namelen);
    if (!remote) continue;
    RecvDatagram d;
    d.remote = *remote;
    d.local = local_;
    d.data = quic::MutBytes(recv_arena_.data() + i * recv_buffer_size_, msgs[i].msg_len);
    d.segment_size = msgs[i].msg_len;
    for (cmsghdr* c = CMSG_FIRSTHDR(&h); c != nullptr; c = CMSG_NXTHDR(&h, c)) {
      if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
        in_pktinfo pi;
        std::memcpy(&pi, CMSG_DATA(c), sizeof(pi));
        std::memcpy(d.local.ip.data(), &pi.ipi_addr, 4);
      } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
        in6_pktinfo pi;
        std::memcpy(&pi, CMSG_DATA(c), sizeof(pi));
        std::memcpy(d.local.ip.data(), &pi.ipi6_addr, 16);
      } else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TOS) {
        d.ecn = *CMSG_DATA(c) & 0x03;
      } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_TCLASS) {
        int tc = 0;
        std::memcpy(&tc, CMSG_DATA(c), sizeof(tc));
        d.ecn = static_cast<uint8_t>(tc & 0x03);
      } else if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
        int seg = 0;
        std::memcpy(&seg, CMSG_DATA(c), sizeof(seg));
        if (seg > 0) d.segment_size = static_cast<size_t>(seg);
      }
    }
    if (d.segment_size == 0) d.segment_size = d.data.size();
    size_t count = d.data.empty() ? 1 : (d.data.size() + d.segment_size - 1) / d.segment_size;
    stats_.datagrams_received += count;
    if (count > 1) ++stats_.gro_buffers;
    out.push_back(d);
  }
  return {};
}

size_t UdpSocket::send_split(const SendMessage& m) {
  std::vector<SendMessage> parts;
  parts.reserve(m.data.size() / m.segment_size + 1);
  for (size_t off = 0; off < m.data.size(); off += m.segment_size) {
    SendMessage p = m;
    p.segment_size = 0;
    p.data = m.data.subspan(off, std::min(m.segment_size, m.data.size() - off));
    parts.push_back(p);
  }
  auto r = send(parts);
  // A partially sent split cannot be resumed as a GSO message; what is left is dropped and
  // recovered by QUIC loss detection, which is rare (only on the first refused GSO send).
  return r ? 1 : 0;
}

quic::Result<size_t> UdpSocket::send(std::span<const SendMessage> msgs) {
  size_t done = 0;
  while (done < msgs.size()) {
    size_t batch = std::min(kSendBatch, msgs.size() - done);
    std::array<mmsghdr, kSendBatch> hdrs{};
    std::array<iovec, kSendBatch> iov{};
    std::array<sockaddr_storage, kSendBatch> names;
    alignas(cmsghdr) std::array<std::array<uint8_t, kCmsgSpace>, kSendBatch> ctrl;
    for (size_t i = 0; i < batch; ++i) {
      const SendMessage& m = msgs[done + i];
      if (is_gso(m) && !gso_) {  // GSO went off since the caller built this batch
        batch = i;
        break;
      }
      iov[i] = {const_cast<uint8_t*>(m.data.data()), m.data.size()};
      msghdr& h = hdrs[i].msg_hdr;
      h.msg_name = &names[i];
      h.msg_namelen = to_sockaddr(m.remote, names[i]);
      h.msg_iov = &iov[i];
      h.msg_iovlen = 1;
      build_send_cmsgs(m, is_gso(m), ctrl[i].data(), h);
    }
    if (batch == 0) {  // the head is a GSO message and GSO is off
      done += send_split(msgs[done]);
      continue;
    }
    int n = sendmmsg(fd_, hdrs.data(), static_cast<unsigned>(batch), 0);
    ++stats_.send_calls;
    if (n > 0) {
      for (int i = 0; i < n; ++i) {
        const SendMessage& m = msgs[done + i];
        if (is_gso(m)) {
          const size_t count = (m.data.size() + m.segment_size - 1) / m.segment_size;
          ++stats_.gso_messages;
          stats_.gso_datagrams += count;
          stats_.datagrams_sent += count;
        } else {
          ++stats_.datagrams_sent;
        }
      }
      done += static_cast<size_t>(n);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) return done;
    const SendMessage& head = msgs[done];
    if (is_gso(head) && (errno == EIO || errno == EINVAL || errno == EOPNOTSUPP)) {
      // EIO: the device cannot checksum-offload segments; EINVAL: segment count or size refused.
      gso_ = false;
      ++stats_.gso_fallbacks;
      warnings_.push_back(errno_text("GSO send refused, GSO off"));
      done += send_split(head);
      continue;
    }
    // A per-datagram error (EMSGSIZE for an oversized PMTU probe, unreachable destination):
    // drop it; QUIC treats it as a lost packet.
    ++stats_.send_errors;
    ++done;
  }
  return done;
}

}  // namespace io
