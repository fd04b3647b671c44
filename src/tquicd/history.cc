#include "tquicd/history.h"

#include <algorithm>
#include <cstdio>

#include "tquicd/status_format.h"

namespace bond {

StatusHistory::StatusHistory(size_t capacity) : capacity_(std::max<size_t>(capacity, 1)) {}

void StatusHistory::record(const Status& s) {
  const uint64_t interval_ms =
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(kInterval).count());
  if (!samples_.empty() && s.uptime_ms < samples_.back().uptime_ms + interval_ms) return;
  Sample sample;
  sample.uptime_ms = s.uptime_ms;
  for (const LinkStatus& l : s.links) {
    LinkSample ls;
    ls.name = l.name;
    ls.thr_bps = l.tx_rate_bps + l.rx_rate_bps;
    ls.rtt_ms = static_cast<double>(l.rtt_us) / 1000;
    ls.loss_pct = l.loss * 100;
    ls.quota_pct = l.quota_bytes ? 100.0 * static_cast<double>(l.quota_used_bytes) /
                                       static_cast<double>(l.quota_bytes)
                                 : 0;
    sample.links.push_back(std::move(ls));
  }
  if (samples_.size() == capacity_) samples_.pop_front();
  samples_.push_back(std::move(sample));
}

std::string StatusHistory::json() const {
  std::string out = "[";
  char num[160];
  for (size_t i = 0; i < samples_.size(); ++i) {
    const Sample& s = samples_[i];
    std::snprintf(num, sizeof num, "%s{\"t\":%.3f,\"links\":[", i ? "," : "",
                  static_cast<double>(s.uptime_ms) / 1000);
    out += num;
    for (size_t j = 0; j < s.links.size(); ++j) {
      const LinkSample& l = s.links[j];
      out += j ? ",{\"name\":" : "{\"name\":";
      append_json_string(out, l.name);
      std::snprintf(num, sizeof num, ",\"thr\":%llu,\"rtt\":%.3f,\"loss\":%.3f,\"quota\":%.3f}",
                    static_cast<unsigned long long>(l.thr_bps), l.rtt_ms, l.loss_pct,
                    l.quota_pct);
      out += num;
    }
    out += "]}";
  }
  out += "]";
  return out;
}

}  // namespace bond
