// A vector of trivially copyable values that keeps its first N in place and only allocates
// beyond them: a sent packet's retransmit records (almost always one to three) cost no heap
// allocation per packet. The elements are contiguous either way.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

namespace quic {

template <class T, size_t N>
class SmallVec {
  static_assert(std::is_trivially_copyable_v<T>);
  static_assert(N > 0);

 public:
  SmallVec() = default;
  SmallVec(const SmallVec&) = default;
  SmallVec& operator=(const SmallVec&) = default;
  SmallVec(SmallVec&& o) noexcept : inline_(o.inline_), spill_(std::move(o.spill_)), size_(o.size_) {
    o.reset();
  }
  SmallVec& operator=(SmallVec&& o) noexcept {
    if (this != &o) {
      inline_ = o.inline_;
      spill_ = std::move(o.spill_);
      size_ = o.size_;
      o.reset();
    }
    return *this;
  }

  void push_back(const T& v) {
    if (size_ < N) {
      inline_[size_++] = v;
      return;
    }
    if (size_ == N) spill_.assign(inline_.begin(), inline_.end());  // from now on all spilled
    spill_.push_back(v);
    ++size_;
  }
  void clear() { reset(); }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  T* data() { return size_ <= N ? inline_.data() : spill_.data(); }
  const T* data() const { return size_ <= N ? inline_.data() : spill_.data(); }
  T* begin() { return data(); }
  T* end() { return data() + size_; }
  const T* begin() const { return data(); }
  const T* end() const { return data() + size_; }
  T& operator[](size_t i) { return data()[i]; }
  const T& operator[](size_t i) const { return data()[i]; }
  T& back() { return data()[size_ - 1]; }
  std::span<T> span() { return {data(), size_}; }
  std::span<const T> span() const { return {data(), size_}; }

 private:
  void reset() {
    size_ = 0;
    std::vector<T>().swap(spill_);
  }

  std::array<T, N> inline_{};
  std::vector<T> spill_;  // every element once size_ > N
  size_t size_ = 0;
};

}  // namespace quic
