// QPACK encoder (RFC 9204 §2.1). Strategy per field line:
//   1. static table name+value match -> indexed static;
//   2. dynamic entry with name+value that may be referenced -> indexed dynamic;
//   3. a non-sensitive field seen before that fits -> inserted (with a static or dynamic name
//      reference when possible), then referenced if allowed;
//   4. otherwise a literal with a static/dynamic name reference, or a literal name.
// A reference to an entry the decoder has not acknowledged may block the stream, so it is only
// made while fewer than SETTINGS_QPACK_BLOCKED_STREAMS streams could be blocked. Entries still
// referenced by unacknowledged field sections are never evicted. Sensitive fields
// (authorization, cookie, ... or Field::sensitive) are never inserted and carry the 'N' bit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <span>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "common/error.h"
#include "h3/qpack/dynamic_table.h"
#include "h3/qpack/field.h"
#include "wire/varint.h"

namespace h3::qpack {

// Our own bound on the dynamic table we keep for the peer, whatever capacity it allows.
inline constexpr uint64_t kDefaultEncoderCapacity = 4096;
// Field sections sent but not yet acknowledged or cancelled, over all streams. A peer that
// never acknowledges cannot make us keep unbounded bookkeeping: past this many, new sections
// stop referencing the dynamic table, so nothing more is recorded.
inline constexpr size_t kMaxOutstandingSections = 4096;
// Fields remembered (as hashes) to decide whether a field repeats.
inline constexpr size_t kHistorySize = 512;

class Encoder {
 public:
  explicit Encoder(uint64_t max_capacity = kDefaultEncoderCapacity);

  // The peer decoder's SETTINGS_QPACK_MAX_TABLE_CAPACITY and SETTINGS_QPACK_BLOCKED_STREAMS.
  // Call once, before the first encode() that should use the dynamic table.
  void set_peer_settings(uint64_t max_table_capacity, uint64_t max_blocked_streams);

  // Bytes of the peer's decoder stream, split anywhere. Errors: QPACK_DECODER_STREAM_ERROR.
  [[nodiscard]] quic::Status on_decoder_stream(quic::Bytes data);

  // One field section (HEADERS payload) for stream_id; may queue encoder-stream instructions,
  // which must be sent before or with the section (see take_encoder_stream_bytes).
  std::vector<uint8_t> encode(uint64_t stream_id, std::span<const Field> fields);
  std::vector<uint8_t> take_encoder_stream_bytes();
  // Huffman coding is used whenever it is shorter; tests turn it off to match RFC examples.
  void set_huffman(bool enabled) { huffman_ = enabled; }

  const DynamicTable& table() const { return table_; }
  uint64_t known_received_count() const { return known_received_count_; }
  // Streams with unacknowledged sections that reference unacknowledged entries.
  size_t blocking_streams() const;
  size_t outstanding_sections() const { return outstanding_; }

 private:
  struct Section {
    uint64_t required_insert_count;
    std::vector<uint64_t> refs;  // absolute indexes referenced (with repetition)
  };
  struct Line;

  bool may_reference(uint64_t abs, bool section_blocking) const;
  bool make_room(uint64_t entry_size);
  void insert(const Field& f, const struct StaticMatch& st);
  void release(const Section& s);
  quic::Status on_instruction(uint8_t first, uint64_t value);
  bool seen_before(const Field& f);

  DynamicTable table_;
  std::deque<uint32_t> refcount_;  // parallel to table entries
  uint64_t max_capacity_;
  uint64_t peer_max_capacity_ = 0;
  uint64_t peer_max_blocked_ = 0;
  uint64_t known_received_count_ = 0;
  bool huffman_ = true;
  std::map<uint64_t, std::deque<Section>> sections_;
  size_t outstanding_ = 0;
  std::unordered_set<uint64_t> history_;
  std::vector<uint8_t> partial_;  // an incomplete decoder-stream instruction
  std::vector<uint8_t> out_;      // pending encoder-stream bytes
};

}  // namespace h3::qpack
