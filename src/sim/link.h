// One direction of a simulated link: its configuration, queue, serialiser state, random streams
// and counters. The decisions about a single packet (is the link dark, how long does it take to
// serialise, is it lost/corrupted/marked on the wire, when does it arrive) live here; the event
// scheduling that strings them together lives in Network.
#pragma once

#include <cstdint>
#include <deque>

#include "sim/link_config.h"
#include "sim/random.h"

namespace sim {

struct DirCounters {
  uint64_t sent_packets = 0, sent_bytes = 0, delivered_packets = 0, delivered_bytes = 0,
           dropped_queue = 0, dropped_loss = 0, dropped_blackhole = 0, corrupted = 0, reordered = 0,
           ce_marked = 0;
};

// What happens to a packet when it leaves the serialiser.
struct WireOutcome {
  bool lost = false;
  Instant arrival{};
};

class LinkDirection {
 public:
  // stream_seed identifies (network seed, link, direction); each impairment draws from its own
  // stream derived from it, so enabling one impairment does not shift another's pattern.
  LinkDirection(LinkConfig config, uint64_t stream_seed);

  LinkConfig& config() { return config_; }
  const LinkConfig& config() const { return config_; }

  // True inside a blackhole window (t relative to the network's start instant).
  bool dark(Duration since_start) const;
  // Serialisation time of a datagram with this UDP payload size.
  Duration tx_time(size_t payload_size) const;
  size_t wire_size(size_t payload_size) const { return payload_size + config_.header_bytes; }

  // Applies loss, corruption, CE marking, jitter and reordering to a packet leaving the
  // serialiser at `now`; updates the counters for what it did.
  WireOutcome depart(Instant now, Datagram& d);
  // CE marking by queue occupancy, applied when the packet is queued.
  void mark_on_enqueue(Datagram& d);

  DirCounters counters;

  // Queue and serialiser state, driven by Network.
  std::deque<uint32_t> queue;  // packet slots waiting behind the one in service
  size_t queued_bytes = 0;
  bool busy = false;
  uint32_t in_service = 0;
  uint64_t service_seq = 0;  // bumped whenever service starts or is aborted
  uint32_t epoch = 0;        // bumped when the link goes down: packets in flight are lost

 private:
  bool lose();

  LinkConfig config_;
  Rng loss_rng_, corrupt_rng_, ce_rng_, jitter_rng_, reorder_rng_;
  int burst_left_ = 0;
  bool after_burst_ = false;
  Instant last_fifo_arrival_{Duration::min()};
};

}  // namespace sim
