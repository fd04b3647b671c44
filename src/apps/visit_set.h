// Which connections an app's endpoint hook visits on a turn (`tquic server`, `tquic serve`):
// only those with news and those with work in progress, not all of them. With thousands of idle
// connections a walk over every one on every turn was most of a server's CPU
// (docs/performance.md "Many connections").
#pragma once

#include <algorithm>
#include <set>
#include <vector>

#include "core/endpoint.h"

namespace apps {

// `news`: Endpoint::take_activity() (datagrams, timers, transmits, reaping: connection()
// returns nullptr for a reaped one) plus the connections just accepted; `busy`: the app's
// connections with work in progress. Each once, in handle order.
inline std::vector<quic::ConnectionHandle> visit_set(std::vector<quic::ConnectionHandle> news,
                                                     const std::set<quic::ConnectionHandle>& busy) {
  news.insert(news.end(), busy.begin(), busy.end());
  std::sort(news.begin(), news.end());
  news.erase(std::unique(news.begin(), news.end()), news.end());
  return news;
}

}  // namespace apps
