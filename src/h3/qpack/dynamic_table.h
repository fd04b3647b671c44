// The QPACK dynamic table (RFC 9204 §3.2): a FIFO of entries addressed by absolute index
// (0 = first entry ever inserted), with capacity-driven eviction of the oldest entries.
// Shared by the decoder and the encoder; the encoder adds its own reference counting.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>

namespace h3::qpack {

// RFC 9204 §3.2.1: an entry's size is its name and value lengths plus 32.
inline constexpr uint64_t kEntryOverhead = 32;

struct DynamicEntry {
  std::string name;
  std::string value;
  uint64_t size() const { return name.size() + value.size() + kEntryOverhead; }
};

class DynamicTable {
 public:
  uint64_t capacity() const { return capacity_; }
  uint64_t size() const { return size_; }
  // Total number of insertions ever; the next entry gets this absolute index.
  uint64_t insert_count() const { return dropped_ + entries_.size(); }
  // Absolute index of the oldest entry still present.
  uint64_t first_index() const { return dropped_; }

  // Evicts from the front until size <= capacity.
  void set_capacity(uint64_t capacity);
  // Bytes that eviction must free before an entry of entry_size fits (0 when it already fits).
  uint64_t overflow_for(uint64_t entry_size) const {
    return size_ + entry_size > capacity_ ? size_ + entry_size - capacity_ : 0;
  }
  // Inserts, evicting the oldest entries as needed. Precondition: e.size() <= capacity().
  void insert(DynamicEntry e);
  // nullptr when the entry was evicted or not inserted yet.
  const DynamicEntry* get(uint64_t absolute) const;
  // Newest entry whose name (and, if exact, value) matches.
  struct Match {
    bool found = false;
    uint64_t index = 0;
  };
  Match find(std::string_view name, std::string_view value, bool exact) const;

 private:
  void evict_to(uint64_t target_size);

  std::deque<DynamicEntry> entries_;
  uint64_t dropped_ = 0;
  uint64_t size_ = 0;
  uint64_t capacity_ = 0;
};

// Required Insert Count on the wire (RFC 9204 §4.5.1.1). max_table_capacity is the decoder's
// SETTINGS_QPACK_MAX_TABLE_CAPACITY.
uint64_t encode_required_insert_count(uint64_t ric, uint64_t max_table_capacity);
// false when the value could not come from a conformant encoder.
bool decode_required_insert_count(uint64_t encoded, uint64_t max_table_capacity,
                                  uint64_t total_inserts, uint64_t& ric);

}  // namespace h3::qpack
