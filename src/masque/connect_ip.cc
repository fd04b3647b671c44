#include "masque/connect_ip.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <tuple>

#include "h3/capsule.h"
#include "h3/session.h"

namespace masque {

void ConnectIpStats::add(const ConnectIpStats& o) {
  packets_in += o.packets_in, bytes_in += o.bytes_in;
  packets_out += o.packets_out, bytes_out += o.bytes_out;
  sequenced_in += o.sequenced_in, sequenced_out += o.sequenced_out;
  dropped_malformed += o.dropped_malformed, dropped_spoofed += o.dropped_spoofed;
  dropped_no_route += o.dropped_no_route, dropped_not_ours += o.dropped_not_ours;
  dropped_unknown_context += o.dropped_unknown_context, dropped_too_big += o.dropped_too_big;
  dropped_send_failed += o.dropped_send_failed, dropped_not_ready += o.dropped_not_ready;
  icmp_sent += o.icmp_sent;
}

namespace {

std::optional<uint64_t> decimal(std::string_view s, uint64_t max) {
  uint64_t v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || s.size() > 20 || r.ec != std::errc{} || r.ptr != s.data() + s.size() ||
      v > max) {
    return std::nullopt;
  }
  return v;
}

}  // namespace

std::optional<IpScope> parse_scope(std::string_view target, std::string_view ipproto) {
  IpScope scope;
  if (!target.empty() && target != "*") {
    // §4.6: an address, optionally "/" and a length no longer than the address, host bits 0.
    scope.target = IpPrefix::parse(target);
    if (!scope.target) return std::nullopt;
  }
  if (!ipproto.empty() && ipproto != "*") {
    auto p = decimal(ipproto, 255);
    if (!p || ipproto.size() > 3) return std::nullopt;
    scope.protocol = static_cast<uint8_t>(*p);
  }
  return scope;
}

std::optional<uint64_t> parse_context_offer(std::string_view value) {
  if (!value.starts_with("seq=")) return std::nullopt;
  auto id = decimal(value.substr(4), quic::kMaxVarint);
  if (!id || *id == 0 || *id % 2 != 0) return std::nullopt;
  return id;
}

std::string context_offer(uint64_t context_id) {
  return "seq=" + std::to_string(context_id);
}

std::optional<uint64_t> find_context_offer(std::span<const h3::Field> fields) {
  std::optional<uint64_t> found;
  size_t n = 0;
  for (const h3::Field& f : fields) {
    if (f.name != kContextHeader) continue;
    ++n;
    found = parse_context_offer(f.value);
  }
  return n == 1 ? found : std::nullopt;
}

// --- TunnelSet

size_t TunnelSet::reap() {
  // Cancelling destroys the handler (and so removes it from entries_): collect first.
  std::vector<std::tuple<h3::Session*, uint64_t, uint64_t>> doomed;
  for (ConnectIpTunnel* t : entries_) {
    if (t->abort_code()) doomed.emplace_back(&t->session(), t->stream_id(), *t->abort_code());
  }
  for (auto [session, id, code] : doomed) (void)session->cancel(id, code);
  return doomed.size();
}

ConnectIpStats TunnelSet::total() const {
  ConnectIpStats s = ended_;
  for (const ConnectIpTunnel* t : entries_) s.add(t->stats());
  return s;
}

// --- ConnectIpTunnel

ConnectIpTunnel::ConnectIpTunnel(TunnelSet& set, h3::Session& session, uint64_t stream_id,
                                 PacketSink& sink, TunnelConfig config)
    : sink_(sink),
      set_(set),
      session_(session),
      stream_id_(stream_id),
      config_(config),
      serial_(set.next_serial_++) {
  set_.entries_.push_back(this);
}

ConnectIpTunnel::~ConnectIpTunnel() {
  set_.ended_.add(stats_);
  std::erase(set_.entries_, this);
}

void ConnectIpTunnel::set_max_datagram_payload(size_t payload) {
  size_t overhead = quic::varint_size(stream_id_ / 4) + 1;
  if (config_.sequence_context) {
    overhead += quic::varint_size(*config_.sequence_context) - 1 + 16;  // two 8-byte varints
  }
  config_.mtu = payload > overhead ? payload - overhead : 0;
}

void ConnectIpTunnel::on_established(h3::Outbox& out) {
  established_ = true;
  established(out);
}

void ConnectIpTunnel::abort(CapsuleError e) {
  if (abort_code_) return;
  abort_reason_ = e;
  abort_code_ = capsule_error_code(e);
  aborted();
}

void ConnectIpTunnel::on_capsule(h3::Outbox& out, uint64_t type, Bytes value) {
  if (abort_code_) return;
  if (auto r = capsule(out, type, value); !r) abort(r.error());
}

void ConnectIpTunnel::deliver(Bytes packet, const PacketMeta& meta) {
  auto info = parse_ip_packet(packet);
  if (!info) {
    ++stats_.dropped_malformed;
    return;
  }
  if (!accept_from_peer(*info)) return;
  ++stats_.packets_in;
  stats_.bytes_in += packet.size();
  if (meta.sequence) ++stats_.sequenced_in;
  sink_.deliver(packet, meta);
}

void ConnectIpTunnel::on_datagram(h3::Outbox&, Bytes payload) {
  if (abort_code_) return;
  auto p = h3::parse_context_payload(payload);
  if (!p) {
    ++stats_.dropped_malformed;
    return;
  }
  if (p->context_id == 0) return deliver(p->payload, PacketMeta{.tunnel = serial_});
  if (p->context_id != config_.sequence_context) {
    ++stats_.dropped_unknown_context;
    return;
  }
  quic::Reader r(p->payload);
  auto seq = r.varint();
  auto sent = r.varint();
  if (!seq || !sent) {
    ++stats_.dropped_malformed;
    return;
  }
  deliver(r.rest(), PacketMeta{p->context_id, seq, sent, serial_});
}

void ConnectIpTunnel::answer_icmp(IcmpKind kind, Bytes packet, const IpPacketInfo& info) {
  auto from = icmp_source(info.version);
  if (!from ||
      !build_icmp_error(kind, packet, info, *from, static_cast<uint32_t>(config_.mtu), icmp_buf_)) {
    return;
  }
  ++stats_.icmp_sent;
  sink_.deliver(icmp_buf_, PacketMeta{});
}

void ConnectIpTunnel::send_packet(h3::Outbox& out, Bytes packet, quic::Instant now,
                                  quic::DatagramPriority priority) {
  if (!established_ || abort_code_) {
    ++stats_.dropped_not_ready;
    return;
  }
  auto info = parse_ip_packet(packet);
  if (!info) {
    ++stats_.dropped_malformed;
    return;
  }
  if (!accept_from_local(packet, *info, priority)) return;
  if (packet.size() > config_.mtu) {
    ++stats_.dropped_too_big;
    // An IPv4 packet without DF could be fragmented; we do not fragment, and an ICMP
    // "fragmentation needed" about a packet that allowed fragmentation would be wrong
    // (RFC 1191 §3): dropped, counted. IPv6 is never fragmented en route (RFC 8200 §5).
    if (info->version == 6 || info->dont_fragment)
      answer_icmp(IcmpKind::kPacketTooBig, packet, *info);
    return;
  }
  // The context ID (and a sequenced packet's number and time) before the packet, as two parts
  // the transport's queue joins: the packet is copied once on its way to the wire.
  uint8_t head[24];
  quic::Writer w(head);
  if (config_.sequence_context) {
    w.varint(*config_.sequence_context);
    w.varint(next_sequence_++);
    w.varint(static_cast<uint64_t>(std::max<int64_t>(0, quic::to_ns(now) / 1000)));
    ++stats_.sequenced_out;
  } else {
    w.u8(0);  // context 0 (§6)
  }
  const std::array<quic::Bytes, 2> parts = {w.view(), packet};
  if (!out.send_datagram(parts, std::nullopt, priority)) {
    ++stats_.dropped_send_failed;
    return;
  }
  ++stats_.packets_out;
  stats_.bytes_out += packet.size();
}

}  // namespace masque
