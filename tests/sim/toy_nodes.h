// Toy endpoints for the simulator's own tests: a constant-bit-rate sender, a recording sink and
// an echo node. They stand in for QUIC endpoints through the same Node interface.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "sim/network.h"

namespace sim::test {

inline uint64_t seq_of(const std::vector<uint8_t>& p) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8 && i < p.size(); ++i) v = v << 8 | p[i];
  return v;
}

// The payload of packet `seq`: its number in the first 8 bytes, then a pattern that depends on
// seq, so tests can recompute what was sent.
inline std::vector<uint8_t> payload_for(uint64_t seq, size_t size) {
  std::vector<uint8_t> p(size);
  for (size_t i = 0; i < size; ++i) {
    p[i] = i < 8 ? static_cast<uint8_t>(seq >> (56 - 8 * i)) : static_cast<uint8_t>(seq + i);
  }
  return p;
}

// Sends `count` datagrams of `size` bytes, one every `interval` from `start`.
class CbrSender : public Node {
 public:
  CbrSender(SocketAddress src, SocketAddress dst, size_t size, Duration interval, Instant start,
            uint64_t count, uint8_t ecn = kNotEct)
      : src_(src),
        dst_(dst),
        size_(size),
        interval_(interval),
        next_(start),
        left_(count),
        ecn_(ecn) {}

  void on_datagram(Instant, Datagram d) override { received.push_back(std::move(d)); }
  std::optional<Datagram> poll_transmit(Instant now) override {
    if (left_ == 0 || now < next_) return std::nullopt;
    Datagram d{src_, dst_, ecn_, payload_for(sent, size_)};
    ++sent;
    --left_;
    next_ += interval_;
    return d;
  }
  Instant next_timeout() const override { return left_ ? next_ : quic::kNever; }
  void on_timeout(Instant) override {}

  void set_source(SocketAddress src) { src_ = src; }
  void set_destination(SocketAddress dst) { dst_ = dst; }

  uint64_t sent = 0;
  std::vector<Datagram> received;

 private:
  SocketAddress src_, dst_;
  size_t size_;
  Duration interval_;
  Instant next_;
  uint64_t left_;
  uint8_t ecn_;
};

struct Arrival {
  Instant at;
  uint64_t seq;
  Datagram d;  // payload kept only if the sink was asked to
};

class Sink : public Node {
 public:
  explicit Sink(bool keep_payload = false) : keep_payload_(keep_payload) {}
  void on_datagram(Instant now, Datagram d) override {
    uint64_t seq = seq_of(d.payload);
    if (!keep_payload_) d.payload = {};
    arrivals.push_back(Arrival{now, seq, std::move(d)});
  }
  std::optional<Datagram> poll_transmit(Instant) override { return std::nullopt; }
  Instant next_timeout() const override { return quic::kNever; }
  void on_timeout(Instant) override {}

  std::vector<Arrival> arrivals;

 private:
  bool keep_payload_;
};

// Answers every datagram with one carrying the same payload back to its source.
class Echo : public Node {
 public:
  void on_datagram(Instant now, Datagram d) override {
    arrivals.push_back(Arrival{now, seq_of(d.payload), d});
    out_.push_back(Datagram{d.dst, d.src, d.ecn, std::move(d.payload)});
  }
  std::optional<Datagram> poll_transmit(Instant) override {
    if (out_.empty()) return std::nullopt;
    Datagram d = std::move(out_.front());
    out_.pop_front();
    return d;
  }
  Instant next_timeout() const override { return quic::kNever; }
  void on_timeout(Instant) override {}

  std::vector<Arrival> arrivals;

 private:
  std::deque<Datagram> out_;
};

inline SocketAddress addr(uint8_t host, uint16_t port = 4433) {
  return SocketAddress::v4(10, 0, 0, host, port);
}

inline Instant at_ms(int64_t ms) {
  return Instant{} + std::chrono::milliseconds(ms);
}

}  // namespace sim::test
