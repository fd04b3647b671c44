// Interfaces coming and going (docs/tquicd.md "Links follow their interfaces"): rtnetlink
// messages (RTM_NEWLINK/DELLINK, RTM_NEWADDR/DELADDR, rtnetlink(7)) parsed into events, a
// table of the interfaces' carrier state and addresses built from them, and the multicast
// socket that delivers them. The parser takes a raw buffer (what one recv() returned, or a
// crafted one in tests and the fuzz target) and copies every header out with memcpy, so
// truncated or misaligned input is rejected, never read past.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/address.h"
#include "common/error.h"

namespace bond {

// Events returned by one parse (the rest of the buffer is counted as dropped): a burst of
// changes larger than this is followed by a resync from getifaddrs() anyway.
inline constexpr size_t kMaxNetlinkEventsPerRead = 512;
// Interfaces and addresses per interface the table tracks; beyond them the oldest entries
// are not replaced and the extra ones are ignored (a link only needs its own interface).
inline constexpr size_t kMaxTrackedInterfaces = 1024;
inline constexpr size_t kMaxAddressesPerInterface = 64;
// Receive buffer for one recv() of the multicast socket (rtnetlink messages are small).
inline constexpr size_t kNetlinkReadBytes = 32 << 10;
// recv() calls per NetlinkWatch::read(): the event loop gets its turn back.
inline constexpr int kMaxNetlinkReadsPerCall = 16;

struct InterfaceEvent {
  enum class Kind : uint8_t { kLink, kLinkGone, kAddress, kAddressGone };
  Kind kind = Kind::kLink;
  uint32_t ifindex = 0;
  std::string name;      // kLink/kLinkGone: IFLA_IFNAME (may be empty when absent)
  bool running = false;  // kLink: administratively up and with carrier (IFF_UP, IFF_RUNNING)
  quic::SocketAddress address;  // kAddress*: port 0
  bool usable = true;    // kAddress: not tentative (IPv6 DAD) and not DAD-failed
  friend bool operator==(const InterfaceEvent&, const InterfaceEvent&) = default;
};

struct NetlinkParseStats {
  uint64_t malformed = 0;  // truncated headers/attributes, bad lengths, bad address sizes
  uint64_t dropped = 0;    // events beyond kMaxNetlinkEventsPerRead
};

// Parses a buffer of netlink messages; messages of other types are skipped, a malformed one
// ends the parse (its length cannot be trusted to find the next).
std::vector<InterfaceEvent> parse_rtnetlink(std::span<const uint8_t> buf, NetlinkParseStats& stats);

// What tquicd knows of the machine's interfaces, fed with events.
class InterfaceTable {
 public:
  void apply(const InterfaceEvent& e);
  void clear() { by_index_.clear(); }
  // The interface named `name` exists, is up and has carrier.
  bool running(const std::string& name) const;
  // Its first usable address of the family (IPv6 link-local excluded), or nullopt.
  std::optional<quic::SocketAddress> first_address(const std::string& name, bool v6) const;
  // Whether `address` is on a running interface (`name` when not empty).
  bool has_address(const std::string& name, const quic::SocketAddress& address) const;
  size_t size() const { return by_index_.size(); }

 private:
  struct Interface {
    std::string name;
    bool running = false;
    std::vector<quic::SocketAddress> addresses;  // usable ones, in arrival order
  };
  std::map<uint32_t, Interface> by_index_;
};

// The interfaces and addresses as they are now (getifaddrs(3)), as events for a fresh table.
std::vector<InterfaceEvent> snapshot_interfaces();

// A non-blocking rtnetlink socket subscribed to link and IPv4/IPv6 address changes.
class NetlinkWatch {
 public:
  static quic::Result<std::unique_ptr<NetlinkWatch>> open();
  ~NetlinkWatch();
  NetlinkWatch(const NetlinkWatch&) = delete;
  NetlinkWatch& operator=(const NetlinkWatch&) = delete;
  int fd() const { return fd_; }
  // Every pending event (bounded). `resync` is set when the kernel dropped messages
  // (ENOBUFS): the caller must rebuild its table from snapshot_interfaces().
  std::vector<InterfaceEvent> read(bool& resync);
  const NetlinkParseStats& stats() const { return stats_; }

 private:
  explicit NetlinkWatch(int fd) : fd_(fd) {}
  int fd_;
  NetlinkParseStats stats_;
  std::vector<uint8_t> buf_;
};

}  // namespace bond
