// Which keys SIGHUP applies live and which need a restart (docs/tquicd-config.md lists the same).
#include <algorithm>
#include <utility>

#include "tquicd/config.h"

namespace bond {
namespace {

// Keys whose new value the running daemon applies on SIGHUP. Everything else (listening
// sockets, the TUN device, certificates, the server URL, table sizes) takes a restart.
constexpr std::string_view kLiveKeys[] = {
    "server.tokens_file",       "server.client_rate",        "server.max_clients",
    "link",                     "link.interface",            "link.source",  "link.mark",
    "link.role",                "link.weight",               "link.rate",
    "link.quota",               "link.quota_reset_day",      "link.keepalive_budget",
    "link.keepalive",
    "reorder.max_hold",         "reorder.max_packets",       "reorder.max_bytes",
    "ingress.target",           "ingress.interval",          "ingress.max_bytes",
    "classifier.interactive_ports", "classifier.interactive_dscp", "classifier.small_packet",
    "classifier.udp_unordered", "log.level",                 "log.format",
    "log.qlog_dir",
};

}  // namespace

bool key_is_live(std::string_view key) {
  // "link[lte].rate" -> "link.rate"; "link[lte]" (a link added or removed) -> "link".
  std::string generic(key);
  if (size_t open = generic.find('['); open != std::string::npos) {
    size_t close = generic.find(']', open);
    if (close == std::string::npos) return false;
    generic.erase(open, close - open + 1);
  }
  return std::find(std::begin(kLiveKeys), std::end(kLiveKeys), generic) != std::end(kLiveKeys);
}

std::vector<ConfigChange> diff_configs(const Config& before, const Config& after) {
  std::vector<ConfigChange> changes;
  auto add = [&](const std::string& key, std::string a, std::string b) {
    changes.push_back({key, std::move(a), std::move(b), key_is_live(key)});
  };
  auto a = before.values.begin(), b = after.values.begin();
  // Both maps are sorted: one merge pass finds changed, removed and added keys.
  while (a != before.values.end() || b != after.values.end()) {
    if (b == after.values.end() || (a != before.values.end() && a->first < b->first)) {
      add(a->first, a->second, "");
      ++a;
    } else if (a == before.values.end() || b->first < a->first) {
      add(b->first, "", b->second);
      ++b;
    } else {
      if (a->second != b->second) add(a->first, a->second, b->second);
      ++a, ++b;
    }
  }
  return changes;
}

}  // namespace bond
