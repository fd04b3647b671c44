// WebTransport capsule bodies (draft-ietf-webtrans-http3 §5.6, §6) and the application error
// mapping (§4.4). The input (after one control byte choosing the fragment size) is the DATA
// of a WebTransport CONNECT stream, parsed with the session's capsule table; every capsule
// goes through its body codec. Checks: no crash; only the table's types are delivered, within
// their caps; a WT_CLOSE_SESSION that parses has a UTF-8 message of at most 1024 bytes and
// re-encodes to the same bytes; a flow-control value that parses survives encoding; errors
// are only the draft's codes; every 8 input bytes taken as an HTTP/3 code map back and forth;
// the input taken as a WT-Available-Protocols / WT-Protocol field parses within its bounds and
// what parses round-trips.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "webtransport/codec.h"
#include "wire/varint.h"

namespace {

[[noreturn]] void violated(const char* what) {
  std::fprintf(stderr, "wt_capsules: %s\n", what);
  std::abort();
}

void check_body(uint64_t type, quic::Bytes v) {
  namespace cap = webtransport::capsule;
  if (type == cap::kCloseSession) {
    auto c = webtransport::parse_close_session(v);
    if (!c) {
      if (c.error().code != h3::err::kMessageError) violated("close: unexpected error code");
      return;
    }
    if (c->reason.size() > webtransport::kMaxCloseReason) violated("close: reason too long");
    auto again = webtransport::encode_close_session(c->code, c->reason);
    if (again != std::vector<uint8_t>(v.begin(), v.end())) violated("close: no round trip");
    return;
  }
  if (type == h3::capsule::kDatagram || type == cap::kDrainSession) return;
  auto f = webtransport::parse_flow_capsule(type, v);
  if (!f) {
    uint64_t e = f.error().code;
    if (e != h3::err::kMessageError && e != webtransport::err::kFlowControlError) {
      violated("flow: unexpected error code");
    }
    return;
  }
  if (webtransport::parse_flow_capsule(type, webtransport::encode_varint_body(*f)) != *f) {
    violated("flow: no round trip");
  }
}

void check_codes(quic::Bytes data) {
  for (size_t at = 0; at + 8 <= data.size(); at += 8) {
    uint64_t h = *quic::Reader(data.subspan(at, 8)).u64();
    if (auto app = webtransport::h3_to_app_error(h);
        app && webtransport::app_error_to_h3(*app) != h) {
      violated("error code mapping is not inverse");
    }
    uint64_t mapped = webtransport::app_error_to_h3(static_cast<uint32_t>(h));
    if (h3::is_reserved_codepoint(mapped) || mapped > webtransport::err::kLastAppError) {
      violated("application code mapped outside the range");
    }
  }
}

// The same bytes as a WT-Available-Protocols / WT-Protocol value (§3.3): what parses stays
// within kMaxProtocols, and each member re-serialises to an item that parses to itself.
void check_protocols(quic::Bytes data) {
  std::string_view text(reinterpret_cast<const char*>(data.data()), data.size());
  auto list = webtransport::parse_protocol_list(text);
  if (list && list->size() > webtransport::kMaxProtocols) violated("protocol list too long");
  if (auto item = webtransport::parse_protocol_item(text)) list.emplace({*item});
  for (const std::string& p : list.value_or(std::vector<std::string>{})) {
    auto formatted = webtransport::format_protocol(p);
    if (!formatted) violated("a parsed protocol does not serialise");
    if (webtransport::parse_protocol_item(*formatted) != p) violated("protocol round trip");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  size_t step = (data[0] & 0x3f) + 1;
  quic::Bytes rest(data + 1, size - 1);
  check_codes(rest);
  check_protocols(rest);
  h3::CapsuleReader reader(webtransport::capsule_table());
  for (size_t at = 0; at < rest.size(); at += step) {
    quic::Bytes in = rest.subspan(at, std::min(step, rest.size() - at));
    for (;;) {
      auto c = reader.next(in);
      if (!c) {
        uint64_t e = c.error().code;
        if (e != h3::err::kMessageError && e != h3::err::kExcessiveLoad) violated("reader error");
        return 0;
      }
      if (!*c) break;
      auto* t = h3::find_capsule_type(webtransport::capsule_table(), (*c)->type);
      if (t == nullptr) violated("unknown capsule delivered");
      if ((*c)->payload.size() > t->max_length) violated("capsule beyond its cap");
      check_body((*c)->type, (*c)->payload);
    }
  }
  return 0;
}
