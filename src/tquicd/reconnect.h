// The client's reconnection (docs/tquicd.md "Reconnecting"): when the tunnel's connection
// ends for any reason but our own shutdown or a definitive refusal, the client keeps its TUN
// device, addresses and routes and connects again. Attempts follow an exponential backoff:
// the first at once, then 1 s, 2 s, 4 s ... capped at kReconnectMaxDelay, each shortened by
// up to kReconnectJitter so that a site's routers do not all return in the same instant after
// a server restart; a connection that lived longer than kReconnectStableAfter starts the
// schedule over. No I/O, no clock: time and the jitter's random numbers are passed in.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string>

#include "common/time.h"

namespace bond {

inline constexpr quic::Duration kReconnectFirstDelay = std::chrono::seconds(1);
inline constexpr quic::Duration kReconnectMaxDelay = std::chrono::seconds(30);
inline constexpr quic::Duration kReconnectStableAfter = std::chrono::seconds(60);
// Each delay is drawn from [delay * (1 - kReconnectJitter), delay]: never past the cap.
inline constexpr double kReconnectJitter = 0.2;
// One attempt (a handshake race over the links that are up) is given up after this long
// without a tunnel: a server that is still down answers nothing, and waiting on QUIC's own
// handshake timeout (the idle timeout, 30 s) would hold the next attempt back.
inline constexpr quic::Duration kReconnectAttemptTimeout = std::chrono::seconds(5);
// Bytes of a disconnection's reason kept for status (the event bus cuts its own copy).
inline constexpr size_t kMaxReconnectReason = 256;

// The wait before attempt `attempt` (1 = the first after a disconnection: at once). `unit` is
// a random number in [0, 1) that picks the jitter; values outside are clamped.
quic::Duration reconnect_delay(uint64_t attempt, double unit);

// Whether a CONNECT-IP answer is a definitive refusal, after which the client exits (with
// the reason) instead of retrying: 4xx (a bad token, a wrong URL) but 408 and 429, which
// invite a retry. 5xx and everything that is not an HTTP answer are retried.
bool definitive_refusal(int http_status);

// Where the client stands between connections, for status and events.
class ReconnectSchedule {
 public:
  explicit ReconnectSchedule(uint64_t seed) : rng_(static_cast<uint32_t>(seed)) {}

  // The tunnel came up at `now`. Returns the time it was down when this is a reconnection
  // (not for the first connection, whose failed attempts count but make no outage).
  std::optional<quic::Duration> on_connected(quic::Instant now);
  // The tunnel's connection ended at `now` (`reason` for status, cut at kMaxReconnectReason:
  // it may hold the server's close reason phrase). The next attempt is due at once, unless
  // attempts failed since the last connection that lived longer than kReconnectStableAfter:
  // then the backoff carries on from there.
  void on_disconnected(quic::Instant now, std::string reason);
  // An attempt ended without a tunnel: the next one is due after the backoff.
  void on_attempt_failed(quic::Instant now);
  // An attempt starts now (next_attempt() has come).
  void on_attempt_started() { waiting_ = false; }

  bool reconnecting() const { return down_since_.has_value(); }
  // When the next attempt is due; kNever while one runs or the tunnel is up.
  quic::Instant next_attempt() const { return waiting_ ? next_ : quic::kNever; }
  // The attempt running or due next (1, 2, ...), 0 while connected.
  uint64_t attempt() const { return attempt_; }
  uint64_t reconnects() const { return reconnects_; }
  uint64_t disconnects() const { return disconnects_; }
  // While reconnecting: when the connection was lost.
  quic::Instant down_since() const { return down_since_.value_or(quic::Instant{}); }
  quic::Duration last_downtime() const { return last_downtime_; }
  const std::string& last_reason() const { return reason_; }

 private:
  void schedule(quic::Instant now);

  std::minstd_rand rng_;
  std::optional<quic::Instant> up_since_, down_since_;
  quic::Instant next_{};
  bool waiting_ = false;
  uint64_t attempt_ = 1;   // within this outage (the first connection's start is one)
  uint64_t failures_ = 0;  // failed attempts since the schedule last started over
  uint64_t reconnects_ = 0, disconnects_ = 0;
  quic::Duration last_downtime_{0};
  std::string reason_;
};

}  // namespace bond
