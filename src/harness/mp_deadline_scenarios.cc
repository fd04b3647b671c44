// Multipath scenarios with a DATAGRAM flow that the scheduler choice decides (issue #6 item 3):
//
// - deadline: a bonded LTE + satellite pair (20 Mbit/s 40 ms + 50 Mbit/s 600 ms RTT) carries
//   a bulk download and a real-time flow (1000 bytes every 20 ms, 150 ms deadline: video or
//   VoIP). The satellite's one-way delay alone (300 ms) misses the deadline.
// - deadline-streams: the same with one stream per real-time item (stream deadlines).
// - datagrams-redundant: aggregation-a's links with 1 datagram per ms; the faster link becomes
//   a blackhole at 2 s. Datagrams already sent on it are lost unless a copy went elsewhere.
// - datagrams-failover: a tunnel-like flow (10,000 datagrams of 1000 bytes, one per 500 us)
//   over aggregation-a's links; the faster link blackholes at 3 s. With re-sending on
//   (datagram_resend_on_path_failure), those in flight on it go again on the other path.
// - datagrams-burst: 2,000 datagrams queued at one instant (2 MB, more than the 64 entries the
//   queue once held) over two 1 Gbit/s links.
// - datagrams-mtu: link 1 carries at most 1280-byte UDP payloads and blackholes at 4 s; the
//   peer takes 64 KiB frames, so the path MTUs set the largest datagram payload.
#include "harness/mp_scenario.h"

namespace harness {

using namespace std::chrono_literals;

std::optional<MpScenario> deadline_mp_scenario(std::string_view name) {
  MpScenario s;
  s.name = std::string(name);
  if (name == "deadline") {
    s.description = "LTE 20 Mbit/s 40 ms + satellite 50 Mbit/s 600 ms; 1000 B every 20 ms, 150 ms deadline";
    s.links = {mp_link(20, 40ms), mp_link(50, 600ms)};
    s.bytes = 48ull << 20;
    s.datagrams = 250;
    s.datagram_interval = 20ms;
    s.datagram_deadline = 150ms;
  } else if (name == "deadline-streams") {
    s.description = "deadline, with each real-time item on its own stream with a deadline";
    s.links = {mp_link(20, 40ms), mp_link(50, 600ms)};
    s.bytes = 48ull << 20;
    s.datagrams = 250;
    s.datagram_interval = 20ms;
    s.datagram_deadline = 150ms;
    s.datagrams_as_streams = true;
  } else if (name == "datagrams-redundant") {
    s.description = "aggregation-a, 1 datagram per ms; the faster link blackholes at 2 s";
    s.links = {mp_link(50, 20ms), mp_link(30, 60ms)};
    s.events = {{2s, 0, false}};
    s.failure_event = 0;
    s.datagrams = 2000;
    s.bytes = 32ull << 20;
  } else if (name == "datagrams-failover") {
    s.description = "aggregation-a, 10000 datagrams (1 per 500 us); the faster link blackholes at 3 s";
    s.links = {mp_link(50, 20ms), mp_link(30, 60ms)};
    s.events = {{3s, 0, false}};
    s.failure_event = 0;
    s.datagrams = 10000;
    s.datagram_interval = 500us;
    s.datagram_resend = true;
    s.bytes = 1ull << 20;
  } else if (name == "datagrams-aggregate") {
    s.description = "aggregation-a, datagrams only at 64 Mbit/s (8 x 1000 bytes per ms) for 2 s";
    s.links = {mp_link(50, 20ms), mp_link(30, 60ms)};
    s.datagrams = 16000;
    s.datagram_burst = 8;
    s.bytes = 64ull << 10;
  } else if (name == "datagrams-burst") {
    s.description = "2 x 1 Gbit/s; 2000 datagrams of 1000 bytes queued at once";
    s.links = {mp_link(1000, 20ms), mp_link(1000, 30ms)};
    s.datagrams = 2000;
    s.datagram_burst = 2000;
    s.bytes = 1ull << 20;
  } else if (name == "datagrams-mtu") {
    s.description = "aggregation-a; link 1 has a 1280-byte MTU and blackholes at 4 s";
    s.links = {mp_link(50, 20ms), mp_link(30, 60ms)};
    s.links[1].mtu = 1280;
    s.events = {{4s, 1, false}};
    s.failure_event = 0;
    s.datagrams = 5000;
    s.max_datagram_frame_size = 65535;
    s.bytes = 1ull << 20;
  } else {
    return std::nullopt;
  }
  return s;
}

}  // namespace harness
