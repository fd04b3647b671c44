// `tquic emu`: the userspace link emulator for real sockets (docs/emu.md). A UDP relay between
// clients and one server that gives each client IP (each multipath path) its own emulated link:
// rate, one-way delay, jitter, queue, loss, corruption, reordering and scheduled link-down
// windows, the same model as the simulator's (sim::LinkConfig). Prints per-link figures on
// SIGINT/SIGTERM or after --duration.
#pragma once

#include <string>
#include <vector>

#include "apps/cli_fwd.h"

namespace apps {

struct EmuOptions {
  std::string listen = "127.0.0.1:4433";
  std::string to;
  std::vector<std::string> links;
  std::string default_link;
  std::vector<std::string> downs;
  uint64_t seed = 1;
  double duration_s = 0;
  bool json = false;
};

void add_emu_options(CLI::App& cmd, EmuOptions& o);
int run_emu(const EmuOptions& o);

}  // namespace apps
