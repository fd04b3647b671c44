// Prometheus text exposition (format 0.0.4) of the status model, served at /metrics.
// Metric names are listed in docs/tquicd-control.md.
#pragma once

#include <string>

#include "tquicd/status.h"

namespace bond {

inline constexpr const char* kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

// `events_total` is the event log's last sequence number (events logged since start).
std::string format_metrics(const Status& s, uint64_t events_total);

}  // namespace bond
