// Fuzzes the relay's link-spec parsers (`tquic emu --link/--default-link/--down`): whatever
// parses stays inside the documented limits, and every refusal says why in a bounded message.
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "emu/link_spec.h"

namespace {

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "emu_link_spec fuzz invariant broken: %s\n", what);
    std::abort();
  }
}

void check_error(const std::string& e) {
  check(!e.empty(), "error without reason");
  check(e.size() < 1024, "error message not bounded");
}

void check_config(const sim::LinkConfig& c) {
  check(c.rate_bps >= 0 && c.rate_bps <= emu::kMaxRateBps, "rate out of range");
  for (quic::Duration d : {c.delay, c.jitter, c.reorder_delay}) {
    check(d >= quic::Duration::zero() && d <= emu::kMaxDelay, "duration out of range");
  }
  check(c.queue_bytes <= emu::kMaxQueueBytes, "queue out of range");
  check(c.header_bytes <= emu::kMaxHeaderBytes, "header out of range");
  check(c.max_burst >= 1 && c.max_burst <= emu::kMaxBurst, "max_burst out of range");
  for (double p : {c.loss, c.burst_loss, c.corrupt, c.reorder}) {
    check(p >= 0 && p <= 1, "probability out of range");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto l = emu::parse_link_arg(text, emu::transparent_profile())) {
    check(l->ip.port == 0, "link IP with a port");
    emu::size_default_queues(l->profile);
    check_config(l->profile.up);
    check_config(l->profile.down);
    check(!emu::describe(l->profile.up).empty(), "empty description");
  } else {
    check_error(l.error());
  }
  if (auto p = emu::parse_profile(text, emu::transparent_profile())) {
    check_config(p->up);
    check_config(p->down);
  } else {
    check_error(p.error());
  }
  if (auto d = emu::parse_down_arg(text)) {
    check(d->start < d->end && d->end <= emu::kMaxScheduleTime, "bad down window");
  } else {
    check_error(d.error());
  }
  return 0;
}
