// Internal definition of TlsContext: the GnuTLS objects one endpoint's sessions share.
// Only src/tls includes this header; everyone else sees the opaque type of tls_config.h.
#pragma once

#include <gnutls/gnutls.h>

#include <array>
#include <cstdio>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "tls/tls_config.h"

namespace quic {

// Distinct 0-RTT ClientHellos remembered for replay detection (RFC 8446 §8.2). When full and
// nothing has expired, new 0-RTT attempts are refused (1-RTT still works): safe, not unbounded.
inline constexpr size_t kMaxAntiReplayEntries = 65536;
// How long a ClientHello is remembered and how far the client's ticket age may drift.
inline constexpr unsigned kAntiReplayWindowMs = 10000;

class TlsContext {
 public:
  TlsContext() = default;
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;
  ~TlsContext();

  const TlsConfig& config() const { return config_; }
  gnutls_certificate_credentials_t credentials() const { return creds_; }
  gnutls_priority_t priority() const { return priority_; }
  gnutls_anti_replay_t anti_replay() const { return anti_replay_; }
  const std::vector<gnutls_datum_t>& alpn_datums() const { return alpn_datums_; }
  // Session ticket key of a server: the process-wide one, or this context's own when the
  // config injects randomness. nullptr when tickets are off.
  const gnutls_datum_t* ticket_key() const { return ticket_key_; }
  // True when peer verification includes a chain check against trust anchors (not just a pin
  // or insecure mode).
  bool verifies_chain() const { return verifies_chain_; }

  // NSS key log line "LABEL <client random hex> <secret hex>"; no-op without a keylog file.
  void write_keylog(const char* label, const uint8_t* client_random, size_t random_len,
                    const uint8_t* secret, size_t secret_len) const;
  bool has_keylog() const { return keylog_ != nullptr; }

  // gnutls_db_add_func for the anti-replay context: GNUTLS_E_DB_ENTRY_EXISTS on a replay.
  static int anti_replay_add(void* ptr, time_t exp_time, const gnutls_datum_t* key,
                             const gnutls_datum_t* data);

 private:
  friend Result<std::shared_ptr<const TlsContext>> make_tls_context(const TlsConfig& config);
  Status init_ticket_key();  // server with tickets: process-wide or own key (ticket_key())

  TlsConfig config_;
  gnutls_certificate_credentials_t creds_ = nullptr;
  gnutls_priority_t priority_ = nullptr;
  gnutls_anti_replay_t anti_replay_ = nullptr;
  const gnutls_datum_t* ticket_key_ = nullptr;
  std::array<uint8_t, 64> own_ticket_key_{};  // GnuTLS's TICKET_MASTER_KEY_SIZE
  gnutls_datum_t own_ticket_datum_{};
  bool verifies_chain_ = false;
  std::vector<gnutls_datum_t> alpn_datums_;  // point into config_.alpn
  FILE* keylog_ = nullptr;
  mutable std::mutex keylog_mu_;
  mutable std::mutex replay_mu_;
  mutable std::unordered_map<std::string, time_t> replay_seen_;  // key -> expiry
};

// The process-wide session ticket encryption key (RFC 8446 §4.6.1), generated on first use.
const gnutls_datum_t* tls_ticket_key();

// GnuTLS 3.7.9 has no per-session clock: it reads a process-wide one. The first context with
// an injected clock installs process-wide functions that answer with the clock of the context
// whose scope is active on the calling thread, and with the system clock otherwise. Every call
// into GnuTLS on behalf of a context's session runs inside such a scope.
class TlsClockScope {
 public:
  explicit TlsClockScope(const TlsContext& ctx);
  ~TlsClockScope();
  TlsClockScope(const TlsClockScope&) = delete;
  TlsClockScope& operator=(const TlsClockScope&) = delete;

 private:
  const TlsClock* prev_;
};

}  // namespace quic
