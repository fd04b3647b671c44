// The receiver's reorder buffer (docs/tquicd-datapath.md "Reorder buffer"). Packets striped
// over paths of different delay arrive out of tunnel-sequence order; inner TCP would read that
// as loss. The buffer releases packets in sequence order, holding a packet that arrives after a
// gap until the gap fills or its hold time (adapted from the paths' one-way-delay spread,
// capped) runs out, when the gap is given up. Bounded in packets and bytes (the oldest held
// packet is released early when full); duplicates are dropped by sequence number (a sliding
// bitmap); packets of flows that need no order pass straight through. Sans-I/O: time is passed
// in, next_timeout() says when to call on_timeout().
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <span>
#include <vector>

#include "common/time.h"
#include "wire/varint.h"

namespace bond {

// The tunnel's sequence numbers (masque/connect_ip.h, the seq context) count from 0 in 62 bits;
// the buffer needs only their low 30 bits, unwrapped against the next expected one.
inline constexpr uint64_t kSeqModulus = uint64_t{1} << 30;

// One path's one-way delay as the receiver sees it: relative (the two hosts' clocks need not
// agree, so every path's delay carries the same unknown offset and only differences count).
struct PathDelay {
  quic::Duration delay{};
  quic::Duration variation{};  // mean deviation of its samples
};

// Sequence numbers remembered around the next expected one, each side: a packet further
// behind is refused as too old (it can no longer be told from a duplicate), one further ahead
// makes the buffer give up everything before it (a resync). Far above any hold window.
inline constexpr uint64_t kReorderSeqWindow = 65536;
// Added to the measured delay spread: absorbs scheduling noise at both ends.
inline constexpr quic::Duration kReorderHoldMargin = std::chrono::milliseconds(2);

struct ReorderLimits {
  quic::Duration max_hold = std::chrono::milliseconds(300);
  size_t max_packets = 4096;  // at most kReorderSeqWindow
  size_t max_bytes = 4 << 20;
};

struct ReorderStats {
  uint64_t in_order = 0;       // released without waiting
  uint64_t released_held = 0;  // released from the buffer (gap filled, timed out or forced)
  uint64_t passthrough = 0;    // unordered flows, passed straight through
  uint64_t late = 0;           // arrived after its gap was given up; delivered at once
  uint64_t duplicates = 0;     // dropped: sequence number already seen
  uint64_t too_old = 0;        // dropped: behind the duplicate window
  uint64_t gap_timeouts = 0;   // gaps given up because a held packet's hold time ran out
  uint64_t overflows = 0;      // gaps given up because the buffer was full
  uint64_t resyncs = 0;        // a packet beyond the window: everything before it given up
  uint64_t lost = 0;           // sequence numbers skipped when a gap was given up
};

class ReorderBuffer {
 public:
  enum class Verdict {
    kDeliverNow,  // the caller delivers the packet itself (no copy), then drains pop_ready()
    kQueued,      // held or queued; pop_ready() hands it out in order later
    kDuplicate,   // dropped
    kTooOld,      // dropped
  };

  explicit ReorderBuffer(ReorderLimits limits);

  // One received tunnel packet. `ordered` is false for flows the classifier says need no order.
  // After every call, drain pop_ready().
  Verdict on_packet(quic::Instant now, uint32_t wire_seq, bool ordered, quic::Bytes packet);
  // Gives up gaps whose hold time ran out; then drain pop_ready().
  void on_timeout(quic::Instant now);
  // The next packet to deliver, in order.
  std::optional<std::vector<uint8_t>> pop_ready();
  quic::Instant next_timeout() const;

  // New per-path delay estimates (reorder_sink.cc, from the spread of one-way delays): the hold
  // time becomes the
  // spread between the slowest path's delay (plus its variation) and the fastest path's delay,
  // plus kReorderHoldMargin, capped at limits.max_hold. Takes effect on held packets at once.
  // Until the first call the hold is the cap: call it once every active path has an estimate
  // (a slow path not yet measured would otherwise have its first packets given up).
  void set_path_delays(std::span<const PathDelay> paths);
  void set_limits(ReorderLimits limits);

  quic::Duration hold_time() const { return hold_; }
  size_t held_packets() const { return held_.size(); }
  size_t held_bytes() const { return held_bytes_; }
  const ReorderStats& stats() const { return stats_; }

 private:
  struct Held {
    quic::Instant arrival;
    std::vector<uint8_t> bytes;
  };
  uint64_t unwrap(uint32_t wire_seq) const;
  bool seen(uint64_t s) const;
  void mark_seen(uint64_t s);
  void release_held(std::map<uint64_t, Held>::iterator it);  // moves it to ready_
  void step();                     // next_ += 1, recycling the window slot it frees
  void skip_to(uint64_t s);        // gives up every missing packet before s, in O(W / 64 + held)
  void release_in_order();         // releases held packets from next_ while there is no gap
  void make_room(uint64_t s, size_t bytes, bool& direct, quic::Bytes packet);
  void emit(quic::Bytes packet, bool& direct);
  void drop_stale_deadlines();

  ReorderLimits limits_;
  quic::Duration hold_;
  uint64_t next_;  // unwrapped sequence number expected next; a tunnel's first packet is 0
  std::vector<uint64_t> seen_bits_;  // 2 * kReorderSeqWindow bits: seqs [next_ - W, next_ + W)
  std::map<uint64_t, Held> held_;
  size_t held_bytes_ = 0;
  std::deque<std::pair<quic::Instant, uint64_t>> deadlines_;  // (arrival, seq), arrival order
  std::deque<std::vector<uint8_t>> ready_;
  ReorderStats stats_;
};

}  // namespace bond
