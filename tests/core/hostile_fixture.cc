#include "hostile_fixture.h"

#include <atomic>
#include <cstdlib>
#include <map>
#include <new>


// ---- Heap accounting: every non-aligned global new/delete goes through a 16-byte header that
// remembers the size, so live_heap_bytes() is exact for what the core allocates.
namespace {
std::atomic<int64_t> g_live_bytes{0};
std::atomic<uint64_t> g_allocations{0};
constexpr size_t kHeader = 16;  // keeps the default new alignment

void* counted_alloc(size_t n) {
  void* raw = std::malloc(n + kHeader);
  if (!raw) return nullptr;
  *static_cast<size_t*>(raw) = n;
  g_live_bytes += static_cast<int64_t>(n);
  ++g_allocations;
  return static_cast<uint8_t*>(raw) + kHeader;
}
void counted_free(void* p) {
  if (!p) return;
  void* raw = static_cast<uint8_t*>(p) - kHeader;
  g_live_bytes -= static_cast<int64_t>(*static_cast<size_t*>(raw));
  std::free(raw);
}
}  // namespace

void* operator new(size_t n) {
  if (void* p = counted_alloc(n)) return p;
  throw std::bad_alloc();
}
void* operator new[](size_t n) {
  if (void* p = counted_alloc(n)) return p;
  throw std::bad_alloc();
}
void* operator new(size_t n, const std::nothrow_t&) noexcept { return counted_alloc(n); }
void* operator new[](size_t n, const std::nothrow_t&) noexcept { return counted_alloc(n); }
void operator delete(void* p) noexcept { counted_free(p); }
void operator delete[](void* p) noexcept { counted_free(p); }
void operator delete(void* p, size_t) noexcept { counted_free(p); }
void operator delete[](void* p, size_t) noexcept { counted_free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { counted_free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { counted_free(p); }

namespace quic::hostile {

int64_t live_heap_bytes() { return g_live_bytes.load(); }
uint64_t heap_allocations() { return g_allocations.load(); }

std::shared_ptr<const TlsContext> test_tls_context(bool server,
                                                   const std::vector<std::string>& alpn) {
  return ::test::test_tls_context(server, alpn);
}

std::vector<PlainPacket> decode_datagram(Bytes datagram, size_t short_dcid_len) {
  std::vector<PlainPacket> out;
  CoalescedPackets packets(datagram, short_dcid_len);
  while (auto pkt = packets.next()) {
    const PacketHeader& h = pkt->header;
    if (!h.has_packet_number()) continue;
    size_t pn_len = (pkt->bytes[0] & 0x03) + 1;  // null header protection: bits are clear
    size_t start = h.pn_offset + pn_len;
    if (pkt->bytes.size() < start + kAeadTagSize) continue;
    PlainPacket p;
    p.pn_len = pn_len;
    p.long_header = h.long_header;
    p.type = h.type;
    p.dcid = h.dcid;
    p.scid = h.scid;
    for (size_t i = 0; i < pn_len; ++i) p.truncated_pn = (p.truncated_pn << 8) | pkt->bytes[h.pn_offset + i];
    p.payload.assign(pkt->bytes.begin() + static_cast<std::ptrdiff_t>(start),
                     pkt->bytes.end() - static_cast<std::ptrdiff_t>(kAeadTagSize));
    out.push_back(std::move(p));
  }
  return out;
}

std::vector<Frame> decode_frames(Bytes payload) {
  std::vector<Frame> frames;
  Reader r(payload);
  while (!r.empty()) {
    auto f = decode_frame(r);
    if (!f) break;
    frames.push_back(*f);
  }
  return frames;
}

std::vector<uint8_t> encode_frames(std::initializer_list<Frame> frames) {
  size_t total = 0;
  for (const Frame& f : frames) {
    size_t n = encoded_size(f);
    if (n == 0) return {};
    total += n;
  }
  std::vector<uint8_t> out(total);
  Writer w(out);
  for (const Frame& f : frames) {
    if (!encode_frame(w, f)) return {};
  }
  return out;
}

std::optional<CloseSeen> find_close(Bytes datagram, size_t short_dcid_len) {
  for (const PlainPacket& p : decode_datagram(datagram, short_dcid_len)) {
    for (const Frame& f : decode_frames(p.payload)) {
      if (const auto* c = std::get_if<ConnectionCloseFrame>(&f)) {
        return CloseSeen{c->error_code, c->frame_type, c->application,
                         std::string(c->reason.begin(), c->reason.end())};
      }
    }
  }
  return std::nullopt;
}

Datagram short_packet(const ConnectionId& dcid, uint64_t pn, Bytes payload,
                      uint8_t first_byte_or) {
  Datagram d(64 + payload.size() + kAeadTagSize);
  Writer w(d);
  auto layout = write_short_header(w, dcid, false, false, 4, pn);
  if (!layout) return {};
  w.bytes(payload);
  w.zeros(kAeadTagSize);
  d.resize(w.written());
  d[0] |= first_byte_or;
  return d;
}

Datagram long_packet(uint32_t version, LongType type, const ConnectionId& dcid,
                     const ConnectionId& scid, uint64_t pn, Bytes payload,
                     size_t pad_datagram_to) {
  Datagram d(128 + payload.size() + kAeadTagSize + pad_datagram_to);
  Writer w(d);
  auto layout = write_long_header(w, version, type, dcid, scid, {}, 4, pn, 2);
  if (!layout) return {};
  w.bytes(payload);
  size_t payload_len = payload.size();
  if (w.written() + kAeadTagSize < pad_datagram_to) {
    size_t pad = pad_datagram_to - w.written() - kAeadTagSize;
    w.zeros(pad);
    payload_len += pad;
  }
  w.zeros(kAeadTagSize);
  d.resize(w.written());
  if (!patch_length(d, *layout, 4 + payload_len + kAeadTagSize)) return {};
  return d;
}

size_t total_bytes(const std::vector<Datagram>& ds) {
  size_t n = 0;
  for (const Datagram& d : ds) n += d.size();
  return n;
}

namespace {
::test::PairConfig pair_config(PairOptions o, const SocketAddress& client,
                             const SocketAddress& server) {
  o.client.aead = AeadBackend::kNull;
  o.server.aead = AeadBackend::kNull;
  ::test::PairConfig c;
  c.net.client_addr = client;
  c.net.server_addr = server;
  c.client = EndpointConfig{false, o.client,
                            o.client_tls ? o.client_tls : test_tls_context(false, o.client_alpn)};
  c.server = EndpointConfig{true, o.server,
                            o.server_tls ? o.server_tls : test_tls_context(true, o.server_alpn)};
  c.server.max_connections = o.max_connections;
  c.server.retry = o.retry;
  c.server.retry_half_open_limit = o.retry_half_open_limit;
  c.connect = o.connect;
  c.drain_events = false;  // the tests poll the connections' events themselves
  c.bare_client = true;    // a lone client Connection, as the tests were written against
  return c;
}
}  // namespace

Pair::Pair(PairOptions options)
    : client_addr_(SocketAddress::v4(192, 0, 2, 1, 50000)),
      server_addr_(SocketAddress::v4(192, 0, 2, 2, 443)),
      pair_(pair_config(std::move(options), client_addr_, server_addr_)) {}

void Pair::learn_cids(const Datagram& d, bool from_server) {
  ConnectionId& cid = from_server ? server_cid_ : client_cid_;
  if (cid.len != 0) return;
  auto h = parse_header(d, 8);
  if (h && h->long_header) cid = h->scid;
}

void Pair::record_server_datagram(const Datagram& d) {
  learn_cids(d, true);
  for (const PlainPacket& p : decode_datagram(d, client_cid_.len)) {
    if (p.long_header) continue;
    uint64_t base = server_largest_pn_ ? *server_largest_pn_ : kNoPacketNumber;
    uint64_t pn = decode_packet_number(base, p.truncated_pn, p.pn_len);
    server_largest_pn_ = server_largest_pn_ ? std::max(*server_largest_pn_, pn) : pn;
    server_pns_.insert(pn);
  }
  server_sent_.push_back(d);
}

void Pair::absorb_sent() {
  // The client's first: the server's short headers are parsed with the client's CID length.
  const auto& from_client = pair_.sent(::test::Dir::kToServer);
  for (size_t& i = absorbed_[0]; i < from_client.size(); ++i) {
    const Datagram& d = from_client[i].payload;
    if (client_first_initial_.empty()) client_first_initial_ = d;
    learn_cids(d, false);
  }
  const auto& from_server = pair_.sent(::test::Dir::kToClient);
  for (size_t& i = absorbed_[1]; i < from_server.size(); ++i) {
    record_server_datagram(from_server[i].payload);
  }
}

std::vector<Datagram> Pair::payloads(std::vector<sim::Datagram> taken) {
  absorb_sent();
  std::vector<Datagram> out;
  out.reserve(taken.size());
  for (sim::Datagram& d : taken) out.push_back(std::move(d.payload));
  return out;
}

std::vector<Datagram> Pair::poll_client() { return payloads(pair_.take(::test::Dir::kToServer)); }

std::vector<Datagram> Pair::poll_server(size_t max) {
  return payloads(pair_.take(::test::Dir::kToClient, max));
}

std::vector<std::pair<SocketAddress, Datagram>> Pair::poll_server_addressed() {
  auto taken = pair_.take(::test::Dir::kToClient);
  absorb_sent();
  std::vector<std::pair<SocketAddress, Datagram>> out;
  for (sim::Datagram& d : taken) out.emplace_back(d.dst, std::move(d.payload));
  return out;
}

void Pair::deliver_from(const SocketAddress& from, Datagram d) {
  pair_.deliver(::test::Dir::kToServer, sim::Datagram{from, server_addr_, 0, std::move(d)});
}

void Pair::deliver_to_server(Datagram d) { deliver_from(client_addr_, std::move(d)); }

void Pair::deliver_to_client(Datagram d) {
  pair_.deliver(::test::Dir::kToClient, sim::Datagram{server_addr_, client_addr_, 0, std::move(d)});
}

void Pair::run() {
  (void)pair_.settle(100ms, kRunLimits);
  absorb_sent();
}

bool Pair::handshake() {
  if (pair_.client() == nullptr) return false;
  run();
  Connection* s = server();
  return s && client().handshake_complete() && s->handshake_complete();
}

void Pair::inject(Bytes payload, uint8_t first_byte_or) {
  deliver_to_server(short_packet(server_cid_, inject_pn_++, payload, first_byte_or));
}

void Pair::inject_zero_rtt(Bytes payload, uint64_t pn) {
  deliver_to_server(long_packet(client().version(), LongType::kZeroRtt,
                                client().original_dcid(), client_cid_, pn, payload));
}

void Pair::inject_frames_from(const SocketAddress& from, std::initializer_list<Frame> frames,
                              uint64_t pn) {
  auto payload = encode_frames(frames);
  deliver_from(from, short_packet(server_cid_, pn != 0 ? pn : inject_pn_++, payload));
}

void Pair::inject_frames(std::initializer_list<Frame> frames) {
  auto payload = encode_frames(frames);
  inject(payload);
}

std::optional<uint64_t> Pair::server_close_code() {
  Connection* s = server();
  if (!s || !s->close_error()) return std::nullopt;
  return s->close_error()->code;
}

std::optional<CloseSeen> Pair::server_close_frame() {
  for (const Datagram& d : poll_server()) {
    if (auto c = find_close(d, client_cid_.len)) return c;
  }
  return std::nullopt;
}

void Pair::ack_all_server_packets() {
  std::vector<AckRange> ranges;  // descending, as AckFrame::from_ranges wants
  for (auto it = server_pns_.rbegin(); it != server_pns_.rend(); ++it) {
    if (!ranges.empty() && ranges.back().smallest == *it + 1) {
      ranges.back().smallest = *it;
    } else {
      ranges.push_back(AckRange{*it, *it});
    }
  }
  if (ranges.empty()) return;
  inject_frames({AckFrame::from_ranges(0, false, ranges, 0, std::nullopt)});
}

}  // namespace quic::hostile
