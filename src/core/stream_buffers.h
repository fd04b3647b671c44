// Per-stream byte buffers (RFC 9000 §2.2, §4.5): the send side keeps the application's bytes
// until the peer acknowledges them and knows which ranges must be retransmitted; the receive
// side reassembles out-of-order STREAM data inside the flow-control window.
//
// Both are pure data structures: no clock, no frames, no connection state. Offsets are stream
// offsets (uint64_t); memory is bounded by a byte cap (send) or by the advertised flow-control
// limit (receive), never by a peer-chosen offset.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "common/error.h"
#include "common/function_ref.h"
#include "common/range_set.h"
#include "wire/varint.h"

namespace quic {

// Zero-copy stream I/O. A FillBytes writes the application's next bytes into dst (buffer
// space of the stream, in stream order) and returns how many it wrote, from dst's start; a
// TakeBytes is handed bytes the stream received as consecutive spans (one per reassembly
// block, in stream order, at most kMaxTakeSpans at once: a writev's worth; valid only during
// the call) and returns how many it consumed from their start. Writing or taking fewer than
// offered ends the call there.
using FillBytes = FunctionRef<size_t(MutBytes dst)>;
using TakeBytes = FunctionRef<size_t(std::span<const Bytes> spans)>;
inline constexpr size_t kMaxTakeSpans = 16;

// The copying kind of each, behind write(Bytes) and read(MutBytes).
struct CopyFrom {
  Bytes data;
  size_t done = 0;
  size_t operator()(MutBytes dst) {
    std::memcpy(dst.data(), data.data() + done, dst.size());
    done += dst.size();
    return dst.size();
  }
};
struct CopyInto {
  MutBytes out;
  size_t done = 0;
  size_t operator()(std::span<const Bytes> spans) {
    size_t n = 0;
    for (Bytes src : spans) {
      std::memcpy(out.data() + done + n, src.data(), src.size());
      n += src.size();
    }
    done += n;
    return n;
  }
};

// Default cap on bytes a SendBuffer holds (written but not yet acknowledged).
inline constexpr size_t kDefaultSendBufferBytes = size_t{1} << 20;

// What to put into the next STREAM frame of one stream.
struct SendChunk {
  uint64_t offset = 0;
  uint64_t length = 0;
  bool fin = false;
  bool retransmission = false;  // resends lost bytes: not charged to flow control again
  friend bool operator==(const SendChunk&, const SendChunk&) = default;
};

class SendBuffer {
 public:
  explicit SendBuffer(size_t max_buffered = kDefaultSendBufferBytes) : cap_(max_buffered) {}

  // Copies as much of data as fits under the cap; returns the number of bytes accepted (less
  // than data.size() is backpressure). Nothing is accepted after finish().
  size_t write(Bytes data);
  // The same without the application's copy: fill writes up to max bytes straight into the
  // buffer (one or, where the ring wraps, two calls); returns the bytes it wrote.
  size_t write_with(size_t max, FillBytes fill);
  void finish() { fin_set_ = true; }

  // The next chunk to send, or nullopt. Lost ranges go first (not limited by flow control,
  // the peer already granted them); new data never crosses flow_limit_offset. max_len == 0
  // still yields a bare FIN. The returned range is marked sent.
  std::optional<SendChunk> next_chunk(uint64_t max_len, uint64_t flow_limit_offset);
  // True when next_chunk(>0, flow_limit_offset) would return something.
  bool has_data_to_send(uint64_t flow_limit_offset) const;
  // True when new (never sent) bytes wait for flow-control credit beyond flow_limit_offset.
  bool blocked_by(uint64_t flow_limit_offset) const {
    return sent_end_ < write_end_ && sent_end_ >= flow_limit_offset;
  }

  // The bytes [offset, offset+len) of a chunk returned by next_chunk: a view while the chunk
  // is unacknowledged. Empty if the range is not (or no longer) held, or no longer contiguous
  // (the ring grew since next_chunk cut it at the ring's end).
  Bytes view(uint64_t offset, uint64_t len) const;
  // Copies those bytes straight into a packet; false if the range is not held.
  bool copy_out(uint64_t offset, uint64_t len, uint8_t* dst) const;

  void on_acked(uint64_t offset, uint64_t len, bool fin);
  void on_lost(uint64_t offset, uint64_t len, bool fin);
  // Drops all data (the stream was reset): nothing more is sent or retransmitted.
  void discard();
  // RESET_STREAM_AT (draft-ietf-quic-reliable-stream-reset): only [0, size) is still
  // delivered; bytes above it are neither sent for the first time nor retransmitted, and no
  // FIN goes out. A later call may only lower size.
  void limit_reliable(uint64_t size);

  bool fin_set() const { return fin_set_; }
  // Lost bytes (or a lost FIN) wait to be resent.
  bool has_lost() const { return !discarded_ && (!lost_.empty() || fin_lost_); }
  bool fin_sent() const { return fin_sent_; }
  bool all_acked() const { return fin_set_ && fin_acked_ && acked_prefix_ == write_end_; }
  // Everything written (and the FIN) has been sent at least once.
  bool all_sent() const { return fin_set_ && fin_sent_ && sent_end_ == write_end_; }
  uint64_t write_offset() const { return write_end_; }
  uint64_t sent_offset() const { return sent_end_; }  // final size if reset now
  uint64_t acked_prefix() const { return acked_prefix_; }
  size_t buffered() const { return static_cast<size_t>(write_end_ - acked_prefix_); }
  size_t capacity() const { return fin_set_ ? 0 : cap_ - buffered(); }
  size_t limit() const { return cap_; }  // the most it holds

 private:
  // Makes the ring hold at least `bytes` live bytes (a power of two, kept in place by offset).
  void reserve(size_t bytes);
  // Bytes from `offset` to the end of the ring's storage: a chunk never wraps, so its bytes
  // are one span (STREAM and CRYPTO frames take a view).
  uint64_t contiguous_at(uint64_t offset) const {
    return ring_size_ == 0 ? UINT64_MAX : ring_size_ - (offset & (ring_size_ - 1));
  }

  size_t cap_;
  // A ring: the byte at stream offset o lives at ring_[o & (size - 1)], so acknowledging the
  // front frees room without moving the live bytes (a vector erased at the front copied every
  // live byte once more, on the bulk sender's hottest path). Holds [base_, write_end_).
  std::unique_ptr<uint8_t[]> ring_;
  size_t ring_size_ = 0;  // a power of two, or 0 before the first write
  uint64_t base_ = 0;  // lowest offset held: the acknowledged prefix (write_end_ once discarded)
  uint64_t write_end_ = 0;
  uint64_t sent_end_ = 0;      // new data below this has been sent once
  uint64_t acked_prefix_ = 0;  // everything below is acknowledged
  RangeSet acked_;             // acknowledged ranges above acked_prefix_
  RangeSet lost_;              // ranges to retransmit
  bool fin_set_ = false;
  bool fin_sent_ = false;
  bool fin_acked_ = false;
  bool fin_lost_ = false;
  bool discarded_ = false;
  uint64_t reliable_end_ = UINT64_MAX;  // limit_reliable()
};

// A hostile peer sending every other byte would make reassembly gaps cost O(n) each and their
// bookkeeping outgrow the data; beyond this many holes the stream is a protocol violation.
inline constexpr size_t kMaxReassemblyRanges = 4096;
// Reassembly storage granularity: blocks exist only for offsets below the flow-control limit
// and grow geometrically up to this size, so a stream holds at most about twice its highest
// received offset above the first unread block, and never more than its window plus a block.
inline constexpr size_t kRecvBlockSize = 4096;
// Consumed full blocks a stream keeps for reuse, so a bulk receiver allocates no block per
// packet in steady state (bounded: at most this many idle blocks per stream, freed at EOF).
inline constexpr size_t kMaxSpareRecvBlocks = 16;

class RecvBuffer {
 public:
  explicit RecvBuffer(uint64_t max_offset = 0) : max_offset_(max_offset) {}

  // RFC 9000 §4.5 / §4.1: FINAL_SIZE_ERROR for a changed final size, data at or beyond a
  // known final size or a FIN below received data; FLOW_CONTROL_ERROR beyond max_offset().
  // Duplicates and overlaps are fine. Nothing is stored on error.
  [[nodiscard]] Status insert(uint64_t offset, Bytes data, bool fin);
  // The same final-size and flow-control checks for a RESET_STREAM; drops buffered data.
  [[nodiscard]] Status on_reset(uint64_t final_size);
  // The same checks for a RESET_STREAM_AT: the final size becomes known, data is kept (the
  // bytes below the reliable size are still read; on_reset follows once they are).
  [[nodiscard]] Status on_reset_at(uint64_t final_size);
  // After STOP_SENDING: further data is validated and counted but not stored.
  void discard_incoming();

  // Copies contiguous bytes from the read offset; returns the count.
  size_t read(MutBytes out);
  // The same without the copy: hands up to max contiguous bytes to take, one span per
  // reassembly block (kMaxTakeSpans at a time), and consumes what it took.
  size_t read_with(size_t max, TakeBytes take);
  // Contiguous bytes ready for read().
  uint64_t readable() const;
  // All data up to the final size has been read (EOF delivered).
  bool finished_reading() const { return final_size_ && read_offset_ == *final_size_; }
  // All data up to the final size has arrived.
  bool all_received() const { return final_size_ && contiguous_end() == *final_size_; }

  void set_max_offset(uint64_t max_offset) {
    if (max_offset > max_offset_) max_offset_ = max_offset;
  }
  uint64_t max_offset() const { return max_offset_; }
  uint64_t read_offset() const { return read_offset_; }    // bytes consumed by the application
  uint64_t max_received() const { return max_received_; }  // highest offset seen (flow control)
  std::optional<uint64_t> final_size() const { return final_size_; }
  size_t allocated_bytes() const;

 private:
  Status check_final_size(uint64_t end, bool fin) const;
  uint64_t contiguous_end() const;
  void store(uint64_t offset, Bytes data);
  void release_blocks();

  uint64_t max_offset_;
  uint64_t read_offset_ = 0;
  uint64_t max_received_ = 0;
  std::optional<uint64_t> final_size_;
  bool discarding_ = false;
  RangeSet received_;  // received ranges at or above read_offset_
  // blocks_[i] holds offsets [(first_block_ + i) * kRecvBlockSize, ...); null until written.
  // A vector, not a deque: an idle stream then costs no allocation at all.
  std::vector<std::vector<uint8_t>> blocks_;
  std::vector<std::vector<uint8_t>> spare_;  // consumed kRecvBlockSize blocks kept for reuse
  uint64_t first_block_ = 0;
};

}  // namespace quic
