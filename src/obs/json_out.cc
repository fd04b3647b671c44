#include "obs/json_out.h"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace obs {

namespace {
constexpr char kDigits[] = "0123456789abcdef";
}

std::string to_hex(quic::Bytes b) {
  std::string s;
  s.reserve(b.size() * 2);
  for (uint8_t x : b) {
    s += kDigits[x >> 4];
    s += kDigits[x & 15];
  }
  return s;
}

void JsonOut::before_value() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (need_comma_[depth_]) out_ += ',';
  need_comma_[depth_] = true;
}

void JsonOut::open(char c) {
  if (depth_ >= kMaxDepth) {
    ++overflow_;
    return;
  }
  before_value();
  out_ += c;
  need_comma_[++depth_] = false;
}

void JsonOut::close(char c) {
  if (overflow_ > 0) {
    --overflow_;
    return;
  }
  if (depth_ == 0) return;
  --depth_;
  out_ += c;
}

void JsonOut::key(std::string_view k) {
  before_value();
  append_escaped(k);
  out_ += ':';
  after_key_ = true;
}

void JsonOut::value(uint64_t v) {
  before_value();
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out_.append(buf, r.ptr);
}

void JsonOut::value(int64_t v) {
  before_value();
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out_.append(buf, r.ptr);
}

void JsonOut::value(bool v) {
  before_value();
  out_ += v ? "true" : "false";
}

void JsonOut::value_ms(double ms) {
  before_value();
  if (!std::isfinite(ms)) ms = 0;  // JSON has no NaN/Inf
  char buf[48];
  int n = std::snprintf(buf, sizeof buf, "%.3f", ms);
  if (n > 0) out_.append(buf, static_cast<size_t>(std::min(n, static_cast<int>(sizeof buf) - 1)));
}

void JsonOut::string(std::string_view s) {
  before_value();
  append_escaped(s);
}

void JsonOut::append_escaped(std::string_view s) {
  out_ += '"';
  for (char ch : s) {
    auto c = static_cast<uint8_t>(ch);
    if (c == '"' || c == '\\') {
      out_ += '\\';
      out_ += ch;
    } else if (c < 0x20 || c >= 0x7f) {
      out_ += "\\u00";
      out_ += kDigits[c >> 4];
      out_ += kDigits[c & 15];
    } else {
      out_ += ch;
    }
  }
  out_ += '"';
}

void JsonOut::hex(quic::Bytes b) {
  before_value();
  out_ += '"';
  out_ += to_hex(b);
  out_ += '"';
}

}  // namespace obs
