// The DATAGRAM flow of a multipath scenario (mp_scenario.h): the server sends numbered,
// timestamped datagrams at a fixed interval beside the bulk download, each optionally with a
// deadline; the client checks every one byte for byte, counts copies (the redundant scheduler
// sends one per path, and RFC 9221 datagrams are not de-duplicated) and whether each first
// copy arrived by its deadline.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "core/connection.h"
#include "harness/gap_meter.h"
#include "harness/mp_scenario.h"

namespace harness {

using quic::Instant;

class MpDatagramFlow {
 public:
  MpDatagramFlow(const MpScenario& s, Instant start);
  // Called after every simulator event: sends what is due on `server`, drains `client`.
  void tick(Instant now, quic::Connection* server, quic::Connection* client);
  // Fills the datagram figures of `r` (server: the sender's drop counters).
  void finish(MpResult& r, const quic::Connection* server, const quic::Connection* client) const;
  // Every item was sent.
  bool all_sent() const { return sent_ == s_.datagrams; }
  // When the next items are due (kNever: all sent, or the scenario's flow has no clock of its
  // own): the run wakes the flow then (MpScenario::datagram_clock).
  Instant next_send_at() const {
    return all_sent() || !s_.datagram_clock ? quic::kNever : next_;
  }
  // Every item was sent, and received or given kDrain to arrive.
  bool done(Instant now) const {
    return all_sent() && (received_ == sent_ || (s_.datagrams > 0 && now >= last_send_ + kDrain));
  }
  static constexpr Duration kDrain = std::chrono::seconds(2);
  // The start of the flow left out of MpResult::steady_interactive_worst_latency.
  static constexpr Duration kWarmUp = std::chrono::milliseconds(200);

 private:
  bool send(Instant now, quic::Connection& server, const std::vector<uint8_t>& item,
            bool interactive);
  bool interactive(uint64_t seq) const;  // sent as DatagramPriority::kInteractive
  void receive(Instant now, quic::Bytes d);
  void read_streams(Instant now, quic::Connection& client);

  const MpScenario& s_;
  Instant start_, next_, last_send_{};
  uint64_t sent_ = 0;
  std::vector<uint8_t> item_, rx_;  // reused: the item being sent, a received datagram
  std::vector<uint8_t> seen_;  // per sequence number: copies received
  uint64_t received_ = 0, on_time_ = 0, duplicates_ = 0, corrupt_ = 0;
  Duration worst_latency_{0}, interactive_worst_{0}, bulk_worst_{0};
  Duration steady_interactive_worst_{0};
  uint64_t interactive_received_ = 0;
  GapMeter arrivals_;  // gaps between first copies, from the first link failure on
  GapMeter interactive_gaps_;  // the same for the interactive ones alone
  std::vector<std::pair<Duration, Duration>> interactive_arrivals_;  // (sent - start, latency)
  // Stream mode: items still being read, by stream ID, and their bytes so far.
  std::map<uint64_t, std::vector<uint8_t>> reading_;
  uint64_t next_stream_seq_ = 0;  // the next server-initiated uni stream the client expects
};

}  // namespace harness
