// The shared type-length-value reader: the owner's choice per item (buffer, stream, skip) holds
// whatever the fragmentation.
#include "h3/tlv.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "h3/frames.h"

namespace h3 {
namespace {

using Wire = std::vector<uint8_t>;
using Mode = TlvReader::Mode;
using Kind = TlvReader::Item::Kind;

// Type 1: buffered; type 2: streamed; anything else: skipped. Returns a transcript.
std::string run(const std::vector<quic::Bytes>& pieces, TlvReader& r) {
  std::string log;
  for (quic::Bytes in : pieces) {
    while (auto item = r.next(in)) {
      switch (item->kind) {
        case Kind::kHeader:
          log += "H" + std::to_string(item->type) + "/" + std::to_string(item->length) + " ";
          r.set_mode(item->type == 1   ? Mode::kBuffer
                     : item->type == 2 ? Mode::kStream
                                       : Mode::kSkip);
          break;
        case Kind::kWhole:
          log += "W" + std::string(item->payload.begin(), item->payload.end()) + " ";
          break;
        case Kind::kChunk:
          log += std::string(item->payload.begin(), item->payload.end());
          if (item->last) log += "| ";
          break;
      }
    }
  }
  return log;
}

TEST(H3Tlv, ModesHoldAtEverySplit) {
  Wire wire;
  auto add = [&](uint64_t type, std::string_view v) {
    append_varint(wire, type);
    append_varint(wire, v.size());
    wire.insert(wire.end(), v.begin(), v.end());
  };
  add(1, "whole");
  add(2, "streamed");
  add(0x4242, std::string(100, 'z'));  // skipped
  add(1, "");
  add(2, "");
  add(1, "end");
  const std::string want = "H1/5 Wwhole H2/8 streamed| H16962/100 H1/0 W H2/0 H1/3 Wend ";
  for (size_t cut = 0; cut <= wire.size(); ++cut) {
    TlvReader r;
    std::string got = run({quic::Bytes(wire).first(cut), quic::Bytes(wire).subspan(cut)}, r);
    // A streamed value may come in two chunks; the transcript joins them.
    EXPECT_EQ(got, want) << "cut " << cut;
    EXPECT_TRUE(r.at_boundary());
    EXPECT_EQ(r.items_read(), 6u);
  }
}

TEST(H3Tlv, WholeValueInOneFragmentIsNotCopied) {
  Wire wire{0x01, 0x03, 'a', 'b', 'c'};
  TlvReader r;
  quic::Bytes in(wire);
  auto h = r.next(in);
  ASSERT_TRUE(h);
  r.set_mode(Mode::kBuffer);
  auto w = r.next(in);
  ASSERT_TRUE(w);
  EXPECT_EQ(w->payload.data(), wire.data() + 2);  // a view into the input
  EXPECT_TRUE(in.empty());
}

TEST(H3Tlv, UndecidedHeaderIsSkippedNeverBuffered) {
  Wire wire{0x05, 0x02, 'x', 'y', 0x01, 0x01, 'q'};
  TlvReader r;
  quic::Bytes in(wire);
  ASSERT_TRUE(r.next(in));  // header of type 5; no set_mode
  auto next = r.next(in);   // its value is skipped; the next header follows
  ASSERT_TRUE(next);
  EXPECT_EQ(next->kind, Kind::kHeader);
  EXPECT_EQ(next->type, 1u);
}

}  // namespace
}  // namespace h3
