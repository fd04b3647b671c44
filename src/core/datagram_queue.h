// A FIFO of DATAGRAM payloads (RFC 9221) held in one reusable byte ring, bounded in bytes and in
// entries (docs/datagrams.md). The connection keeps its send, receive, re-send and copy queues in
// these: no allocation per datagram. The ring and its index grow geometrically on demand up to
// their bounds and are then reused, so a connection that never uses DATAGRAM pays nothing and
// one in steady state allocates nothing.
//
// Entries are numbered (sequence numbers increase by one per push). An entry may be removed out
// of order (it was sent, acknowledged or expired); its bytes stay counted until every older
// entry is gone too, so bytes() is what the bound is checked against and a physical placement
// always exists for anything the bound admits (see place()).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "common/time.h"
#include "wire/varint.h"

namespace quic {

// How Connection::send_datagram queues a datagram: kInteractive (a tunnel's ping, a game's
// input) goes ahead of the others, on the lowest-RTT path.
enum class DatagramPriority : uint8_t { kNormal, kInteractive };
// Interactive datagrams waiting at once: small packets, a few milliseconds of a link's rate;
// more would be bulk.
inline constexpr size_t kInteractiveDatagramBytes = 64 * 1024;

class DatagramQueue {
 public:
  // The largest entry: a UDP payload cannot be larger.
  static constexpr size_t kMaxEntryBytes = 65535;

  struct Entry {
    Instant deadline = kNever;
    uint64_t tag = 0;  // the owner's per-entry word (the redundant scheduler's served paths)
    uint32_t offset = 0, length = 0;
    bool live = false;
    bool wraps = false;  // placed at offset 0 because the end of the ring had no room
  };

  DatagramQueue(size_t max_bytes, size_t max_entries);

  // Whether one more entry of `length` bytes stays within both bounds.
  bool fits(size_t length) const;
  // Appends a copy of `data`; its sequence number, or nullopt when it does not fit.
  std::optional<uint64_t> push(Bytes data, Instant deadline = kNever, uint64_t tag = 0) {
    return push(std::span<const Bytes>(&data, 1), deadline, tag);
  }
  // Appends one entry made of `parts` joined (a header and a payload, copied once).
  std::optional<uint64_t> push(std::span<const Bytes> parts, Instant deadline = kNever,
                               uint64_t tag = 0);
  // push, first evicting the oldest entries until it fits (nullopt: larger than the bound).
  std::optional<uint64_t> push_evicting(Bytes data, Instant deadline = kNever, uint64_t tag = 0);

  // Sequence numbers of the entries held are in [begin_seq(), end_seq()); find() returns the
  // live ones (nullptr for removed or evicted entries).
  uint64_t begin_seq() const { return first_seq_; }
  uint64_t end_seq() const { return first_seq_ + count_; }
  const Entry* find(uint64_t seq) const;
  Entry* find(uint64_t seq);
  Bytes data(const Entry& e) const { return Bytes(s_->ring.get() + e.offset, e.length); }
  // The oldest live entry, if any.
  std::optional<uint64_t> front_seq() const;

  void remove(uint64_t seq);
  // Removes the oldest entry held, live or not (making room by eviction).
  void evict_oldest();
  void clear();

  size_t size() const { return live_; }          // live entries
  bool empty() const { return live_ == 0; }
  size_t bytes() const { return bytes_; }        // held: live and not yet reclaimed
  size_t max_bytes() const { return max_bytes_; }
  size_t max_entries() const { return max_entries_; }
  // Bytes allocated (for tests and figures).
  size_t ring_capacity() const { return s_ ? s_->cap : 0; }

 private:
  // The ring and the entry slots, allocated at the first push and then kept: an idle
  // connection's six queues hold only the fields below (docs/performance.md, "Memory per idle
  // connection").
  struct Store {
    std::unique_ptr<uint8_t[]> ring;
    size_t cap = 0;
    size_t read = 0, write = 0;  // physical offsets of the oldest byte held and the next free
    bool wrapped = false;        // the held bytes run past the end of the ring to offset 0
    std::vector<Entry> slots;
    size_t head = 0;  // slots index of the oldest entry
  };
  // (Only while entries are held, so the store exists.)
  Entry& slot(uint64_t seq) { return s_->slots[(s_->head + (seq - first_seq_)) % s_->slots.size()]; }
  const Entry& slot(uint64_t seq) const {
    return s_->slots[(s_->head + (seq - first_seq_)) % s_->slots.size()];
  }
  std::optional<uint32_t> place(size_t length);
  void grow_ring(size_t length);
  void grow_slots();
  void reclaim();

  size_t max_bytes_, max_entries_;
  std::unique_ptr<Store> s_;
  size_t count_ = 0;  // entries held
  uint64_t first_seq_ = 0;
  size_t live_ = 0, bytes_ = 0;
};

}  // namespace quic
