// qlog (JSON-SEQ) per connection: the TraceSink that turns the core's trace events into
// <dir>/<odcid hex>_<client|server>.sqlog, one RFC 7464 record (0x1E, JSON, '\n') per event,
// the first being the qlog header. Schema: qlog 0.3 (draft-ietf-quic-qlog-main-schema) with
// the event names of draft-ietf-quic-qlog-quic-events ("quic:packet_sent",
// "recovery:metrics_updated", "security:key_updated", ...); see docs/qlog.md.
//
// Tracing must never hurt the connection: records are built in a bounded buffer and written in
// large chunks; the first I/O error (or reaching the file size limit) is reported once on
// stderr and the writer goes quiet for the rest of the connection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.h"
#include "core/trace.h"
#include "obs/json_out.h"

namespace quic {
struct ConnectionId;
}

namespace obs {

struct QlogOptions {
  // Output is written when this much is buffered, at connection close and at destruction.
  size_t flush_bytes = 64 << 10;
  // A trace stops (with one note on stderr) rather than fill the disk: a 10 GB transfer logs
  // about 2 GB of qlog.
  uint64_t max_file_bytes = uint64_t{1} << 30;
  // Header "reference_time" (ms since the Unix epoch) that event time 0 corresponds to;
  // nullopt: the wall clock when the writer is created.
  std::optional<uint64_t> reference_time_ms;
};

class QlogWriter final : public quic::TraceSink {
 public:
  // "<odcid hex>_<client|server>.sqlog".
  static std::string file_name(const quic::ConnectionId& odcid, bool server);

  // Creates (truncates) the file and buffers the header. Fails with the OS error text.
  static quic::Result<std::unique_ptr<QlogWriter>> open(const std::string& path,
                                                        const quic::ConnectionId& odcid,
                                                        bool server, QlogOptions options = {});
  ~QlogWriter() override;
  QlogWriter(const QlogWriter&) = delete;
  QlogWriter& operator=(const QlogWriter&) = delete;

  // False once an I/O error or the size limit stopped the trace.
  bool ok() const { return fd_ >= 0; }
  const std::string& path() const { return path_; }
  size_t buffered() const { return buf_.size(); }
  uint64_t bytes_written() const { return written_; }
  uint64_t events() const { return events_; }

  void parameters_set(quic::Instant now, bool local, const quic::TransportParameters& tp) override;
  void packet_sent(quic::Instant now, const quic::PacketTrace& p) override;
  void packet_received(quic::Instant now, const quic::PacketTrace& p) override;
  void packet_dropped(quic::Instant now, size_t size, std::string_view reason) override;
  void packet_lost(quic::Instant now, quic::PacketKind kind, uint64_t packet_number,
                   std::string_view trigger) override;
  void metrics_updated(quic::Instant now, const quic::RecoveryMetrics& m) override;
  void key_updated(quic::Instant now, bool local_initiated, bool key_phase) override;
  void state_updated(quic::Instant now, std::string_view state) override;
  void connection_closed(quic::Instant now, const quic::Error& error, bool by_peer) override;

  // Writes what is buffered now.
  void flush();

 private:
  QlogWriter(int fd, std::string path, QlogOptions options);
  void write_header(const quic::ConnectionId& odcid, bool server);
  // Starts a record {"time":..,"name":..,"data":{ ; end_event closes it and maybe flushes.
  bool begin_event(quic::Instant now, std::string_view name);
  void end_event();
  void packet(quic::Instant now, std::string_view name, const quic::PacketTrace& p,
              uint64_t ack_delay_exponent);
  void stop(std::string_view why);

  int fd_ = -1;
  std::string path_;
  QlogOptions options_;
  std::string buf_;
  JsonOut j_{buf_};
  size_t record_start_ = 0;
  uint64_t written_ = 0;
  uint64_t events_ = 0;
  std::optional<quic::Instant> first_event_;
  // What later events need from earlier ones.
  uint64_t local_ack_delay_exponent_ = 3, peer_ack_delay_exponent_ = 3;
  std::optional<quic::RecoveryMetrics> last_metrics_;
  uint64_t key_phase_ = 0;  // full key phase (RFC 9001 §6: the header bit is its low bit)
  std::string state_;
};

// A factory for ConnectionConfig::trace writing one file per connection into dir (created if
// needed). If a file cannot be created the connection runs untraced; the first such failure
// of this factory is reported on stderr.
quic::TraceFactory qlog_factory(std::string dir, QlogOptions options = {});

}  // namespace obs
