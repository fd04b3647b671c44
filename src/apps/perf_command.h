// `tquic perf server|client`: goodput, CPU cost and handshake rate over real sockets. The server
// is `tquic server` with the /perf routes; the client asks for --size bytes ("GET /perf/<N>") or
// uploads them (--upload, "POST /perf"), checks every byte, and reports goodput, handshake time,
// CPU seconds (getrusage) and bytes per CPU-second; --connections K runs K connections one after
// another for handshakes per second, --concurrent N runs N at once (requests per CPU-second,
// idle connections held open with --hold). With --multipath and --path ADDR... it opens extra paths
// from those local addresses and prints per-path figures.
#pragma once

#include <string>

#include "apps/hq_client.h"
#include "apps/hq_server.h"

namespace apps {

struct PerfClientOptions {
  std::string url = "https://127.0.0.1:4433/";
  std::string size = "100M";
  bool upload = false;
  int streams = 1;
  int connections = 1;
  // --concurrent N: N connections at the same time instead of --connections one after another,
  // each making the same requests; --hold SECONDS: once all N are up they idle that long
  // before their requests (a bench reads the server's memory meanwhile).
  int concurrent = 0;
  double hold = 0;
  bool json = false;
  TrustOptions trust;
  NetOptions net;
  PathOptions paths;
  // Test hook (hidden option --kill-first-path-after BYTES): once BYTES have arrived, the
  // socket of the first --path is blackholed (io::EndpointDriver::set_blackhole), as if its link
  // died. The per-socket datagram counts at that moment are printed ("at kill: ...").
  uint64_t kill_first_path_after = 0;
};

void add_perf_client_options(CLI::App& cmd, PerfClientOptions& o);
int run_perf_client(const PerfClientOptions& o);

}  // namespace apps
