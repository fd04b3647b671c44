#include "h3/qpack/encoder.h"

#include <algorithm>
#include <functional>
#include <string>
#include <utility>

#include "h3/qpack/prefixed_int.h"
#include "h3/qpack/qpack_error.h"
#include "h3/qpack/static_table.h"
#include "h3/qpack/string_literal.h"

namespace h3::qpack {
namespace {

// RFC 9204 §7.1.3: values an attacker could confirm by guessing are kept out of the table.
bool sensitive_name(std::string_view name) {
  return name == "authorization" || name == "proxy-authorization" || name == "cookie" ||
         name == "set-cookie";
}

// An instruction on the decoder stream is a single prefixed integer of at most 11 bytes.
constexpr size_t kMaxDecoderInstructionBytes = 1 + kMaxIntContinuationBytes;

}  // namespace

struct Encoder::Line {
  enum class Kind { kStatic, kDynamic, kStaticName, kDynamicName, kLiteral } kind;
  uint64_t index;  // static index or absolute dynamic index
  const Field* field;
  bool never_index;
};

Encoder::Encoder(uint64_t max_capacity) : max_capacity_(max_capacity) {}

void Encoder::set_peer_settings(uint64_t max_table_capacity, uint64_t max_blocked_streams) {
  peer_max_capacity_ = max_table_capacity;
  peer_max_blocked_ = max_blocked_streams;
  const uint64_t capacity = std::min(max_table_capacity, max_capacity_);
  // Changing the capacity of a used table could evict referenced entries; settings arrive once.
  if (capacity > 0 && table_.insert_count() == 0 && capacity != table_.capacity()) {
    table_.set_capacity(capacity);
    encode_prefixed_int(out_, 0x20, 5, capacity);  // Set Dynamic Table Capacity
  }
}

size_t Encoder::blocking_streams() const {
  size_t n = 0;
  for (const auto& [id, list] : sections_) {
    n += std::any_of(list.begin(), list.end(), [&](const Section& s) {
      return s.required_insert_count > known_received_count_;
    });
  }
  return n;
}

bool Encoder::seen_before(const Field& f) {
  std::string key;
  key.reserve(f.name.size() + 1 + f.value.size());
  key.append(f.name).push_back('\0');
  key.append(f.value);
  const uint64_t h = std::hash<std::string>{}(key);
  if (history_.contains(h)) return true;
  if (history_.size() >= kHistorySize) history_.clear();
  history_.insert(h);
  return false;
}

// Evicts (in the table's FIFO order) just enough unreferenced entries for entry_size; false,
// changing nothing, when an entry in the way is still referenced.
bool Encoder::make_room(uint64_t entry_size) {
  if (entry_size > table_.capacity()) return false;
  uint64_t need = table_.overflow_for(entry_size);
  for (uint64_t abs = table_.first_index(); need > 0; ++abs) {
    const DynamicEntry* e = table_.get(abs);
    if (!e || refcount_[abs - table_.first_index()] != 0) return false;
    need -= std::min(need, e->size());
  }
  return true;
}

void Encoder::insert(const Field& f, const StaticMatch& st) {
  // Insert With Name Reference (static or dynamic) or With Literal Name (RFC 9204 §4.3.2-3).
  const DynamicTable::Match dyn = table_.find(f.name, {}, false);
  if (st.name) {
    encode_prefixed_int(out_, 0xc0, 6, *st.name);
  } else if (dyn.found) {
    encode_prefixed_int(out_, 0x80, 6, table_.insert_count() - 1 - dyn.index);
  } else {
    encode_string(out_, 0x40, 5, f.name, huffman_);
  }
  encode_string(out_, 0x00, 7, f.value, huffman_);
  const uint64_t before = table_.first_index();
  table_.insert(DynamicEntry{f.name, f.value});
  for (uint64_t i = before; i < table_.first_index(); ++i) refcount_.pop_front();
  refcount_.push_back(0);
}

std::vector<uint8_t> Encoder::encode(uint64_t stream_id, std::span<const Field> fields) {
  // Dynamic references are recorded until acknowledged; with too many outstanding sections,
  // fall back to static/literal representations.
  const bool use_dynamic = table_.capacity() > 0 && outstanding_ < kMaxOutstandingSections;
  bool can_block = false;
  if (use_dynamic) {
    const auto it = sections_.find(stream_id);
    const bool already = it != sections_.end() &&
                         std::any_of(it->second.begin(), it->second.end(), [&](const Section& s) {
                           return s.required_insert_count > known_received_count_;
                         });
    can_block = already || blocking_streams() < peer_max_blocked_;
  }
  auto may_reference = [&](uint64_t abs) { return abs < known_received_count_ || can_block; };

  Section section{0, {}};
  auto reference = [&](uint64_t abs) {
    section.refs.push_back(abs);
    ++refcount_[abs - table_.first_index()];
    section.required_insert_count = std::max(section.required_insert_count, abs + 1);
  };

  std::vector<Line> lines;
  lines.reserve(fields.size());
  for (const Field& f : fields) {
    const bool sensitive = f.sensitive || sensitive_name(f.name);
    const StaticMatch st = find_static(f.name, f.value);
    if (st.exact) {
      lines.push_back({Line::Kind::kStatic, *st.exact, &f, false});
      continue;
    }
    if (use_dynamic && !sensitive) {
      const DynamicTable::Match m = table_.find(f.name, f.value, true);
      if (m.found && may_reference(m.index)) {
        reference(m.index);
        lines.push_back({Line::Kind::kDynamic, m.index, &f, false});
        continue;
      }
      const uint64_t size = f.name.size() + f.value.size() + kEntryOverhead;
      // Entries close to the capacity would flush the whole table; only repeats are worth it.
      if (seen_before(f) && !m.found && size <= table_.capacity() * 3 / 4 && make_room(size)) {
        insert(f, st);
        const uint64_t abs = table_.insert_count() - 1;
        if (may_reference(abs)) {
          reference(abs);
          lines.push_back({Line::Kind::kDynamic, abs, &f, false});
          continue;
        }
      }
    }
    if (st.name) {
      lines.push_back({Line::Kind::kStaticName, *st.name, &f, sensitive});
      continue;
    }
    if (use_dynamic) {
      const DynamicTable::Match m = table_.find(f.name, {}, false);
      if (m.found && may_reference(m.index)) {
        reference(m.index);
        lines.push_back({Line::Kind::kDynamicName, m.index, &f, sensitive});
        continue;
      }
    }
    lines.push_back({Line::Kind::kLiteral, 0, &f, sensitive});
  }

  // Prefix (RFC 9204 §4.5.1): Base is the insert count, so every reference is relative.
  std::vector<uint8_t> out;
  const uint64_t ric = section.required_insert_count;
  const uint64_t base = ric == 0 ? 0 : table_.insert_count();
  encode_prefixed_int(out, 0x00, 8, encode_required_insert_count(ric, peer_max_capacity_));
  encode_prefixed_int(out, 0x00, 7, base - ric);
  for (const Line& l : lines) {
    const uint8_t n = l.never_index ? 0x20 : 0x00;
    switch (l.kind) {
      case Line::Kind::kStatic:
        encode_prefixed_int(out, 0xc0, 6, l.index);
        break;
      case Line::Kind::kDynamic:
        encode_prefixed_int(out, 0x80, 6, base - 1 - l.index);
        break;
      case Line::Kind::kStaticName:
        encode_prefixed_int(out, static_cast<uint8_t>(0x50 | n), 4, l.index);
        encode_string(out, 0x00, 7, l.field->value, huffman_);
        break;
      case Line::Kind::kDynamicName:
        encode_prefixed_int(out, static_cast<uint8_t>(0x40 | n), 4, base - 1 - l.index);
        encode_string(out, 0x00, 7, l.field->value, huffman_);
        break;
      case Line::Kind::kLiteral:
        encode_string(out, static_cast<uint8_t>(0x20 | (n >> 1)), 3, l.field->name, huffman_);
        encode_string(out, 0x00, 7, l.field->value, huffman_);
        break;
    }
  }
  if (ric > 0) {
    sections_[stream_id].push_back(std::move(section));
    ++outstanding_;
  }
  return out;
}

std::vector<uint8_t> Encoder::take_encoder_stream_bytes() {
  return std::exchange(out_, {});
}

void Encoder::release(const Section& s) {
  for (uint64_t abs : s.refs) {
    // Referenced entries cannot have been evicted, so abs is still in the table.
    if (abs >= table_.first_index()) --refcount_[abs - table_.first_index()];
  }
  --outstanding_;
}

quic::Status Encoder::on_instruction(uint8_t first, uint64_t value) {
  if (first & 0x80) {  // Section Acknowledgment (RFC 9204 §4.4.1)
    auto it = sections_.find(value);
    if (it == sections_.end()) {
      return qpack_fail(kDecoderStreamError, "Section Acknowledgment without an open section");
    }
    Section s = std::move(it->second.front());
    it->second.pop_front();
    if (it->second.empty()) sections_.erase(it);
    release(s);
    known_received_count_ = std::max(known_received_count_, s.required_insert_count);
    return {};
  }
  if (first & 0x40) {  // Stream Cancellation (§4.4.2); may name a stream we never referenced
    auto it = sections_.find(value);
    if (it != sections_.end()) {
      for (const Section& s : it->second) release(s);
      sections_.erase(it);
    }
    return {};
  }
  // Insert Count Increment (§4.4.3)
  if (value == 0) return qpack_fail(kDecoderStreamError, "Insert Count Increment of 0");
  if (value > table_.insert_count() - known_received_count_) {
    return qpack_fail(kDecoderStreamError, "Insert Count Increment beyond inserts sent");
  }
  known_received_count_ += value;
  return {};
}

quic::Status Encoder::on_decoder_stream(quic::Bytes data) {
  while (!data.empty()) {
    quic::Bytes in = data;
    if (!partial_.empty()) {  // complete the buffered instruction one byte at a time
      partial_.push_back(data[0]);
      data = data.subspan(1);
      in = partial_;
    }
    const int prefix = (in[0] & 0x80) ? 7 : 6;
    const IntParse p = decode_prefixed_int(in, prefix);
    if (p.status == Parse::kInvalid) return qpack_fail(kDecoderStreamError, "bad integer");
    if (p.status == Parse::kIncomplete) {
      if (partial_.empty()) {
        partial_.assign(in.begin(), in.end());  // < kMaxDecoderInstructionBytes
        data = {};
      }
      continue;
    }
    const uint8_t first = in[0];
    if (partial_.empty()) {
      data = data.subspan(p.consumed);
    } else {
      partial_.clear();
    }
    if (auto s = on_instruction(first, p.value); !s) return s;
  }
  static_assert(kMaxDecoderInstructionBytes == 11);
  return {};
}

}  // namespace h3::qpack
