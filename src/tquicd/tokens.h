// The server's client tokens (server.tokens_file, a secret file): one "NAME TOKEN" per line,
// '#' comments and blank lines allowed. A client presents its token in the CONNECT-IP request;
// the server looks it up here before it creates any tunnel state. The lookup compares the
// presented token with every stored one over a fixed length, so its time depends on neither
// the token's content nor its length nor which entry (if any) matches.
#pragma once

#include <array>
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bond {

inline constexpr size_t kMinTokenLength = 32;   // 32 base64url characters: 192 bits
inline constexpr size_t kMaxTokenLength = 128;
inline constexpr size_t kMaxClientNameLength = 32;
// The characters of a client name (also the key of its stored addresses, address_store.h).
inline constexpr std::string_view kClientNameChars =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.";
inline constexpr size_t kMaxTokens = 4096;
inline constexpr size_t kMaxTokensFileBytes = 1 << 20;

// The client name a verified client certificate carries: the CN of its subject (an RFC 4514
// distinguished name, as GnuTLS prints it: "CN=site-a,O=Example"), when it is a valid client
// name (1-64 of A-Z a-z 0-9 . _ -, the names the tokens file uses); nullopt otherwise (no CN,
// several, escapes or other characters: refused rather than guessed at).
std::optional<std::string> client_name_from_subject(std::string_view dn);

class TokenStore {
 public:
  // Parses the file's text; errors name the line ("line 3: duplicate client name 'x'").
  static std::expected<TokenStore, std::string> parse(std::string_view text);

  // The client name whose token equals `presented`, or nullopt.
  std::optional<std::string> authenticate(std::string_view presented) const;
  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::string name;
    std::array<uint8_t, kMaxTokenLength> token{};  // zero-padded
    size_t length = 0;
  };
  std::vector<Entry> entries_;
};

}  // namespace bond
