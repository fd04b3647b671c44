// Fuzzes tquicd's configuration parser (toml++ plus our typed key reader): no crash, bounded
// error lists that each name the file, and whatever parses stays inside the documented ranges.
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string_view>

#include "tquicd/config.h"

namespace {

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "tquicd_config fuzz invariant broken: %s\n", what);
    std::abort();
  }
}

std::string accept_files(const std::string&, bond::FileKind) { return {}; }

void check_config(const bond::Config& c) {
  check(c.tunnel.mtu >= bond::kMinTunnelMtu && c.tunnel.mtu <= bond::kMaxTunnelMtu, "mtu");
  check(c.links.size() <= bond::kMaxLinks, "links");
  check(c.role == bond::DaemonRole::kServer || !c.links.empty(), "client without links");
  std::set<std::string> names;
  for (const bond::LinkConfig& l : c.links) {
    check(names.insert(l.name).second, "duplicate link name");
    check(l.quota_reset_day >= 1 && l.quota_reset_day <= 28, "reset day");
    check(!l.interface.empty() || l.source.has_value(), "link without interface or source");
    check(l.keepalive.count() == 0 || (l.keepalive >= std::chrono::milliseconds(100) &&
                                       l.keepalive <= std::chrono::seconds(600)),
          "link keepalive");
  }
  check(c.reorder.max_hold <= std::chrono::seconds(2), "max_hold");
  check(c.reorder.max_packets >= 16 && c.reorder.max_packets <= 65536, "max_packets");
  check(c.ingress.target < c.ingress.interval, "target");
  check(c.classifier.interactive_ports.size() <= bond::kMaxListEntries, "ports");
  check(bond::diff_configs(c, c).empty(), "a config differs from itself");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto c = bond::parse_config(text, "fuzz.toml", "/etc/tquic", accept_files);
  if (c) {
    check_config(*c);
    return 0;
  }
  check(!c.error().empty() && c.error().size() <= bond::kMaxErrors, "error count");
  for (const std::string& e : c.error()) check(e.rfind("fuzz.toml:", 0) == 0 && e.size() < 8192, "error line");
  return 0;
}
