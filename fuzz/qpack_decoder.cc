// QPACK decoder fuzz target. Input: one configuration byte, then records of
// [op][length: 2 bytes big-endian][bytes]. op & 3: 0 encoder-stream bytes, 1 a field section
// for stream op >> 2, 2 cancel stream op >> 2, 3 decoder-stream bytes for an encoder.
// Checks: no crash, the table and decoded sections stay within the limits, and every decoded
// header list survives a round trip through our encoder and a second decoder.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "h3/qpack/decoder.h"
#include "h3/qpack/encoder.h"

namespace {

using h3::qpack::Decoder;
using h3::qpack::Encoder;
using h3::qpack::Field;

void check(bool ok) {
  if (!ok) std::abort();
}

void round_trip(Encoder& enc, Decoder& dec, uint64_t stream, const std::vector<Field>& fields) {
  const auto section = enc.encode(stream, fields);
  check(static_cast<bool>(dec.on_encoder_stream(enc.take_encoder_stream_bytes())));
  std::vector<Field> out;
  auto r = dec.decode(stream, section, out);
  check(r && *r == Decoder::DecodeStatus::kDone && out == fields);
  check(static_cast<bool>(enc.on_decoder_stream(dec.take_decoder_stream_bytes())));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  static constexpr uint64_t kCapacities[] = {0, 64, 256, 4096};
  static constexpr uint64_t kSectionLimits[] = {64, 512, 4096, 65536};
  const uint64_t capacity = kCapacities[data[0] & 3];
  const uint64_t blocked = (data[0] >> 2) & 3;
  const uint64_t limit = kSectionLimits[(data[0] >> 4) & 3];
  Decoder d(capacity, blocked, limit);
  Encoder peer_encoder;  // only its decoder-stream parser is exercised
  peer_encoder.set_peer_settings(capacity, blocked);
  Encoder enc;
  enc.set_peer_settings(4096, 0);
  Decoder dec(4096, 0, UINT64_MAX);

  auto section_ok = [&](const std::vector<Field>& fields) {
    uint64_t total = 0;
    for (const Field& f : fields) total += f.name.size() + f.value.size() + 32;
    check(total <= limit);
  };

  size_t pos = 1;
  while (pos + 3 <= size) {
    const uint8_t op = data[pos];
    size_t len = static_cast<size_t>(data[pos + 1]) << 8 | data[pos + 2];
    pos += 3;
    if (len > size - pos) len = size - pos;
    const quic::Bytes chunk(data + pos, len);
    pos += len;
    const uint64_t stream = op >> 2;
    switch (op & 3) {
      case 0: {
        if (!d.on_encoder_stream(chunk)) return 0;  // connection error: the peer is gone
        for (auto& u : d.take_unblocked()) {
          if (!u.fields) continue;
          section_ok(*u.fields);
          round_trip(enc, dec, u.stream_id, *u.fields);
        }
        break;
      }
      case 1: {
        std::vector<Field> out;
        auto r = d.decode(stream, chunk, out);
        if (!r) {
          if (r.error().code != h3::qpack::kFieldSectionTooLarge) return 0;
          break;
        }
        if (*r == Decoder::DecodeStatus::kDone) {
          section_ok(out);
          round_trip(enc, dec, stream, out);
        }
        break;
      }
      case 2:
        d.cancel_stream(stream);
        break;
      case 3:
        (void)peer_encoder.on_decoder_stream(chunk);
        break;
    }
    check(d.table().size() <= d.table().capacity() && d.table().capacity() <= capacity);
    check(d.blocked_streams() <= blocked);
    (void)d.take_decoder_stream_bytes();
  }
  return 0;
}
