// Configuration and shared credentials of the TLS 1.3 handshake adapter (RFC 9001 §4).
//
// A TlsConfig is turned into a TlsContext once (certificates, trust store, priorities, ALPN,
// anti-replay state); every TlsSession of that endpoint shares it read-only.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "wire/varint.h"

namespace quic {

// Values equal GnuTLS's gnutls_record_encryption_level_t.
enum class EncryptionLevel : uint8_t { kInitial = 0, kEarly = 1, kHandshake = 2, kApplication = 3 };

// The AEAD of a traffic secret; the PRF hash follows (SHA-384 for AES-256-GCM, else SHA-256).
enum class TlsCipher : uint8_t { kAes128Gcm, kAes256Gcm, kChaCha20Poly1305 };

struct TlsSecret {
  std::array<uint8_t, 48> bytes{};  // large enough for SHA-384
  uint8_t len = 0;
};

// Whether a server asks for a client certificate (RFC 8446 §4.3.2). kRequest verifies a
// certificate the client sends and accepts none; kRequire fails a client without one with
// certificate_required (0x100 + 116).
enum class ClientAuth : uint8_t { kNone, kRequest, kRequire };

// Unix wall-clock time as GnuTLS needs it: certificate validity, ticket lifetime and age, the
// anti-replay window. Not the core's monotonic Instant (arbitrary epoch).
using TlsClock = std::function<std::chrono::system_clock::time_point()>;
// Fills the span with random bytes; e.g. [&r](MutBytes b) { r.fill(b); } for a quic::Random.
using TlsRandom = std::function<void(MutBytes)>;

struct TlsConfig {  // shared by many sessions; build once
  bool server = false;
  std::vector<std::string> alpn;  // required (RFC 9001 §8.1), e.g. {"h3"} / {"hq-interop"}
  // Our certificate chain (leaf first) and key, from files or in-memory PEM (PEM wins).
  // Required on a server; optional on a client, which then answers a CertificateRequest with it.
  std::string cert_file, key_file;
  std::string cert_pem, key_pem;
  // Verification of the peer's certificate: on a client, the server's; on a server, a client's
  // (only with client_auth, which then needs ca_* or pinned_sha256 or insecure_skip_verify).
  std::string ca_file;  // trust anchors (PEM); a client with neither uses the system store
  std::string ca_pem;   // in-memory alternative to ca_file
  bool insecure_skip_verify = false;  // explicit test mode: accept any peer certificate
  // Accept only this leaf (DER SHA-256). Alone it replaces chain verification; with ca_* both
  // must pass.
  std::optional<std::array<uint8_t, 32>> pinned_sha256;
  std::string server_name;                     // SNI + verification name (client)
  ClientAuth client_auth = ClientAuth::kNone;  // server
  bool chacha20_only = false;     // offer/accept only TLS_CHACHA20_POLY1305_SHA256
  bool enable_early_data = true;  // 0-RTT and session tickets
  std::string keylog_file;        // "" = GnuTLS's $SSLKEYLOGFILE behaviour; NSS key log format
  // This context's clock; empty = the system clock. Several contexts in one process may use
  // different clocks (GnuTLS reads it only inside this context's calls, see docs/tls.md). Keep it
  // near real Unix time when tickets are shared with contexts on other clocks.
  TlsClock clock;
  // Randomness for what the adapter generates itself (the server's session ticket key); empty
  // = GnuTLS's RNG and one ticket key shared by every such context of the process. GnuTLS's
  // own handshake randomness (randoms, key shares) always comes from its RNG.
  TlsRandom random;
};

class TlsContext;  // opaque; defined in tls/tls_context.h (GnuTLS handles)

// Builds the shared credentials once; errors name the reason (missing/bad file, bad ALPN ...).
Result<std::shared_ptr<const TlsContext>> make_tls_context(const TlsConfig& config);

}  // namespace quic
