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
    : s_(s), start_(start), next_(start + s.datagram_start), item_(std::max(s.datagram_size, kHeader)),
      rx_(quic::DatagramQueue::kMaxEntryBytes) {
  seen_.resize(s.datagrams, 0);
  configure_gap_meter(arrivals_, s, start);
  configure_gap_meter(interactive_gaps_, s, start);
  if (s.datagram_interactive_every != 0) {
    interactive_arrivals_.reserve(s.datagrams / s.datagram_interactive_every + 1);
  }
}

void MpDatagramFlow::tick(Instant now, quic::Connection* server, quic::Connection* client) {
  if (s_.datagrams == 0) return;
  if (server != nullptr && server->handshake_complete() && sent_ < s_.datagrams && now >= next_) {
    for (size_t k = 0; k < s_.datagram_burst && sent_ < s_.datagrams; ++k) {
      put64(item_.data(), sent_);
      put64(item_.data() + 8, static_cast<uint64_t>(now.time_since_epoch().count()));
      for (size_t i = kHeader; i < item_.size(); ++i) item_[i] = filler(sent_, i);
      if (!send(now, *server, item_, interactive(sent_))) break;  // full: again next time
      ++sent_;
      last_send_ = now;
    }
    next_ = now + s_.datagram_interval;
  }
  if (client == nullptr) return;
  if (s_.datagrams_as_streams) {
    read_streams(now, *client);
    return;
  }
  while (auto n = client->recv_datagram(rx_)) receive(now, quic::Bytes(rx_.data(), *n));
}

bool MpDatagramFlow::interactive(uint64_t seq) const {
  return s_.datagram_interactive_every != 0 && seq % s_.datagram_interactive_every == 0;
}

bool MpDatagramFlow::send(Instant now, quic::Connection& server,
                          const std::vector<uint8_t>& item, bool interactive) {
  std::optional<Instant> deadline;
  if (s_.datagram_deadline) deadline = now + *s_.datagram_deadline;
  if (!s_.datagrams_as_streams) {
    return server
        .send_datagram(item, deadline,
                       interactive ? quic::DatagramPriority::kInteractive
                                   : quic::DatagramPriority::kNormal)
        .has_value();
  }
  auto id = server.open_stream(false);
  if (!id) return false;
  auto n = server.stream_write(*id, item, true);
  if (!n || *n != item.size()) return false;
  if (deadline && !server.set_stream_deadline(*id, deadline)) return false;
  return true;
}

void MpDatagramFlow::read_streams(Instant now, quic::Connection& client) {
  // Server-initiated unidirectional streams are 3, 7, 11, ... (RFC 9000 §2.1), one per item.
  while (next_stream_seq_ < sent_) reading_[next_stream_seq_++ * 4 + 3];
  std::vector<uint8_t> buf(2048);
  for (auto it = reading_.begin(); it != reading_.end();) {
    bool fin = false;
    auto n = client.stream_read(it->first, buf, &fin);
    if (!n) {  // not opened on this side yet
      ++it;
      continue;
    }
    it->second.insert(it->second.end(), buf.begin(), buf.begin() + static_cast<long>(*n));
    if (!fin) {
      if (*n == 0) ++it;
      continue;
    }
    receive(now, it->second);
    it = reading_.erase(it);
  }
}

void MpDatagramFlow::receive(Instant now, quic::Bytes d) {
  if (d.size() < kHeader) {
    ++corrupt_;
    return;
  }
  uint64_t seq = get64(d.data());
  Instant sent_at = quic::instant_from_ns(static_cast<int64_t>(get64(d.data() + 8)));
  bool intact = seq < seen_.size() && d.size() == std::max(s_.datagram_size, kHeader);
  for (size_t i = kHeader; intact && i < d.size(); ++i) intact = d[i] == filler(seq, i);
  if (!intact) {
    ++corrupt_;
    return;
  }
  if (seen_[seq]++ > 0) {
    ++duplicates_;
    return;
  }
  ++received_;
  arrivals_.on_delivery(now);
  Duration latency = now - sent_at;
  worst_latency_ = std::max(worst_latency_, latency);
  if (interactive(seq)) {
    ++interactive_received_;
    interactive_worst_ = std::max(interactive_worst_, latency);
    interactive_gaps_.on_delivery(now);
    interactive_arrivals_.emplace_back(sent_at - start_, latency);
    // Until packets flow, the simulator wakes the sender only at its own events: the first
    // datagrams wait for the harness, not for the connection.
    if (sent_at >= start_ + s_.datagram_start + kWarmUp) {
      steady_interactive_worst_ = std::max(steady_interactive_worst_, latency);
    }
  } else {
    bulk_worst_ = std::max(bulk_worst_, latency);
  }
  if (!s_.datagram_deadline || latency <= *s_.datagram_deadline) ++on_time_;
}

void MpDatagramFlow::finish(MpResult& r, const quic::Connection* server,
                            const quic::Connection* client) const {
  r.datagrams_sent = sent_;
  r.datagrams_received = received_;
  r.datagrams_on_time = on_time_;
  r.datagram_duplicates = duplicates_;
  r.datagrams_corrupt = corrupt_;
  r.datagram_worst_latency = worst_latency_;
  r.interactive_received = interactive_received_;
  r.interactive_worst_latency = interactive_worst_;
  r.steady_interactive_worst_latency = steady_interactive_worst_;
  r.interactive_longest_gap = interactive_gaps_.longest();
  r.interactive_arrivals = interactive_arrivals_;
  r.bulk_worst_latency = bulk_worst_;
  r.datagram_longest_gap = arrivals_.longest();
  if (server != nullptr) {
    r.datagrams_expired = server->stats().datagrams_expired;
    r.datagram_copies_sent = server->stats().datagram_copies_sent;
    r.datagrams_refused = server->stats().datagrams_refused;
    r.datagrams_too_large = server->stats().datagrams_too_large;
    r.datagrams_resent = server->stats().datagrams_resent;
    r.datagrams_resend_exhausted = server->stats().datagrams_resend_exhausted;
    r.interactive_spills = server->stats().interactive_spills;
    r.datagram_payload_at_end = server->max_datagram_payload();
  }
  if (client != nullptr) r.datagrams_recv_dropped = client->stats().datagrams_recv_dropped;
}

}  // namespace harness
