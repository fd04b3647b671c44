// Multipath scenarios with a DATAGRAM flow that the scheduler choice decides (issue #6 item 3):
//
// - deadline: a bonded LTE + satellite pair (20 Mbit/s 40 ms + 50 Mbit/s 600 ms RTT) carries
//   a bulk download and a real-time flow (1000 bytes every 20 ms, 150 ms deadline: video or
//   VoIP). The satellite's one-way delay alone (300 ms) misses the deadline.
// - deadline-streams: the same with one stream per real-time item (stream deadlines).
// - datagrams-redundant: aggregation-a's links with 1 datagram per ms; the faster link becomes
//   a blackhole at 2 s. Datagrams already sent on it are lost unless a copy went elsewhere.
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
  } else {
    return std::nullopt;
  }
  return s;
}

}  // namespace harness
