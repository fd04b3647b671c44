#include "tquicd/reorder_sink.h"

#include <array>
#include <cstdio>

#include "tquicd/classifier.h"
#include "tquicd/ip_header.h"

namespace bond {

namespace {

void add_stats(ReorderStats& to, const ReorderStats& s) {
  to.in_order += s.in_order;
  to.released_held += s.released_held;
  to.passthrough += s.passthrough;
  to.late += s.late;
  to.duplicates += s.duplicates;
  to.too_old += s.too_old;
  to.gap_timeouts += s.gap_timeouts;
  to.overflows += s.overflows;
  to.resyncs += s.resyncs;
  to.lost += s.lost;
}

}  // namespace

void DelaySpread::on_sample(quic::Instant now, int64_t delay_us) {
  if (!cur_.any || now - cur_.start >= kSpreadWindow) {
    // A window older than two has nothing to say about the paths now.
    prev_ = cur_.any && now - cur_.start < 2 * kSpreadWindow ? cur_ : Window{};
    cur_ = Window{now, delay_us, delay_us, true};
    return;
  }
  cur_.lo = std::min(cur_.lo, delay_us);
  cur_.hi = std::max(cur_.hi, delay_us);
}

std::optional<quic::Duration> DelaySpread::spread() const {
  if (!cur_.any) return std::nullopt;
  int64_t lo = cur_.lo, hi = cur_.hi;
  if (prev_.any) lo = std::min(lo, prev_.lo), hi = std::max(hi, prev_.hi);
  return std::chrono::microseconds(hi - lo);
}

ReorderSink::ReorderSink(masque::PacketSink& next, ReorderLimits limits, bool udp_unordered,
                         Clock clock)
    : next_(next), limits_(limits), udp_unordered_(udp_unordered), clock_(std::move(clock)) {}

void ReorderSink::deliver(quic::Bytes packet, const masque::PacketMeta& meta) {
  auto parsed = parse_ip_packet(packet);
  bool ordered = parsed.info && needs_order(*parsed.info, udp_unordered_);
  auto it = tunnels_.find(meta.tunnel);
  if (!meta.sequence || meta.tunnel == 0 ||
      (it == tunnels_.end() && tunnels_.size() >= kMaxReorderTunnels)) {
    ++passthrough_;
    return next_.deliver(packet, meta);
  }
  quic::Instant now = clock_();
  if (it == tunnels_.end()) it = tunnels_.try_emplace(meta.tunnel, limits_).first;
  Tunnel& t = it->second;
  t.last = now;
  if (meta.send_time_us) {
    // The send time is the sender's clock in microseconds; the difference carries an unknown
    // constant offset that the spread cancels. Unsigned wrap-around is well defined, and the
    // signed reading of the difference keeps nearby samples comparable.
    uint64_t now_us = static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count());
    t.spread.on_sample(now, static_cast<int64_t>(now_us - *meta.send_time_us));
    if (auto s = t.spread.spread()) {
      // The spread lags the paths' delays while a queue grows (an inner flow's slow start
      // fills a link's buffer within a window): the slow end gets a variation of a quarter
      // of the spread, so the hold is 1.5 times the spread plus the margin. Holding longer
      // costs only on a gap that never fills, which loss repair makes rare; releasing early
      // is an inner TCP loss (bond test: every gap given up arrived later, `late`).
      std::array<PathDelay, 2> ends{PathDelay{}, PathDelay{*s, *s / 4}};
      t.buffer.set_path_delays(ends);
    }
  }
  // The reorder buffer unwraps 32-bit sequence numbers; the low bits are all it needs.
  auto verdict = t.buffer.on_packet(now, static_cast<uint32_t>(*meta.sequence), ordered, packet);
  if (verdict == ReorderBuffer::Verdict::kDeliverNow) next_.deliver(packet, meta);
  drain(t);
}

void ReorderSink::drain(Tunnel& t) {
  while (auto p = t.buffer.pop_ready()) next_.deliver(*p, masque::PacketMeta{});
}

void ReorderSink::on_timeout(quic::Instant now) {
  for (auto it = tunnels_.begin(); it != tunnels_.end();) {
    auto next = std::next(it);
    it->second.buffer.on_timeout(now);
    drain(it->second);
    if (now - it->second.last >= kReorderTunnelIdle && it->second.buffer.held_packets() == 0) {
      forget(it);
    }
    it = next;
  }
}

void ReorderSink::forget(std::map<uint64_t, Tunnel>::iterator it) {
  add_stats(forgotten_, it->second.buffer.stats());
  tunnels_.erase(it);
}

void ReorderSink::forget_tunnels() {
  while (!tunnels_.empty()) forget(tunnels_.begin());
}

quic::Instant ReorderSink::next_timeout() const {
  quic::Instant t = quic::kNever;
  for (const auto& [id, tunnel] : tunnels_) {
    t = std::min(t, tunnel.buffer.next_timeout());
    t = std::min(t, tunnel.last + kReorderTunnelIdle);
  }
  return t;
}

void ReorderSink::set_policy(ReorderLimits limits, bool udp_unordered) {
  limits_ = limits;
  udp_unordered_ = udp_unordered;
  for (auto& [id, t] : tunnels_) t.buffer.set_limits(limits);
}

std::string format_reorder_stats(const ReorderSinkStats& s) {
  const ReorderStats& r = s.reorder;
  char line[256];
  std::snprintf(line, sizeof line,
                "reorder in_order=%llu held=%llu late=%llu gaps_given_up=%llu lost=%llu "
                "duplicates=%llu",
                static_cast<unsigned long long>(r.in_order),
                static_cast<unsigned long long>(r.released_held),
                static_cast<unsigned long long>(r.late),
                static_cast<unsigned long long>(r.gap_timeouts + r.overflows),
                static_cast<unsigned long long>(r.lost),
                static_cast<unsigned long long>(r.duplicates));
  return line;
}

ReorderSinkStats ReorderSink::stats() const {
  ReorderSinkStats out;
  out.reorder = forgotten_;
  for (const auto& [id, t] : tunnels_) add_stats(out.reorder, t.buffer.stats());
  out.passthrough = passthrough_;
  out.tunnels = tunnels_.size();
  return out;
}

quic::Duration ReorderSink::hold_time() const {
  quic::Duration h = quic::Duration::zero();
  for (const auto& [id, t] : tunnels_) h = std::max(h, t.buffer.hold_time());
  return h;
}

}  // namespace bond
