// Frame decoder fuzz target: decodes frames until the input ends or an error, and checks that
// every decoded frame re-encodes to bytes that decode to an identical frame of the same type and
// of exactly encoded_size() bytes. Any mismatch aborts, so the fuzzer hunts for codec asymmetries
// as well as crashes.
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "wire/frame.h"

namespace {

[[noreturn]] void mismatch(const char* what, uint64_t type) {
  std::fprintf(stderr, "frame_decoder: %s (type 0x%llx %s)\n", what,
               static_cast<unsigned long long>(type), quic::frame_type_name(type));
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  quic::Reader r(quic::Bytes(data, size));
  // A frame never re-encodes larger than its input, which fits a UDP payload.
  static std::array<uint8_t, 65536> buf;
  while (!r.empty()) {
    size_t start = r.offset();
    auto frame = quic::decode_frame(r);
    if (!frame) break;
    if (r.offset() <= start) mismatch("decoder made no progress", 0);
    uint64_t type = quic::frame_type_of(*frame);
    size_t n = quic::encoded_size(*frame);
    if (n == 0) mismatch("decoded frame is not encodable", type);
    if (n > r.offset() - start) mismatch("re-encoding is longer than the input", type);
    if (n > buf.size()) continue;  // only inputs beyond a UDP payload get here
    quic::Writer w(buf);
    if (!quic::encode_frame(w, *frame) || w.written() != n) mismatch("encode failed", type);
    quic::Reader again(w.view());
    auto back = quic::decode_frame(again);
    if (!back) mismatch("re-encoded frame does not decode", type);
    if (!again.empty()) mismatch("re-encoded frame has trailing bytes", type);
    if (!(*back == *frame)) mismatch("round trip changed the frame", type);
    if (quic::frame_type_of(*back) != type) mismatch("round trip changed the type", type);
    // Rules must be total functions of the type.
    (void)quic::is_ack_eliciting(type);
    (void)quic::frame_allowed_in(type, quic::PacketKind::kInitial);
  }
  return 0;
}
