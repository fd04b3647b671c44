// `tquic sim` and `tquic demo`: run simulator scenarios and print their figures.
#pragma once

#include <string>
#include <vector>

#include "harness/scenario.h"

namespace apps {

struct SimOptions {
  std::string scenario;           // a named scenario, or empty for a custom one
  double rate_mbit = 10, delay_ms = 15, loss_pct = 0, corrupt_pct = 0;
  double queue_packets = 25;
  double size_mib = 10;
  int streams = 1;
  std::string cc = "cubic";
  uint64_t seed = 1;
  int seeds = 1;  // > 1: that many seeds from `seed` on, summarised as min / median / max
  bool null_crypto = false;
  bool json = false;
  std::string pcap;
  std::string qlog_dir;  // non-empty: a qlog (JSON-SEQ) per connection and side into this dir
  // "on" / "off": ACK_FREQUENCY on both sides (docs/ack-frequency.md); empty: the scenario's.
  std::string ack_frequency;
};

// Builds the scenario the options describe; the error names the bad option.
quic::Result<harness::Scenario> scenario_from(const SimOptions& o);
int run_sim(const SimOptions& o);
// The main demo: the interop-runner cases in virtual time, as a table.
int run_demo(bool json);
void print_results(const std::vector<std::pair<harness::Scenario, harness::ScenarioResult>>& runs,
                   bool json);

}  // namespace apps
