// Drives a client Endpoint with null packet protection for the client_packets fuzz target and
// its seed generator: the mirror of server_packets_driver.h. A real in-memory handshake against
// a real server brings the client into the wanted state, then the server's output is replaced by
// fuzzer bytes.
//
// Input format (see docs/fuzzing.md):
//   byte 0        mode % 3: 0 client sent its Initial, nothing received yet;
//                 1 handshake in progress (only the server's first datagram reached the client);
//                 2 established (HANDSHAKE_DONE received, stream 0 open with a request on it)
//   records       u8 ctl | u16 big-endian length | length bytes (truncated at the end)
//                 ctl bits 0-6: milliseconds the clock advances before delivery,
//                 ctl bit 7: the datagram comes from a second server address (spoofed/migrated)
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "server_packets_driver.h"

namespace fuzz_client_packets {

using fuzz_server_packets::die;
using fuzz_server_packets::kClientAddr;
using fuzz_server_packets::kMaxEventsPerDrain;
using fuzz_server_packets::kMaxHandshakeRounds;
using fuzz_server_packets::kMaxTimerSteps;
using fuzz_server_packets::kMaxTransmitsPerDrain;
using fuzz_server_packets::kServerAddr;

enum class Mode : uint8_t { kFresh = 0, kHandshake = 1, kEstablished = 2 };
inline constexpr uint8_t kModes = 3;

inline const quic::SocketAddress kServerAddr2 = quic::SocketAddress::v4(192, 0, 2, 3, 443);
inline constexpr uint64_t kServerSeed = 0x5e12e8, kClientSeed = 0xc11e48;
inline constexpr uint8_t kRequest[] = {'G', 'E', 'T', ' ', '/', '\r', '\n'};

// A client endpoint, the server it completed the prefix with, and the client's connection.
class ClientSession {
 public:
  // Every datagram the server sends towards the client (the seed generator records them).
  std::function<void(std::span<const uint8_t>)> on_server_datagram;

  ClientSession()
      : server_rand_(kServerSeed),
        client_rand_(kClientSeed),
        server_(quic::EndpointConfig{true, fuzz_server_packets::connection_config(false),
                                     fuzz_server_packets::tls().server},
                server_rand_),
        client_(quic::EndpointConfig{false, fuzz_server_packets::connection_config(false),
                                     fuzz_server_packets::tls().client},
                client_rand_) {}

  quic::Endpoint& server() { return server_; }
  quic::Connection* client_conn() { return handle_ ? client_.connection(*handle_) : nullptr; }

  // Connects and runs the prefix of `mode`; false if the client did not reach that state.
  bool prefix(Mode mode) {
    auto h = client_.connect(kClientAddr, kServerAddr, now_);
    if (!h) return false;
    handle_ = *h;
    if (mode == Mode::kFresh) return drain_client(false);
    drain_client(true);
    advance(std::chrono::milliseconds(5));
    if (mode == Mode::kHandshake) {
      // Only the first packet (the Initial with the ServerHello) arrives: the test certificate
      // is small enough for the whole server flight to fit the first datagram.
      server_to_client(1, true);
      return drain_client(false) && !client_conn()->handshake_complete();
    }
    for (int i = 0; i < kMaxHandshakeRounds; ++i) {
      server_to_client(SIZE_MAX);
      advance(std::chrono::milliseconds(5));
      drain_client(true);
      advance(std::chrono::milliseconds(5));
      auto* c = client_conn();
      if (c != nullptr && c->handshake_complete() && i >= 2) {
        auto s = c->open_stream(true);
        if (!s || !c->stream_write(*s, quic::Bytes(kRequest, sizeof kRequest), false)) {
          return false;
        }
        return drain_client(true);
      }
    }
    return false;
  }

  // Lets the server answer whatever the client sent last (the seed generator records this).
  void server_turn() {
    service_server_app();
    server_to_client(SIZE_MAX);
  }

  // One fuzz datagram into the client from the server's address, then the client reacts.
  void deliver(uint8_t ctl, std::span<uint8_t> datagram) {
    advance(std::chrono::milliseconds(ctl & 0x7f));
    const auto& from = (ctl & 0x80) != 0 ? kServerAddr2 : kServerAddr;
    client_.on_datagram(now_, kClientAddr, from, 0,
                        quic::MutBytes(datagram.data(), datagram.size()));
    drain_client(false);
  }

  // Fires the client's timers a bounded number of times (PTO, loss, idle, draining).
  void run_timers() {
    for (int i = 0; i < kMaxTimerSteps; ++i) {
      quic::Instant t = client_.next_timeout();
      if (t == quic::kNever) break;
      if (t > now_) now_ = t;
      client_.on_timeout(now_);
      drain_client(false);
    }
    client_.reap_closed();
  }

  void advance(quic::Duration d) {
    now_ += d;
    if (client_.next_timeout() <= now_) client_.on_timeout(now_);
    if (server_.next_timeout() <= now_) server_.on_timeout(now_);
  }

 private:
  // Drains the client's datagrams (to the server during the prefix, one per transmit; else
  // discarded, asked for in GSO runs) and reads every readable stream, so received data
  // reaches the application-facing paths.
  bool drain_client(bool to_server) {
    if (client_.next_timeout() <= now_) client_.on_timeout(now_);
    const size_t segments = to_server ? 1 : fuzz_server_packets::kRunSegments;
    for (size_t n = 0;; ++n) {
      if (n == kMaxTransmitsPerDrain) die("client poll_transmit never ran dry");
      auto t = client_.poll_transmit(now_, quic::MutBytes(buf_.data(), buf_.size()), segments);
      if (!t) break;
      fuzz_server_packets::check_transmit(*t, buf_);
      if (to_server)
        server_.on_datagram(now_, kServerAddr, kClientAddr, 0,
                            quic::MutBytes(buf_.data(), t->size));
    }
    auto* c = client_conn();
    for (size_t n = 0; c != nullptr && n < kMaxEventsPerDrain; ++n) {
      auto e = c->poll_event();
      if (!e) break;
      if (e->kind != quic::EventKind::kStreamReadable) continue;
      bool fin = false;
      (void)c->stream_read(e->stream_id, quic::MutBytes(io_.data(), io_.size()), &fin);
    }
    return c != nullptr;
  }

  // Sends at most `limit` server datagrams to the client (cut after their first packet if
  // `first_packet_only`); the rest are dropped.
  void server_to_client(size_t limit, bool first_packet_only = false) {
    service_server_app();
    for (size_t n = 0;; ++n) {
      if (n == kMaxTransmitsPerDrain) die("server poll_transmit never ran dry");
      auto t = server_.poll_transmit(now_, quic::MutBytes(sbuf_.data(), sbuf_.size()));
      if (!t) break;
      if (n >= limit) continue;
      size_t size = t->size;
      if (first_packet_only) {
        auto h = quic::parse_header(quic::Bytes(sbuf_.data(), size), quic::kMaxCidLength);
        if (h) size = h->packet_size;
      }
      if (on_server_datagram) on_server_datagram({sbuf_.data(), size});
      client_.on_datagram(now_, kClientAddr, kServerAddr, 0, quic::MutBytes(sbuf_.data(), size));
    }
  }

  void service_server_app() { fuzz_server_packets::echo_app(server_, io_); }

  quic::SeededRandom server_rand_, client_rand_;
  quic::Endpoint server_, client_;
  std::optional<quic::ConnectionHandle> handle_;
  quic::Instant now_ = quic::instant_from_ns(1'000'000'000'000);
  std::array<uint8_t, 65536> buf_{}, sbuf_{};
  std::array<uint8_t, 4096> io_{};
};

// Parses and runs one fuzz input.
inline void run_input(const uint8_t* data, size_t size) {
  if (size == 0) return;
  auto mode = static_cast<Mode>(data[0] % kModes);
  ClientSession s;
  if (!s.prefix(mode)) die("handshake prefix did not reach its state");
  fuzz_server_packets::for_each_record(
      data + 1, size - 1, [&](uint8_t ctl, std::span<uint8_t> d) { s.deliver(ctl, d); });
  s.run_timers();
}

}  // namespace fuzz_client_packets
