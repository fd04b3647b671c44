// QUIC variable-length integers (RFC 9000 §16) and the byte cursors every codec is built on.
// Cursors never allocate and never read or write outside their span: a read past the end
// yields nullopt, a write that does not fit sets a sticky failure flag.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>

namespace quic {

using Bytes = std::span<const uint8_t>;
using MutBytes = std::span<uint8_t>;

inline constexpr uint64_t kMaxVarint = (uint64_t{1} << 62) - 1;

// Minimal encoded length of v: 1, 2, 4 or 8; 0 when v exceeds 2^62-1.
constexpr size_t varint_size(uint64_t v) {
  if (v < (uint64_t{1} << 6)) return 1;
  if (v < (uint64_t{1} << 14)) return 2;
  if (v < (uint64_t{1} << 30)) return 4;
  if (v <= kMaxVarint) return 8;
  return 0;
}

class Reader {
 public:
  Reader() = default;
  explicit Reader(Bytes b) : data_(b) {}

  size_t remaining() const { return data_.size() - pos_; }
  bool empty() const { return pos_ == data_.size(); }
  size_t offset() const { return pos_; }
  Bytes consumed() const { return data_.first(pos_); }
  Bytes rest() const { return data_.subspan(pos_); }

  std::optional<uint8_t> peek_u8() const {
    if (empty()) return std::nullopt;
    return data_[pos_];
  }
  std::optional<uint8_t> u8() { return uint_be<uint8_t>(1); }
  std::optional<uint16_t> u16() { return uint_be<uint16_t>(2); }
  std::optional<uint32_t> u32() { return uint_be<uint32_t>(4); }
  std::optional<uint64_t> u64() { return uint_be<uint64_t>(8); }
  // Big-endian unsigned of n bytes (1..8), e.g. a truncated packet number.
  std::optional<uint64_t> uint_n(size_t n) { return n >= 1 && n <= 8 ? uint_be<uint64_t>(n) : std::nullopt; }

  std::optional<uint64_t> varint() {
    if (empty()) return std::nullopt;
    size_t len = size_t{1} << (data_[pos_] >> 6);
    if (remaining() < len) return std::nullopt;
    uint64_t v = data_[pos_] & 0x3f;
    for (size_t i = 1; i < len; ++i) v = (v << 8) | data_[pos_ + i];
    pos_ += len;
    return v;
  }

  // A view of the next n bytes (no copy); nullopt if fewer remain.
  std::optional<Bytes> bytes(uint64_t n) {
    if (n > remaining()) return std::nullopt;
    Bytes out = data_.subspan(pos_, static_cast<size_t>(n));
    pos_ += static_cast<size_t>(n);
    return out;
  }
  bool skip(uint64_t n) { return bytes(n).has_value(); }

 private:
  template <class T>
  std::optional<T> uint_be(size_t n) {
    if (remaining() < n) return std::nullopt;
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v = (v << 8) | data_[pos_ + i];
    pos_ += n;
    return static_cast<T>(v);
  }

  Bytes data_;
  size_t pos_ = 0;
};

class Writer {
 public:
  explicit Writer(MutBytes buf) : buf_(buf) {}

  size_t written() const { return pos_; }
  size_t room() const { return buf_.size() - pos_; }
  bool ok() const { return ok_; }
  MutBytes buffer() const { return buf_; }
  Bytes view() const { return Bytes(buf_.data(), pos_); }

  bool u8(uint8_t v) { return uint_be(v, 1); }
  bool u16(uint16_t v) { return uint_be(v, 2); }
  bool u32(uint32_t v) { return uint_be(v, 4); }
  bool u64(uint64_t v) { return uint_be(v, 8); }
  bool uint_n(uint64_t v, size_t n) { return n >= 1 && n <= 8 ? uint_be(v, n) : (ok_ = false); }

  bool varint(uint64_t v) { return varint_len(v, varint_size(v)); }
  // Encodes v in exactly len bytes (1, 2, 4 or 8), e.g. to reserve room for a length field.
  bool varint_len(uint64_t v, size_t len) {
    if (len == 0 || v > kMaxVarint || len > 8 || (len & (len - 1)) != 0 ||
        (len < 8 && v >= (uint64_t{1} << (len * 8 - 2)))) {
      return ok_ = false;
    }
    if (!reserve(len)) return false;
    static constexpr uint8_t kPrefix[9] = {0, 0x00, 0x40, 0, 0x80, 0, 0, 0, 0xc0};
    for (size_t i = 0; i < len; ++i) buf_[pos_ + i] = static_cast<uint8_t>(v >> (8 * (len - 1 - i)));
    buf_[pos_] |= kPrefix[len];
    pos_ += len;
    return true;
  }

  bool bytes(Bytes b) {
    if (!reserve(b.size())) return false;
    if (!b.empty()) std::memcpy(buf_.data() + pos_, b.data(), b.size());
    pos_ += b.size();
    return true;
  }
  bool zeros(size_t n) {
    if (!reserve(n)) return false;
    std::memset(buf_.data() + pos_, 0, n);
    pos_ += n;
    return true;
  }

 private:
  bool reserve(size_t n) {
    if (!ok_ || room() < n) return ok_ = false;
    return true;
  }
  bool uint_be(uint64_t v, size_t n) {
    if (!reserve(n)) return false;
    for (size_t i = 0; i < n; ++i) buf_[pos_ + i] = static_cast<uint8_t>(v >> (8 * (n - 1 - i)));
    pos_ += n;
    return true;
  }

  MutBytes buf_;
  size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace quic
