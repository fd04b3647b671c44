#include "tquicd/tunnel_pipeline.h"

#include <algorithm>

#include "tquicd/tunnel_header.h"

namespace bond {

const char* to_string(DropReason r) {
  switch (r) {
    case DropReason::kMalformedIp: return "malformed_ip";
    case DropReason::kMalformedTunnel: return "malformed_tunnel_header";
    case DropReason::kSpoofedSource: return "spoofed_source";
    case DropReason::kTooBig: return "too_big";
    case DropReason::kQueueFull: return "queue_full";
    case DropReason::kCodel: return "codel";
    case DropReason::kDuplicate: return "duplicate";
    case DropReason::kTooOld: return "too_old";
    case DropReason::kCount: break;
  }
  return "?";
}

bool prefix_contains(const IpPrefix& p, const std::array<uint8_t, 16>& ip, bool v6) {
  if (p.v6 != v6) return false;
  size_t full = p.length / 8, rest = p.length % 8;
  if (!std::equal(p.ip.begin(), p.ip.begin() + static_cast<long>(full), ip.begin())) return false;
  if (rest == 0) return true;
  auto mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (p.ip[full] & mask) == (ip[full] & mask);
}

namespace {

bool source_allowed(const std::vector<IpPrefix>& allowed, const IpPacketInfo& info) {
  return allowed.empty() || std::ranges::any_of(allowed, [&](const IpPrefix& p) {
           return prefix_contains(p, info.src, info.v6);
         });
}

void count(DropCounters& d, DropReason r) { ++d[static_cast<size_t>(r)]; }

}  // namespace

TunnelSender::TunnelSender(const SenderSettings& s, uint64_t hash_seed)
    : settings_(s), classifier_(s.flows, hash_seed),
      interactive_({s.ingress.target, s.ingress.interval, kInteractiveQueueBytes}), bulk_(s.ingress) {}

std::optional<DropReason> TunnelSender::on_tun_packet(quic::Instant now, quic::Bytes packet) {
  IpParse parsed = parse_ip_packet(packet);
  auto drop = [&](DropReason r) {
    count(drops_, r);
    return std::optional<DropReason>(r);
  };
  if (!parsed.info) return drop(DropReason::kMalformedIp);
  if (parsed.info->length > settings_.mtu) return drop(DropReason::kTooBig);
  if (!source_allowed(settings_.allowed_sources, *parsed.info)) return drop(DropReason::kSpoofedSource);
  Classification c = classifier_.classify_parsed(now, *parsed.info);
  IngressQueue& q = c.flow_class == FlowClass::kInteractive ? interactive_ : bulk_;
  if (!q.enqueue(now, packet.first(parsed.info->length))) return drop(DropReason::kQueueFull);
  return std::nullopt;
}

std::optional<OutgoingDatagram> TunnelSender::next_datagram(quic::Instant now, quic::MutBytes out) {
  for (;;) {
    if (!pending_) {
      if (auto p = interactive_.dequeue(now)) {
        pending_ = Pending{std::move(*p), FlowClass::kInteractive, now};
      } else if (auto b = bulk_.dequeue(now)) {
        pending_ = Pending{std::move(*b), FlowClass::kBulk, now};
      } else {
        return std::nullopt;
      }
    }
    TunnelHeader h{next_seq_, tunnel_timestamp(now)};
    size_t header = encode_tunnel_header(h, out);
    if (header != 0 && out.size() - header >= pending_->bytes.size()) break;
    if (now - pending_->since < settings_.ingress.interval) return std::nullopt;
    count(drops_, DropReason::kTooBig);  // no sequence number used: the receiver sees no gap
    pending_.reset();
  }
  size_t header = encode_tunnel_header({next_seq_, tunnel_timestamp(now)}, out);
  next_seq_ = static_cast<uint32_t>((next_seq_ + 1) % kSeqModulus);
  std::copy(pending_->bytes.begin(), pending_->bytes.end(), out.begin() + static_cast<long>(header));
  OutgoingDatagram d{header + pending_->bytes.size(), pending_->flow_class};
  pending_.reset();
  return d;
}

const DropCounters& TunnelSender::drops() const {
  drops_[static_cast<size_t>(DropReason::kCodel)] = interactive_.stats().codel_drops + bulk_.stats().codel_drops;
  return drops_;
}

TunnelReceiver::TunnelReceiver(const ReceiverSettings& s) : settings_(s), reorder_(s.reorder) {}

void TunnelReceiver::update_hold(quic::Instant now) {
  // Every 16 samples: often enough to follow a path's delay, rarely enough to cost nothing.
  if (++samples_ % 16 != 0) return;
  std::vector<PathDelay> e = delays_.estimates(now);
  if (!e.empty() && e.size() >= active_paths_) reorder_.set_path_delays(e);
}

std::optional<quic::Bytes> TunnelReceiver::on_datagram(quic::Instant now, size_t path, quic::Bytes payload) {
  auto drop = [&](DropReason r) {
    count(drops_, r);
    return std::optional<quic::Bytes>();
  };
  std::optional<TunnelPacket> t = parse_tunnel_packet(payload);
  if (!t) return drop(DropReason::kMalformedTunnel);
  IpParse parsed = parse_ip_packet(t->ip_packet);
  if (!parsed.info) return drop(DropReason::kMalformedIp);
  if (!source_allowed(settings_.allowed_sources, *parsed.info)) return drop(DropReason::kSpoofedSource);
  delays_.on_sample(path, now, t->header.send_time_us);
  update_hold(now);
  quic::Bytes ip = t->ip_packet.first(parsed.info->length);
  bool ordered = needs_order(*parsed.info, settings_.flows.udp_unordered);
  switch (reorder_.on_packet(now, t->header.seq, ordered, ip)) {
    case ReorderBuffer::Verdict::kDeliverNow: return ip;
    case ReorderBuffer::Verdict::kQueued: return std::nullopt;
    case ReorderBuffer::Verdict::kDuplicate: return drop(DropReason::kDuplicate);
    case ReorderBuffer::Verdict::kTooOld: return drop(DropReason::kTooOld);
  }
  return std::nullopt;
}

}  // namespace bond
