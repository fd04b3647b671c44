// `tquic sim <multipath scenario>` and the multipath part of `tquic demo`: the issue #6
// scenarios (aggregation, failover, backup, flapping) in virtual time, per scheduler.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "harness/mp_scenario.h"

namespace apps {

// Over a base scenario (a named one, or custom_mp_scenario's). scheduler: a scheduler name, or
// "all" for one row per scheduler; cc: a congestion controller name (parse_cc_name); seeds > 1:
// runs seeds seed .. seed + seeds - 1 and prints min / median / max per scheduler. Returns the
// exit code.
int run_mp_sim(harness::MpScenario base, const std::string& scheduler, const std::string& cc,
               uint64_t seed, int seeds, bool json);

// `tquic sim --link KEY=VALUE[,...]` (repeatable): what an operator's own links carry bonded.
// Each spec has the syntax of `tquic emu --default-link` (docs/emu.md: rate=50mbit,delay=10ms,
// loss=1%, up./down. prefixes; delay is one way), starting from the emulator's transparent
// profile, so IPv4+UDP headers are charged against the rate as in the named scenarios and an
// unset queue is one bandwidth-delay product. Every link needs a rate in both directions (the
// share of the sum of rates is the figure). The first link carries the handshake; `bytes` is
// the download. The error names the bad spec.
inline constexpr size_t kMaxSimLinks = 8;
quic::Result<harness::MpScenario> custom_mp_scenario(const std::vector<std::string>& links,
                                                     uint64_t bytes);

// Every multipath scenario with the default scheduler, as a table; false if one failed.
bool run_mp_demo(bool json);

}  // namespace apps
