// tquicd's daemon events (docs/tquicd-control.md "Events"): what the daemons report as it
// happens — a path validated or lost, a failover, the bond's state changing, a link added,
// removed, taken up or down, a quota reached or reset, a client connecting or leaving, the
// configuration reloaded, the client's connection lost and made again. The daemon pushes
// each event into its EventBus once; the bus stamps
// it (sequence number, time since start), keeps it in a bounded ring (EventLog) that
// `tquicctl monitor`, /api/events and the dashboard read, and calls every subscriber (the
// control socket wakes its monitors, a log line is written). No I/O, no clock: time is passed in.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/time.h"

namespace bond {

enum class EventKind {
  kPathUp,          // a link's path validated and usable
  kPathDown,        // a link's path failed, was abandoned or closed
  kFailover,        // traffic moved off a failed link; detail names where it went
  kQuotaReached,    // a metered link used its quota and stops carrying traffic
  kLinkUp,          // a link taken up (`tquicctl link up`, or its interface returned)
  kLinkDown,        // a link taken down (`tquicctl link down`, or its interface went)
  kBondState,       // the bond moved between single/bonded/degraded/down; detail "old -> new"
  kClientUp,        // server: a client's tunnel opened; link = client name
  kClientDown,      // server: a client's tunnel closed
  kLinkAdded,       // a [[link]] appeared (reload, or its interface appeared)
  kLinkRemoved,     // a [[link]] disappeared
  kQuotaReset,      // a metered link's quota period restarted
  kConfigReloaded,  // SIGHUP or `set` applied configuration; detail names the keys
  kDisconnected,    // client: the tunnel's connection ended; detail is why (reconnect.h)
  kReconnected,     // client: the tunnel is back; detail says how long it was down
};
inline constexpr size_t kEventKinds = 15;
// "path_up", "failover", "config_reloaded", ...: the names monitor and /api/events print.
const char* to_string(EventKind k);

// Bounds on what one event carries (the link is a configured name or a client's name from the
// tokens file; detail is free text the daemon builds): longer text is cut.
inline constexpr size_t kMaxEventLink = 64;
inline constexpr size_t kMaxEventDetail = 256;

struct Event {
  uint64_t seq = 0;            // 1, 2, ... in the order logged; never reused
  uint64_t time_ms = 0;        // milliseconds since the daemon started
  EventKind kind = EventKind::kPathUp;
  std::string link;            // link (or client) concerned, may be empty
  std::string detail;          // free text ("to lte", "5000000 bytes", ...)
};

// Bounded ring of the most recent events. Readers remember the last seq they saw and ask for
// what followed; a reader that fell behind by more than the capacity learns how many it missed.
class EventLog {
 public:
  static constexpr size_t kDefaultCapacity = 1024;
  explicit EventLog(size_t capacity = kDefaultCapacity);

  // Assigns the next sequence number and returns it; the oldest event is dropped when full.
  uint64_t add(Event e);
  // Events with seq > after, oldest first, at most `max`. `missed` (when given) is set to the
  // number of events after `after` that have already been dropped from the ring.
  std::vector<Event> since(uint64_t after, size_t max = SIZE_MAX,
                           uint64_t* missed = nullptr) const;
  uint64_t last_seq() const { return next_seq_ - 1; }
  size_t size() const { return events_.size(); }
  size_t capacity() const { return capacity_; }

 private:
  size_t capacity_;
  uint64_t next_seq_ = 1;
  std::deque<Event> events_;
};

// The daemon's single place to report events: stamps them, logs them in the ring and fans them
// out to subscribers, synchronously, in subscription order. A subscriber must not push: an
// event pushed from inside a subscriber is logged (monitors see it) but not fanned out again,
// so a loop of subscribers cannot recurse.
class EventBus {
 public:
  using Listener = std::function<void(const Event&)>;
  static constexpr size_t kMaxListeners = 16;

  explicit EventBus(quic::Instant start, size_t capacity = EventLog::kDefaultCapacity)
      : start_(start), log_(capacity) {}

  // Returns the event's sequence number. Times before `start` count as 0 ms.
  uint64_t push(quic::Instant now, EventKind kind, std::string_view link,
                std::string_view detail = {});
  // Returns an id for unsubscribe(), or 0 when kMaxListeners are already subscribed.
  size_t subscribe(Listener listener);
  void unsubscribe(size_t id);

  const EventLog& log() const { return log_; }
  quic::Instant start() const { return start_; }
  // Events pushed so far, per kind (the ring forgets, these do not).
  uint64_t count(EventKind k) const { return counts_[static_cast<size_t>(k)]; }

 private:
  quic::Instant start_;
  EventLog log_;
  std::vector<std::pair<size_t, Listener>> listeners_;
  size_t next_id_ = 1;
  bool dispatching_ = false;
  uint64_t counts_[kEventKinds] = {};
};

}  // namespace bond
