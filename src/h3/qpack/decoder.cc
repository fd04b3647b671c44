// Decoder: encoder-stream processing, blocking and decoder-stream output. Field line decoding
// is in decoder_lines.cc.
#include "h3/qpack/decoder.h"

#include <algorithm>
#include <utility>

#include "h3/qpack/prefixed_int.h"
#include "h3/qpack/static_table.h"
#include "h3/qpack/string_literal.h"

namespace h3::qpack {

struct Decoder::Instruction {
  enum class Type { kSetCapacity, kInsert, kDuplicate } type = Type::kSetCapacity;
  uint64_t number = 0;  // capacity, or relative index for Duplicate
  std::string name;
  std::string value;
};

Decoder::Decoder(uint64_t max_table_capacity, uint64_t max_blocked_streams,
                 uint64_t max_field_section_size)
    : max_capacity_(std::min(max_table_capacity, kMaxDecoderTableCapacity)),
      max_blocked_(std::min(max_blocked_streams, kMaxDecoderBlockedStreams)),
      max_section_size_(max_field_section_size) {}

// Parses one encoder instruction (RFC 9204 §4.3) without changing any state. String lengths
// are checked against the current capacity before their bytes are awaited, so an incomplete
// instruction never needs more than about 4x the table capacity of buffer.
Parse Decoder::parse_instruction(quic::Bytes in, Instruction& ins, size_t& consumed, size_t& need,
                                 quic::Error& error) const {
  auto fail_with = [&](std::string reason) {
    error = quic::Error{kEncoderStreamError, 0, std::move(reason), true};
    return Parse::kInvalid;
  };
  auto incomplete = [&](size_t n) {
    need = n;
    return Parse::kIncomplete;
  };
  if (in.empty()) return incomplete(1);
  const uint8_t first = in[0];
  const uint64_t cap = table_.capacity();
  const size_t entry_room = cap > kEntryOverhead ? static_cast<size_t>(cap - kEntryOverhead) : 0;

  if ((first & 0xe0) == 0x20 || (first & 0xe0) == 0x00) {  // Set Capacity 001x, Duplicate 000x
    const IntParse n = decode_prefixed_int(in, 5);
    if (n.status == Parse::kIncomplete) return incomplete(in.size() + 1);
    if (n.status != Parse::kOk) return fail_with("bad integer");
    ins.type = (first & 0x20) ? Instruction::Type::kSetCapacity : Instruction::Type::kDuplicate;
    ins.number = n.value;
    consumed = n.consumed;
    return Parse::kOk;
  }

  size_t pos = 0;
  ins.type = Instruction::Type::kInsert;
  if (first & 0x80) {  // Insert With Name Reference: 1Txxxxxx
    const IntParse idx = decode_prefixed_int(in, 6);
    if (idx.status == Parse::kIncomplete) return incomplete(in.size() + 1);
    if (idx.status != Parse::kOk) return fail_with("bad integer");
    if (first & 0x40) {
      const StaticEntry* e = static_entry(idx.value);
      if (!e) return fail_with("invalid static table index");
      ins.name.assign(e->name);
    } else {
      const uint64_t count = table_.insert_count();
      const DynamicEntry* e = idx.value < count ? table_.get(count - 1 - idx.value) : nullptr;
      if (!e) return fail_with("invalid dynamic table reference");
      ins.name = e->name;
    }
    pos = idx.consumed;
  } else {  // Insert With Literal Name: 01Hxxxxx
    const StringParse name = decode_string(in, 5, entry_room, ins.name);
    if (name.status == Parse::kIncomplete) return incomplete(name.need);
    if (name.status == Parse::kTooLarge) return fail_with("entry larger than table capacity");
    if (name.status != Parse::kOk) return fail_with("bad name literal");
    pos = name.consumed;
  }
  if (ins.name.size() > entry_room) return fail_with("entry larger than table capacity");
  const StringParse value =
      decode_string(in.subspan(pos), 7, entry_room - ins.name.size(), ins.value);
  if (value.status == Parse::kIncomplete) return incomplete(pos + value.need);
  if (value.status == Parse::kTooLarge) return fail_with("entry larger than table capacity");
  if (value.status != Parse::kOk) return fail_with("bad value literal");
  consumed = pos + value.consumed;
  return Parse::kOk;
}

quic::Status Decoder::apply(Instruction& ins) {
  switch (ins.type) {
    case Instruction::Type::kSetCapacity:
      // RFC 9204 §4.3.1: above our advertised maximum is an encoder stream error.
      if (ins.number > max_capacity_) {
        return qpack_fail(kEncoderStreamError, "capacity above SETTINGS_QPACK_MAX_TABLE_CAPACITY");
      }
      table_.set_capacity(ins.number);
      return {};
    case Instruction::Type::kDuplicate: {
      const uint64_t count = table_.insert_count();
      const DynamicEntry* e = ins.number < count ? table_.get(count - 1 - ins.number) : nullptr;
      if (!e) return qpack_fail(kEncoderStreamError, "duplicate of an invalid entry");
      DynamicEntry copy = *e;  // copied before insert() may evict the original
      table_.insert(std::move(copy));
      return {};
    }
    case Instruction::Type::kInsert: {
      DynamicEntry e{std::move(ins.name), std::move(ins.value)};
      if (e.size() > table_.capacity()) {
        return qpack_fail(kEncoderStreamError, "entry larger than table capacity");
      }
      table_.insert(std::move(e));
      return {};
    }
  }
  return {};
}

quic::Status Decoder::drain_encoder_bytes(quic::Bytes data) {
  Instruction ins;
  quic::Error error;
  while (!data.empty()) {
    size_t consumed = 0;
    size_t need = 0;
    if (partial_.empty()) {  // fast path: parse straight from the caller's buffer
      const Parse p = parse_instruction(data, ins, consumed, need, error);
      if (p == Parse::kOk) {
        if (auto s = apply(ins); !s) return s;
        data = data.subspan(consumed);
        continue;
      }
      if (p != Parse::kIncomplete) return std::unexpected(error);
      partial_.assign(data.begin(), data.end());
      partial_need_ = need;
      return {};
    }
    const size_t take = std::min(data.size(), partial_need_ - partial_.size());
    partial_.insert(partial_.end(), data.begin(), data.begin() + static_cast<ptrdiff_t>(take));
    data = data.subspan(take);
    if (partial_.size() < partial_need_) return {};
    const Parse p = parse_instruction(partial_, ins, consumed, need, error);
    if (p == Parse::kIncomplete) {
      partial_need_ = need;
      continue;
    }
    if (p != Parse::kOk) return std::unexpected(error);
    // partial_ only ever grows up to the instruction's end, so it was consumed entirely.
    partial_.clear();
    if (auto s = apply(ins); !s) return s;
  }
  return {};
}

quic::Status Decoder::on_encoder_stream(quic::Bytes data) {
  if (auto s = drain_encoder_bytes(data); !s) return s;
  return unblock();
}

bool Decoder::stream_blocked(uint64_t stream_id) const {
  return std::any_of(blocked_.begin(), blocked_.end(),
                     [&](const Blocked& b) { return b.stream_id == stream_id; });
}

size_t Decoder::blocked_streams() const {
  std::vector<uint64_t> ids;
  for (const Blocked& b : blocked_) ids.push_back(b.stream_id);
  std::sort(ids.begin(), ids.end());
  return static_cast<size_t>(std::unique(ids.begin(), ids.end()) - ids.begin());
}

quic::Status Decoder::unblock() {
  // Sections of one stream stay in order: a later one waits for the earlier ones.
  std::vector<uint64_t> still_blocked;
  for (auto it = blocked_.begin(); it != blocked_.end();) {
    const bool earlier_waits =
        std::find(still_blocked.begin(), still_blocked.end(), it->stream_id) != still_blocked.end();
    if (earlier_waits || it->required_insert_count > table_.insert_count()) {
      still_blocked.push_back(it->stream_id);
      ++it;
      continue;
    }
    auto fields = decode_lines(it->lines, it->required_insert_count, it->base);
    if (!fields && fields.error().code != kFieldSectionTooLarge) {
      return std::unexpected(fields.error());
    }
    if (fields) acknowledge(it->stream_id, it->required_insert_count);
    unblocked_.push_back(Unblocked{it->stream_id, std::move(fields)});
    blocked_bytes_ -= it->lines.size();
    it = blocked_.erase(it);
  }
  return {};
}

quic::Result<Decoder::DecodeStatus> Decoder::decode(uint64_t stream_id, quic::Bytes field_section,
                                                    std::vector<Field>& out) {
  // Encoded Field Section Prefix (RFC 9204 §4.5.1).
  const IntParse enc_ric = decode_prefixed_int(field_section, 8);
  if (enc_ric.status != Parse::kOk) return qpack_fail(kDecompressionFailed, "bad prefix");
  uint64_t ric = 0;
  if (!decode_required_insert_count(enc_ric.value, max_capacity_, table_.insert_count(), ric)) {
    return qpack_fail(kDecompressionFailed, "invalid Required Insert Count");
  }
  quic::Bytes rest = field_section.subspan(enc_ric.consumed);
  const IntParse delta = decode_prefixed_int(rest, 7);
  if (delta.status != Parse::kOk) return qpack_fail(kDecompressionFailed, "bad Base");
  uint64_t base = 0;
  if (rest[0] & 0x80) {  // Base = RIC - DeltaBase - 1, which must not be negative
    if (delta.value >= ric) return qpack_fail(kDecompressionFailed, "negative Base");
    base = ric - delta.value - 1;
  } else {
    base = ric + delta.value;
  }
  rest = rest.subspan(delta.consumed);

  if (ric > table_.insert_count() || stream_blocked(stream_id)) {
    if (!stream_blocked(stream_id) && blocked_streams() >= max_blocked_) {
      return qpack_fail(kDecompressionFailed, "too many blocked streams");
    }
    if (rest.size() > kMaxBlockedSectionBytes - blocked_bytes_) {
      return qpack_fail(kDecompressionFailed, "too many bytes in blocked field sections");
    }
    blocked_.push_back(Blocked{stream_id, ric, base, {rest.begin(), rest.end()}});
    blocked_bytes_ += rest.size();
    return DecodeStatus::kBlocked;
  }
  auto fields = decode_lines(rest, ric, base);
  if (!fields) return std::unexpected(std::move(fields.error()));
  acknowledge(stream_id, ric);
  out = std::move(*fields);
  return DecodeStatus::kDone;
}

void Decoder::acknowledge(uint64_t stream_id, uint64_t ric) {
  // RFC 9204 §4.4.1: only sections that depend on the dynamic table are acknowledged.
  if (ric == 0) return;
  encode_prefixed_int(out_, 0x80, 7, stream_id);
  known_received_count_ = std::max(known_received_count_, ric);
}

std::vector<Decoder::Unblocked> Decoder::take_unblocked() {
  return std::exchange(unblocked_, {});
}

void Decoder::cancel_stream(uint64_t stream_id) {
  for (auto it = blocked_.begin(); it != blocked_.end();) {
    if (it->stream_id == stream_id) {
      blocked_bytes_ -= it->lines.size();
      it = blocked_.erase(it);
    } else {
      ++it;
    }
  }
  // RFC 9204 §4.4.2: a decoder whose table capacity is zero may omit cancellations.
  if (max_capacity_ > 0) encode_prefixed_int(out_, 0x40, 6, stream_id);
}

std::vector<uint8_t> Decoder::take_decoder_stream_bytes() {
  // RFC 9204 §4.4.3: one increment covers every insert not acknowledged by a Section Ack.
  if (table_.insert_count() > known_received_count_) {
    encode_prefixed_int(out_, 0x00, 6, table_.insert_count() - known_received_count_);
    known_received_count_ = table_.insert_count();
  }
  return std::exchange(out_, {});
}

}  // namespace h3::qpack
