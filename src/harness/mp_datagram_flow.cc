#include "harness/mp_datagram_flow.h"

#include <algorithm>

namespace harness {

namespace {

// Payload: 8-byte sequence number, 8-byte send time (ns), then a filler derived from both.
constexpr size_t kHeader = 16;

void put64(uint8_t* p, uint64_t v) {
  for (int i = 7; i >= 0; --i, v >>= 8) p[i] = static_cast<uint8_t>(v);
}
uint64_t get64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = v << 8 | p[i];
  return v;
}
uint8_t filler(uint64_t seq, size_t i) { return static_cast<uint8_t>(seq * 31 + i); }

}  // namespace

MpDatagramFlow::MpDatagramFlow(const MpScenario& s, Instant start)
    : s_(s), next_(start + s.datagram_start) {
  seen_.resize(s.datagrams, 0);
}

void MpDatagramFlow::tick(Instant now, quic::Connection* server, quic::Connection* client) {
  if (s_.datagrams == 0) return;
  if (server != nullptr && server->handshake_complete() && sent_ < s_.datagrams && now >= next_) {
    std::vector<uint8_t> d(std::max(s_.datagram_size, kHeader));
    put64(d.data(), sent_);
    put64(d.data() + 8, static_cast<uint64_t>(now.time_since_epoch().count()));
    for (size_t i = kHeader; i < d.size(); ++i) d[i] = filler(sent_, i);
    std::optional<Instant> deadline;
    if (s_.datagram_deadline) deadline = now + *s_.datagram_deadline;
    if (server->send_datagram(d, deadline)) ++sent_;
    next_ = now + s_.datagram_interval;
  }
  if (client == nullptr) return;
  while (auto d = client->recv_datagram()) {
    if (d->size() < kHeader) {
      ++corrupt_;
      continue;
    }
    uint64_t seq = get64(d->data());
    Instant sent_at = quic::instant_from_ns(static_cast<int64_t>(get64(d->data() + 8)));
    bool intact = seq < seen_.size() && d->size() == std::max(s_.datagram_size, kHeader);
    for (size_t i = kHeader; intact && i < d->size(); ++i) intact = (*d)[i] == filler(seq, i);
    if (!intact) {
      ++corrupt_;
      continue;
    }
    if (seen_[seq]++ > 0) {
      ++duplicates_;
      continue;
    }
    ++received_;
    Duration latency = now - sent_at;
    worst_latency_ = std::max(worst_latency_, latency);
    if (!s_.datagram_deadline || latency <= *s_.datagram_deadline) ++on_time_;
  }
}

void MpDatagramFlow::finish(MpResult& r, const quic::Connection* server) const {
  r.datagrams_sent = sent_;
  r.datagrams_received = received_;
  r.datagrams_on_time = on_time_;
  r.datagram_duplicates = duplicates_;
  r.datagrams_corrupt = corrupt_;
  r.datagram_worst_latency = worst_latency_;
  if (server != nullptr) {
    r.datagrams_expired = server->stats().datagrams_expired;
    r.datagram_copies_sent = server->stats().datagram_copies_sent;
  }
}

}  // namespace harness
