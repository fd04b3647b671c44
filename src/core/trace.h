// The connection's tracing hook (docs/design.md plug-in `TraceSink`). The core reports
// what happens; a sink turns it into qlog (obs/qlog_writer.h), metrics or logs. Sinks must not
// call back into the connection. Tracing costs nothing when no sink is installed.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include "common/error.h"
#include "common/time.h"
#include "wire/frame_rules.h"
#include "wire/varint.h"

namespace quic {

struct TransportParameters;
struct ConnectionId;

struct PacketTrace {
  PacketKind kind;
  uint64_t packet_number = 0;
  size_t size = 0;        // bytes on the wire, header and tag included
  uint64_t path_id = 0;
  bool key_phase = false;
  Bytes frames;           // the plaintext payload: frames, decodable with wire/frame.h
};

struct RecoveryMetrics {
  Duration smoothed_rtt{0}, min_rtt{0}, latest_rtt{0}, rtt_variance{0};
  uint64_t congestion_window = 0, bytes_in_flight = 0, pacing_rate_bps = 0;
  uint32_t pto_count = 0;
  uint16_t mtu = 0;
  friend bool operator==(const RecoveryMetrics&, const RecoveryMetrics&) = default;
};

class TraceSink {
 public:
  virtual ~TraceSink() = default;
  virtual void parameters_set(Instant now, bool local, const TransportParameters& tp) = 0;
  virtual void packet_sent(Instant now, const PacketTrace& p) = 0;
  virtual void packet_received(Instant now, const PacketTrace& p) = 0;
  virtual void packet_dropped(Instant now, size_t size, std::string_view reason) = 0;
  virtual void packet_lost(Instant now, PacketKind kind, uint64_t packet_number,
                           std::string_view trigger) = 0;
  virtual void metrics_updated(Instant now, const RecoveryMetrics& m) = 0;
  virtual void key_updated(Instant now, bool local_initiated, bool key_phase) = 0;
  virtual void state_updated(Instant now, std::string_view state) = 0;
  virtual void connection_closed(Instant now, const Error& error, bool by_peer) = 0;
};

// Creates the sink for a new connection (nullptr: no tracing), keyed by the original DCID so
// both endpoints' traces of one connection share a group id.
using TraceFactory =
    std::function<std::unique_ptr<TraceSink>(const ConnectionId& original_dcid, bool server)>;

}  // namespace quic
