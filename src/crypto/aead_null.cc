// The null backend (AeadBackend::kNull): no confidentiality and no integrity. The payload stays
// in clear, the tag is 16 zero bytes and the header-protection mask is zero, so a fuzzer can
// reach the frame parsers and a huge simulation skips the AES/ChaCha cost. open() still checks
// that the tag is zero so a packet sealed by a real backend is not mistaken for one.
#include "crypto/backends.h"

namespace quic::backend {
namespace {

class NullAead final : public Aead {
 public:
  bool seal(const uint8_t*, Bytes, uint8_t* data, size_t len) override {
    std::memset(data + len, 0, kAeadTagSize);
    return true;
  }
  bool open(const uint8_t*, Bytes, uint8_t* data, size_t len_with_tag) override {
    uint8_t any = 0;
    for (size_t i = len_with_tag - kAeadTagSize; i < len_with_tag; ++i) any |= data[i];
    return any == 0;
  }
};

class NullHp final : public HeaderProtector {
 public:
  bool mask(const uint8_t*, uint8_t* out) override {
    std::memset(out, 0, kHpMaskSize);
    return true;
  }
};

}  // namespace

std::unique_ptr<Aead> null_aead() {
  return std::make_unique<NullAead>();
}
std::unique_ptr<HeaderProtector> null_hp() {
  return std::make_unique<NullHp>();
}

}  // namespace quic::backend
