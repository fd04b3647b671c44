// Offline interop (tests/data/qifs): decode what f5, ls-qpack and nghttp3 encoded, and round-trip
// every header list through our own encoder and decoder.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include "h3/qpack/decoder.h"
#include "h3/qpack/encoder.h"
#include "h3/qpack/prefixed_int.h"
#include "test_util.h"

namespace h3::qpack {
namespace {

namespace fs = std::filesystem;

struct EncodedName {
  std::string qif;
  uint64_t capacity = 0;
  uint64_t blocked = 0;
};

// "<qif>.out.<capacity>.<blocked>.<ack mode>"
EncodedName parse_name(const std::string& file) {
  EncodedName n;
  const size_t out = file.find(".out.");
  n.qif = file.substr(0, out);
  std::istringstream rest(file.substr(out + 5));
  char dot;
  rest >> n.capacity >> dot >> n.blocked;
  return n;
}

uint64_t be(const uint8_t* p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = v << 8 | p[i];
  return v;
}

TEST(QpackQifsInterop, DecodesEveryOtherEncodersOutput) {
  const fs::path root = QIFS_DIR;
  size_t files = 0;
  size_t sections = 0;
  for (const auto& encoder_dir : fs::directory_iterator(root / "encoded")) {
    for (const auto& entry : fs::directory_iterator(encoder_dir.path())) {
      const std::string label =
          encoder_dir.path().filename().string() + "/" + entry.path().filename().string();
      SCOPED_TRACE(label);
      const EncodedName name = parse_name(entry.path().filename().string());
      const auto expected = test::read_qif((root / "qifs" / (name.qif + ".qif")).string());
      ASSERT_FALSE(expected.empty());
      const auto data = test::read_file(entry.path().string());

      Decoder d(name.capacity, name.blocked, 1 << 20);
      // The offline-interop convention starts the table at its maximum capacity; nghttp3's
      // files rely on it and send no Set Dynamic Table Capacity, so we send it for them.
      std::vector<uint8_t> set_capacity;
      encode_prefixed_int(set_capacity, 0x20, 5, name.capacity);
      ASSERT_TRUE(d.on_encoder_stream(set_capacity));
      std::map<uint64_t, std::vector<Field>> decoded;
      size_t pos = 0;
      while (pos < data.size()) {
        ASSERT_LE(pos + 12, data.size());
        const uint64_t stream = be(&data[pos], 8);
        const size_t len = be(&data[pos + 8], 4);
        ASSERT_LE(pos + 12 + len, data.size());
        const quic::Bytes record(&data[pos + 12], len);
        pos += 12 + len;
        if (stream == 0) {
          auto s = d.on_encoder_stream(record);
          ASSERT_TRUE(s) << s.error().reason;
          for (auto& u : d.take_unblocked()) {
            ASSERT_TRUE(u.fields) << u.fields.error().reason;
            decoded[u.stream_id] = std::move(*u.fields);
          }
        } else {
          std::vector<Field> out;
          auto r = d.decode(stream, record, out);
          ASSERT_TRUE(r) << "stream " << stream << ": " << r.error().reason;
          if (*r == Decoder::DecodeStatus::kDone) decoded[stream] = std::move(out);
        }
        (void)d.take_decoder_stream_bytes();
      }
      EXPECT_EQ(d.blocked_streams(), 0u);
      ASSERT_EQ(decoded.size(), expected.size());
      size_t i = 0;
      for (const auto& [stream, list] : decoded) {
        ASSERT_EQ(list, expected[i]) << "header list " << i << " (stream " << stream << ")";
        ++i;
      }
      ++files;
      sections += decoded.size();
    }
  }
  EXPECT_EQ(files, 56u);  // f5 16 + ls-qpack 20 + nghttp3 20
  EXPECT_GT(sections, 1000u);
}

struct RoundTrip {
  size_t encoded_bytes = 0;
  size_t encoder_stream_bytes = 0;
};

// Encodes every list of one .qif, delivering each section either after its encoder-stream
// bytes or before them (so the decoder blocks), and feeding decoder-stream bytes back to the
// encoder as an immediately-acknowledging peer would (ack mode 1) unless `acks` is false.
RoundTrip round_trip(const std::vector<std::vector<Field>>& lists, uint64_t capacity,
                     uint64_t blocked, bool section_first, bool acks) {
  RoundTrip stats;
  Encoder e;
  e.set_peer_settings(capacity, blocked);
  Decoder d(capacity, blocked, 1 << 20);
  std::map<uint64_t, std::vector<Field>> decoded;
  for (size_t i = 0; i < lists.size(); ++i) {
    const uint64_t stream = 4 * i;
    const auto section = e.encode(stream, lists[i]);
    const auto instructions = e.take_encoder_stream_bytes();
    stats.encoded_bytes += section.size();
    stats.encoder_stream_bytes += instructions.size();
    auto deliver_section = [&] {
      std::vector<Field> out;
      auto r = d.decode(stream, section, out);
      EXPECT_TRUE(r) << "list " << i << ": " << r.error().reason;
      if (r && *r == Decoder::DecodeStatus::kDone) decoded[stream] = std::move(out);
    };
    if (section_first) deliver_section();
    // Feed the encoder stream one byte at a time: instructions are reassembled incrementally.
    for (uint8_t b : instructions) EXPECT_TRUE(d.on_encoder_stream(quic::Bytes(&b, 1)));
    if (!section_first) deliver_section();
    for (auto& u : d.take_unblocked()) {
      EXPECT_TRUE(u.fields);
      if (u.fields) decoded[u.stream_id] = std::move(*u.fields);
    }
    const auto feedback = d.take_decoder_stream_bytes();
    if (acks) {
      EXPECT_TRUE(e.on_decoder_stream(feedback));
    }
    EXPECT_LE(e.blocking_streams(), blocked);
  }
  EXPECT_EQ(d.blocked_streams(), 0u);
  EXPECT_EQ(decoded.size(), lists.size());
  size_t i = 0;
  for (const auto& [stream, list] : decoded) EXPECT_EQ(list, lists[i++]) << "list " << i - 1;
  return stats;
}

TEST(QpackQifsInterop, OwnEncoderRoundTripsEveryQif) {
  const fs::path root = QIFS_DIR;
  size_t qifs = 0;
  for (const auto& entry : fs::directory_iterator(root / "qifs")) {
    if (entry.path().extension() != ".qif") continue;
    SCOPED_TRACE(entry.path().filename().string());
    const auto lists = test::read_qif(entry.path().string());
    ASSERT_FALSE(lists.empty());
    size_t literal_only = 0;
    for (uint64_t capacity : {0, 256, 4096}) {
      SCOPED_TRACE(capacity);
      const RoundTrip in_order = round_trip(lists, capacity, 100, false, true);
      round_trip(lists, capacity, 100, true, true);  // sections overtake their inserts
      round_trip(lists, capacity, 0, true, true);    // ... but may not block
      round_trip(lists, capacity, 2, true, false);   // no acknowledgments at all
      if (capacity == 0) literal_only = in_order.encoded_bytes;
      if (capacity == 4096 && lists.size() > 5) {
        // The dynamic table must pay off on real traffic, counting the encoder stream too.
        EXPECT_LT(in_order.encoded_bytes + in_order.encoder_stream_bytes, literal_only);
      }
    }
    ++qifs;
  }
  EXPECT_EQ(qifs, 7u);
}

}  // namespace
}  // namespace h3::qpack
