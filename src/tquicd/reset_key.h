// The server's stateless reset key, kept in state_dir across restarts (docs/tquicd.md
// "Reconnecting"). The core derives every reset token as HMAC(key, connection ID) (RFC 9000
// §10.3.2, "Calculating a Stateless Reset Token"): with the same key after a restart, the
// server answers a client's packets for a connection it lost with a stateless reset the
// client accepts, and the client reconnects at once instead of after its idle timeout.
// The file is a secret (it lets its holder end any of the server's connections, §21.11): mode
// 0600 in the 0700 state directory. No I/O here: the daemon reads and writes the file.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "crypto/reset_token.h"

namespace bond {

using ResetKey = std::array<uint8_t, quic::kResetKeySize>;

// "state_dir/reset_key".
std::string reset_key_path(const std::string& state_dir);
// One line: "tquicd-reset-key 1 " and 64 hex digits.
std::string format_reset_key(const ResetKey& key);
// The key from the file's text; nullopt when the text is anything but format_reset_key's
// output (a trailing newline allowed), or the key is all zeros (the core's "pick one").
std::optional<ResetKey> parse_reset_key(std::string_view text);

}  // namespace bond
