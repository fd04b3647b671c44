// `tquic sim <multipath scenario>` and the multipath part of `tquic demo`: the issue #6
// scenarios (aggregation, failover, backup, flapping) in virtual time, per scheduler.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace apps {

bool is_mp_scenario(std::string_view name);
// scheduler: a scheduler name, or "all" for one row per scheduler; cc: a congestion controller
// name (parse_cc_name); seeds > 1: runs seeds seed .. seed + seeds - 1 and prints min / median /
// max per scheduler. Returns the exit code.
int run_mp_sim(const std::string& name, const std::string& scheduler, const std::string& cc,
               uint64_t seed, int seeds, bool json);
// Every multipath scenario with the default scheduler, as a table; false if one failed.
bool run_mp_demo(bool json);

}  // namespace apps
