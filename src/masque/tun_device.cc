#include "masque/tun_device.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/if_tun.h>
#include <linux/rtnetlink.h>
#include <net/if.h>  // glibc's IFF_* before the linux/ headers
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "masque/ip_packet.h"

namespace masque {

namespace {

// struct virtio_net_hdr and its constants (Linux UAPI, linux/virtio_net.h, which C++ cannot
// include: it has a member named `class`). Host byte order: the legacy virtio convention that
// TUN follows unless TUNSETVNETLE/BE says otherwise.
struct VnetHeader {
  uint8_t flags;
  uint8_t gso_type;
  uint16_t hdr_len, gso_size, csum_start, csum_offset;
};
static_assert(sizeof(VnetHeader) == 10);
constexpr uint8_t kVnetNeedsCsum = 1;  // VIRTIO_NET_HDR_F_NEEDS_CSUM
constexpr uint8_t kVnetGsoTcpV4 = 1;   // VIRTIO_NET_HDR_GSO_TCPV4

std::unexpected<quic::Error> sys_fail(const std::string& what, int err = errno) {
  return quic::fail(quic::err::kInternalError, what + ": " + std::strerror(err));
}

// The largest aligned prefix starting at `a` that ends at or before `end`.
uint8_t largest_block(const IpAddress& a, const IpAddress& end) {
  size_t bits = a.bits();
  for (size_t len = 0; len <= bits; ++len) {
    IpPrefix p{a, static_cast<uint8_t>(len)};
    if (p.valid() && !(end < p.last())) return static_cast<uint8_t>(len);
  }
  return static_cast<uint8_t>(bits);
}

// a + 1; false on wrap-around past the last address.
bool increment(IpAddress& a) {
  for (size_t i = a.size(); i-- > 0;) {
    if (++a.bytes[i] != 0) return true;
  }
  return false;
}

}  // namespace

std::vector<IpPrefix> range_to_prefixes(const IpRange& range) {
  std::vector<IpPrefix> out;
  IpAddress at = range.start;
  while (!(range.end < at)) {
    IpPrefix p{at, largest_block(at, range.end)};
    out.push_back(p);
    at = p.last();
    if (at == range.end || !increment(at)) break;
  }
  return out;
}

quic::Result<std::unique_ptr<TunDevice>> TunDevice::open(const std::string& name,
                                                         Offload offload) {
  bool vnet_hdr = offload != Offload::kNone;
  if (name.empty() || name.size() >= IFNAMSIZ) {
    return quic::fail(quic::err::kInternalError, "bad TUN device name: " + name);
  }
  std::unique_ptr<TunDevice> t(new TunDevice());
  t->fd_ = ::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (t->fd_ < 0) return sys_fail("open /dev/net/tun");
  ifreq ifr{};
  ifr.ifr_flags = static_cast<short>(IFF_TUN | IFF_NO_PI | (vnet_hdr ? IFF_VNET_HDR : 0));
  std::memcpy(ifr.ifr_name, name.data(), name.size());
  if (ioctl(t->fd_, TUNSETIFF, &ifr) < 0) return sys_fail("TUNSETIFF " + name);
  if (vnet_hdr) {
    // kWrites: no receive offloads, the kernel segments and checksums what it hands us as
    // without the header; writes may carry GSO super-packets either way.
    int size = sizeof(VnetHeader);
    if (ioctl(t->fd_, TUNSETVNETHDRSZ, &size) < 0) return sys_fail("TUNSETVNETHDRSZ " + name);
    unsigned long features =
        offload == Offload::kReadsAndWrites ? (TUN_F_CSUM | TUN_F_TSO4) : 0;
    if (ioctl(t->fd_, TUNSETOFFLOAD, features) < 0) return sys_fail("TUNSETOFFLOAD " + name);
    t->tso_ = offload == Offload::kReadsAndWrites;
    t->vnet_hdr_ = true;
  }
  t->name_ = ifr.ifr_name;
  t->ifindex_ = static_cast<int>(if_nametoindex(t->name_.c_str()));
  if (t->ifindex_ == 0) return sys_fail("if_nametoindex " + t->name_);
  t->nl_ = mnl_socket_open(NETLINK_ROUTE);
  if (t->nl_ == nullptr || mnl_socket_bind(t->nl_, 0, MNL_SOCKET_AUTOPID) < 0) {
    return sys_fail("rtnetlink socket");
  }
  // Up, by ioctl on any socket (SIOCSIFFLAGS).
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return sys_fail("socket");
  ifreq up{};
  std::memcpy(up.ifr_name, t->name_.data(), t->name_.size());
  bool ok = ioctl(s, SIOCGIFFLAGS, &up) == 0;
  up.ifr_flags = static_cast<short>(up.ifr_flags | IFF_UP);
  ok = ok && ioctl(s, SIOCSIFFLAGS, &up) == 0;
  int err = errno;
  close(s);
  if (!ok) return sys_fail("bring " + t->name_ + " up", err);
  return t;
}

TunDevice::~TunDevice() {
  // Everything we added goes, routes first (they may depend on the addresses).
  for (const IpPrefix& r : std::vector<IpPrefix>(routes_)) (void)remove_route(r);
  for (const IpPrefix& a : std::vector<IpPrefix>(addresses_)) (void)remove_address(a);
  if (nl_ != nullptr) mnl_socket_close(nl_);
  if (fd_ >= 0) close(fd_);
}

quic::Status TunDevice::set_mtu(size_t mtu) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return sys_fail("socket");
  ifreq ifr{};
  std::memcpy(ifr.ifr_name, name_.data(), name_.size());
  ifr.ifr_mtu = static_cast<int>(mtu);
  bool ok = ioctl(s, SIOCSIFMTU, &ifr) == 0;
  int err = errno;
  close(s);
  if (!ok) return sys_fail("set MTU " + std::to_string(mtu) + " on " + name_, err);
  return {};
}

quic::Status TunDevice::disable_ipv6() {
  std::string path = "/proc/sys/net/ipv6/conf/" + name_ + "/disable_ipv6";
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return sys_fail("open " + path);
  bool ok = ::write(fd, "1\n", 2) == 2;
  int err = errno;
  close(fd);
  if (!ok) return sys_fail("write " + path, err);
  return {};
}

// One RTM_{NEW,DEL}{ADDR,ROUTE} request, waiting for its acknowledgement.
quic::Status TunDevice::netlink(uint16_t type, uint16_t flags, const IpPrefix& p, bool route) {
  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = type;
  nlh->nlmsg_flags = static_cast<uint16_t>(NLM_F_REQUEST | NLM_F_ACK | flags);
  nlh->nlmsg_seq = seq_++;
  uint8_t family = p.address.version == 4 ? AF_INET : AF_INET6;
  const void* addr = p.address.bytes.data();
  size_t alen = p.address.size();
  if (route) {
    auto* rt = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtmsg)));
    rt->rtm_family = family;
    rt->rtm_dst_len = p.length;
    rt->rtm_table = RT_TABLE_MAIN;
    rt->rtm_protocol = RTPROT_STATIC;
    rt->rtm_scope = RT_SCOPE_LINK;
    rt->rtm_type = RTN_UNICAST;
    mnl_attr_put(nlh, RTA_DST, alen, addr);
    mnl_attr_put_u32(nlh, RTA_OIF, static_cast<uint32_t>(ifindex_));
  } else {
    auto* ifa = static_cast<ifaddrmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifaddrmsg)));
    ifa->ifa_family = family;
    ifa->ifa_prefixlen = p.length;
    ifa->ifa_index = static_cast<uint32_t>(ifindex_);
    ifa->ifa_scope = RT_SCOPE_UNIVERSE;
    if (p.address.version == 6) ifa->ifa_flags = IFA_F_NODAD;  // no neighbours on a TUN
    mnl_attr_put(nlh, IFA_LOCAL, alen, addr);
    mnl_attr_put(nlh, IFA_ADDRESS, alen, addr);
  }
  uint32_t seq = nlh->nlmsg_seq;
  if (mnl_socket_sendto(nl_, nlh, nlh->nlmsg_len) < 0) return sys_fail("rtnetlink send");
  ssize_t n = mnl_socket_recvfrom(nl_, buf.data(), buf.size());
  if (n < 0) return sys_fail("rtnetlink receive");
  if (mnl_cb_run(buf.data(), static_cast<size_t>(n), seq, mnl_socket_get_portid(nl_), nullptr,
                 nullptr) < 0) {
    return sys_fail(std::string(route ? "route " : "address ") + p.to_string() + " on " + name_);
  }
  return {};
}

quic::Status TunDevice::add_address(const IpPrefix& a) {
  if (std::find(addresses_.begin(), addresses_.end(), a) != addresses_.end()) return {};
  if (auto s = netlink(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, a, false); !s) return s;
  addresses_.push_back(a);
  return {};
}

quic::Status TunDevice::remove_address(const IpPrefix& a) {
  auto it = std::find(addresses_.begin(), addresses_.end(), a);
  if (it == addresses_.end()) return {};
  addresses_.erase(it);
  return netlink(RTM_DELADDR, 0, a, false);
}

quic::Status TunDevice::add_route(const IpPrefix& r) {
  if (std::find(routes_.begin(), routes_.end(), r) != routes_.end()) return {};
  if (auto s = netlink(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, r, true); !s) return s;
  routes_.push_back(r);
  return {};
}

quic::Status TunDevice::remove_route(const IpPrefix& r) {
  auto it = std::find(routes_.begin(), routes_.end(), r);
  if (it == routes_.end()) return {};
  routes_.erase(it);
  return netlink(RTM_DELROUTE, 0, r, true);
}

namespace {

// Removes what `have` holds and `want` does not, then adds what is missing; the first error
// is returned after trying everything.
template <class Remove, class Add>
quic::Status sync(std::vector<IpPrefix> have, const std::vector<IpPrefix>& want, Remove remove,
                  Add add) {
  // Added before removed: a device whose address is replaced (a proxy that assigns another)
  // never has none in between, which would make the kernel flush every route on it.
  quic::Status first;
  for (const IpPrefix& w : want) {
    if (auto s = add(w); !s && first) first = s;
  }
  for (const IpPrefix& h : have) {
    if (std::find(want.begin(), want.end(), h) != want.end()) continue;
    if (auto s = remove(h); !s && first) first = s;
  }
  return first;
}

}  // namespace

quic::Status TunDevice::sync_addresses(const std::vector<IpPrefix>& want) {
  return sync(
      addresses_, want, [this](const IpPrefix& p) { return remove_address(p); },
      [this](const IpPrefix& p) { return add_address(p); });
}

quic::Status TunDevice::sync_routes(const std::vector<IpPrefix>& want) {
  return sync(
      routes_, want, [this](const IpPrefix& p) { return remove_route(p); },
      [this](const IpPrefix& p) { return add_route(p); });
}

quic::Result<size_t> TunDevice::read(quic::MutBytes buf, GsoInfo* gso) {
  if (gso != nullptr) *gso = {};
  VnetHeader h{};
  iovec iov[2] = {{&h, sizeof(h)}, {buf.data(), buf.size()}};
  ssize_t n = vnet_hdr_ ? ::readv(fd_, iov, 2) : ::read(fd_, buf.data(), buf.size());
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return size_t{0};
    return sys_fail("read " + name_);
  }
  if (!vnet_hdr_) return static_cast<size_t>(n);
  if (static_cast<size_t>(n) < sizeof(h)) return sys_fail("read " + name_ + ": short header", EIO);
  size_t len = static_cast<size_t>(n) - sizeof(h);
  if (h.gso_type != 0) {
    // Only what TUNSETOFFLOAD enabled can come; the TCP checksum is redone per segment.
    if (h.gso_type != kVnetGsoTcpV4 || !tso_ || gso == nullptr || h.gso_size == 0) {
      return sys_fail("read " + name_ + ": unexpected GSO packet", EIO);
    }
    *gso = {h.hdr_len, h.gso_size, h.csum_start, h.csum_offset};
    return len;
  }
  if ((h.flags & kVnetNeedsCsum) != 0) {
    // A checksum left to the device: the field holds the pseudo-header sum; the sum from
    // csum_start on, complemented, goes in its place.
    size_t start = h.csum_start, at = start + h.csum_offset;
    if (at + 2 > len) return sys_fail("read " + name_ + ": bad checksum offsets", EIO);
    uint16_t sum = checksum_fold(checksum_add(0, quic::Bytes(buf.data() + start, len - start)));
    buf[at] = static_cast<uint8_t>(sum >> 8);
    buf[at + 1] = static_cast<uint8_t>(sum);
  }
  return len;
}

bool TunDevice::write(Bytes packet, const GsoInfo& gso) {
  if (!vnet_hdr_) {
    return gso.gso_size == 0 &&
           ::write(fd_, packet.data(), packet.size()) == static_cast<ssize_t>(packet.size());
  }
  VnetHeader h{};
  if (gso.gso_size != 0) {
    h.flags = kVnetNeedsCsum;
    h.gso_type = kVnetGsoTcpV4;
    h.hdr_len = gso.header_len;
    h.gso_size = gso.gso_size;
    h.csum_start = gso.csum_start;
    h.csum_offset = gso.csum_offset;
  }
  iovec iov[2] = {{&h, sizeof(h)}, {const_cast<uint8_t*>(packet.data()), packet.size()}};
  return ::writev(fd_, iov, 2) == static_cast<ssize_t>(sizeof(h) + packet.size());
}

}  // namespace masque
