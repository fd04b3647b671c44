// Fuzzes the rtnetlink parser (parse_rtnetlink) and the interface table it feeds: any buffer
// is parsed without reading past it (ASan) or crashing, the event count stays within its
// bound, and the table stays within its bounds whatever the events say.
#include <cstdio>
#include <cstdlib>

#include "tquicd/netlink_watch.h"

namespace {

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "tquicd_netlink fuzz invariant broken: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  bond::NetlinkParseStats st;
  auto events = bond::parse_rtnetlink({data, size}, st);
  check(events.size() <= bond::kMaxNetlinkEventsPerRead, "event bound");
  bond::InterfaceTable table;
  for (const auto& e : events) {
    check(e.name.size() < 16, "interface name length");
    table.apply(e);
  }
  check(table.size() <= bond::kMaxTrackedInterfaces, "table bound");
  for (const auto& e : events) {
    if (!e.name.empty()) (void)table.first_address(e.name, e.address.v6);
  }
  return 0;
}
