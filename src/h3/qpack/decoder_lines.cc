// Field line decoding (RFC 9204 §4.5.2-4.5.6) with the field section size limit enforced as
// lines are decoded: a section referencing one large entry many times (a "QPACK bomb") stops at
// SETTINGS_MAX_FIELD_SECTION_SIZE instead of allocating every copy.
#include <algorithm>

#include "h3/qpack/decoder.h"
#include "h3/qpack/prefixed_int.h"
#include "h3/qpack/static_table.h"
#include "h3/qpack/string_literal.h"

namespace h3::qpack {
namespace {

// Resolves indexes against the static and dynamic tables within one field section's
// Required Insert Count and Base, and accounts the section's size.
class LineContext {
 public:
  LineContext(const DynamicTable& table, uint64_t ric, uint64_t base, uint64_t limit)
      : table_(table), ric_(ric), base_(base), limit_(limit) {}

  // RFC 9204 §3.2.5/3.2.6: relative indexes count down from Base, post-base indexes up from it;
  // either way the entry must be below the Required Insert Count and not evicted.
  const DynamicEntry* relative(uint64_t index) {
    if (index >= base_) return nullptr;
    return absolute(base_ - 1 - index);
  }
  const DynamicEntry* post_base(uint64_t index) {
    if (base_ >= ric_ || index >= ric_ - base_) return nullptr;
    return absolute(base_ + index);
  }

  // Bytes a literal may still decode to after `used` bytes of this field and its overhead.
  size_t budget(size_t used) const {
    const uint64_t spent = total_ + kEntryOverhead + used;
    const uint64_t left = spent > limit_ ? 0 : limit_ - spent;
    return static_cast<size_t>(std::min<uint64_t>(left, SIZE_MAX));
  }
  // Accounts one field (name + value + 32); false once the section exceeds the limit.
  bool charge(uint64_t name_len, uint64_t value_len) {
    const uint64_t cost = name_len + value_len + kEntryOverhead;
    if (cost > limit_ - std::min(total_, limit_)) return false;
    total_ += cost;
    return true;
  }
  bool all_referenced() const { return ric_ == 0 || (referenced_ && max_ref_ + 1 == ric_); }

 private:
  const DynamicEntry* absolute(uint64_t abs) {
    if (abs >= ric_) return nullptr;
    max_ref_ = std::max(max_ref_, abs);
    referenced_ = true;
    return table_.get(abs);
  }

  const DynamicTable& table_;
  uint64_t ric_;
  uint64_t base_;
  uint64_t limit_;
  uint64_t total_ = 0;
  uint64_t max_ref_ = 0;
  bool referenced_ = false;
};

auto malformed(const char* why) {
  return qpack_fail(kDecompressionFailed, why);
}
auto too_large() {
  return qpack_fail(kFieldSectionTooLarge, "field section exceeds SETTINGS_MAX_FIELD_SECTION_SIZE");
}

}  // namespace

quic::Result<std::vector<Field>> Decoder::decode_lines(quic::Bytes in, uint64_t ric,
                                                       uint64_t base) const {
  LineContext ctx(table_, ric, base, max_section_size_);
  std::vector<Field> fields;
  while (!in.empty()) {
    const uint8_t first = in[0];
    Field f;
    std::string_view name_ref;
    std::string_view value_ref;
    bool have_value = false;  // value_ref holds the value (indexed line)
    size_t pos = 0;

    if (first & 0x80) {  // Indexed Field Line: 1Txxxxxx
      const IntParse idx = decode_prefixed_int(in, 6);
      if (idx.status != Parse::kOk) return malformed("bad index");
      if (first & 0x40) {
        const StaticEntry* e = static_entry(idx.value);
        if (!e) return malformed("invalid static table index");
        name_ref = e->name;
        value_ref = e->value;
      } else {
        const DynamicEntry* e = ctx.relative(idx.value);
        if (!e) return malformed("invalid dynamic table reference");
        name_ref = e->name;
        value_ref = e->value;
      }
      have_value = true;
      pos = idx.consumed;
    } else if ((first & 0xf0) == 0x10) {  // Indexed Field Line With Post-Base Index: 0001xxxx
      const IntParse idx = decode_prefixed_int(in, 4);
      if (idx.status != Parse::kOk) return malformed("bad index");
      const DynamicEntry* e = ctx.post_base(idx.value);
      if (!e) return malformed("invalid post-base reference");
      name_ref = e->name;
      value_ref = e->value;
      have_value = true;
      pos = idx.consumed;
    } else if (first & 0x40) {  // Literal With Name Reference: 01NTxxxx
      f.sensitive = first & 0x20;
      const IntParse idx = decode_prefixed_int(in, 4);
      if (idx.status != Parse::kOk) return malformed("bad index");
      if (first & 0x10) {
        const StaticEntry* e = static_entry(idx.value);
        if (!e) return malformed("invalid static table index");
        name_ref = e->name;
      } else {
        const DynamicEntry* e = ctx.relative(idx.value);
        if (!e) return malformed("invalid dynamic table reference");
        name_ref = e->name;
      }
      pos = idx.consumed;
    } else if (first & 0x20) {  // Literal With Literal Name: 001NHxxx
      f.sensitive = first & 0x10;
      const StringParse name = decode_string(in, 3, ctx.budget(0), f.name);
      if (name.status == Parse::kTooLarge) return too_large();
      if (name.status != Parse::kOk) return malformed("bad name literal");
      pos = name.consumed;
    } else {  // Literal With Post-Base Name Reference: 0000Nxxx
      f.sensitive = first & 0x08;
      const IntParse idx = decode_prefixed_int(in, 3);
      if (idx.status != Parse::kOk) return malformed("bad index");
      const DynamicEntry* e = ctx.post_base(idx.value);
      if (!e) return malformed("invalid post-base reference");
      name_ref = e->name;
      pos = idx.consumed;
    }
    in = in.subspan(pos);

    if (!name_ref.empty() || have_value) {
      // Check before copying, so repeated references to a big entry never allocate past the limit.
      if (ctx.budget(0) < name_ref.size()) return too_large();
      f.name.assign(name_ref);
    }
    if (have_value) {
      if (ctx.budget(f.name.size()) < value_ref.size()) return too_large();
      f.value.assign(value_ref);
    } else {
      const StringParse value = decode_string(in, 7, ctx.budget(f.name.size()), f.value);
      if (value.status == Parse::kTooLarge) return too_large();
      if (value.status != Parse::kOk) return malformed("bad value literal");
      in = in.subspan(value.consumed);
    }
    if (!ctx.charge(f.name.size(), f.value.size())) return too_large();
    fields.push_back(std::move(f));
  }
  // RFC 9204 §2.2.3: a Required Insert Count above what the section references is an error we
  // choose to enforce (one below it was already caught as an invalid reference).
  if (!ctx.all_referenced()) return malformed("Required Insert Count larger than needed");
  return fields;
}

}  // namespace h3::qpack
