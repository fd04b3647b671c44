// A Linux TUN device for CONNECT-IP tunnels: /dev/net/tun with IFF_TUN | IFF_NO_PI (each read
// and write is one bare IP packet), non-blocking, with its MTU set by ioctl and its addresses
// and routes managed over rtnetlink (libmnl).
//
// Everything the wrapper adds it records, and its destructor removes (routes, then addresses,
// then the link goes down and the fd closes; a non-persistent device then disappears). The
// event loop watches fd() (io::EndpointDriver::register_fd). Needs CAP_NET_ADMIN.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/error.h"
#include "masque/connect_ip_capsules.h"
#include "masque/tcp_coalescer.h"

struct mnl_socket;  // libmnl

namespace masque {

// The smallest set of CIDR prefixes covering a ROUTE_ADVERTISEMENT range exactly (at most
// 2 x 128 for an IPv6 range; routes are installed per prefix).
std::vector<IpPrefix> range_to_prefixes(const IpRange& range);

class TunDevice {
 public:
  // Creates (or attaches to) the device `name` (at most IFNAMSIZ-1 bytes) and brings it up.
  // With an offload, every packet carries a virtio-net header (IFF_VNET_HDR): kWrites lets
  // write() hand the kernel TCP super-packets (tcp_coalescer.h); kReadsAndWrites also enables
  // TCP segmentation offload (TUN_F_CSUM | TUN_F_TSO4), so read() may return IPv4 TCP
  // super-packets described by its `gso` (segment_tcp() splits them). A checksum the kernel
  // left partial on a plain packet is completed in read().
  enum class Offload : uint8_t { kNone, kWrites, kReadsAndWrites };
  static quic::Result<std::unique_ptr<TunDevice>> open(const std::string& name,
                                                       Offload offload = Offload::kNone);
  ~TunDevice();
  TunDevice(const TunDevice&) = delete;
  TunDevice& operator=(const TunDevice&) = delete;

  int fd() const { return fd_; }
  const std::string& name() const { return name_; }
  int ifindex() const { return ifindex_; }

  quic::Status set_mtu(size_t mtu);
  // Turns IPv6 off on the device (net.ipv6.conf.NAME.disable_ipv6), so a tunnel without IPv6
  // addresses does not carry the kernel's own IPv6 chatter (router solicitations, MLD).
  quic::Status disable_ipv6();
  // Adds an address with its prefix length (e.g. 198.18.200.1/24, or /32 for a host).
  quic::Status add_address(const IpPrefix& address);
  quic::Status remove_address(const IpPrefix& address);
  // A route to `destination` through this device.
  quic::Status add_route(const IpPrefix& destination);
  quic::Status remove_route(const IpPrefix& destination);
  // Makes the device hold exactly these (removing what it added before and no longer wants).
  quic::Status sync_addresses(const std::vector<IpPrefix>& want);
  quic::Status sync_routes(const std::vector<IpPrefix>& want);
  const std::vector<IpPrefix>& addresses() const { return addresses_; }
  const std::vector<IpPrefix>& routes() const { return routes_; }

  // One packet into `buf`; 0 when none is waiting (EAGAIN); an error otherwise. With
  // kReadsAndWrites, `gso` (required then) says whether it is a TCP super-packet.
  quic::Result<size_t> read(quic::MutBytes buf, GsoInfo* gso = nullptr);
  // One packet out; false when the device would block or refused it (counted by the caller).
  // A `gso` with gso_size set (only with vnet_hdr) makes it a TCP/IPv4 super-packet.
  bool write(Bytes packet, const GsoInfo& gso = {});
  bool vnet_hdr() const { return vnet_hdr_; }

 private:
  TunDevice() = default;
  quic::Status netlink(uint16_t type, uint16_t flags, const IpPrefix& p, bool route);

  int fd_ = -1;
  int ifindex_ = 0;
  bool vnet_hdr_ = false;
  bool tso_ = false;  // TUN_F_TSO4 enabled: read() may return super-packets
  std::string name_;
  ::mnl_socket* nl_ = nullptr;
  uint32_t seq_ = 1;
  std::vector<IpPrefix> addresses_, routes_;
};

}  // namespace masque
