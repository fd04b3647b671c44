#include "masque/address_pool.h"

#include <algorithm>

namespace masque {

namespace {

// FNV-1a: stable across runs and builds, unlike std::hash.
uint64_t fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

}  // namespace

std::optional<AddressPool> AddressPool::create(const IpPrefix& prefix) {
  if (!prefix.valid()) return std::nullopt;
  size_t host_bits = prefix.address.bits() - prefix.length;
  bool v4 = prefix.address.version == 4;
  if (host_bits < 2) return std::nullopt;
  AddressPool p;
  p.prefix_ = prefix;
  // Host indices: IPv4 1 .. 2^h - 2 (no network, no broadcast); IPv6 1 .. 2^h - 1 (no
  // subnet-router anycast, RFC 4291 §2.6.1). Index 1 is the router.
  uint64_t hosts = host_bits >= 63 ? (uint64_t{1} << 63) : (uint64_t{1} << host_bits);
  p.capacity_ = hosts - (v4 ? 3 : 2);
  p.router_ = p.nth(1);
  return p;
}

IpAddress AddressPool::nth(uint64_t index) const {
  IpAddress a = prefix_.address;
  uint64_t carry = index;
  for (size_t i = a.size(); i-- > 0 && carry != 0;) {
    uint64_t v = a.bytes[i] + (carry & 0xff);
    a.bytes[i] = static_cast<uint8_t>(v);
    carry = (carry >> 8) + (v >> 8);
  }
  return a;
}

bool AddressPool::usable(const IpAddress& a) const {
  if (!prefix_.contains(a) || a == router_ || a == prefix_.address) return false;
  return !(prefix_.address.version == 4 && a == prefix_.last());
}

bool AddressPool::held_by(const IpAddress& a, const std::string& key) const {
  auto it = holder_.find(a);
  return it != holder_.end() && it->second == key;
}

std::optional<IpAddress> AddressPool::address_of(std::string_view key) const {
  for (const auto& [address, holder] : holder_) {
    if (holder == key) return address;
  }
  return std::nullopt;
}

std::optional<IpAddress> AddressPool::assign(const std::string& key,
                                             std::optional<IpAddress> preferred) {
  auto take = [&](const IpAddress& a) -> std::optional<IpAddress> {
    if (!usable(a) || holder_.contains(a)) return std::nullopt;
    holder_.emplace(a, key);
    ++held_[key];
    remember(key, a);
    return a;
  };
  if (preferred && !preferred->is_zero() && held_by(*preferred, key)) return preferred;
  if (auto it = held_.find(key); it != held_.end() && it->second >= kMaxAddressesPerKey) {
    return std::nullopt;
  }
  if (preferred && !preferred->is_zero()) {
    if (auto a = take(*preferred)) return a;
  }
  if (auto it = last_.find(key); it != last_.end()) {
    if (auto a = take(it->second.address)) return a;
  }
  uint64_t start = fnv1a(key) % capacity_;
  uint64_t probes = std::min<uint64_t>(capacity_, kMaxPoolProbes);
  for (uint64_t i = 0; i < probes; ++i) {
    if (auto a = take(nth(2 + (start + i) % capacity_))) return a;
  }
  return std::nullopt;
}

void AddressPool::release(const std::string& key, const IpAddress& a) {
  if (!held_by(a, key)) return;
  holder_.erase(a);
  if (auto it = held_.find(key); it != held_.end() && --it->second == 0) held_.erase(it);
}

void AddressPool::seed(const std::string& key, const IpAddress& a) {
  if (usable(a)) remember(key, a);
}

std::vector<std::pair<std::string, IpAddress>> AddressPool::remembered() const {
  std::vector<std::pair<std::string, IpAddress>> out;
  out.reserve(remembered_order_.size());
  for (const auto& [seq, key] : remembered_order_) out.emplace_back(key, last_.at(key).address);
  return out;
}

void AddressPool::remember(const std::string& key, const IpAddress& a) {
  if (auto it = last_.find(key); it != last_.end()) remembered_order_.erase(it->second.seq);
  if (!last_.contains(key) && last_.size() >= kMaxRememberedKeys) {
    auto oldest = remembered_order_.begin();
    last_.erase(oldest->second);
    remembered_order_.erase(oldest);
  }
  uint64_t seq = remember_seq_++;
  last_[key] = Remembered{a, seq};
  remembered_order_.emplace(seq, key);
}

}  // namespace masque
