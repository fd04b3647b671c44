// Name resolution off the event loop for the MASQUE proxy: a lookup never blocks the loop, so a
// slow or silent DNS server stalls only the tunnel that waits for it. The Resolver interface is
// what the CONNECT-UDP proxy uses (tests inject their own); AresResolver is c-ares (Debian's
// libc-ares-dev) driven by io::EndpointDriver: its sockets are registered descriptors and its
// timeouts are loop timers, so no thread is involved.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/address.h"
#include "common/error.h"
#include "common/time.h"

namespace io {
class EndpointDriver;
}

namespace masque {

struct ResolveResult {
  enum class Status : uint8_t {
    kOk,
    kNotFound,  // NXDOMAIN or no address of either family (dns_error)
    kTimeout,   // no answer in time (dns_timeout)
    kError,     // SERVFAIL, REFUSED, a malformed answer ... (dns_error)
  };
  Status status = Status::kError;
  std::vector<quic::SocketAddress> addresses;  // kOk: at least one; ports are 0
  std::string rcode;   // the DNS RCODE name when one is known ("NXDOMAIN", "SERVFAIL")
  std::string detail;  // for Proxy-Status details and logs
};

class Resolver {
 public:
  using Callback = std::function<void(ResolveResult)>;
  using QueryId = uint64_t;
  virtual ~Resolver() = default;
  // Starts a lookup; `done` runs later on the loop thread (never inside this call), exactly
  // once unless cancelled. nullopt: refused because max_pending lookups are outstanding.
  virtual std::optional<QueryId> resolve(const std::string& host, Callback done) = 0;
  // The callback will not run. Unknown or finished IDs are ignored.
  virtual void cancel(QueryId id) = 0;
  virtual size_t pending() const = 0;
};

// Bounds: outstanding lookups (each holds a callback and c-ares state); beyond it the proxy
// answers 503 connection_limit_reached.
inline constexpr size_t kDefaultMaxPendingLookups = 256;

struct AresConfig {
  // "IP[:PORT],..." (c-ares server CSV); empty: /etc/resolv.conf.
  std::string servers;
  quic::Duration timeout = std::chrono::milliseconds(2000);  // first try; c-ares doubles it
  int tries = 2;
  size_t max_pending = kDefaultMaxPendingLookups;
};

class AresResolver : public Resolver {
 public:
  static quic::Result<std::unique_ptr<AresResolver>> create(io::EndpointDriver& loop,
                                                            const AresConfig& config);
  ~AresResolver() override;
  std::optional<QueryId> resolve(const std::string& host, Callback done) override;
  void cancel(QueryId id) override;
  size_t pending() const override { return queries_.size(); }

 private:
  struct Impl;
  struct Query {
    Callback done;
    bool finished = false;  // c-ares answered; delivery deferred
  };
  explicit AresResolver(io::EndpointDriver& loop, size_t max_pending);
  void on_answer(QueryId id, ResolveResult r);
  void rearm_timer();

  io::EndpointDriver& loop_;
  size_t max_pending_;
  std::unique_ptr<Impl> impl_;
  std::unordered_map<QueryId, Query> queries_;
  QueryId next_id_ = 1;
  std::optional<uint64_t> timer_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // guards deferred deliveries
};

}  // namespace masque
