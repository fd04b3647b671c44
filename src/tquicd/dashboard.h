// The metrics endpoint's routes (docs/tquicd-control.md):
//   /             the live dashboard (dashboard_page.cc: HTML with its own SVG charts, no CDN)
//   /metrics      Prometheus text (metrics.h)
//   /api/status   the status model as JSON (status_format.h)
//   /api/events   events after ?after=N as a JSON array (at most kMaxApiEvents)
//   /api/history  the per-link samples of the last minutes (history.h; [] without a history)
#pragma once

#include <string_view>

#include "tquicd/history.h"
#include "tquicd/metrics_http.h"
#include "tquicd/status.h"

namespace bond {

inline constexpr size_t kMaxApiEvents = 100;

extern const std::string_view kDashboardPage;

HttpResponse dashboard_route(const HttpRequest& request, const Status& status,
                             const EventLog& events, const StatusHistory* history = nullptr);

}  // namespace bond
