// The receive side of tquicd's tunnel (docs/tquicd.md): a masque::PacketSink placed in front
// of the TUN device's sink. Packets that came on the negotiated seq context (PacketMeta's
// sequence and send time, docs/connect-ip.md) go through one ReorderBuffer per tunnel and
// leave in sequence order; packets of flows that need no order (classifier.h needs_order),
// and packets without a sequence number (context 0, our own ICMP), pass straight through.
//
// The hold time: the connection does not say which path carried a datagram, so the paths'
// delay spread is estimated from the one-way-delay samples themselves (receive time minus the
// sender's send time): the spread between the smallest and largest sample over the last two
// windows of kSpreadWindow, times 1.5, plus the reorder buffer's margin, capped at
// reorder.max_hold. A dead path stops contributing once its samples age out of the windows.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "masque/connect_ip.h"
#include "tquicd/reorder.h"

namespace bond {

// Tunnels with a reorder buffer at once (the server's clients); more pass unordered.
inline constexpr size_t kMaxReorderTunnels = 1024;
// A tunnel's buffer is forgotten after this long without a packet (its tunnel ended).
inline constexpr quic::Duration kReorderTunnelIdle = std::chrono::seconds(30);
inline constexpr quic::Duration kSpreadWindow = std::chrono::seconds(1);

// The smallest and largest one-way-delay sample over the current and the previous window.
class DelaySpread {
 public:
  void on_sample(quic::Instant now, int64_t delay_us);
  // Largest minus smallest, once there is a sample.
  std::optional<quic::Duration> spread() const;

 private:
  struct Window {
    quic::Instant start{};
    int64_t lo = 0, hi = 0;
    bool any = false;
  };
  Window cur_, prev_;
};

struct ReorderSinkStats {
  ReorderStats reorder;       // summed over tunnels, live and forgotten
  uint64_t passthrough = 0;   // unsequenced packets, or over kMaxReorderTunnels
  uint64_t tunnels = 0;       // tunnels with a buffer now
};
// "reorder in_order=N held=N late=N gaps_given_up=N lost=N duplicates=N" for the exit line.
std::string format_reorder_stats(const ReorderSinkStats& s);

class ReorderSink : public masque::PacketSink {
 public:
  using Clock = std::function<quic::Instant()>;
  ReorderSink(masque::PacketSink& next, ReorderLimits limits, bool udp_unordered, Clock clock);

  void deliver(quic::Bytes packet, const masque::PacketMeta& meta) override;
  // Gives up gaps whose hold ran out and forgets idle tunnels; call at next_timeout().
  void on_timeout(quic::Instant now);
  quic::Instant next_timeout() const;
  // The client reconnected: its new tunnel numbers its packets from the start again, so the
  // old tunnel's buffer goes now (its counters stay in stats()) rather than after
  // kReorderTunnelIdle. Packets it still held (none once its holds ran out) are dropped.
  void forget_tunnels();
  // SIGHUP: reorder.* and classifier.udp_unordered are live.
  void set_policy(ReorderLimits limits, bool udp_unordered);
  ReorderSinkStats stats() const;
  // The current hold time of the busiest tunnel (for status), zero with none.
  quic::Duration hold_time() const;

 private:
  struct Tunnel {
    explicit Tunnel(ReorderLimits l) : buffer(l) {}
    ReorderBuffer buffer;
    DelaySpread spread;
    quic::Instant last{};
  };
  void drain(Tunnel& t);
  void forget(std::map<uint64_t, Tunnel>::iterator it);

  masque::PacketSink& next_;
  ReorderLimits limits_;
  bool udp_unordered_;
  Clock clock_;
  std::map<uint64_t, Tunnel> tunnels_;
  ReorderStats forgotten_;
  uint64_t passthrough_ = 0;
};

}  // namespace bond
