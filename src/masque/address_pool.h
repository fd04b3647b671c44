// The proxy's pool of client addresses for CONNECT-IP (RFC 9484 §4.7.1): one IPv4 or IPv6
// CIDR, handing out full-length addresses (/32 or /128), stable per client key.
//
// Stability: a key gets back the address it held last time when that address is free; a new
// key starts probing at a hash of the key, so the same client tends to land on the same
// address even across proxy restarts. The pool's first host address is the proxy's own (the
// router end of the tunnel, the source of its ICMP errors); IPv4 network and broadcast
// addresses are never handed out. Exhaustion is an answer (nullopt), not a failure.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "masque/ip_packet.h"

namespace masque {

// How many candidates one assignment probes before calling the pool exhausted: bounds the
// work of an assignment in a huge, nearly full IPv6 pool.
inline constexpr size_t kMaxPoolProbes = 65536;
// Keys remembered for stable reassignment after release; the oldest are forgotten beyond.
inline constexpr size_t kMaxRememberedKeys = 65536;
// Addresses one client key may hold at once, over all its tunnels and connections: a client
// opening many CONNECT-IP streams cannot drain the pool.
inline constexpr size_t kMaxAddressesPerKey = 8;

class AddressPool {
 public:
  // nullopt: not a valid prefix, or too small to hold the router and one client
  // (IPv4 /31 and /32, IPv6 /127 and /128).
  static std::optional<AddressPool> create(const IpPrefix& prefix);

  const IpPrefix& prefix() const { return prefix_; }
  // The proxy's own address in the pool (first host).
  const IpAddress& router() const { return router_; }
  // Addresses a client can hold (hosts minus the router), saturated at 2^63.
  uint64_t capacity() const { return capacity_; }
  size_t in_use() const { return holder_.size(); }

  // An address for `key`; `preferred` (inside the pool, free or already the key's) first.
  // nullopt when the pool is exhausted or the key holds kMaxAddressesPerKey already.
  std::optional<IpAddress> assign(const std::string& key,
                                  std::optional<IpAddress> preferred = std::nullopt);
  // Gives an address back; a no-op when `key` does not hold it.
  void release(const std::string& key, const IpAddress& a);
  bool held_by(const IpAddress& a, const std::string& key) const;
  // The lowest address `key` holds (tquicd's `conns` view); a scan of the addresses in use.
  std::optional<IpAddress> address_of(std::string_view key) const;
  // Remembers `a` as `key`'s last address, as if it had held it (addresses kept across a
  // proxy restart, tquicd's state file); an address outside the pool is ignored.
  void seed(const std::string& key, const IpAddress& a);
  // Every remembered (key, address), oldest first: what a restart should seed again.
  std::vector<std::pair<std::string, IpAddress>> remembered() const;

 private:
  IpAddress nth(uint64_t index) const;  // host number `index` (0 = the router)
  bool usable(const IpAddress& a) const;
  void remember(const std::string& key, const IpAddress& a);

  IpPrefix prefix_;
  IpAddress router_;
  uint64_t capacity_ = 0;
  std::map<IpAddress, std::string> holder_;
  std::unordered_map<std::string, size_t> held_;  // addresses per key
  struct Remembered {
    IpAddress address;
    uint64_t seq;
  };
  std::unordered_map<std::string, Remembered> last_;
  std::map<uint64_t, std::string> remembered_order_;  // oldest first
  uint64_t remember_seq_ = 0;
};

}  // namespace masque
