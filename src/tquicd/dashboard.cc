#include "tquicd/dashboard.h"

#include <charconv>

#include "tquicd/metrics.h"
#include "tquicd/status_format.h"

namespace bond {
namespace {

constexpr const char* kJson = "application/json";

// "after=N" from a query string; 0 when absent or malformed (then the newest events are sent).
uint64_t after_param(std::string_view query) {
  constexpr std::string_view kKey = "after=";
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view kv = query.substr(0, amp);
    if (kv.starts_with(kKey)) {
      uint64_t v = 0;
      auto digits = kv.substr(kKey.size());
      auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
      return ec == std::errc() && p == digits.data() + digits.size() ? v : 0;
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return 0;
}

std::string events_json(const EventLog& log, uint64_t after) {
  // Without a position the client gets the newest events, not the oldest in the ring.
  uint64_t last = log.last_seq();
  if (after == 0 && last > kMaxApiEvents) after = last - kMaxApiEvents;
  std::string out = "[";
  auto events = log.since(after, kMaxApiEvents);
  for (size_t i = 0; i < events.size(); ++i) {
    if (i) out += ',';
    out += format_event_json(events[i]);
  }
  out += "]";
  return out;
}

}  // namespace

HttpResponse dashboard_route(const HttpRequest& request, const Status& status,
                             const EventLog& events, const StatusHistory* history) {
  if (request.path == "/") return {200, "text/html; charset=utf-8", std::string(kDashboardPage)};
  if (request.path == "/metrics")
    return {200, kMetricsContentType, format_metrics(status, events.last_seq())};
  if (request.path == "/api/status") return {200, kJson, format_json(status, StatusView::kStatus)};
  if (request.path == "/api/events")
    return {200, kJson, events_json(events, after_param(request.query))};
  if (request.path == "/api/history") return {200, kJson, history ? history->json() : "[]"};
  return {404, "text/plain; charset=utf-8", "Not Found\n"};
}

}  // namespace bond
