// The application the simulator scenarios run, modelled on quic-interop-runner's file
// transfers: the client asks for N bytes on a bidirectional stream ("GET <n>\r\n" + FIN), the
// server answers with n bytes of a fixed pattern and FIN, and the client checks every byte.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "harness/sim_endpoint.h"

namespace harness {

// The response byte at `offset`: a period-251 pattern, so a shifted or reordered byte fails.
inline uint8_t pattern_byte(uint64_t offset) { return static_cast<uint8_t>(offset % 251); }

inline constexpr size_t kMaxRequestBytes = 64;        // server side bound on a request
inline constexpr uint64_t kMaxResponseBytes = 1ull << 34;
// Application error code of the server's RESET_STREAM_AT ("GET <n> RESET <r>" requests).
inline constexpr uint64_t kTransferResetCode = 0x5253;

struct TransferPlan {
  std::vector<uint64_t> sizes;  // one request (stream) per entry
  size_t connections = 1;       // run the whole plan this many times, one connection after another
  size_t max_parallel = 1000;   // streams open at once per connection
  bool resume = false;          // later connections use the previous one's ticket and token
  bool zero_rtt = false;        // with resume: requests go out as 0-RTT when the ticket allows
  // While it returns true, a connection whose requests completed stays open (the application
  // still uses it, e.g. for DATAGRAMs); it is asked again at each activity.
  std::function<bool(Instant)> linger;
  // Set: each response is written whole without FIN, then reset with RESET_STREAM_AT at this
  // reliable size (draft-ietf-quic-reliable-stream-reset); the client checks that at least
  // these bytes arrived intact before the reset (kTransferResetCode).
  std::optional<uint64_t> reset_at;
};

struct ConnectionRecord {
  Instant started{}, handshake_done{}, finished{};
  bool completed = false;
  quic::ConnectionStats stats;
  std::string alpn;
};

class TransferClient final : public App {
 public:
  TransferClient(quic::SocketAddress local, quic::SocketAddress remote, TransferPlan plan);
  void on_activity(quic::Endpoint& endpoint, Instant now) override;

  bool done() const { return done_ || failed_; }
  // Every request of the last connection completed (it may still linger open).
  bool complete() const {
    return records_.size() >= plan_.connections && !records_.empty() && records_.back().completed;
  }
  bool failed() const { return failed_; }
  const std::string& error() const { return error_; }
  uint64_t bytes_received() const { return bytes_received_; }
  const std::vector<ConnectionRecord>& records() const { return records_; }
  // Streams that ended with the server's RESET_STREAM_AT, and the bytes read from them.
  uint64_t streams_reset() const { return streams_reset_; }
  uint64_t reset_stream_bytes() const { return reset_stream_bytes_; }
  // The connection in progress (or the last one), for tests that inspect it.
  quic::Connection* current(quic::Endpoint& endpoint) const;

 private:
  struct StreamState {
    uint64_t expected = 0;
    uint64_t received = 0;
    bool fin = false;
  };
  void fail(std::string why);
  void start_connection(quic::Endpoint& endpoint, Instant now);
  void drive(quic::Connection& c, Instant now);
  bool on_reset(uint64_t id, uint64_t code);

  quic::SocketAddress local_, remote_;
  TransferPlan plan_;
  std::optional<quic::ConnectionHandle> handle_;
  size_t next_request_ = 0, completed_streams_ = 0;
  std::map<uint64_t, StreamState> streams_;
  std::vector<ConnectionRecord> records_;
  uint64_t bytes_received_ = 0;
  uint64_t streams_reset_ = 0, reset_stream_bytes_ = 0;
  bool done_ = false, failed_ = false;
  std::string error_;
  std::vector<uint8_t> buf_;
  quic::ConnectOptions next_options_;  // ticket and token carried to the next connection
};

class TransferServer final : public App {
 public:
  void on_activity(quic::Endpoint& endpoint, Instant now) override;
  // Sees every event of every server connection (before the server acts on it).
  std::function<void(const quic::Event&, Instant)> on_event;
  uint64_t bytes_sent() const { return bytes_sent_; }
  size_t connections_seen() const { return conns_.size(); }
  const std::string& error() const { return error_; }

 private:
  struct Response {
    std::string request;
    bool request_done = false;
    uint64_t size = 0, written = 0;
    std::optional<uint64_t> reset_at;  // "GET <n> RESET <r>"
    bool fin_written = false;
  };
  void drive(quic::Connection& c, std::map<uint64_t, Response>& streams, Instant now);

  std::map<quic::ConnectionHandle, std::map<uint64_t, Response>> conns_;
  uint64_t bytes_sent_ = 0;
  std::string error_;
};

}  // namespace harness
