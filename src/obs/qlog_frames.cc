#include "obs/qlog_frames.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <string_view>
#include <type_traits>
#include <variant>

#include "wire/frame.h"

namespace obs {

using namespace quic;

const char* packet_type_name(PacketKind kind) {
  switch (kind) {
    case PacketKind::kInitial:
      return "initial";
    case PacketKind::kZeroRtt:
      return "0RTT";
    case PacketKind::kHandshake:
      return "handshake";
    case PacketKind::kOneRtt:
      return "1RTT";
  }
  return "unknown";
}

namespace {

// RFC 9000 §19.3: ACK Delay is in units of 2^ack_delay_exponent microseconds.
double ack_delay_ms(uint64_t encoded, uint64_t exponent) {
  return std::ldexp(static_cast<double>(encoded),
                    static_cast<int>(std::min<uint64_t>(exponent, 20))) /
         1000.0;
}

void write_ack(JsonOut& j, const AckFrame& f, uint64_t exponent) {
  j.field("frame_type", "ack");
  if (f.path_ack) j.field("path_id", f.path_id);
  j.field_ms("ack_delay", ack_delay_ms(f.ack_delay, exponent));
  j.key("acked_ranges");
  j.begin_array();
  size_t n = 0;
  bool truncated = false;
  for (AckRange r : f.ranges()) {
    if (n++ == kMaxLoggedAckRanges) {
      truncated = true;
      break;
    }
    j.begin_array();
    j.value(r.smallest);
    if (r.largest != r.smallest) j.value(r.largest);
    j.end_array();
  }
  j.end_array();
  if (truncated) j.field_bool("ranges_truncated", true);
  if (f.ecn) {
    j.field("ect1", f.ecn->ect1);
    j.field("ect0", f.ecn->ect0);
    j.field("ce", f.ecn->ce);
  }
}

void write_close(JsonOut& j, const ConnectionCloseFrame& f) {
  j.field("frame_type", "connection_close");
  j.field("error_space", f.application ? "application" : "transport");
  if (f.application) {
    j.field("error_code", f.error_code);
  } else {
    std::string_view name = error_name(f.error_code);
    if (f.error_code >= err::kCryptoErrorBase && f.error_code < err::kCryptoErrorBase + 0x100) {
      char buf[24];
      std::snprintf(buf, sizeof buf, "crypto_error_0x%03llx",
                    static_cast<unsigned long long>(f.error_code));
      j.field("error_code", std::string_view(buf));
    } else if (name.empty() || name == "UNKNOWN") {
      j.field("error_code", f.error_code);
    } else {
      std::string lower(name);
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      j.field("error_code", std::string_view(lower));
    }
    j.field("raw_error_code", f.error_code);
    if (f.frame_type != 0) j.field("trigger_frame_type", f.frame_type);
  }
  j.field("reason",
          std::string_view(reinterpret_cast<const char*>(f.reason.data()), f.reason.size()));
}

void write_frame(JsonOut& j, const Frame& frame, uint64_t exponent) {
  std::visit(
      [&](const auto& f) {
        using T = std::decay_t<decltype(f)>;
        if constexpr (std::is_same_v<T, PaddingFrame>) {
          j.field("frame_type", "padding");
          j.key("raw");
          j.begin_object();
          j.field("length", f.length);
          j.field("payload_length", f.length);
          j.end_object();
        } else if constexpr (std::is_same_v<T, PingFrame>) {
          j.field("frame_type", "ping");
        } else if constexpr (std::is_same_v<T, AckFrame>) {
          write_ack(j, f, exponent);
        } else if constexpr (std::is_same_v<T, ResetStreamFrame>) {
          j.field("frame_type", "reset_stream");
          j.field("stream_id", f.stream_id);
          j.field("error_code", f.error_code);
          j.field("final_size", f.final_size);
        } else if constexpr (std::is_same_v<T, StopSendingFrame>) {
          j.field("frame_type", "stop_sending");
          j.field("stream_id", f.stream_id);
          j.field("error_code", f.error_code);
        } else if constexpr (std::is_same_v<T, CryptoFrame>) {
          j.field("frame_type", "crypto");
          j.field("offset", f.offset);
          j.field("length", f.data.size());
        } else if constexpr (std::is_same_v<T, NewTokenFrame>) {
          j.field("frame_type", "new_token");
          j.key("token");
          j.begin_object();
          j.field("length", f.token.size());
          j.end_object();
        } else if constexpr (std::is_same_v<T, StreamFrame>) {
          j.field("frame_type", "stream");
          j.field("stream_id", f.stream_id);
          j.field("offset", f.offset);
          j.field("length", f.data.size());
          j.field_bool("fin", f.fin);
        } else if constexpr (std::is_same_v<T, MaxDataFrame>) {
          j.field("frame_type", "max_data");
          j.field("maximum", f.max);
        } else if constexpr (std::is_same_v<T, MaxStreamDataFrame>) {
          j.field("frame_type", "max_stream_data");
          j.field("stream_id", f.stream_id);
          j.field("maximum", f.max);
        } else if constexpr (std::is_same_v<T, MaxStreamsFrame>) {
          j.field("frame_type", "max_streams");
          j.field("stream_type", f.bidi ? "bidirectional" : "unidirectional");
          j.field("maximum", f.max);
        } else if constexpr (std::is_same_v<T, DataBlockedFrame>) {
          j.field("frame_type", "data_blocked");
          j.field("limit", f.limit);
        } else if constexpr (std::is_same_v<T, StreamDataBlockedFrame>) {
          j.field("frame_type", "stream_data_blocked");
          j.field("stream_id", f.stream_id);
          j.field("limit", f.limit);
        } else if constexpr (std::is_same_v<T, StreamsBlockedFrame>) {
          j.field("frame_type", "streams_blocked");
          j.field("stream_type", f.bidi ? "bidirectional" : "unidirectional");
          j.field("limit", f.limit);
        } else if constexpr (std::is_same_v<T, NewConnectionIdFrame>) {
          j.field("frame_type", f.path_frame ? "path_new_connection_id" : "new_connection_id");
          if (f.path_frame) j.field("path_id", f.path_id);
          j.field("sequence_number", f.sequence);
          j.field("retire_prior_to", f.retire_prior_to);
          j.field("connection_id_length", f.cid.size());
          j.field_hex("connection_id", f.cid);
          j.field_hex("stateless_reset_token", Bytes(f.reset_token.data(), f.reset_token.size()));
        } else if constexpr (std::is_same_v<T, RetireConnectionIdFrame>) {
          j.field("frame_type",
                  f.path_frame ? "path_retire_connection_id" : "retire_connection_id");
          if (f.path_frame) j.field("path_id", f.path_id);
          j.field("sequence_number", f.sequence);
        } else if constexpr (std::is_same_v<T, PathChallengeFrame>) {
          j.field("frame_type", "path_challenge");
          j.field_hex("data", Bytes(f.data.data(), f.data.size()));
        } else if constexpr (std::is_same_v<T, PathResponseFrame>) {
          j.field("frame_type", "path_response");
          j.field_hex("data", Bytes(f.data.data(), f.data.size()));
        } else if constexpr (std::is_same_v<T, ConnectionCloseFrame>) {
          write_close(j, f);
        } else if constexpr (std::is_same_v<T, HandshakeDoneFrame>) {
          j.field("frame_type", "handshake_done");
        } else if constexpr (std::is_same_v<T, DatagramFrame>) {
          j.field("frame_type", "datagram");
          j.field("length", f.data.size());
        } else if constexpr (std::is_same_v<T, AckFrequencyFrame>) {
          j.field("frame_type", "ack_frequency");
          j.field("sequence_number", f.sequence);
          j.field("ack_eliciting_threshold", f.ack_eliciting_threshold);
          j.field_ms("request_max_ack_delay", static_cast<double>(f.request_max_ack_delay) / 1000);
          j.field("reordering_threshold", f.reordering_threshold);
        } else if constexpr (std::is_same_v<T, ImmediateAckFrame>) {
          j.field("frame_type", "immediate_ack");
        } else if constexpr (std::is_same_v<T, ResetStreamAtFrame>) {
          j.field("frame_type", "reset_stream_at");
          j.field("stream_id", f.stream_id);
          j.field("error_code", f.error_code);
          j.field("final_size", f.final_size);
          j.field("reliable_size", f.reliable_size);
        } else if constexpr (std::is_same_v<T, PathAbandonFrame>) {
          j.field("frame_type", "path_abandon");
          j.field("path_id", f.path_id);
          j.field("error_code", f.error_code);
        } else if constexpr (std::is_same_v<T, PathStatusFrame>) {
          j.field("frame_type", f.backup ? "path_status_backup" : "path_status_available");
          j.field("path_id", f.path_id);
          j.field("sequence_number", f.sequence);
        } else if constexpr (std::is_same_v<T, MaxPathIdFrame>) {
          j.field("frame_type", "max_path_id");
          j.field("maximum", f.max_path_id);
        } else if constexpr (std::is_same_v<T, PathsBlockedFrame>) {
          j.field("frame_type", "paths_blocked");
          j.field("limit", f.max_path_id);
        } else if constexpr (std::is_same_v<T, PathCidsBlockedFrame>) {
          j.field("frame_type", "path_cids_blocked");
          j.field("path_id", f.path_id);
          j.field("next_sequence_number", f.next_sequence);
        } else {
          static_assert(sizeof(T) == 0, "frame type without a qlog form");
        }
      },
      frame);
}

}  // namespace

FramesSummary write_frames(JsonOut& j, Bytes payload, uint64_t ack_delay_exponent) {
  FramesSummary s;
  Reader r(payload);
  j.begin_array();
  while (!r.empty()) {
    if (s.logged == kMaxLoggedFrames) {
      s.truncated = true;
      break;
    }
    Reader peek = r;
    auto type = peek.varint();
    auto frame = decode_frame(r);
    j.begin_object();
    ++s.logged;
    if (!frame) {
      j.field("frame_type", "unknown");
      if (type) j.field("frame_type_value", *type);
      j.field("error", frame.error().reason);
      j.end_object();
      s.malformed = true;
      break;
    }
    write_frame(j, *frame, ack_delay_exponent);
    j.end_object();
  }
  j.end_array();
  return s;
}

}  // namespace obs
