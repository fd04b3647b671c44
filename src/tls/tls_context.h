// Internal definition of TlsContext: the GnuTLS objects one endpoint's sessions share.
// Only src/tls includes this header; everyone else sees the opaque type of tls_config.h.
#pragma once

#include <gnutls/gnutls.h>

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

  // NSS key log line "LABEL <client random hex> <secret hex>"; no-op without a keylog file.
  void write_keylog(const char* label, const uint8_t* client_random, size_t random_len,
                    const uint8_t* secret, size_t secret_len) const;
  bool has_keylog() const { return keylog_ != nullptr; }

  // gnutls_db_add_func for the anti-replay context: GNUTLS_E_DB_ENTRY_EXISTS on a replay.
  static int anti_replay_add(void* ptr, time_t exp_time, const gnutls_datum_t* key,
                             const gnutls_datum_t* data);

 private:
  friend Result<std::shared_ptr<const TlsContext>> make_tls_context(const TlsConfig& config);

  TlsConfig config_;
  gnutls_certificate_credentials_t creds_ = nullptr;
  gnutls_priority_t priority_ = nullptr;
  gnutls_anti_replay_t anti_replay_ = nullptr;
  std::vector<gnutls_datum_t> alpn_datums_;  // point into config_.alpn
  FILE* keylog_ = nullptr;
  mutable std::mutex keylog_mu_;
  mutable std::mutex replay_mu_;
  mutable std::unordered_map<std::string, time_t> replay_seen_;  // key -> expiry
};

// The process-wide session ticket encryption key (RFC 8446 §4.6.1), generated on first use.
const gnutls_datum_t* tls_ticket_key();

}  // namespace quic
