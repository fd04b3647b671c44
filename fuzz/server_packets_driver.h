// Drives a server Endpoint with null packet protection (AeadBackend::kNull) for the
// server_packets fuzz target and its seed generator. Everything is in memory and in virtual time.
//
// Input format (see docs/fuzz-server-packets.md):
//   byte 0        mode: 0 fresh server, 1 server mid-handshake, 2 established connection,
//                 3 established connection with multipath negotiated (draft-ietf-quic-multipath-21)
//   records       u8 ctl | u16 big-endian length | length bytes (truncated at the end)
//                 ctl bits 0-6: milliseconds the clock advances before delivery,
//                 ctl bit 7: the datagram comes from a second client port (migration/rebinding)
// Modes 1 and 2 first run a live in-memory handshake with a real client Connection (TLS state is
// real: GnuTLS picks its own randoms, so a recorded client Finished cannot be replayed against a
// fresh server). Connection IDs come from fixed-seed Random objects, so packets recorded after
// the handshake by the seed generator still route to the same server connection.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "core/endpoint.h"
#include "fuzz_tls.h"

namespace fuzz_server_packets {

enum class Mode : uint8_t { kFresh = 0, kHandshake = 1, kEstablished = 2, kMultipath = 3 };
inline constexpr uint8_t kModes = 4;

// Bounds that keep one input fast and guarantee termination.
inline constexpr size_t kMaxDatagrams = 64;            // records used per input
inline constexpr int kMaxHandshakeRounds = 32;         // client/server exchanges for the prefix
inline constexpr int kMaxTimerSteps = 24;              // timer firings after the last datagram
inline constexpr size_t kMaxTransmitsPerDrain = 4096;  // more means poll_transmit never ends
inline constexpr size_t kMaxEventsPerDrain = 4096;

inline const quic::SocketAddress kClientAddr = quic::SocketAddress::v4(192, 0, 2, 1, 50000);
inline const quic::SocketAddress kClientAddr2 = quic::SocketAddress::v4(192, 0, 2, 1, 50001);
inline const quic::SocketAddress kServerAddr = quic::SocketAddress::v4(192, 0, 2, 2, 443);
inline constexpr uint64_t kServerSeed = 0x5e12e7, kClientSeed = 0xc11e47;

[[noreturn]] inline void die(const char* what) {
  std::fprintf(stderr, "server_packets: %s\n", what);
  std::abort();
}

// What leaves an endpoint after fuzz input is asked for in GSO runs (poll_transmit with
// max_segments), so hostile input reaches the run code too. A transmit that breaks the run
// contract (connection.h: past the buffer, longer than asked, a segment that is not a 1-RTT
// short-header packet) is a finding.
inline constexpr size_t kRunSegments = 16;
inline void check_transmit(const quic::Transmit& t, std::span<const uint8_t> buffer) {
  if (t.size == 0 || t.size > buffer.size()) die("transmit empty or larger than the buffer");
  if (t.segment_size == 0) return;
  if (t.segment_size >= t.size) die("GSO run of a single segment");
  if ((t.size + t.segment_size - 1) / t.segment_size > kRunSegments) {
    die("GSO run longer than max_segments");
  }
  for (size_t off = 0; off < t.size; off += t.segment_size) {
    if ((buffer[off] & 0x80) != 0) die("long-header packet in a GSO run");
  }
}

inline const quic::TestTlsPair& tls() {
  return fuzz_support::test_tls("hq-interop");
}

inline quic::ConnectionConfig connection_config(bool multipath,
                                                quic::AeadBackend aead = quic::AeadBackend::kNull) {
  quic::ConnectionConfig c;
  c.multipath = multipath;
  c.aead = aead;
  c.max_datagram_frame_size = 1200;  // DATAGRAM frames are then legal input too
  c.idle_timeout = std::chrono::seconds(5);
  // ACK_FREQUENCY / IMMEDIATE_ACK / RESET_STREAM_AT then reach their handlers too.
  c.ack_frequency = true;
  c.reliable_reset = true;
  return c;
}

// An echo application: accepts connections, reads every readable stream and writes the bytes
// back on bidirectional streams, so stream data reaches the send path too.
inline void echo_app(quic::Endpoint& ep, std::span<uint8_t> io) {
  while (ep.accept()) {
  }
  for (quic::ConnectionHandle h = 1; h < 4; ++h) {
    quic::Connection* c = ep.connection(h);
    if (c == nullptr) continue;
    for (size_t n = 0; n < kMaxEventsPerDrain; ++n) {
      auto e = c->poll_event();
      if (!e) break;
      if (e->kind != quic::EventKind::kStreamReadable) continue;
      bool fin = false;
      auto r = c->stream_read(e->stream_id, quic::MutBytes(io.data(), io.size()), &fin);
      if (r && (e->stream_id & 2) == 0 && (*r > 0 || fin)) {
        (void)c->stream_write(e->stream_id, quic::Bytes(io.data(), *r), fin);
      }
    }
  }
}

// One server endpoint (fresh per input, so inputs reproduce) and optionally the client that
// performed the handshake prefix.
class Session {
 public:
  // Called with every datagram the client sends towards the server (the seed generator records).
  std::function<void(std::span<const uint8_t>)> on_client_datagram;

  // The mode fixes whether both sides offer multipath. sealed_packets passes a real AEAD and
  // its own TLS pair (a client that logs its secrets).
  explicit Session(Mode mode = Mode::kFresh, quic::AeadBackend aead = quic::AeadBackend::kNull,
                   const quic::TestTlsPair& tls_pair = tls())
      : tls_(tls_pair),
        aead_(aead),
        multipath_(mode == Mode::kMultipath),
        server_rand_(kServerSeed),
        client_rand_(kClientSeed),
        server_(quic::EndpointConfig{true, connection_config(multipath_, aead), tls_.server},
                server_rand_) {}

  quic::Instant now() const { return now_; }
  quic::Endpoint& server() { return server_; }
  quic::Endpoint* client() { return client_.get(); }
  std::optional<quic::ConnectionHandle> client_handle() const { return client_handle_; }

  // Runs the handshake prefix; false if it did not reach the wanted state.
  bool prefix(Mode mode) {
    if (mode == Mode::kFresh) return true;
    client_ = std::make_unique<quic::Endpoint>(
        quic::EndpointConfig{false, connection_config(multipath_, aead_), tls_.client},
        client_rand_);
    auto h = client_->connect(kClientAddr, kServerAddr, now_);
    if (!h) return false;
    client_handle_ = *h;
    if (mode == Mode::kHandshake) {
      // Client Initial -> server; server flight -> client. The client's Finished stays unsent.
      client_to_server();
      advance(std::chrono::milliseconds(5));
      server_to_client();
      return server_.connection_count() == 1;
    }
    for (int i = 0; i < kMaxHandshakeRounds; ++i) {
      client_to_server();
      advance(std::chrono::milliseconds(5));
      server_to_client();
      advance(std::chrono::milliseconds(5));
      auto* cc = client_->connection(*h);
      if (cc != nullptr && cc->handshake_complete() && server_conn() != nullptr &&
          server_conn()->handshake_complete() && i >= 2) {
        client_to_server();  // the client's ACK of HANDSHAKE_DONE
        return server_conn()->multipath() == multipath_;
      }
    }
    return false;
  }

  // Delivers one fuzz datagram from the client's address, then lets the server react.
  void deliver(uint8_t ctl, std::span<uint8_t> datagram) {
    advance(std::chrono::milliseconds(ctl & 0x7f));
    const auto& from = (ctl & 0x80) != 0 ? kClientAddr2 : kClientAddr;
    server_.on_datagram(now_, kServerAddr, from, 0,
                        quic::MutBytes(datagram.data(), datagram.size()));
    service_server();
  }

  // Fires the server's timers a bounded number of times (PTO, loss, idle, draining).
  void run_timers() {
    for (int i = 0; i < kMaxTimerSteps; ++i) {
      quic::Instant t = server_.next_timeout();
      if (t == quic::kNever) break;
      if (t > now_) now_ = t;
      server_.on_timeout(now_);
      service_server();
    }
    server_.reap_closed();
  }

  // Client side of the prefix, also used by the seed generator after the handshake.
  void client_to_server() {
    if (!client_) return;
    for (size_t n = 0;; ++n) {
      if (n == kMaxTransmitsPerDrain) die("client poll_transmit never ran dry");
      auto t = client_->poll_transmit(now_, quic::MutBytes(buf_.data(), buf_.size()));
      if (!t) break;
      if (on_client_datagram) on_client_datagram({buf_.data(), t->size});
      std::vector<uint8_t> copy(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(t->size));
      server_.on_datagram(now_, kServerAddr, kClientAddr, 0,
                          quic::MutBytes(copy.data(), copy.size()));
    }
    service_server_events();
  }

  quic::Connection* server_conn() {
    for (quic::ConnectionHandle h = 1; h < 4; ++h) {
      if (auto* c = server_.connection(h)) return c;
    }
    return nullptr;
  }

  void advance(quic::Duration d) {
    now_ += d;
    if (client_ && client_->next_timeout() <= now_) client_->on_timeout(now_);
    if (server_.next_timeout() <= now_) server_.on_timeout(now_);
  }

 private:
  void server_to_client() {
    for (size_t n = 0;; ++n) {
      if (n == kMaxTransmitsPerDrain) die("server poll_transmit never ran dry");
      auto t = server_.poll_transmit(now_, quic::MutBytes(buf_.data(), buf_.size()));
      if (!t) break;
      if (client_)
        client_->on_datagram(now_, kClientAddr, kServerAddr, 0,
                             quic::MutBytes(buf_.data(), t->size));
    }
    service_server_events();
  }

  // After fuzz input the server's datagrams go nowhere: the client is out of the picture.
  void service_server() {
    if (server_.next_timeout() <= now_) server_.on_timeout(now_);
    for (size_t n = 0;; ++n) {
      if (n == kMaxTransmitsPerDrain) die("server poll_transmit never ran dry");
      auto t = server_.poll_transmit(now_, quic::MutBytes(buf_.data(), buf_.size()), kRunSegments);
      if (!t) break;
      check_transmit(*t, buf_);
    }
    service_server_events();
  }

  void service_server_events() { echo_app(server_, io_); }

  const quic::TestTlsPair& tls_;
  quic::AeadBackend aead_;
  bool multipath_;
  quic::SeededRandom server_rand_, client_rand_;
  quic::Endpoint server_;
  std::unique_ptr<quic::Endpoint> client_;
  std::optional<quic::ConnectionHandle> client_handle_;
  quic::Instant now_ = quic::instant_from_ns(1'000'000'000'000);
  std::array<uint8_t, 65536> buf_{};
  std::array<uint8_t, 4096> io_{};
};

// Splits input into at most kMaxDatagrams records "u8 ctl | u16 length | bytes" (the last one
// truncated) and calls f(ctl, bytes) for each. The bytes are a copy: endpoints decrypt in place,
// and the fuzzer's buffer is read-only. Shared by the packet-level targets.
template <class F>
void for_each_record(const uint8_t* data, size_t size, F&& f) {
  size_t pos = 0;
  std::vector<uint8_t> copy;
  for (size_t n = 0; n < kMaxDatagrams && pos + 3 <= size; ++n) {
    uint8_t ctl = data[pos];
    size_t len = (size_t{data[pos + 1]} << 8) | data[pos + 2];
    pos += 3;
    len = std::min(len, size - pos);
    copy.assign(data + pos, data + pos + len);
    pos += len;
    f(ctl, std::span<uint8_t>(copy));
  }
}

// Parses and runs one fuzz input.
inline void run_input(const uint8_t* data, size_t size) {
  if (size == 0) return;
  auto mode = static_cast<Mode>(data[0] % kModes);
  Session s(mode);
  if (!s.prefix(mode)) return;
  for_each_record(data + 1, size - 1,
                  [&](uint8_t ctl, std::span<uint8_t> d) { s.deliver(ctl, d); });
  s.run_timers();
}

}  // namespace fuzz_server_packets
