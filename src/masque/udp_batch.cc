#include "masque/udp_batch.h"

#include <netinet/in.h>
#include <netinet/udp.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif

namespace masque {

namespace {

// Kernels before 4.18 ignore a SOL_UDP control message instead of refusing it, which would send
// a GSO message as one large datagram: GSO is used only where the socket option exists.
bool kernel_has_udp_gso() {
  static const bool has = [] {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    int zero = 0;
    bool ok = setsockopt(fd, SOL_UDP, UDP_SEGMENT, &zero, sizeof(zero)) == 0;
    close(fd);
    return ok;
  }();
  return has;
}

constexpr size_t kCmsgSpace = CMSG_SPACE(sizeof(uint16_t));

}  // namespace

UdpSendBatch::UdpSendBatch()
    : arena_(std::make_unique_for_overwrite<uint8_t[]>(kSendBatchBytes)),
      gso_(kernel_has_udp_gso()) {
  entries_.reserve(kSendBatchDatagrams);
}

void UdpSendBatch::add(int fd, quic::Bytes payload) {
  if (payload.size() > kSendBatchBytes) {
    ++totals_.failed;
    return;
  }
  if (entries_.size() == kSendBatchDatagrams || arena_used_ + payload.size() > kSendBatchBytes) {
    flush();
  }
  // An empty datagram is a datagram too; its span may have no storage (memcpy from null is UB).
  if (!payload.empty()) std::memcpy(arena_.get() + arena_used_, payload.data(), payload.size());
  entries_.push_back({fd, arena_used_, payload.size()});
  arena_used_ += payload.size();
}

void UdpSendBatch::flush() {
  // Runs of one socket keep their order; different sockets are independent flows.
  for (size_t first = 0; first < entries_.size();) {
    size_t end = first + 1;
    while (end < entries_.size() && entries_[end].fd == entries_[first].fd) ++end;
    send_run(first, end);
    first = end;
  }
  entries_.clear();
  arena_used_ = 0;
}

size_t UdpSendBatch::gso_span(size_t first, size_t end) const {
  size_t seg = entries_[first].size;
  if (!gso_ || seg == 0 || seg >= gso_limit_) return 1;
  size_t n = 1, bytes = seg;
  // Equal sizes, contiguous in the arena by construction; one shorter datagram may end it.
  while (first + n < end && n < kMaxGsoSegments) {
    size_t next = entries_[first + n].size;
    if (next > seg || next == 0 || bytes + next > kMaxGsoBytes) break;
    bytes += next;
    ++n;
    if (next < seg) break;
  }
  return n;
}

void UdpSendBatch::send_each(size_t first, size_t end) {
  for (size_t i = first; i < end; ++i) {
    const Entry& e = entries_[i];
    ++totals_.syscalls;
    if (send(e.fd, arena_.get() + e.offset, e.size, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
      ++totals_.failed;
    } else {
      ++totals_.sent;
      totals_.sent_bytes += e.size;
    }
  }
}

void UdpSendBatch::send_run(size_t first, size_t end) {
  // Message m covers entries [starts[m], starts[m + 1]).
  mmsghdr msgs[kSendBatchDatagrams];
  iovec iov[kSendBatchDatagrams];
  alignas(cmsghdr) uint8_t control[kSendBatchDatagrams][kCmsgSpace];
  size_t starts[kSendBatchDatagrams + 1];
  size_t count = 0;
  for (size_t i = first; i < end; ++count) {
    size_t n = gso_span(i, end);
    size_t bytes = entries_[i + n - 1].offset + entries_[i + n - 1].size - entries_[i].offset;
    iov[count] = {arena_.get() + entries_[i].offset, bytes};
    msgs[count] = {};
    msgs[count].msg_hdr.msg_iov = &iov[count];
    msgs[count].msg_hdr.msg_iovlen = 1;
    if (n > 1) {
      msgs[count].msg_hdr.msg_control = control[count];
      msgs[count].msg_hdr.msg_controllen = kCmsgSpace;
      cmsghdr* c = CMSG_FIRSTHDR(&msgs[count].msg_hdr);
      c->cmsg_level = SOL_UDP;
      c->cmsg_type = UDP_SEGMENT;
      c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
      auto seg = static_cast<uint16_t>(entries_[i].size);
      std::memcpy(CMSG_DATA(c), &seg, sizeof(seg));
    }
    starts[count] = i;
    i += n;
  }
  starts[count] = end;
  int fd = entries_[first].fd;
  for (size_t m = 0; m < count;) {
    ++totals_.syscalls;
    int r = sendmmsg(fd, msgs + m, static_cast<unsigned>(count - m), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (r > 0) {
      for (size_t k = m; k < m + static_cast<size_t>(r); ++k) {
        size_t segs = starts[k + 1] - starts[k];
        totals_.sent += segs;
        totals_.sent_bytes += iov[k].iov_len;
        if (segs > 1) ++totals_.gso_messages;
      }
      m += static_cast<size_t>(r);
      continue;
    }
    // Message m was refused. A GSO refusal (segment above the route's MTU: EINVAL; no checksum
    // offload on the device: EIO) is retried datagram by datagram, and GSO is not tried again
    // at that size (EINVAL) or at all (EIO); any other error drops it, as UDP would.
    int err = errno;
    size_t segs = starts[m + 1] - starts[m];
    if (segs > 1 && (err == EINVAL || err == EIO)) {
      if (err == EIO) gso_ = false;
      gso_limit_ = std::min(gso_limit_, entries_[starts[m]].size);
      send_each(starts[m], starts[m + 1]);
    } else {
      totals_.failed += segs;
    }
    ++m;
  }
}

bool enable_udp_gro(int fd) {
  int one = 1;
  return setsockopt(fd, SOL_UDP, UDP_GRO, &one, sizeof(one)) == 0;
}

namespace {

// The segment size of a GRO message, or 0 when the message is a single datagram.
size_t gro_segment_size(msghdr& h) {
  for (cmsghdr* c = CMSG_FIRSTHDR(&h); c != nullptr; c = CMSG_NXTHDR(&h, c)) {
    if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO &&
        c->cmsg_len >= CMSG_LEN(sizeof(int))) {
      int seg = 0;
      std::memcpy(&seg, CMSG_DATA(c), sizeof(seg));
      return seg > 0 ? static_cast<size_t>(seg) : 0;
    }
  }
  return 0;
}

}  // namespace

UdpRecvBatch::UdpRecvBatch(size_t slots, size_t slot_bytes)
    : slots_(std::max<size_t>(slots, 1)), slot_bytes_(slot_bytes),
      buf_(std::make_unique_for_overwrite<uint8_t[]>(slots_ * slot_bytes_)), got_(slots_),
      from_(slots_), control_(slots_), msgs_(slots_), iov_(slots_) {}

int UdpRecvBatch::recv(int fd, size_t max) {
  size_t n = std::min(max, slots_);
  if (n == 0) return 0;
  for (size_t i = 0; i < n; ++i) {
    iov_[i] = {buf_.get() + i * slot_bytes_, slot_bytes_};
    msgs_[i] = {};
    msgs_[i].msg_hdr.msg_iov = &iov_[i];
    msgs_[i].msg_hdr.msg_iovlen = 1;
    msgs_[i].msg_hdr.msg_name = &from_[i];
    msgs_[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
    msgs_[i].msg_hdr.msg_control = control_[i].bytes;
    msgs_[i].msg_hdr.msg_controllen = sizeof(control_[i].bytes);
  }
  int r = recvmmsg(fd, msgs_.data(), static_cast<unsigned>(n), MSG_DONTWAIT, nullptr);
  if (r < 0) return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -1;
  size_t count = 0;
  auto put = [&](size_t i, quic::Bytes data, bool truncated) {
    if (count == got_.size()) got_.emplace_back();
    got_[count++] = Datagram{data, truncated, &from_[i], msgs_[i].msg_hdr.msg_namelen};
  };
  for (size_t i = 0; i < static_cast<size_t>(r); ++i) {
    msghdr& h = msgs_[i].msg_hdr;
    quic::Bytes all(buf_.get() + i * slot_bytes_, msgs_[i].msg_len);
    bool truncated = (h.msg_flags & MSG_TRUNC) != 0;
    size_t seg = gro_segment_size(h);
    // A single datagram (no GRO, or an empty one) is one entry. A truncated GRO message cannot
    // be split reliably, and one of more than kMaxGroSegments is not what the kernel produces:
    // one truncated entry each, which the owner drops and counts.
    if (seg == 0 || seg >= all.size()) {
      put(i, all, truncated);
      continue;
    }
    if (truncated || (all.size() + seg - 1) / seg > kMaxGroSegments) {
      put(i, all, true);
      continue;
    }
    for (size_t off = 0; off < all.size(); off += seg) {
      put(i, all.subspan(off, std::min(seg, all.size() - off)), false);
    }
  }
  return static_cast<int>(count);
}

}  // namespace masque
