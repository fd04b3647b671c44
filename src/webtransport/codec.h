// WebTransport over HTTP/3 (draft-ietf-webtrans-http3): codepoints of the draft versions we
// speak, the application error code mapping (§4.4), and the bodies of the session capsules
// (§5.6 flow control, §6 WT_CLOSE_SESSION, §4.6 WT_DRAIN_SESSION). Pure codecs, no state.
//
// Versions: the draft text this stack follows is the one whose SETTINGS_WT_ENABLED is
// 0x2c7cf000 and upgrade token "webtransport-h3" (quiche names it draft-15). Browsers still
// speak older drafts: Chromium's default is draft-02 (SETTINGS_ENABLE_WEBTRANSPORT 0x2b603742,
// token "webtransport", the sec-webtransport-http3-draft headers); draft-07 is the same wire
// format with SETTINGS_WEBTRANSPORT_MAX_SESSIONS 0xc671706a. §7.1 lets an endpoint advertise
// every version it supports, one setting each; the highest both sent is used.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "h3/capsule.h"

namespace webtransport {

using quic::Bytes;

enum class Version : uint8_t { kNone = 0, kDraft02 = 2, kDraft07 = 7, kDraft15 = 15 };
const char* version_name(Version v);

namespace setting {
inline constexpr uint64_t kWtEnabled = 0x2c7cf000;                  // draft-15 §3.1 (boolean)
inline constexpr uint64_t kEnableWebtransportDraft02 = 0x2b603742;  // draft-02 (boolean)
inline constexpr uint64_t kMaxSessionsDraft07 = 0xc671706a;         // draft-07 (a count)
inline constexpr uint64_t kInitialMaxStreamsUni = 0x2b64;           // draft-15 §5.5
inline constexpr uint64_t kInitialMaxStreamsBidi = 0x2b65;
inline constexpr uint64_t kInitialMaxData = 0x2b61;
}  // namespace setting

// The :protocol tokens (draft-15 §3.2; drafts 02-07 used "webtransport").
inline constexpr std::string_view kTokenDraft15 = "webtransport-h3";
inline constexpr std::string_view kTokenLegacy = "webtransport";
// Draft-02 version headers: the client offers, the server confirms.
inline constexpr std::string_view kDraft02OfferHeader = "sec-webtransport-http3-draft02";
inline constexpr std::string_view kDraftSelectedHeader = "sec-webtransport-http3-draft";
inline constexpr std::string_view kDraft02Value = "draft02";
std::string_view upgrade_token(Version v);

namespace capsule {
inline constexpr uint64_t kCloseSession = h3::capsule::kWtCloseSession;  // §6
inline constexpr uint64_t kDrainSession = h3::capsule::kWtDrainSession;  // §4.6
inline constexpr uint64_t kMaxData = 0x190b4d3d;                         // §5.6.4
inline constexpr uint64_t kMaxStreamsBidi = 0x190b4d3f;                  // §5.6.2
inline constexpr uint64_t kMaxStreamsUni = 0x190b4d40;
inline constexpr uint64_t kDataBlocked = 0x190b4d41;         // §5.6.5
inline constexpr uint64_t kStreamsBlockedBidi = 0x190b4d43;  // §5.6.3
inline constexpr uint64_t kStreamsBlockedUni = 0x190b4d44;
// WT_MAX_STREAM_DATA / WT_STREAM_DATA_BLOCKED of the HTTP/2 mapping: prohibited over HTTP/3,
// a session error (§5.4).
inline constexpr uint64_t kMaxStreamDataH2 = 0x190b4d3e;
inline constexpr uint64_t kStreamDataBlockedH2 = 0x190b4d42;
}  // namespace capsule

namespace err {
inline constexpr uint64_t kBufferedStreamRejected = 0x3994bd84;
inline constexpr uint64_t kSessionGone = 0x170d7b68;
inline constexpr uint64_t kFlowControlError = 0x045d4487;
inline constexpr uint64_t kAlpnError = 0x0817b3dd;
inline constexpr uint64_t kRequirementsNotMet = 0x212c0d48;
// WT_APPLICATION_ERROR range (§4.4), skipping the reserved 0x1f * N + 0x21 codepoints.
inline constexpr uint64_t kFirstAppError = 0x52e4a40fa8db;
inline constexpr uint64_t kLastAppError = 0x52e5ac983162;
}  // namespace err

// §4.4: a 32-bit application code to its HTTP/3 code, and back (nullopt: the code is outside
// the range or a reserved codepoint, i.e. not an application error).
uint64_t app_error_to_h3(uint32_t code);
std::optional<uint32_t> h3_to_app_error(uint64_t h3_code);

// The bound of §6: an Application Error Message of at most this many bytes.
inline constexpr size_t kMaxCloseReason = 1024;
// Stream and data counts a flow-control capsule may carry (§5.6.2: at most 2^60 streams).
inline constexpr uint64_t kMaxStreamCount = uint64_t{1} << 60;

// Capsules the session handler wants, with their caps (anything else is skipped, RFC 9297
// §3.2): the WebTransport ones of §5.6 and §6, plus DATAGRAM.
std::span<const h3::CapsuleType> capsule_table();

struct CloseSession {
  uint32_t code = 0;
  std::string reason;
};
// H3_MESSAGE_ERROR (§6): shorter than 4 bytes, a message above 1024 bytes, or not UTF-8.
quic::Result<CloseSession> parse_close_session(Bytes value);
// The body, with `reason` cut at a UTF-8 character boundary to kMaxCloseReason bytes.
std::vector<uint8_t> encode_close_session(uint32_t code, std::string_view reason);
// The longest prefix of `s` of at most `max` bytes that ends on a UTF-8 character boundary.
std::string_view utf8_prefix(std::string_view s, size_t max);
bool valid_utf8(Bytes s);

// Application protocol negotiation (§3.3): WT-Available-Protocols is a Structured Field List
// of Strings (RFC 9651), WT-Protocol an Item. Any member that is not a String makes the whole
// field ignored (nullopt); parameters are ignored. At most kMaxProtocols members are taken.
inline constexpr std::string_view kAvailableProtocolsHeader = "wt-available-protocols";
inline constexpr std::string_view kProtocolHeader = "wt-protocol";
inline constexpr size_t kMaxProtocols = 32;
std::optional<std::vector<std::string>> parse_protocol_list(std::string_view field);
std::optional<std::string> parse_protocol_item(std::string_view field);
// sf-string serialisation; nullopt for a character outside printable ASCII (0x20-0x7e).
std::optional<std::string> format_protocol(std::string_view protocol);

// The one-varint body of WT_MAX_DATA, WT_MAX_STREAMS, WT_DATA_BLOCKED, WT_STREAMS_BLOCKED.
// Errors: H3_MESSAGE_ERROR for a body that is not exactly one varint; WT_FLOW_CONTROL_ERROR
// for a stream count above 2^60 (the capsule types of §5.6.2-3).
quic::Result<uint64_t> parse_flow_capsule(uint64_t type, Bytes value);
std::vector<uint8_t> encode_varint_body(uint64_t v);

}  // namespace webtransport
