#include "tquicd/address_store.h"

#include <arpa/inet.h>

#include "tquicd/tokens.h"

namespace bond {

namespace {

constexpr std::string_view kHeader = "tquicd-addresses 1";

// The canonical text of an IPv4 or IPv6 address, or "" when `text` is neither.
std::string canonical_address(std::string_view text) {
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return {};
  std::string s(text);
  unsigned char raw[16];
  char out[INET6_ADDRSTRLEN] = {};
  int family = s.find(':') == std::string::npos ? AF_INET : AF_INET6;
  if (inet_pton(family, s.c_str(), raw) != 1) return {};
  if (inet_ntop(family, raw, out, sizeof out) == nullptr) return {};
  return out;
}

}  // namespace

std::expected<std::vector<StoredAddress>, std::string> parse_address_state(std::string_view text) {
  if (text.size() > kMaxAddressStateBytes) return std::unexpected("larger than 8 MiB");
  std::vector<StoredAddress> out;
  size_t number = 0;
  for (size_t pos = 0; pos < text.size();) {
    size_t end = text.find('\n', pos);
    std::string where = "line " + std::to_string(++number) + ": ";
    if (end == std::string_view::npos) return std::unexpected(where + "no newline");
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (number == 1) {
      if (line != kHeader) return std::unexpected(where + "not a tquicd address file");
      continue;
    }
    if (out.size() == kMaxStoredAddresses) return std::unexpected(where + "too many addresses");
    if (!line.starts_with("client ")) return std::unexpected(where + "expected 'client NAME ADDRESS'");
    line.remove_prefix(7);
    size_t gap = line.find(' ');
    if (gap == std::string_view::npos) return std::unexpected(where + "expected 'client NAME ADDRESS'");
    std::string_view name = line.substr(0, gap);
    if (name.empty() || name.size() > kMaxClientNameLength ||
        name.find_first_not_of(kClientNameChars) != std::string_view::npos) {
      return std::unexpected(where + "bad client name");
    }
    std::string address = canonical_address(line.substr(gap + 1));
    if (address.empty()) return std::unexpected(where + "bad address");
    out.push_back({std::string(name), std::move(address)});
  }
  if (number == 0) return std::unexpected("line 1: empty file");
  return out;
}

std::string format_address_state(const std::vector<StoredAddress>& entries) {
  std::string out(kHeader);
  out += '\n';
  for (const StoredAddress& e : entries) out += "client " + e.client + " " + e.address + "\n";
  return out;
}

std::string address_state_path(const std::string& state_dir) {
  return state_dir + "/addresses";
}

}  // namespace bond
