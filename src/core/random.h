// Randomness is an input to the core, like time: the endpoint owner passes a Random. The
// simulator passes a seeded generator (bit-for-bit reproducible runs); io/ passes one backed by
// the OS (getrandom).
#pragma once

#include <cstdint>

#include "wire/varint.h"

namespace quic {

class Random {
 public:
  virtual ~Random() = default;
  virtual void fill(MutBytes out) = 0;
  uint64_t next_u64() {
    uint8_t b[8];
    fill(b);
    uint64_t v = 0;
    for (uint8_t x : b) v = (v << 8) | x;
    return v;
  }
  // Uniform in [0, n); n > 0.
  uint64_t uniform(uint64_t n) { return next_u64() % n; }
};

// xoshiro256** seeded through splitmix64: fast, deterministic, NOT for secrets outside tests
// and simulations.
class SeededRandom final : public Random {
 public:
  explicit SeededRandom(uint64_t seed);
  void fill(MutBytes out) override;

 private:
  uint64_t next();
  uint64_t s_[4];
};

}  // namespace quic
