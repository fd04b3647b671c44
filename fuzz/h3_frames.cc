// HTTP/3 frame and capsule fuzz target: the input (after one control byte choosing the fragment
// size) is fed as a request stream and as a control stream to FrameReader, and as capsule data
// to CapsuleReader, in fragments. Checks: no crash, every buffered frame within its bound,
// DATA chunks never exceed their announced length, SETTINGS re-encode to the same values.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "h3/capsule.h"
#include "h3/frames.h"

namespace {

[[noreturn]] void violated(const char* what) {
  std::fprintf(stderr, "h3_frames: %s\n", what);
  std::abort();
}

void check_frame(const h3::FrameItem& it, size_t max_payload) {
  if (it.payload.size() >
      std::max<size_t>(max_payload, h3::kMaxSettingsPayload + 8 + h3::kMaxPriorityFieldValue)) {
    violated("buffered frame beyond its bound");
  }
  switch (it.type) {
    case h3::frame::kSettings: {
      auto s = h3::parse_settings(it.payload);
      if (!s) return;
      std::vector<uint8_t> again;
      h3::append_settings(again, *s);
      h3::FrameReader r(64);
      quic::Bytes in(again);
      auto item = r.next(in);
      if (!item || !*item) violated("re-encoded SETTINGS does not parse");
      auto back = h3::parse_settings((*item)->payload);
      if (!back || !(*back == *s)) violated("SETTINGS round trip changed values");
      return;
    }
    case h3::frame::kGoaway:
    case h3::frame::kMaxPushId:
    case h3::frame::kCancelPush:
      (void)h3::parse_single_varint(it.type, it.payload);
      return;
    case h3::frame::kPushPromise:
      (void)h3::parse_push_promise(it.payload);
      return;
    case h3::frame::kPriorityUpdateRequest:
    case h3::frame::kPriorityUpdatePush:
      (void)h3::parse_priority_update(it.type, it.payload);
      return;
    default:
      return;
  }
}

void run_frames(quic::Bytes data, size_t step, size_t max_payload) {
  h3::FrameReader r(max_payload);
  uint64_t data_left = 0;
  for (size_t at = 0; at < data.size(); at += step) {
    quic::Bytes in = data.subspan(at, std::min(step, data.size() - at));
    for (;;) {
      size_t before = in.size();
      auto item = r.next(in);
      if (!item) return;  // a connection error ends the stream
      if (!*item) {
        if (!in.empty()) violated("reader stopped before the end of its input");
        break;
      }
      const h3::FrameItem& it = **item;
      if (in.size() > before) violated("reader grew its input");
      if (it.kind == h3::FrameItem::Kind::kDataBegin) data_left = it.length;
      if (it.kind == h3::FrameItem::Kind::kDataChunk) {
        if (it.payload.size() > data_left) violated("DATA chunk beyond the frame");
        data_left -= it.payload.size();
        if (it.data_end != (data_left == 0)) violated("data_end disagrees with the length");
      }
      if (it.kind == h3::FrameItem::Kind::kFrame) check_frame(it, max_payload);
    }
  }
  (void)r.finish();
}

void run_capsules(quic::Bytes data, size_t step) {
  h3::CapsuleReader r;
  for (size_t at = 0; at < data.size(); at += step) {
    quic::Bytes in = data.subspan(at, std::min(step, data.size() - at));
    for (;;) {
      auto c = r.next(in);
      if (!c) return;
      if (!*c) break;
      auto* t = h3::find_capsule_type(h3::known_capsule_types(), (*c)->type);
      if (t == nullptr) violated("unknown capsule delivered");
      if ((*c)->payload.size() > t->max_length) violated("capsule beyond its bound");
    }
  }
  (void)r.finish();
  (void)h3::decode_http_datagram(data);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  size_t step = (data[0] & 0x3f) + 1;  // fragment sizes 1..64
  quic::Bytes rest(data + 1, size - 1);
  run_frames(rest, step, 4096);                     // request stream (HEADERS bound)
  run_frames(rest, step, h3::kMaxSettingsPayload);  // control stream
  run_frames(rest, rest.size() + 1, 4096);          // one fragment
  run_capsules(rest, step);
  return 0;
}
