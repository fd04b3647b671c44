#include "core/stream_buffers.h"

#include <algorithm>
#include <bit>
#include <cstring>

namespace quic {

namespace {
// The smallest ring a stream that sends anything gets; small streams stay small.
constexpr size_t kMinRingBytes = 1024;
}  // namespace

// ---------------------------------------------------------------------------------------
// SendBuffer

size_t SendBuffer::write(Bytes data) {
  CopyFrom fill{data};
  return write_with(data.size(), fill);
}

size_t SendBuffer::write_with(size_t max, FillBytes fill) {
  if (fin_set_ || discarded_) return 0;
  // RFC 9000 §4.5: a stream's final size can never exceed 2^62-1.
  uint64_t room = std::min<uint64_t>(capacity(), kMaxVarint - write_end_);
  size_t n = static_cast<size_t>(std::min<uint64_t>(max, room));
  if (n == 0) return 0;
  reserve(buffered() + n);
  size_t mask = ring_size_ - 1;
  size_t at = static_cast<size_t>(write_end_ & mask);
  size_t first = std::min(n, ring_size_ - at);
  size_t got = std::min(fill(MutBytes(ring_.get() + at, first)), first);
  if (got == first && first < n) {
    got += std::min(fill(MutBytes(ring_.get(), n - first)), n - first);
  }
  write_end_ += got;
  return got;
}

void SendBuffer::reserve(size_t bytes) {
  if (bytes <= ring_size_) return;
  // Not zeroed: every byte is written by a fill before anything reads it, and zeroing a ring
  // of megabytes as it doubles cost a bulk sender ~2 % of its CPU (a 1 GiB transfer's profile).
  const size_t size = std::bit_ceil(std::max(bytes, kMinRingBytes));
  auto grown = std::make_unique_for_overwrite<uint8_t[]>(size);
  // Re-place the live bytes by offset under the new mask (rare: growth is geometric).
  const size_t old_mask = ring_size_ - 1, new_mask = size - 1;
  for (uint64_t o = base_; o < write_end_;) {
    size_t from = static_cast<size_t>(o & old_mask), to = static_cast<size_t>(o & new_mask);
    size_t n = static_cast<size_t>(
        std::min<uint64_t>({write_end_ - o, ring_size_ - from, size - to}));
    std::memcpy(grown.get() + to, ring_.get() + from, n);
    o += n;
  }
  ring_ = std::move(grown);
  ring_size_ = size;
}

bool SendBuffer::has_data_to_send(uint64_t flow_limit_offset) const {
  if (discarded_) return false;
  if (!lost_.empty() || fin_lost_) return true;
  if (sent_end_ < std::min(write_end_, flow_limit_offset)) return true;
  return fin_set_ && !fin_sent_ && sent_end_ == write_end_;
}

std::optional<SendChunk> SendBuffer::next_chunk(uint64_t max_len, uint64_t flow_limit_offset) {
  if (discarded_) return std::nullopt;
  // Retransmissions first: the receiver is waiting on these holes to deliver in order.
  if (!lost_.empty() && max_len > 0) {
    Range r = lost_.ranges().front();
    uint64_t len = std::min({r.length(), max_len, contiguous_at(r.lo)});
    lost_.erase(r.lo, r.lo + len - 1);
    bool fin = fin_sent_ && !fin_acked_ && r.lo + len == write_end_;
    if (fin) fin_lost_ = false;
    return SendChunk{r.lo, len, fin, true};
  }
  if (fin_lost_ && (lost_.empty() || lost_.max() + 1 != write_end_)) {
    fin_lost_ = false;
    return SendChunk{write_end_, 0, true, true};
  }
  uint64_t limit = std::min(write_end_, std::max(flow_limit_offset, sent_end_));
  uint64_t len = std::min({limit - sent_end_, max_len, contiguous_at(sent_end_)});
  bool fin = fin_set_ && !fin_sent_ && sent_end_ + len == write_end_;
  if (len == 0 && !fin) return std::nullopt;
  SendChunk chunk{sent_end_, len, fin, false};
  sent_end_ += len;
  fin_sent_ = fin_sent_ || fin;
  return chunk;
}

Bytes SendBuffer::view(uint64_t offset, uint64_t len) const {
  if (offset < base_ || offset > write_end_ || len > write_end_ - offset) return {};
  if (len == 0) return {};
  if (len > contiguous_at(offset)) return {};
  return Bytes(ring_.get() + (offset & (ring_size_ - 1)), static_cast<size_t>(len));
}

bool SendBuffer::copy_out(uint64_t offset, uint64_t len, uint8_t* dst) const {
  if (len == 0) return true;
  if (offset < base_ || offset > write_end_ || len > write_end_ - offset) return false;
  size_t at = static_cast<size_t>(offset & (ring_size_ - 1));
  size_t first = static_cast<size_t>(std::min<uint64_t>(len, ring_size_ - at));
  std::memcpy(dst, ring_.get() + at, first);
  if (first < len) std::memcpy(dst + first, ring_.get(), static_cast<size_t>(len) - first);
  return true;
}

void SendBuffer::on_acked(uint64_t offset, uint64_t len, bool fin) {
  if (fin && fin_sent_) {
    fin_acked_ = true;
    fin_lost_ = false;
  }
  uint64_t lo = std::max(offset, acked_prefix_);
  uint64_t end = std::min(offset + len, sent_end_);
  if (len == 0 || lo >= end) return;
  acked_.insert(lo, end - 1);
  lost_.erase(lo, end - 1);  // a spurious loss: the ack arrived after all
  if (acked_.min() <= acked_prefix_) {
    acked_prefix_ = acked_.ranges().front().hi + 1;
    acked_.pop_front();
  }
  base_ = std::max(base_, acked_prefix_);  // the ring slots below are free for writes
}

void SendBuffer::on_lost(uint64_t offset, uint64_t len, bool fin) {
  if (discarded_) return;
  if (fin && fin_sent_ && !fin_acked_ && reliable_end_ == UINT64_MAX) fin_lost_ = true;
  uint64_t lo = std::max(offset, acked_prefix_);
  uint64_t end = std::min({offset + len, sent_end_, reliable_end_});
  if (len == 0 || lo >= end) return;
  lost_.insert(lo, end - 1);
  // Only the parts not acknowledged since (by another copy) need resending.
  for (const Range& a : acked_.ranges()) {
    if (a.lo > end - 1) break;
    if (a.hi >= lo) lost_.erase(std::max(a.lo, lo), std::min(a.hi, end - 1));
  }
}

void SendBuffer::discard() {
  discarded_ = true;
  ring_.reset();
  ring_size_ = 0;
  base_ = write_end_;
  lost_.clear();
  acked_.clear();
  fin_lost_ = false;
}

void SendBuffer::limit_reliable(uint64_t size) {
  uint64_t end = std::max(std::min(write_end_, size), sent_end_);
  write_end_ = end;  // the ring keeps the dropped bytes' slots; they are never read
  fin_set_ = false;
  fin_lost_ = false;
  if (!lost_.empty() && lost_.max() >= size) lost_.erase(size, lost_.max());
  reliable_end_ = size;
}

// ---------------------------------------------------------------------------------------
// RecvBuffer

Status RecvBuffer::check_final_size(uint64_t end, bool fin) const {
  if (final_size_) {
    if (fin && end != *final_size_) return fail(err::kFinalSizeError, "final size changed");
    if (end > *final_size_) return fail(err::kFinalSizeError, "data beyond final size");
  } else if (fin && end < max_received_) {
    return fail(err::kFinalSizeError, "final size below received data");
  }
  return {};
}

Status RecvBuffer::insert(uint64_t offset, Bytes data, bool fin) {
  uint64_t len = data.size();
  // RFC 9000 §19.8: offset + length may not exceed 2^62-1.
  if (offset > kMaxVarint || len > kMaxVarint - offset) {
    return fail(err::kFlowControlError, "stream offset exceeds 2^62-1");
  }
  uint64_t end = offset + len;
  if (auto s = check_final_size(end, fin); !s) return s;
  if (end > max_offset_) return fail(err::kFlowControlError, "stream data beyond flow limit");

  uint64_t lo = std::max(offset, read_offset_);
  bool store_it = !discarding_ && end > lo;
  if (store_it && received_.range_count() >= kMaxReassemblyRanges) {
    RangeSet probe = received_;
    probe.insert(lo, end - 1);
    if (probe.range_count() > kMaxReassemblyRanges) {
      return fail(err::kProtocolViolation, "too many stream reassembly gaps");
    }
  }

  if (fin) final_size_ = end;
  max_received_ = std::max(max_received_, end);
  if (discarding_) {
    read_offset_ = max_received_;  // discarded bytes count as consumed (connection credit)
    return {};
  }
  if (store_it) store(lo, data.subspan(static_cast<size_t>(lo - offset)));
  if (finished_reading()) release_blocks();  // a bare FIN after the last read: free the blocks
  return {};
}

void RecvBuffer::store(uint64_t offset, Bytes data) {
  uint64_t pos = offset;
  size_t src = 0;
  while (src < data.size()) {
    uint64_t block = pos / kRecvBlockSize;
    size_t idx = static_cast<size_t>(block - first_block_);
    if (blocks_.size() <= idx) blocks_.resize(idx + 1);
    std::vector<uint8_t>& b = blocks_[idx];
    size_t in_block = static_cast<size_t>(pos % kRecvBlockSize);
    size_t n = std::min(kRecvBlockSize - in_block, data.size() - src);
    if (b.size() < in_block + n) {
      if (b.capacity() == 0 && block > 0 && !spare_.empty()) {
        b.swap(spare_.back());  // a consumed block of this stream, reused without allocating
        spare_.pop_back();
      }
      // Small streams keep small blocks (growth doubles, so copying stays amortised O(1)); past
      // the first block a stream is a bulk stream and each block is allocated once, whole.
      if (b.capacity() < in_block + n) {
        b.reserve(block > 0 ? kRecvBlockSize
                            : std::min(kRecvBlockSize, std::max(in_block + n, 2 * b.capacity())));
      }
      b.resize(in_block + n);
    }
    std::memcpy(b.data() + in_block, data.data() + src, n);
    pos += n;
    src += n;
  }
  received_.insert(offset, offset + data.size() - 1);
}

Status RecvBuffer::on_reset(uint64_t final_size) {
  if (auto s = on_reset_at(final_size); !s) return s;
  read_offset_ = final_size;  // the application will never read it: all credit is released
  discard_incoming();
  return {};
}

Status RecvBuffer::on_reset_at(uint64_t final_size) {
  if (auto s = check_final_size(final_size, true); !s) return s;
  if (final_size > max_offset_) return fail(err::kFlowControlError, "final size beyond flow limit");
  final_size_ = final_size;
  max_received_ = std::max(max_received_, final_size);
  return {};
}

void RecvBuffer::discard_incoming() {
  discarding_ = true;
  read_offset_ = std::max(read_offset_, max_received_);
  received_.clear();
  blocks_.clear();
  spare_.clear();
  first_block_ = read_offset_ / kRecvBlockSize;
}

uint64_t RecvBuffer::contiguous_end() const {
  if (!received_.empty() && received_.min() <= read_offset_) {
    return received_.ranges().front().hi + 1;
  }
  return read_offset_;
}

uint64_t RecvBuffer::readable() const {
  return discarding_ ? 0 : contiguous_end() - read_offset_;
}

size_t RecvBuffer::read(MutBytes out) {
  CopyInto take{out};
  return read_with(out.size(), take);
}

size_t RecvBuffer::read_with(size_t max, TakeBytes take) {
  const size_t n = static_cast<size_t>(std::min<uint64_t>(max, readable()));
  size_t done = 0;
  while (done < n) {
    Bytes spans[kMaxTakeSpans];
    size_t count = 0, offered = 0;
    for (uint64_t at = read_offset_; count < kMaxTakeSpans && done + offered < n; ++count) {
      size_t idx = static_cast<size_t>(at / kRecvBlockSize - first_block_);
      size_t in_block = static_cast<size_t>(at % kRecvBlockSize);
      size_t k = std::min(kRecvBlockSize - in_block, n - done - offered);
      spans[count] = Bytes(blocks_[idx].data() + in_block, k);
      offered += k;
      at += k;
    }
    size_t took = std::min(take(std::span<const Bytes>(spans, count)), offered);
    done += took;
    read_offset_ += took;
    if (took < offered) break;
  }
  if (done > 0) {
    received_.erase_below(read_offset_);
    release_blocks();
  }
  return done;
}

void RecvBuffer::release_blocks() {
  uint64_t keep_from = read_offset_ / kRecvBlockSize;
  if (keep_from > first_block_) {
    size_t drop = static_cast<size_t>(std::min<uint64_t>(keep_from - first_block_, blocks_.size()));
    for (size_t i = 0; i < drop && spare_.size() < kMaxSpareRecvBlocks; ++i) {
      if (blocks_[i].capacity() != kRecvBlockSize) continue;
      blocks_[i].clear();
      spare_.push_back(std::move(blocks_[i]));
    }
    blocks_.erase(blocks_.begin(), blocks_.begin() + static_cast<ptrdiff_t>(drop));
    first_block_ = keep_from;
  }
  if (finished_reading()) {
    blocks_.clear();
    spare_.clear();
  }
}

size_t RecvBuffer::allocated_bytes() const {
  size_t n = 0;
  for (const auto& b : blocks_) n += b.capacity();
  for (const auto& b : spare_) n += b.capacity();
  return n;
}

}  // namespace quic
