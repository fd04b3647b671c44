// A small streaming JSON writer for qlog records: appends to a caller-owned string, never throws
// and always produces valid UTF-8 JSON, even for peer-chosen bytes (CONNECTION_CLOSE reason
// phrases): bytes outside printable ASCII are escaped as \u00XX (read as Latin-1).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "wire/varint.h"

namespace obs {

class JsonOut {
 public:
  // qlog records nest a few levels (event > data > frames > frame > acked_ranges > range);
  // deeper nesting is a caller bug: those levels are dropped (their contents are not).
  static constexpr size_t kMaxDepth = 12;

  explicit JsonOut(std::string& out) : out_(out) {}

  void begin_object() { open('{'); }
  void end_object() { close('}'); }
  void begin_array() { open('['); }
  void end_array() { close(']'); }
  // Starts a member of the current object; follow with exactly one value or begin_*.
  void key(std::string_view k);

  void value(uint64_t v);
  void value(int64_t v);
  void value(bool v);
  // Fixed-point with three decimals: qlog times and RTTs in milliseconds (microsecond
  // resolution, deterministic text).
  void value_ms(double ms);
  void string(std::string_view s);
  void hex(quic::Bytes b);

  // key + value shorthands.
  void field(std::string_view k, uint64_t v) { key(k), value(v); }
  void field_bool(std::string_view k, bool v) { key(k), value(v); }
  void field(std::string_view k, std::string_view s) { key(k), string(s); }
  void field(std::string_view k, const char* s) { key(k), string(s); }
  void field_ms(std::string_view k, double ms) { key(k), value_ms(ms); }
  void field_hex(std::string_view k, quic::Bytes b) { key(k), hex(b); }

  size_t depth() const { return depth_; }
  // Forgets all state: the next value starts a new top-level document (a JSON-SEQ record).
  void reset() {
    depth_ = overflow_ = 0;
    need_comma_[0] = after_key_ = false;
  }

 private:
  void open(char c);
  void close(char c);
  void before_value();
  void append_escaped(std::string_view s);

  std::string& out_;
  size_t depth_ = 0;
  bool need_comma_[kMaxDepth + 1] = {};
  bool after_key_ = false;
  size_t overflow_ = 0;  // begin_* calls ignored beyond kMaxDepth, matched by end_* calls
};

// Lower-case hex of b, e.g. a connection ID.
std::string to_hex(quic::Bytes b);

}  // namespace obs
