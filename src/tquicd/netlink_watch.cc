#include "tquicd/netlink_watch.h"

#include <ifaddrs.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace bond {

namespace {

constexpr size_t align4(size_t n) {
  return (n + 3) & ~size_t{3};
}

template <typename T>
bool copy_out(std::span<const uint8_t> buf, size_t at, T& out) {
  if (at > buf.size() || buf.size() - at < sizeof(T)) return false;
  std::memcpy(&out, buf.data() + at, sizeof(T));
  return true;
}

struct Attr {
  uint16_t type;
  std::span<const uint8_t> value;
};

// The route attributes (rtattr, RTA_ALIGN 4) of one message body; false when one is malformed.
bool parse_attrs(std::span<const uint8_t> body, std::vector<Attr>& out) {
  size_t at = 0;
  while (at + sizeof(rtattr) <= body.size()) {
    rtattr a{};
    copy_out(body, at, a);
    if (a.rta_len < sizeof(rtattr) || a.rta_len > body.size() - at) return false;
    out.push_back({static_cast<uint16_t>(a.rta_type & NLA_TYPE_MASK),
                   body.subspan(at + sizeof(rtattr), a.rta_len - sizeof(rtattr))});
    at += align4(a.rta_len);
  }
  return true;
}

bool parse_link(std::span<const uint8_t> payload, bool gone, InterfaceEvent& e) {
  ifinfomsg ifi{};
  if (!copy_out(payload, 0, ifi) || ifi.ifi_index <= 0) return false;
  std::vector<Attr> attrs;
  if (!parse_attrs(payload.subspan(std::min(payload.size(), align4(sizeof ifi))), attrs)) {
    return false;
  }
  e.kind = gone ? InterfaceEvent::Kind::kLinkGone : InterfaceEvent::Kind::kLink;
  e.ifindex = static_cast<uint32_t>(ifi.ifi_index);
  e.running = !gone && (ifi.ifi_flags & IFF_UP) != 0 && (ifi.ifi_flags & IFF_RUNNING) != 0;
  for (const Attr& a : attrs) {
    if (a.type != IFLA_IFNAME) continue;
    // A NUL-terminated name of at most IFNAMSIZ - 1 characters.
    auto nul = std::find(a.value.begin(), a.value.end(), uint8_t{0});
    if (nul == a.value.end() || nul - a.value.begin() >= IFNAMSIZ) return false;
    e.name.assign(a.value.begin(), nul);
  }
  return true;
}

bool parse_address(std::span<const uint8_t> payload, bool gone, InterfaceEvent& e) {
  ifaddrmsg ifa{};
  if (!copy_out(payload, 0, ifa) || ifa.ifa_index == 0) return false;
  if (ifa.ifa_family != AF_INET && ifa.ifa_family != AF_INET6) return false;
  std::vector<Attr> attrs;
  if (!parse_attrs(payload.subspan(std::min(payload.size(), align4(sizeof ifa))), attrs)) {
    return false;
  }
  const bool v6 = ifa.ifa_family == AF_INET6;
  const size_t len = v6 ? 16 : 4;
  uint32_t flags = ifa.ifa_flags;
  std::optional<std::span<const uint8_t>> local, address;
  for (const Attr& a : attrs) {
    if (a.type == IFA_LOCAL) local = a.value;
    if (a.type == IFA_ADDRESS) address = a.value;
    if (a.type == IFA_FLAGS && a.value.size() == sizeof(uint32_t)) {
      std::memcpy(&flags, a.value.data(), sizeof flags);
    }
  }
  // IPv4 point-to-point links put the peer in IFA_ADDRESS and our own in IFA_LOCAL.
  std::optional<std::span<const uint8_t>> ours = local ? local : address;
  if (!ours || ours->size() != len) return false;
  e.kind = gone ? InterfaceEvent::Kind::kAddressGone : InterfaceEvent::Kind::kAddress;
  e.ifindex = ifa.ifa_index;
  e.address = {};
  e.address.v6 = v6;
  std::copy(ours->begin(), ours->end(), e.address.ip.begin());
  e.usable = (flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED)) == 0;
  return true;
}

bool is_link_local_v6(const quic::SocketAddress& a) {
  return a.v6 && a.ip[0] == 0xfe && (a.ip[1] & 0xc0) == 0x80;
}

}  // namespace

std::vector<InterfaceEvent> parse_rtnetlink(std::span<const uint8_t> buf, NetlinkParseStats& stats) {
  std::vector<InterfaceEvent> out;
  size_t at = 0;
  while (at + sizeof(nlmsghdr) <= buf.size()) {
    nlmsghdr h{};
    copy_out(buf, at, h);
    if (h.nlmsg_len < sizeof(nlmsghdr) || h.nlmsg_len > buf.size() - at) {
      ++stats.malformed;
      break;
    }
    if (h.nlmsg_type == NLMSG_DONE) break;
    std::span<const uint8_t> payload =
        buf.subspan(at + sizeof(nlmsghdr), h.nlmsg_len - sizeof(nlmsghdr));
    at += std::min(buf.size() - at, align4(h.nlmsg_len));
    bool link = h.nlmsg_type == RTM_NEWLINK || h.nlmsg_type == RTM_DELLINK;
    bool addr = h.nlmsg_type == RTM_NEWADDR || h.nlmsg_type == RTM_DELADDR;
    if (!link && !addr) continue;
    InterfaceEvent e;
    bool ok = link ? parse_link(payload, h.nlmsg_type == RTM_DELLINK, e)
                   : parse_address(payload, h.nlmsg_type == RTM_DELADDR, e);
    if (!ok) {
      ++stats.malformed;
      continue;  // the header's length was sound: the next message is still found
    }
    if (out.size() == kMaxNetlinkEventsPerRead) {
      ++stats.dropped;
      continue;
    }
    out.push_back(std::move(e));
  }
  return out;
}

void InterfaceTable::apply(const InterfaceEvent& e) {
  auto it = by_index_.find(e.ifindex);
  if (e.kind == InterfaceEvent::Kind::kLinkGone) {
    if (it != by_index_.end()) by_index_.erase(it);
    return;
  }
  if (it == by_index_.end()) {
    // An address may arrive before its link (a resync walks addresses too): keep a
    // nameless entry until the link message names it.
    if (by_index_.size() >= kMaxTrackedInterfaces) return;
    it = by_index_.emplace(e.ifindex, Interface{}).first;
  }
  Interface& i = it->second;
  auto& addrs = i.addresses;
  switch (e.kind) {
    case InterfaceEvent::Kind::kLink:
      if (!e.name.empty()) i.name = e.name;
      i.running = e.running;
      break;
    case InterfaceEvent::Kind::kAddress: {
      auto at = std::find(addrs.begin(), addrs.end(), e.address);
      if (!e.usable) {
        if (at != addrs.end()) addrs.erase(at);
      } else if (at == addrs.end() && addrs.size() < kMaxAddressesPerInterface) {
        addrs.push_back(e.address);
      }
      break;
    }
    case InterfaceEvent::Kind::kAddressGone:
      addrs.erase(std::remove(addrs.begin(), addrs.end(), e.address), addrs.end());
      break;
    case InterfaceEvent::Kind::kLinkGone: break;
  }
}

bool InterfaceTable::running(const std::string& name) const {
  return std::any_of(by_index_.begin(), by_index_.end(),
                     [&](const auto& kv) { return kv.second.name == name && kv.second.running; });
}

std::optional<quic::SocketAddress> InterfaceTable::first_address(const std::string& name,
                                                                 bool v6) const {
  for (const auto& [index, i] : by_index_) {
    if (i.name != name) continue;
    for (const quic::SocketAddress& a : i.addresses) {
      if (a.v6 == v6 && !is_link_local_v6(a)) return a;
    }
  }
  return std::nullopt;
}

bool InterfaceTable::has_address(const std::string& name, const quic::SocketAddress& address) const {
  quic::SocketAddress want = address;
  want.port = 0;
  return std::any_of(by_index_.begin(), by_index_.end(), [&](const auto& kv) {
    const Interface& i = kv.second;
    return i.running && (name.empty() || i.name == name) &&
           std::find(i.addresses.begin(), i.addresses.end(), want) != i.addresses.end();
  });
}

std::vector<InterfaceEvent> snapshot_interfaces() {
  std::vector<InterfaceEvent> out;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return out;
  std::vector<std::string> named;
  for (ifaddrs* a = list; a != nullptr; a = a->ifa_next) {
    unsigned index = if_nametoindex(a->ifa_name);
    if (index == 0) continue;
    if (std::find(named.begin(), named.end(), a->ifa_name) == named.end()) {
      named.emplace_back(a->ifa_name);
      InterfaceEvent link;
      link.kind = InterfaceEvent::Kind::kLink;
      link.ifindex = index;
      link.name = a->ifa_name;
      link.running = (a->ifa_flags & IFF_UP) != 0 && (a->ifa_flags & IFF_RUNNING) != 0;
      out.push_back(std::move(link));
    }
    if (a->ifa_addr == nullptr) continue;
    int family = a->ifa_addr->sa_family;
    if (family != AF_INET && family != AF_INET6) continue;
    InterfaceEvent addr;
    addr.kind = InterfaceEvent::Kind::kAddress;
    addr.ifindex = index;
    addr.address.v6 = family == AF_INET6;
    if (addr.address.v6) {
      const auto* s = reinterpret_cast<const sockaddr_in6*>(a->ifa_addr);
      std::memcpy(addr.address.ip.data(), &s->sin6_addr, 16);
    } else {
      const auto* s = reinterpret_cast<const sockaddr_in*>(a->ifa_addr);
      std::memcpy(addr.address.ip.data(), &s->sin_addr, 4);
    }
    out.push_back(addr);
  }
  freeifaddrs(list);
  return out;
}

quic::Result<std::unique_ptr<NetlinkWatch>> NetlinkWatch::open() {
  int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) return quic::fail(0, std::string("rtnetlink socket: ") + std::strerror(errno));
  sockaddr_nl sa{};
  sa.nl_family = AF_NETLINK;
  sa.nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    std::string why = std::string("rtnetlink bind: ") + std::strerror(errno);
    ::close(fd);
    return quic::fail(0, why);
  }
  auto w = std::unique_ptr<NetlinkWatch>(new NetlinkWatch(fd));
  w->buf_.resize(kNetlinkReadBytes);
  return w;
}

NetlinkWatch::~NetlinkWatch() {
  ::close(fd_);
}

std::vector<InterfaceEvent> NetlinkWatch::read(bool& resync) {
  std::vector<InterfaceEvent> out;
  for (int i = 0; i < kMaxNetlinkReadsPerCall; ++i) {
    sockaddr_nl from{};
    socklen_t from_len = sizeof from;
    ssize_t n = ::recvfrom(fd_, buf_.data(), buf_.size(), 0, reinterpret_cast<sockaddr*>(&from),
                           &from_len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == ENOBUFS) {
      resync = true;  // the kernel's queue overflowed: events were lost
      continue;
    }
    if (n <= 0) break;
    if (from.nl_pid != 0) continue;  // only the kernel speaks on this socket
    auto events = parse_rtnetlink({buf_.data(), static_cast<size_t>(n)}, stats_);
    if (out.size() + events.size() > kMaxNetlinkEventsPerRead) {
      resync = true;
      break;
    }
    out.insert(out.end(), events.begin(), events.end());
  }
  return out;
}

}  // namespace bond
