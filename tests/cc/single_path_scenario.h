// One bulk download over one simulated link, for the congestion-control simulator tests.
#pragma once

#include <algorithm>

#include "harness/scenario.h"

namespace harness {

using namespace std::chrono_literals;

// One bulk download over a symmetric link; windows and buffers of twice the BDP so flow
// control never limits the sender (as `tquic sim --rate --delay` does).
inline Scenario single_path(double mbps, Duration one_way, double loss, size_t queue_packets,
                            uint64_t bytes, quic::CcAlgorithm cc) {
  Scenario s;
  sim::LinkConfig link = default_link();
  link.rate_bps = mbps * 1e6;
  link.delay = one_way;
  link.loss = loss;
  link.queue_bytes = queue_packets * 1500;
  s.client_to_server = s.server_to_client = link;
  s.plan.sizes = {bytes};
  s.client.cc = s.server.cc = cc;
  double bdp = mbps * 1e6 / 8 * 2 * std::chrono::duration<double>(one_way).count();
  auto twice_bdp = static_cast<uint64_t>(2 * bdp);
  for (auto* c : {&s.client, &s.server}) {
    c->initial_max_data = 16 << 20;
    c->initial_max_stream_data = 8 << 20;
    c->stream_send_buffer = std::max<size_t>(c->stream_send_buffer, twice_bdp);
    c->max_stream_window = std::max<uint64_t>(c->max_stream_window, twice_bdp);
    c->max_connection_window = std::max<uint64_t>(c->max_connection_window, twice_bdp);
  }
  s.time_limit = std::chrono::seconds(600);
  return s;
}

}  // namespace harness
