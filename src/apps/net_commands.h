// Registers `tquic server`, `tquic client` and `tquic perf server|client` (real UDP sockets) on
// the tquic command line and runs the chosen one.
#pragma once

#include <memory>
#include <optional>

#include "apps/cli_fwd.h"

namespace apps {

class NetCommands {
 public:
  explicit NetCommands(CLI::App& app);
  ~NetCommands();
  // The exit code when one of these subcommands was chosen; nullopt otherwise.
  std::optional<int> dispatch() const;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace apps
