// `tquic perf udp`: the raw UDP loopback limit the QUIC figures are compared with. One thread
// blasts datagrams through io::UdpSocket (sendmmsg, with or without GSO), another receives them
// (recvmmsg, with or without GRO); no QUIC, no crypto, no congestion control.
#pragma once

#include <string>

#include "apps/cli_fwd.h"

namespace apps {

struct UdpPerfOptions {
  std::string size = "1G";
  int payload = 1452;  // bytes per datagram, the QUIC max_mtu default
  bool ipv6 = false, no_gso = false, no_gro = false, json = false;
};

void add_udp_perf_options(CLI::App& cmd, UdpPerfOptions& o);
int run_udp_perf(const UdpPerfOptions& o);

}  // namespace apps
