#include "tquicd/tokens.h"

#include <algorithm>
#include <unordered_map>

namespace bond {

namespace {

constexpr std::string_view kTokenChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-+/=";

std::string_view trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

}  // namespace

std::expected<TokenStore, std::string> TokenStore::parse(std::string_view text) {
  if (text.size() > kMaxTokensFileBytes) return std::unexpected("tokens file larger than 1 MiB");
  TokenStore store;
  std::unordered_map<std::string_view, std::string_view> names, tokens;  // views into `text`
  size_t number = 0;
  for (size_t pos = 0; pos < text.size();) {
    size_t end = std::min(text.find('\n', pos), text.size());
    std::string_view line = trim(text.substr(pos, end - pos));
    pos = end + 1;
    std::string where = "line " + std::to_string(++number) + ": ";
    if (line.empty() || line.front() == '#') continue;
    size_t gap = line.find_first_of(" \t");
    if (gap == std::string_view::npos) return std::unexpected(where + "expected 'NAME TOKEN'");
    std::string_view name = line.substr(0, gap), token = trim(line.substr(gap));
    if (name.size() > kMaxClientNameLength || name.find_first_not_of(kClientNameChars) != std::string_view::npos) {
      return std::unexpected(where + "bad client name (1-32 of A-Z a-z 0-9 _ - .)");
    }
    if (token.size() < kMinTokenLength || token.size() > kMaxTokenLength ||
        token.find_first_not_of(kTokenChars) != std::string_view::npos) {
      return std::unexpected(where + "bad token for '" + std::string(name) + "' (32-128 base64 characters)");
    }
    if (names.contains(name)) return std::unexpected(where + "duplicate client name '" + std::string(name) + "'");
    if (auto it = tokens.find(token); it != tokens.end()) {
      return std::unexpected(where + "token of '" + std::string(name) + "' already used by '" +
                             std::string(it->second) + "'");
    }
    if (store.entries_.size() == kMaxTokens) return std::unexpected(where + "more than 4096 tokens");
    names.emplace(name, token);
    tokens.emplace(token, name);
    Entry e{std::string(name), {}, token.size()};
    std::copy(token.begin(), token.end(), e.token.begin());
    store.entries_.push_back(std::move(e));
  }
  return store;
}

std::optional<std::string> TokenStore::authenticate(std::string_view presented) const {
  // Over-long tokens are cut to the fixed length and then cannot match (lengths differ).
  std::array<uint8_t, kMaxTokenLength> padded{};
  size_t n = std::min(presented.size(), kMaxTokenLength);
  std::copy_n(presented.begin(), n, padded.begin());
  size_t match = entries_.size();
  for (size_t i = 0; i < entries_.size(); ++i) {
    uint32_t diff = entries_[i].length == presented.size() ? 0 : 1;
    for (size_t j = 0; j < kMaxTokenLength; ++j) diff |= entries_[i].token[j] ^ padded[j];
    // Branch-free select of the matching index (tokens are unique, at most one matches).
    size_t is_match = static_cast<size_t>(0) - static_cast<size_t>(diff == 0);
    match = (i & is_match) | (match & ~is_match);
  }
  if (match == entries_.size()) return std::nullopt;
  return entries_[match].name;
}

std::optional<std::string> client_name_from_subject(std::string_view dn) {
  std::optional<std::string> cn;
  while (!dn.empty()) {
    size_t comma = dn.find(',');
    std::string_view rdn = dn.substr(0, comma);
    dn = comma == std::string_view::npos ? std::string_view{} : dn.substr(comma + 1);
    if (rdn.find('\\') != std::string_view::npos) return std::nullopt;  // escaped: not ours
    if (!rdn.starts_with("CN=")) continue;
    if (cn) return std::nullopt;  // several CNs: which one is meant is not ours to guess
    cn = std::string(rdn.substr(3));
  }
  if (!cn || cn->empty() || cn->size() > 64) return std::nullopt;
  for (char ch : *cn) {
    bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              ch == '.' || ch == '_' || ch == '-';
    if (!ok) return std::nullopt;
  }
  return cn;
}

}  // namespace bond
