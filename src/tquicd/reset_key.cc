#include "tquicd/reset_key.h"

#include <algorithm>

namespace bond {

namespace {

constexpr std::string_view kMagic = "tquicd-reset-key 1 ";
constexpr char kHex[] = "0123456789abcdef";

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

std::string reset_key_path(const std::string& state_dir) {
  return state_dir + "/reset_key";
}

std::string format_reset_key(const ResetKey& key) {
  std::string out(kMagic);
  for (uint8_t b : key) {
    out += kHex[b >> 4];
    out += kHex[b & 0xf];
  }
  out += '\n';
  return out;
}

std::optional<ResetKey> parse_reset_key(std::string_view text) {
  if (text.ends_with('\n')) text.remove_suffix(1);
  if (!text.starts_with(kMagic)) return std::nullopt;
  text.remove_prefix(kMagic.size());
  ResetKey key{};
  if (text.size() != key.size() * 2) return std::nullopt;
  for (size_t i = 0; i < key.size(); ++i) {
    int hi = hex_value(text[2 * i]), lo = hex_value(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    key[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  if (std::all_of(key.begin(), key.end(), [](uint8_t b) { return b == 0; })) return std::nullopt;
  return key;
}

}  // namespace bond
