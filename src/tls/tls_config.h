// Configuration and shared credentials of the TLS 1.3 handshake adapter (RFC 9001 §4).
//
// A TlsConfig is turned into a TlsContext once (certificates, trust store, priorities, ALPN,
// anti-replay state); every TlsSession of that endpoint shares it read-only.
#pragma once

#include <array>
#include <cstdint>
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"

namespace quic {

// Values equal GnuTLS's gnutls_record_encryption_level_t.
enum class EncryptionLevel : uint8_t { kInitial = 0, kEarly = 1, kHandshake = 2, kApplication = 3 };

// The AEAD of a traffic secret; the PRF hash follows (SHA-384 for AES-256-GCM, else SHA-256).
enum class TlsCipher : uint8_t { kAes128Gcm, kAes256Gcm, kChaCha20Poly1305 };

struct TlsSecret {
  std::array<uint8_t, 48> bytes{};  // large enough for SHA-384
  uint8_t len = 0;
};

struct TlsConfig {  // shared by many sessions; build once
  bool server = false;
  std::vector<std::string> alpn;    // required (RFC 9001 §8.1), e.g. {"h3"} / {"hq-interop"}
  std::string cert_file, key_file;  // server (PEM); or in-memory PEM below
  std::string cert_pem, key_pem;
  std::string ca_file;  // client verification; empty (and ca_pem empty) = system trust store
  std::string ca_pem;   // in-memory alternative to ca_file
  bool insecure_skip_verify = false;  // explicit test mode: accept any server certificate
  std::optional<std::array<uint8_t, 32>> pinned_sha256;  // accept exactly this leaf (DER SHA-256)
  std::string server_name;                               // SNI + verification name (client)
  bool chacha20_only = false;     // offer/accept only TLS_CHACHA20_POLY1305_SHA256
  bool enable_early_data = true;  // 0-RTT and session tickets
  std::string keylog_file;        // "" = GnuTLS's $SSLKEYLOGFILE behaviour; NSS key log format
};

class TlsContext;  // opaque; defined in tls/tls_context.h (GnuTLS handles)

// Builds the shared credentials once; errors name the reason (missing/bad file, bad ALPN ...).
Result<std::shared_ptr<const TlsContext>> make_tls_context(const TlsConfig& config);

// Replaces the clock GnuTLS reads (certificate validity, session expiry, and, through GnuTLS's
// millisecond clock, ticket age, ticket lifetime and the anti-replay window) for the whole
// process; the simulator points it at virtual time. nullptr restores the system clock. Returns
// false when only the seconds clock could be replaced (ticket age then stays on real time).
// Keep the virtual clock near real Unix time: GnuTLS compares tickets' timestamps with it.
bool tls_set_time_function(time_t (*fn)(time_t*));

}  // namespace quic
