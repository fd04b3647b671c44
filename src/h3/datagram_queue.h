// Received HTTP datagrams waiting for the application (streams without a handler), bounded in
// bytes rather than in count: one contiguous ring of payload bytes plus a record per datagram,
// grown geometrically up to the bound, so steady-state queueing allocates nothing per datagram.
// When a new datagram does not fit, the oldest ones are dropped (fresh data is worth more
// to the datagram users: media, tunnels).
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "wire/varint.h"

namespace h3 {

// Bytes charged per queued datagram on top of its payload (its record).
inline constexpr size_t kDatagramRecordCost = 16;

class DatagramQueue {
 public:
  explicit DatagramQueue(size_t max_bytes) : max_bytes_(max_bytes) {}

  struct Pushed {
    bool queued;            // false: larger than the whole bound, dropped
    size_t dropped_oldest;  // older datagrams dropped to make room
  };
  Pushed push(uint64_t stream_id, quic::Bytes payload);

  struct Popped {
    uint64_t stream_id;
    size_t length;  // of the datagram; more than was copied when `out` was too small
    size_t copied;
  };
  // Copies the oldest datagram into `out` (truncating to out.size()) and removes it.
  std::optional<Popped> pop(quic::MutBytes out);

  bool empty() const { return recs_.empty(); }
  size_t size() const { return recs_.size(); }
  size_t charged_bytes() const { return used_ + recs_.size() * kDatagramRecordCost; }
  size_t max_bytes() const { return max_bytes_; }

 private:
  struct Rec {
    uint64_t stream_id;
    size_t length;
  };
  void drop_front();
  void grow(size_t need);

  size_t max_bytes_;
  std::vector<uint8_t> ring_;
  size_t head_ = 0, used_ = 0;  // payload bytes from head_, wrapping
  std::deque<Rec> recs_;
};

}  // namespace h3
