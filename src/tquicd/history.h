// The daemon's recent history for the dashboard (docs/tquicd-control.md): a ring of the last
// kDefaultSamples per-link samples (throughput, RTT, loss, quota used), one per kInterval, so a
// dashboard opened now draws the last five minutes at once instead of starting empty. Served
// as /api/history. No I/O, no clock: the sample's time is the status's uptime.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "common/time.h"
#include "tquicd/status.h"

namespace bond {

class StatusHistory {
 public:
  static constexpr size_t kDefaultSamples = 300;  // the page's own window
  static constexpr quic::Duration kInterval = std::chrono::seconds(1);

  explicit StatusHistory(size_t capacity = kDefaultSamples);
  // Takes a sample of `s` unless the last one is younger than kInterval (by s.uptime_ms).
  void record(const Status& s);
  // [{"t":SECONDS,"links":[{"name":..,"thr":BIT/S,"rtt":MS,"loss":PERCENT,"quota":PERCENT}]}],
  // oldest first: what the page's own samples hold.
  std::string json() const;
  size_t size() const { return samples_.size(); }

 private:
  struct LinkSample {
    std::string name;
    uint64_t thr_bps = 0;
    double rtt_ms = 0, loss_pct = 0, quota_pct = 0;
  };
  struct Sample {
    uint64_t uptime_ms = 0;
    std::vector<LinkSample> links;
  };
  size_t capacity_;
  std::deque<Sample> samples_;
};

}  // namespace bond
