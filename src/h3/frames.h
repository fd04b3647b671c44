// HTTP/3 frames (RFC 9114 §7) and SETTINGS (§7.2.4, RFC 9220 §3, RFC 9297 §2.1.1), with an
// incremental reader that parses frames from stream fragments of any size.
//
// The reader buffers at most one non-DATA frame (bounded by its max_payload); DATA payloads
// and the payloads of unknown frame types are streamed through without being stored, so a
// frame header announcing 10^12 bytes costs nothing until the bytes actually arrive.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.h"
#include "h3/tlv.h"
#include "wire/varint.h"

namespace h3 {

using quic::Bytes;

// HTTP/3 error codes (RFC 9114 §8.1), QPACK (RFC 9204 §6), H3_DATAGRAM_ERROR (RFC 9297 §2.1).
namespace err {
inline constexpr uint64_t kNoError = 0x100;
inline constexpr uint64_t kGeneralProtocolError = 0x101;
inline constexpr uint64_t kInternalError = 0x102;
inline constexpr uint64_t kStreamCreationError = 0x103;
inline constexpr uint64_t kClosedCriticalStream = 0x104;
inline constexpr uint64_t kFrameUnexpected = 0x105;
inline constexpr uint64_t kFrameError = 0x106;
inline constexpr uint64_t kExcessiveLoad = 0x107;
inline constexpr uint64_t kIdError = 0x108;
inline constexpr uint64_t kSettingsError = 0x109;
inline constexpr uint64_t kMissingSettings = 0x10a;
inline constexpr uint64_t kRequestRejected = 0x10b;
inline constexpr uint64_t kRequestCancelled = 0x10c;
inline constexpr uint64_t kRequestIncomplete = 0x10d;
inline constexpr uint64_t kMessageError = 0x10e;
inline constexpr uint64_t kConnectError = 0x10f;
inline constexpr uint64_t kVersionFallback = 0x110;
inline constexpr uint64_t kQpackDecompressionFailed = 0x200;
inline constexpr uint64_t kQpackEncoderStreamError = 0x201;
inline constexpr uint64_t kQpackDecoderStreamError = 0x202;
inline constexpr uint64_t kDatagramError = 0x33;
}  // namespace err

// "H3_FRAME_UNEXPECTED" etc., for logs and test messages.
const char* error_name(uint64_t code);

// An HTTP/3 error (application error code space): closes the connection or one stream.
[[nodiscard]] inline std::unexpected<quic::Error> fail(uint64_t code, std::string reason,
                                                       uint64_t frame_type = 0) {
  return std::unexpected(quic::Error{code, frame_type, std::move(reason), true});
}

namespace frame {
inline constexpr uint64_t kData = 0x00;
inline constexpr uint64_t kHeaders = 0x01;
inline constexpr uint64_t kCancelPush = 0x03;
inline constexpr uint64_t kSettings = 0x04;
inline constexpr uint64_t kPushPromise = 0x05;
inline constexpr uint64_t kGoaway = 0x07;
inline constexpr uint64_t kMaxPushId = 0x0d;
inline constexpr uint64_t kPriorityUpdateRequest = 0xf0700;  // RFC 9218 §7.2
inline constexpr uint64_t kPriorityUpdatePush = 0xf0701;
}  // namespace frame

// Frame types HTTP/2 defined with no HTTP/3 equivalent (§7.2.8): receipt is
// H3_FRAME_UNEXPECTED wherever they appear.
bool is_http2_only_frame(uint64_t type);
// 0x1f * N + 0x21 (frame types, stream types, settings and error codes share the pattern).
constexpr bool is_reserved_codepoint(uint64_t v) {
  return v >= 0x21 && (v - 0x21) % 0x1f == 0;
}

namespace setting {
inline constexpr uint64_t kQpackMaxTableCapacity = 0x01;
inline constexpr uint64_t kMaxFieldSectionSize = 0x06;
inline constexpr uint64_t kQpackBlockedStreams = 0x07;
inline constexpr uint64_t kEnableConnectProtocol = 0x08;  // RFC 9220 §3
inline constexpr uint64_t kH3Datagram = 0x33;             // RFC 9297 §2.1.1
}  // namespace setting

struct Settings {
  uint64_t qpack_max_table_capacity = 0;
  std::optional<uint64_t> max_field_section_size;  // absent: unlimited
  uint64_t qpack_blocked_streams = 0;
  bool enable_connect_protocol = false;
  bool h3_datagram = false;
  // Every other setting, in wire order: received ones we do not interpret (reserved ones
  // included; at most kMaxSettingsEntries), or extension settings to send (WebTransport's,
  // for example). Extensions read theirs with get().
  std::vector<std::pair<uint64_t, uint64_t>> extensions;
  // A reserved setting sent to exercise the peer's "ignore unknown" rule (§7.2.4.1); when
  // parsing, reserved settings land in `extensions` like any other unknown one.
  std::optional<std::pair<uint64_t, uint64_t>> grease;
  bool operator==(const Settings&) const = default;

  // The value of setting `id` as sent (known settings report their parsed value, booleans as
  // 0/1); nullopt when it was not sent and has no value.
  std::optional<uint64_t> get(uint64_t id) const;
};

// Limits on what a peer can make us buffer or process.
inline constexpr size_t kMaxSettingsPayload = 4096;
inline constexpr size_t kMaxSettingsEntries = 64;  // after that: H3_EXCESSIVE_LOAD
inline constexpr size_t kMaxPriorityFieldValue = 1024;
inline constexpr size_t kMaxFrameHeaderSize = kMaxTlvHeaderSize;

// --- encoding: every function appends one whole frame to `out`.
void append_frame_header(std::vector<uint8_t>& out, uint64_t type, uint64_t length);
void append_data_header(std::vector<uint8_t>& out, uint64_t length);  // payload follows
void append_data(std::vector<uint8_t>& out, Bytes payload);
void append_headers(std::vector<uint8_t>& out, Bytes field_section);
void append_settings(std::vector<uint8_t>& out, const Settings& s);
void append_goaway(std::vector<uint8_t>& out, uint64_t id);
void append_max_push_id(std::vector<uint8_t>& out, uint64_t push_id);
void append_cancel_push(std::vector<uint8_t>& out, uint64_t push_id);
void append_push_promise(std::vector<uint8_t>& out, uint64_t push_id, Bytes field_section);
// type is frame::kPriorityUpdateRequest or frame::kPriorityUpdatePush.
void append_priority_update(std::vector<uint8_t>& out, uint64_t type, uint64_t element_id,
                            std::string_view field_value);
void append_varint(std::vector<uint8_t>& out, uint64_t v);

// --- payload decoding of complete frames; errors are H3_FRAME_ERROR / H3_SETTINGS_ERROR.
quic::Result<Settings> parse_settings(Bytes payload);
// GOAWAY, MAX_PUSH_ID, CANCEL_PUSH: exactly one varint.
quic::Result<uint64_t> parse_single_varint(uint64_t type, Bytes payload);
struct PushPromise {
  uint64_t push_id;
  Bytes field_section;
};
quic::Result<PushPromise> parse_push_promise(Bytes payload);
struct PriorityUpdate {
  uint64_t element_id;
  std::string_view field_value;
};
quic::Result<PriorityUpdate> parse_priority_update(uint64_t type, Bytes payload);

// One step of FrameReader::next.
struct FrameItem {
  enum class Kind : uint8_t {
    kFrame,         // a complete non-DATA known frame: type + whole payload
    kDataBegin,     // a DATA frame header: length; chunks follow (none if length is 0)
    kDataChunk,     // part of a DATA payload; data_end marks the last chunk
    kUnknownFrame,  // header of an unknown/reserved frame; its payload is skipped silently
  };
  Kind kind;
  uint64_t type = 0;
  uint64_t length = 0;
  Bytes payload;  // valid until the next call to next() or until the input is released
  bool data_end = false;
};

// Incremental reader for one stream. Caller feeds each received fragment by calling next()
// until it returns nullopt (the fragment is then fully consumed), then feeds the next one.
class FrameReader {
 public:
  // max_payload bounds every buffered (non-DATA, known) frame; larger ones are
  // H3_EXCESSIVE_LOAD (HEADERS, PUSH_PROMISE) or H3_FRAME_ERROR (fixed-size frames).
  explicit FrameReader(size_t max_payload) : max_payload_(max_payload) {}

  // Consumes bytes from the front of `in`; nullopt when `in` is exhausted mid-item.
  quic::Result<std::optional<FrameItem>> next(Bytes& in);
  // The stream ended cleanly: H3_FRAME_ERROR if it stopped inside a frame (§7.1).
  quic::Status finish() const;
  // True between frames (nothing partially read).
  bool at_boundary() const { return tlv_.at_boundary(); }
  uint64_t frames_read() const { return tlv_.items_read(); }

 private:
  quic::Status check_length(uint64_t type, uint64_t length) const;

  size_t max_payload_;
  TlvReader tlv_;
};

}  // namespace h3
