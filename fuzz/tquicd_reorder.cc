// Fuzzes the reorder buffer with arbitrary arrivals. The input is a run of records:
// [flags][length][length bytes: a sequence number (QUIC varint, as the tunnel's seq context
// carries it: masque/connect_ip.cc) and the IP packet]; flags bit 0 marks the packet's flow
// unordered, bits 1-7 advance the clock in milliseconds. Whatever arrives, the buffer
// stays inside its packet and byte bounds, and a drained buffer with its timers run holds
// nothing.
#include <cstdio>
#include <cstdlib>

#include "tquicd/reorder.h"
#include "wire/varint.h"

namespace {

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "tquicd_reorder fuzz invariant broken: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const bond::ReorderLimits limits{std::chrono::milliseconds(50), 32, 8192};
  bond::ReorderBuffer buf(limits);
  quic::Instant now = quic::instant_from_ns(0);
  size_t pos = 0, delivered = 0, accepted = 0;
  while (pos + 2 <= size) {
    uint8_t flags = data[pos], len = data[pos + 1];
    pos += 2;
    size_t n = std::min<size_t>(len, size - pos);
    now += std::chrono::milliseconds(flags >> 1);
    buf.on_timeout(now);
    quic::Reader r(quic::Bytes(data + pos, n));
    if (auto seq = r.varint(); seq && !r.empty()) {
      // The sink hands the buffer the low 32 bits (reorder_sink.cc); it keeps the low 30.
      auto v = buf.on_packet(now, static_cast<uint32_t>(*seq), (flags & 1) == 0, r.rest());
      accepted += v == bond::ReorderBuffer::Verdict::kDeliverNow || v == bond::ReorderBuffer::Verdict::kQueued;
      delivered += v == bond::ReorderBuffer::Verdict::kDeliverNow;
    }
    pos += n;
    while (buf.pop_ready()) ++delivered;
    check(buf.held_packets() <= limits.max_packets, "held packets over the bound");
    check(buf.held_bytes() <= limits.max_bytes, "held bytes over the bound");
    check(buf.next_timeout() == quic::kNever || buf.next_timeout() > now, "timer in the past after on_timeout");
  }
  buf.on_timeout(quic::kNever - std::chrono::hours(1));
  while (buf.pop_ready()) ++delivered;
  check(buf.held_packets() == 0 && buf.held_bytes() == 0, "packets left after every deadline");
  check(delivered == accepted, "a packet accepted but never delivered, or delivered twice");
  return 0;
}
