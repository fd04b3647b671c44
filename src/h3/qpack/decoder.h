// QPACK decoder (RFC 9204 §2.2): applies the peer encoder's stream to a dynamic table, decodes
// field sections (blocking those that reference entries not yet received), and produces the
// decoder-stream instructions that report progress back to the peer's encoder.
//
// Sans-I/O: the caller feeds encoder-stream bytes and complete field sections (HEADERS frame
// payloads) and drains the decoder-stream bytes it must send.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "common/error.h"
#include "h3/qpack/dynamic_table.h"
#include "h3/qpack/field.h"
#include "h3/qpack/qpack_error.h"
#include "wire/varint.h"

namespace h3::qpack {

// Upper bound for our own SETTINGS_QPACK_MAX_TABLE_CAPACITY: a larger constructor argument is
// clamped, so a decoder never holds more than this many bytes of table.
inline constexpr uint64_t kMaxDecoderTableCapacity = uint64_t{1} << 20;
// Upper bound for SETTINGS_QPACK_BLOCKED_STREAMS we advertise.
inline constexpr uint64_t kMaxDecoderBlockedStreams = 1024;
// Bytes of encoded field sections held while their streams are blocked. The blocked-stream
// count alone does not bound memory, since each section can be up to a HEADERS frame long.
inline constexpr size_t kMaxBlockedSectionBytes = size_t{1} << 20;

class Decoder {
 public:
  // Our settings as advertised to the peer: SETTINGS_QPACK_MAX_TABLE_CAPACITY,
  // SETTINGS_QPACK_BLOCKED_STREAMS and SETTINGS_MAX_FIELD_SECTION_SIZE.
  Decoder(uint64_t max_table_capacity, uint64_t max_blocked_streams,
          uint64_t max_field_section_size);

  // Bytes from the peer's encoder stream, in order, split anywhere. An error is a connection
  // error (QPACK_ENCODER_STREAM_ERROR, or QPACK_DECOMPRESSION_FAILED from a field section that
  // this input unblocked).
  [[nodiscard]] quic::Status on_encoder_stream(quic::Bytes data);

  enum class DecodeStatus { kDone, kBlocked };
  // Decodes one complete field section for stream_id. kDone fills `out`; kBlocked keeps a copy
  // of the section until the inserts it needs arrive (see take_unblocked). Errors:
  // QPACK_DECOMPRESSION_FAILED (connection error) or kFieldSectionTooLarge (stream error; the
  // caller should reset the stream and call cancel_stream).
  [[nodiscard]] quic::Result<DecodeStatus> decode(uint64_t stream_id, quic::Bytes field_section,
                                                  std::vector<Field>& out);

  struct Unblocked {
    uint64_t stream_id;
    quic::Result<std::vector<Field>> fields;  // only kFieldSectionTooLarge as an error
  };
  // Sections that became decodable after encoder-stream input, in the order they were blocked.
  std::vector<Unblocked> take_unblocked();

  // The stream was reset or abandoned: drop its blocked sections and tell the encoder.
  void cancel_stream(uint64_t stream_id);

  // Decoder-stream instructions to send (Section Acknowledgment, Stream Cancellation, and an
  // Insert Count Increment covering inserts not yet acknowledged otherwise).
  std::vector<uint8_t> take_decoder_stream_bytes();

  const DynamicTable& table() const { return table_; }
  uint64_t max_table_capacity() const { return max_capacity_; }
  size_t blocked_streams() const;

 private:
  struct Blocked {
    uint64_t stream_id;
    uint64_t required_insert_count;
    uint64_t base;
    std::vector<uint8_t> lines;  // the section after its prefix
  };
  struct Instruction;

  Parse parse_instruction(quic::Bytes in, Instruction& ins, size_t& consumed, size_t& need,
                          quic::Error& error) const;
  quic::Status apply(Instruction& ins);
  quic::Status drain_encoder_bytes(quic::Bytes data);
  quic::Status unblock();
  // Decodes the field lines after the prefix. kFieldSectionTooLarge or QPACK_DECOMPRESSION_FAILED.
  quic::Result<std::vector<Field>> decode_lines(quic::Bytes lines, uint64_t ric,
                                                uint64_t base) const;
  void acknowledge(uint64_t stream_id, uint64_t ric);
  bool stream_blocked(uint64_t stream_id) const;

  DynamicTable table_;
  uint64_t max_capacity_;
  uint64_t max_blocked_;
  uint64_t max_section_size_;
  uint64_t known_received_count_ = 0;  // what the encoder has been told we received
  std::vector<uint8_t> partial_;       // an incomplete encoder-stream instruction
  size_t partial_need_ = 0;            // bytes partial_ must reach before re-parsing
  std::deque<Blocked> blocked_;
  size_t blocked_bytes_ = 0;
  std::vector<Unblocked> unblocked_;
  std::vector<uint8_t> out_;  // pending decoder-stream bytes
};

}  // namespace h3::qpack
