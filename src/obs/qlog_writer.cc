#include "obs/qlog_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "obs/qlog_frames.h"
#include "wire/packet.h"
#include "wire/transport_params.h"

namespace obs {

using namespace quic;

namespace {

constexpr char kRecordSeparator = 0x1e;  // RFC 7464 §2.2

double ms(Duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

// draft-ietf-quic-qlog-quic-events "packet_dropped" trigger for the core's reasons.
const char* drop_trigger(std::string_view reason) {
  if (reason == "duplicate") return "duplicate";
  if (reason == "key_unavailable") return "key_unavailable";
  if (reason == "header_decrypt_error" || reason == "payload_decrypt_error") {
    return "decryption_failure";
  }
  if (reason == "unsupported_version") return "unsupported";
  if (reason == "unexpected_packet_type") return "rejected";
  return "general";
}

std::string lower_error_name(uint64_t code) {
  std::string s = error_name(code);
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::string QlogWriter::file_name(const ConnectionId& odcid, bool server) {
  return to_hex(odcid.view()) + (server ? "_server.sqlog" : "_client.sqlog");
}

Result<std::unique_ptr<QlogWriter>> QlogWriter::open(const std::string& path,
                                                     const ConnectionId& odcid, bool server,
                                                     QlogOptions options) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return fail(err::kInternalError, path + ": " + std::strerror(errno));
  std::unique_ptr<QlogWriter> w(new QlogWriter(fd, path, options));
  w->write_header(odcid, server);
  return w;
}

QlogWriter::QlogWriter(int fd, std::string path, QlogOptions options)
    : fd_(fd), path_(std::move(path)), options_(options) {
  // One record past the threshold at most: no reallocation in steady state.
  buf_.reserve(options_.flush_bytes + 4096);
}

QlogWriter::~QlogWriter() {
  flush();
  if (fd_ >= 0) ::close(fd_);
}

void QlogWriter::stop(std::string_view why) {
  std::fprintf(stderr, "tquic: qlog %s: %.*s; tracing of this connection stopped\n", path_.c_str(),
               static_cast<int>(why.size()), why.data());
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  buf_.clear();
  buf_.shrink_to_fit();
}

void QlogWriter::flush() {
  size_t off = 0;
  while (fd_ >= 0 && off < buf_.size()) {
    ssize_t n = ::write(fd_, buf_.data() + off, buf_.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      stop(n < 0 ? std::strerror(errno) : "short write");
      return;
    }
    off += static_cast<size_t>(n);
    written_ += static_cast<uint64_t>(n);
  }
  buf_.clear();
}

void QlogWriter::write_header(const ConnectionId& odcid, bool server) {
  uint64_t ref = options_.reference_time_ms.value_or(
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count()));
  std::string id = to_hex(odcid.view());
  const char* side = server ? "server" : "client";
  buf_ += kRecordSeparator;
  j_.reset();
  j_.begin_object();
  j_.field("qlog_version", "0.3");
  j_.field("qlog_format", "JSON-SEQ");
  j_.field("title", "tquic " + std::string(side) + " " + id);
  j_.key("trace");
  j_.begin_object();
  j_.field("title", "tquic " + std::string(side) + " " + id);
  j_.key("vantage_point");
  j_.begin_object();
  j_.field("name", "tquic");
  j_.field("type", side);
  j_.end_object();
  j_.key("common_fields");
  j_.begin_object();
  j_.field("ODCID", id);
  j_.field("group_id", id);
  j_.key("protocol_type");
  j_.begin_array();
  j_.string("QUIC");
  j_.end_array();
  j_.field("time_format", "relative");
  j_.field("reference_time", ref);
  j_.end_object();
  j_.end_object();
  j_.end_object();
  buf_ += '\n';
}

bool QlogWriter::begin_event(Instant now, std::string_view name) {
  if (fd_ < 0) return false;
  if (!first_event_) first_event_ = now;
  record_start_ = buf_.size();
  buf_ += kRecordSeparator;
  j_.reset();
  j_.begin_object();
  j_.field_ms("time", ms(now - *first_event_));
  j_.field("name", name);
  j_.key("data");
  j_.begin_object();
  return true;
}

void QlogWriter::end_event() {
  j_.end_object();
  j_.end_object();
  buf_ += '\n';
  ++events_;
  if (written_ + buf_.size() > options_.max_file_bytes) {
    buf_.resize(record_start_);  // the file ends with the last whole record
    flush();
    if (fd_ >= 0) stop("file size limit reached");
    return;
  }
  if (buf_.size() >= options_.flush_bytes) flush();
}

void QlogWriter::parameters_set(Instant now, bool local, const TransportParameters& tp) {
  (local ? local_ack_delay_exponent_ : peer_ack_delay_exponent_) = tp.ack_delay_exponent;
  if (!begin_event(now, "quic:parameters_set")) return;
  j_.field("owner", local ? "local" : "remote");
  auto cid = [&](const char* k, const std::optional<ConnectionId>& c) {
    if (c) j_.field_hex(k, c->view());
  };
  cid("original_destination_connection_id", tp.original_destination_connection_id);
  cid("initial_source_connection_id", tp.initial_source_connection_id);
  cid("retry_source_connection_id", tp.retry_source_connection_id);
  if (tp.stateless_reset_token) {
    j_.field_hex("stateless_reset_token",
                 Bytes(tp.stateless_reset_token->data(), tp.stateless_reset_token->size()));
  }
  j_.field_bool("disable_active_migration", tp.disable_active_migration);
  j_.field("max_idle_timeout", tp.max_idle_timeout_ms);
  j_.field("max_udp_payload_size", tp.max_udp_payload_size);
  j_.field("ack_delay_exponent", tp.ack_delay_exponent);
  j_.field("max_ack_delay", tp.max_ack_delay_ms);
  j_.field("active_connection_id_limit", tp.active_connection_id_limit);
  j_.field("initial_max_data", tp.initial_max_data);
  j_.field("initial_max_stream_data_bidi_local", tp.initial_max_stream_data_bidi_local);
  j_.field("initial_max_stream_data_bidi_remote", tp.initial_max_stream_data_bidi_remote);
  j_.field("initial_max_stream_data_uni", tp.initial_max_stream_data_uni);
  j_.field("initial_max_streams_bidi", tp.initial_max_streams_bidi);
  j_.field("initial_max_streams_uni", tp.initial_max_streams_uni);
  if (tp.preferred_address) {
    const PreferredAddress& pa = *tp.preferred_address;
    j_.key("preferred_address");
    j_.begin_object();
    j_.field_hex("ip_v4", Bytes(pa.ipv4.data(), pa.ipv4.size()));
    j_.field("port_v4", uint64_t{pa.ipv4_port});
    j_.field_hex("ip_v6", Bytes(pa.ipv6.data(), pa.ipv6.size()));
    j_.field("port_v6", uint64_t{pa.ipv6_port});
    j_.field_hex("connection_id", pa.cid.view());
    j_.field_hex("stateless_reset_token", Bytes(pa.reset_token.data(), pa.reset_token.size()));
    j_.end_object();
  }
  if (tp.max_datagram_frame_size) j_.field("max_datagram_frame_size", *tp.max_datagram_frame_size);
  if (tp.grease_quic_bit) j_.field_bool("grease_quic_bit", true);
  if (tp.min_ack_delay_us) j_.field("min_ack_delay", *tp.min_ack_delay_us);
  if (tp.reset_stream_at) j_.field_bool("reset_stream_at", true);
  if (tp.initial_max_path_id) j_.field("initial_max_path_id", *tp.initial_max_path_id);
  if (tp.version_information) {
    j_.key("version_information");
    j_.begin_object();
    j_.field("chosen_version", uint64_t{tp.version_information->chosen});
    j_.key("available_versions");
    j_.begin_array();
    for (uint32_t v : tp.version_information->available) j_.value(uint64_t{v});
    j_.end_array();
    j_.end_object();
  }
  end_event();
}

void QlogWriter::packet(Instant now, std::string_view name, const PacketTrace& p,
                        uint64_t ack_delay_exponent) {
  if (!begin_event(now, name)) return;
  j_.key("header");
  j_.begin_object();
  j_.field("packet_type", packet_type_name(p.kind));
  j_.field("packet_number", p.packet_number);
  if (p.kind == PacketKind::kOneRtt) {
    j_.field("key_phase_bit", uint64_t{p.key_phase});
    if (p.path_id != 0) j_.field("path_id", p.path_id);
  }
  j_.end_object();
  j_.key("raw");
  j_.begin_object();
  j_.field("length", p.size);
  j_.field("payload_length", p.frames.size());
  j_.end_object();
  j_.key("frames");
  FramesSummary s = write_frames(j_, p.frames, ack_delay_exponent);
  if (s.truncated) j_.field_bool("frames_truncated", true);
  end_event();
}

void QlogWriter::packet_sent(Instant now, const PacketTrace& p) {
  packet(now, "quic:packet_sent", p, local_ack_delay_exponent_);
}

void QlogWriter::packet_received(Instant now, const PacketTrace& p) {
  packet(now, "quic:packet_received", p, peer_ack_delay_exponent_);
}

void QlogWriter::packet_dropped(Instant now, size_t size, std::string_view reason) {
  if (!begin_event(now, "quic:packet_dropped")) return;
  j_.key("raw");
  j_.begin_object();
  j_.field("length", size);
  j_.end_object();
  j_.field("trigger", drop_trigger(reason));
  j_.key("details");
  j_.begin_object();
  j_.field("reason", reason);
  j_.end_object();
  end_event();
}

void QlogWriter::packet_lost(Instant now, PacketKind kind, uint64_t packet_number,
                             std::string_view trigger) {
  if (!begin_event(now, "recovery:packet_lost")) return;
  j_.key("header");
  j_.begin_object();
  j_.field("packet_type", packet_type_name(kind));
  j_.field("packet_number", packet_number);
  j_.end_object();
  j_.field("trigger", trigger);
  end_event();
}

void QlogWriter::metrics_updated(Instant now, const RecoveryMetrics& m) {
  // qlog asks for only the metrics that changed; the first event carries them all.
  const RecoveryMetrics* old = last_metrics_ ? &*last_metrics_ : nullptr;
  if (old && *old == m) return;
  if (!begin_event(now, "recovery:metrics_updated")) return;
  auto rtt = [&](const char* k, Duration RecoveryMetrics::*f) {
    if (!old || old->*f != m.*f) j_.field_ms(k, ms(m.*f));
  };
  auto num = [&](const char* k, uint64_t v, uint64_t prev) {
    if (!old || v != prev) j_.field(k, v);
  };
  rtt("min_rtt", &RecoveryMetrics::min_rtt);
  rtt("smoothed_rtt", &RecoveryMetrics::smoothed_rtt);
  rtt("latest_rtt", &RecoveryMetrics::latest_rtt);
  rtt("rtt_variance", &RecoveryMetrics::rtt_variance);
  num("pto_count", m.pto_count, old ? old->pto_count : 0);
  num("congestion_window", m.congestion_window, old ? old->congestion_window : 0);
  num("bytes_in_flight", m.bytes_in_flight, old ? old->bytes_in_flight : 0);
  num("pacing_rate", m.pacing_rate_bps, old ? old->pacing_rate_bps : 0);
  num("mtu", m.mtu, old ? old->mtu : 0);
  last_metrics_ = m;
  end_event();
}

void QlogWriter::key_updated(Instant now, bool local_initiated, bool key_phase) {
  // Both directions move to the next key phase together (RFC 9001 §6.1/§6.2).
  ++key_phase_;
  if ((key_phase_ & 1) != static_cast<uint64_t>(key_phase)) ++key_phase_;
  for (const char* key_type : {"client_1rtt_secret", "server_1rtt_secret"}) {
    if (!begin_event(now, "security:key_updated")) return;
    j_.field("key_type", key_type);
    j_.field("key_phase", key_phase_);
    j_.field("generation", key_phase_);  // the 0.3 name of key_phase
    j_.field("trigger", local_initiated ? "local_update" : "remote_update");
    end_event();
  }
}

void QlogWriter::state_updated(Instant now, std::string_view state) {
  if (!begin_event(now, "quic:connection_state_updated")) return;
  if (!state_.empty()) j_.field("old", state_);
  j_.field("new", state);
  state_.assign(state);
  end_event();
}

void QlogWriter::connection_closed(Instant now, const Error& error, bool by_peer) {
  if (!begin_event(now, "quic:connection_closed")) return;
  j_.field("owner", by_peer ? "remote" : "local");
  const char* trigger = "error";
  if (error.application) {
    j_.field("application_code", error.code);
    trigger = "application";
  } else {
    if (error.code >= err::kCryptoErrorBase && error.code < err::kCryptoErrorBase + 0x100) {
      char buf[24];
      std::snprintf(buf, sizeof buf, "crypto_error_0x%03llx",
                    static_cast<unsigned long long>(error.code));
      j_.field("connection_code", std::string_view(buf));
    } else if (std::string name = lower_error_name(error.code); name != "unknown") {
      j_.field("connection_code", name);
    } else {
      j_.field("connection_code", error.code);
    }
    if (error.code == err::kNoError) {
      trigger = error.reason == "idle timeout" ? "idle_timeout" : "clean";
    }
    if (error.frame_type != 0) j_.field("trigger_frame_type", error.frame_type);
  }
  j_.field("reason", error.reason);
  j_.field("trigger", trigger);
  end_event();
  flush();  // the interesting part of a trace is often its end
}

TraceFactory qlog_factory(std::string dir, QlogOptions options) {
  struct State {
    std::string dir;
    QlogOptions options;
    std::atomic<bool> reported{false};
  };
  auto st = std::make_shared<State>();
  st->dir = std::move(dir);
  st->options = options;
  std::error_code ec;
  std::filesystem::create_directories(st->dir, ec);  // a failure shows up at the first open
  return [st](const ConnectionId& odcid, bool server) -> std::unique_ptr<TraceSink> {
    std::string path =
        (std::filesystem::path(st->dir) / QlogWriter::file_name(odcid, server)).string();
    auto w = QlogWriter::open(path, odcid, server, st->options);
    if (!w) {
      if (!st->reported.exchange(true)) {
        std::fprintf(stderr, "tquic: qlog: %s; connections run without qlog\n",
                     w.error().reason.c_str());
      }
      return nullptr;
    }
    return std::move(*w);
  };
}

}  // namespace obs
