#include "tls/tls_context.h"

#include <dlfcn.h>
#include <gnutls/crypto.h>

#include <chrono>
#include <ctime>
#include <mutex>
#include <string_view>

namespace quic {
namespace {

std::string gnutls_reason(const std::string& what, int rc) {
  return what + ": " + gnutls_strerror(rc);
}

// RFC 9001 §8.4 forbids the middlebox compatibility mode (CCS, legacy_session_id), QUIC needs
// TLS 1.3 only, and x25519 first keeps the ClientHello to one cheap key share without HRR.
// CCM suites are left out because the packet-protection layer does not implement them.
constexpr const char* kPriorityDefault =
    "NORMAL:%DISABLE_TLS13_COMPAT_MODE:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-128-GCM:"
    "+AES-256-GCM:+CHACHA20-POLY1305:-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:"
    "+GROUP-SECP384R1:+GROUP-SECP521R1";
constexpr const char* kPriorityChaCha =
    "NORMAL:%DISABLE_TLS13_COMPAT_MODE:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+CHACHA20-POLY1305:"
    "-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1:+GROUP-SECP521R1";

gnutls_datum_t datum_of(const std::string& s) {
  return gnutls_datum_t{reinterpret_cast<unsigned char*>(const_cast<char*>(s.data())),
                        static_cast<unsigned>(s.size())};
}

// Our own chain and key: mandatory for a server, optional for a client (client certificate).
Status load_own_credentials(gnutls_certificate_credentials_t creds, const TlsConfig& c) {
  int rc;
  if (!c.cert_pem.empty() || !c.key_pem.empty()) {
    gnutls_datum_t cert = datum_of(c.cert_pem), key = datum_of(c.key_pem);
    rc = gnutls_certificate_set_x509_key_mem2(creds, &cert, &key, GNUTLS_X509_FMT_PEM, nullptr, 0);
    if (rc < 0) return fail(err::kInternalError, gnutls_reason("bad in-memory cert/key PEM", rc));
    return {};
  }
  if (!c.server && c.cert_file.empty() && c.key_file.empty()) return {};  // no client cert
  if (c.cert_file.empty() || c.key_file.empty()) {
    return fail(err::kInternalError, c.server
                                         ? "server needs cert_file+key_file or cert_pem+key_pem"
                                         : "client certificate needs both cert_file and key_file");
  }
  rc = gnutls_certificate_set_x509_key_file2(creds, c.cert_file.c_str(), c.key_file.c_str(),
                                             GNUTLS_X509_FMT_PEM, nullptr, 0);
  if (rc < 0) {
    return fail(err::kInternalError,
                gnutls_reason("cannot load " + c.cert_file + " / " + c.key_file, rc));
  }
  return {};
}

// Trust anchors for the peer's certificate. Returns whether sessions must verify a chain.
Result<bool> load_peer_trust(gnutls_certificate_credentials_t creds, const TlsConfig& c) {
  if (c.insecure_skip_verify) return false;
  int rc;
  if (!c.ca_pem.empty()) {
    gnutls_datum_t ca = datum_of(c.ca_pem);
    rc = gnutls_certificate_set_x509_trust_mem(creds, &ca, GNUTLS_X509_FMT_PEM);
    if (rc <= 0) return fail(err::kInternalError, gnutls_reason("bad ca_pem", rc < 0 ? rc : -1));
    return true;
  }
  if (!c.ca_file.empty()) {
    rc = gnutls_certificate_set_x509_trust_file(creds, c.ca_file.c_str(), GNUTLS_X509_FMT_PEM);
    if (rc <= 0) {
      return fail(err::kInternalError, rc < 0
                                           ? gnutls_reason("cannot load CA file " + c.ca_file, rc)
                                           : "CA file " + c.ca_file + " holds no certificate");
    }
    return true;
  }
  if (c.pinned_sha256) return false;  // the pin alone decides
  if (c.server) {
    // The public web PKI says nothing about who may connect: client certificates need an
    // explicit anchor.
    if (c.client_auth != ClientAuth::kNone) {
      return fail(err::kInternalError,
                  "client_auth needs ca_file, ca_pem, pinned_sha256 or insecure_skip_verify");
    }
    return false;
  }
  rc = gnutls_certificate_set_x509_system_trust(creds);  // count loaded; only <0 is an error
  if (rc < 0) return fail(err::kInternalError, gnutls_reason("cannot load system trust", rc));
  return true;
}

// The clock of the scope active on this thread (see TlsClockScope); null = system clock.
thread_local const TlsClock* t_clock = nullptr;

time_t scoped_time(time_t* out) {
  time_t now =
      t_clock
          ? static_cast<time_t>(
                std::chrono::floor<std::chrono::seconds>((*t_clock)().time_since_epoch()).count())
          : std::time(nullptr);
  if (out) *out = now;
  return now;
}

void scoped_gettime(struct timespec* ts) {
  if (!t_clock) {
    clock_gettime(CLOCK_REALTIME, ts);  // GnuTLS's own default
    return;
  }
  auto since = (*t_clock)().time_since_epoch();
  auto sec = std::chrono::floor<std::chrono::seconds>(since);
  ts->tv_sec = static_cast<time_t>(sec.count());
  ts->tv_nsec = static_cast<long>(std::chrono::nanoseconds(since - sec).count());
}

// GnuTLS 3.7.9 reads two clocks: gnutls_time (seconds; certificate validity, session expiry,
// ticket key rotation) and gnutls_gettime (CLOCK_REALTIME; ticket creation and age,
// anti-replay), and compares them with each other, so both must follow the injected clock.
// Only the first has a public setter; the second is settable through a private but exported
// symbol, looked up at run time. Installed once, never removed: outside a scope the hooks
// answer exactly what GnuTLS's defaults would.
bool install_clock_hooks() {
  using SetGettime = void (*)(void (*)(struct timespec*));
  static const bool installed = [] {
    auto set_gettime =
        reinterpret_cast<SetGettime>(dlsym(RTLD_DEFAULT, "_gnutls_global_set_gettime_function"));
    if (!set_gettime) return false;
    gnutls_global_set_time_function(&scoped_time);
    set_gettime(&scoped_gettime);
    return true;
  }();
  return installed;
}

}  // namespace

TlsContext::~TlsContext() {
  if (anti_replay_) gnutls_anti_replay_deinit(anti_replay_);
  if (priority_) gnutls_priority_deinit(priority_);
  if (creds_) gnutls_certificate_free_credentials(creds_);
  if (keylog_) std::fclose(keylog_);
}

void TlsContext::write_keylog(const char* label, const uint8_t* client_random, size_t random_len,
                              const uint8_t* secret, size_t secret_len) const {
  if (!keylog_) return;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string line(label);
  line += ' ';
  for (size_t i = 0; i < random_len; ++i) {
    line += kHex[client_random[i] >> 4];
    line += kHex[client_random[i] & 15];
  }
  line += ' ';
  for (size_t i = 0; i < secret_len; ++i) {
    line += kHex[secret[i] >> 4];
    line += kHex[secret[i] & 15];
  }
  line += '\n';
  std::lock_guard lock(keylog_mu_);
  std::fwrite(line.data(), 1, line.size(), keylog_);
  std::fflush(keylog_);
}

int TlsContext::anti_replay_add(void* ptr, time_t exp_time, const gnutls_datum_t* key,
                                const gnutls_datum_t*) {
  auto* self = static_cast<const TlsContext*>(ptr);
  std::string k(reinterpret_cast<const char*>(key->data), key->size);
  std::lock_guard lock(self->replay_mu_);
  auto& seen = self->replay_seen_;
  // GnuTLS passes now + window; entries whose expiry is before "now" can never match again.
  const time_t now = exp_time - static_cast<time_t>(kAntiReplayWindowMs / 1000);
  if (auto it = seen.find(k); it != seen.end()) {
    if (it->second >= now) return GNUTLS_E_DB_ENTRY_EXISTS;
    seen.erase(it);
  }
  if (seen.size() >= kMaxAntiReplayEntries) {
    std::erase_if(seen, [now](const auto& e) { return e.second < now; });
    if (seen.size() >= kMaxAntiReplayEntries) return GNUTLS_E_DB_ERROR;  // refuse 0-RTT
  }
  seen.emplace(std::move(k), exp_time);
  return 0;
}

const gnutls_datum_t* tls_ticket_key() {
  // One key per process so any session of any server context can decrypt the tickets of
  // another; never freed (it lives as long as the process).
  static gnutls_datum_t key{};
  static std::once_flag once;
  std::call_once(once, [] {
    if (gnutls_session_ticket_key_generate(&key) < 0) key = {};
  });
  return key.data ? &key : nullptr;
}

TlsClockScope::TlsClockScope(const TlsContext& ctx) : prev_(t_clock) {
  t_clock = ctx.config().clock ? &ctx.config().clock : nullptr;
}

TlsClockScope::~TlsClockScope() {
  t_clock = prev_;
}

Status TlsContext::init_ticket_key() {
  const TlsConfig& c = config_;
  // An own key: from injected randomness (reproducible simulations; tickets resume only at
  // contexts built from the same bytes), or for client authentication, so that a ticket issued
  // by a context that never checked a client certificate cannot skip the check here.
  if (c.random || c.client_auth != ClientAuth::kNone) {
    MutBytes key(own_ticket_key_);
    if (c.random) {
      c.random(key);
    } else if (gnutls_rnd(GNUTLS_RND_KEY, key.data(), key.size()) < 0) {
      return fail(err::kInternalError, "cannot generate the session ticket key");
    }
    own_ticket_datum_ = {key.data(), static_cast<unsigned>(key.size())};
    ticket_key_ = &own_ticket_datum_;
    return {};
  }
  ticket_key_ = tls_ticket_key();
  if (!ticket_key_) return fail(err::kInternalError, "cannot generate the session ticket key");
  return {};
}

Result<std::shared_ptr<const TlsContext>> make_tls_context(const TlsConfig& config) {
  auto ctx = std::make_shared<TlsContext>();
  ctx->config_ = config;
  const TlsConfig& c = ctx->config_;

  if (c.alpn.empty()) {
    return fail(err::kInternalError, "ALPN list is empty (RFC 9001 §8.1 requires ALPN)");
  }
  for (const auto& a : c.alpn) {
    if (a.empty() || a.size() > 255) {
      return fail(err::kInternalError, "ALPN protocol names must be 1..255 bytes");
    }
    ctx->alpn_datums_.push_back(datum_of(a));
  }
  if (c.clock && !install_clock_hooks()) {
    return fail(err::kInternalError,
                "this GnuTLS build cannot take an injected clock (no "
                "_gnutls_global_set_gettime_function)");
  }
  TlsClockScope ctx_time(*ctx);  // anti-replay start time below

  int rc = gnutls_certificate_allocate_credentials(&ctx->creds_);
  if (rc < 0) return fail(err::kInternalError, gnutls_reason("credentials", rc));
  if (auto s = load_own_credentials(ctx->creds_, c); !s) return std::unexpected(s.error());
  auto chain = load_peer_trust(ctx->creds_, c);
  if (!chain) return std::unexpected(chain.error());
  ctx->verifies_chain_ = *chain;
  if (!c.server && c.server_name.empty() && ctx->verifies_chain_) {
    return fail(err::kInternalError, "client needs server_name to verify the certificate");
  }
  if (c.server && c.enable_early_data) {
    if (auto st = ctx->init_ticket_key(); !st) return std::unexpected(st.error());
  }

  const char* err_pos = nullptr;
  rc = gnutls_priority_init(&ctx->priority_, c.chacha20_only ? kPriorityChaCha : kPriorityDefault,
                            &err_pos);
  if (rc < 0) {
    return fail(
        err::kInternalError,
        gnutls_reason(std::string("priority string rejected at ") + (err_pos ? err_pos : "?"), rc));
  }

  if (c.server && c.enable_early_data) {
    // Created now, so tickets issued before this context never get 0-RTT here.
    rc = gnutls_anti_replay_init(&ctx->anti_replay_);
    if (rc < 0) return fail(err::kInternalError, gnutls_reason("anti-replay", rc));
    gnutls_anti_replay_set_window(ctx->anti_replay_, kAntiReplayWindowMs);
    gnutls_anti_replay_set_add_function(ctx->anti_replay_, &TlsContext::anti_replay_add);
    gnutls_anti_replay_set_ptr(ctx->anti_replay_, ctx.get());
  }

  if (!c.keylog_file.empty()) {
    ctx->keylog_ = std::fopen(c.keylog_file.c_str(), "a");
    if (!ctx->keylog_) {
      return fail(err::kInternalError, "cannot open keylog file " + c.keylog_file);
    }
  }
  return std::shared_ptr<const TlsContext>(std::move(ctx));
}

}  // namespace quic
