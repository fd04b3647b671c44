#include "h3/tlv.h"

#include <algorithm>

namespace h3 {

namespace {

// Parses a header from the front of b; 0 when b does not hold a whole header yet.
size_t parse_header(quic::Bytes b, uint64_t& type, uint64_t& length) {
  quic::Reader r(b);
  auto t = r.varint();
  if (!t) return 0;
  auto l = r.varint();
  if (!l) return 0;
  type = *t;
  length = *l;
  return r.offset();
}

size_t take_size(uint64_t remaining, size_t available) {
  return static_cast<size_t>(std::min<uint64_t>(remaining, available));
}

}  // namespace

void TlvReader::set_mode(Mode m) {
  if (state_ != State::kDecide) return;
  remaining_ = length_;
  switch (m) {
    case Mode::kBuffer:
      buf_.clear();
      state_ = State::kBuffer;
      break;
    case Mode::kStream:
      state_ = length_ == 0 ? State::kHeader : State::kStream;
      break;
    case Mode::kSkip:
      state_ = length_ == 0 ? State::kHeader : State::kSkip;
      break;
  }
}

std::optional<TlvReader::Item> TlvReader::next(quic::Bytes& in) {
  using Kind = Item::Kind;
  for (;;) {
    switch (state_) {
      case State::kHeader: {
        size_t used = header_len_ == 0 ? parse_header(in, type_, length_) : 0;
        if (used != 0) {
          in = in.subspan(used);
        } else {
          // The header straddles fragments: gather it byte by byte (at most 16 bytes).
          for (;;) {
            if (in.empty()) return std::nullopt;
            header_[header_len_++] = in[0];
            in = in.subspan(1);
            if (parse_header(quic::Bytes(header_, header_len_), type_, length_) != 0) break;
          }
          header_len_ = 0;
        }
        ++items_;
        state_ = State::kDecide;
        return Item{Kind::kHeader, type_, length_};
      }
      case State::kDecide:
        set_mode(Mode::kSkip);  // the owner did not decide: never buffer by default
        break;
      case State::kBuffer: {
        if (buf_.empty() && remaining_ <= in.size()) {
          // The whole value is in this fragment: hand it out without copying.
          size_t n = static_cast<size_t>(remaining_);
          Item item{Kind::kWhole, type_, length_, in.first(n), true};
          in = in.subspan(n);
          state_ = State::kHeader;
          return item;
        }
        size_t take = take_size(remaining_, in.size());
        buf_.insert(buf_.end(), in.begin(), in.begin() + static_cast<std::ptrdiff_t>(take));
        in = in.subspan(take);
        remaining_ -= take;
        if (remaining_ != 0) return std::nullopt;
        state_ = State::kHeader;
        return Item{Kind::kWhole, type_, length_, quic::Bytes(buf_), true};
      }
      case State::kStream: {
        if (in.empty()) return std::nullopt;
        size_t take = take_size(remaining_, in.size());
        quic::Bytes chunk = in.first(take);
        in = in.subspan(take);
        remaining_ -= take;
        if (remaining_ == 0) state_ = State::kHeader;
        return Item{Kind::kChunk, type_, length_, chunk, remaining_ == 0};
      }
      case State::kSkip: {
        if (in.empty()) return std::nullopt;
        size_t take = take_size(remaining_, in.size());
        in = in.subspan(take);
        remaining_ -= take;
        if (remaining_ == 0) state_ = State::kHeader;
        break;
      }
    }
  }
}

}  // namespace h3
