// CLI11's App, declared only: the headers of the commands take a `CLI::App&` to register their
// options on, and only the .cc files that call CLI11's API include <CLI/CLI.hpp>. The header-only
// CLI11 adds 4 to 8 CPU-seconds to each translation unit at -O2 -g (12 to 20 with ASan), so it
// must not reach the daemon and test files that include these headers for their other
// declarations (docs/ci-time.md).
#pragma once

namespace CLI {
class App;
}  // namespace CLI
