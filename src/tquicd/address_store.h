// The server's client addresses across restarts (docs/tquicd.md "Stable client addresses"):
// which address each client name (from the tokens file) held, kept in
// daemon.state_dir/addresses and handed to the address pools at start, so a client gets the
// same tunnel address after a server restart even when other clients have come and gone.
// Text format: "tquicd-addresses 1", then one "client NAME ADDRESS" line per address.
#pragma once

#include <expected>
#include <string>
#include <string_view>
#include <vector>

namespace bond {

// Lines accepted in the file (the pools remember at most this many clients too).
inline constexpr size_t kMaxStoredAddresses = 65536;
inline constexpr size_t kMaxAddressStateBytes = 8 << 20;

struct StoredAddress {
  std::string client;   // 1-32 of A-Z a-z 0-9 _ - . (the tokens file's names)
  std::string address;  // canonical text of an IPv4 or IPv6 address
  friend bool operator==(const StoredAddress&, const StoredAddress&) = default;
};

// Parses the file; an error names the line, and nothing of a bad file is used.
std::expected<std::vector<StoredAddress>, std::string> parse_address_state(std::string_view text);
std::string format_address_state(const std::vector<StoredAddress>& entries);
// Where the file lives: daemon.state_dir + "/addresses".
std::string address_state_path(const std::string& state_dir);

}  // namespace bond
