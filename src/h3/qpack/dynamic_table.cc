#include "h3/qpack/dynamic_table.h"

#include <utility>

namespace h3::qpack {

void DynamicTable::evict_to(uint64_t target_size) {
  while (size_ > target_size && !entries_.empty()) {
    size_ -= entries_.front().size();
    entries_.pop_front();
    ++dropped_;
  }
}

void DynamicTable::set_capacity(uint64_t capacity) {
  capacity_ = capacity;
  evict_to(capacity);
}

void DynamicTable::insert(DynamicEntry e) {
  const uint64_t s = e.size();
  evict_to(capacity_ - s);
  size_ += s;
  entries_.push_back(std::move(e));
}

const DynamicEntry* DynamicTable::get(uint64_t absolute) const {
  if (absolute < dropped_ || absolute - dropped_ >= entries_.size()) return nullptr;
  return &entries_[absolute - dropped_];
}

DynamicTable::Match DynamicTable::find(std::string_view name, std::string_view value,
                                       bool exact) const {
  for (size_t i = entries_.size(); i-- > 0;) {
    const DynamicEntry& e = entries_[i];
    if (e.name == name && (!exact || e.value == value)) return {true, dropped_ + i};
  }
  return {};
}

uint64_t encode_required_insert_count(uint64_t ric, uint64_t max_table_capacity) {
  if (ric == 0) return 0;
  const uint64_t max_entries = max_table_capacity / kEntryOverhead;
  return ric % (2 * max_entries) + 1;
}

bool decode_required_insert_count(uint64_t encoded, uint64_t max_table_capacity,
                                  uint64_t total_inserts, uint64_t& ric) {
  if (encoded == 0) {
    ric = 0;
    return true;
  }
  const uint64_t max_entries = max_table_capacity / kEntryOverhead;
  const uint64_t full_range = 2 * max_entries;
  if (encoded > full_range) return false;  // also covers max_entries == 0
  const uint64_t max_value = total_inserts + max_entries;
  const uint64_t max_wrapped = max_value / full_range * full_range;
  ric = max_wrapped + encoded - 1;
  if (ric > max_value) {
    if (ric <= full_range) return false;
    ric -= full_range;
  }
  return ric != 0;
}

}  // namespace h3::qpack
