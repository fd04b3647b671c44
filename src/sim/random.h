// Seeded pseudo-random streams for the simulator. The distributions are written out here rather
// than taken from <random>, whose distribution algorithms differ between standard libraries, so
// a seed gives the same run on every platform.
#pragma once

#include <cstdint>
#include <random>

namespace sim {

// SplitMix64 finaliser: a bijective mix used both to derive seeds and to fold the trace hash.
constexpr uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

class Rng {
 public:
  explicit Rng(uint64_t seed) : gen_(seed) {}

  // Uniform in [0, 1) with 53 bits of precision.
  double uniform01() { return static_cast<double>(gen_() >> 11) * 0x1.0p-53; }

  // True with probability p; draws nothing when p <= 0 or p >= 1 so that an impairment that is
  // switched off (or fully on) does not consume its stream.
  bool chance(double p) {
    if (p <= 0) return false;
    if (p >= 1) return true;
    return uniform01() < p;
  }

  // Uniform in [0, n) without modulo bias; n must be > 0.
  uint64_t below(uint64_t n) {
    const uint64_t threshold = (0 - n) % n;  // 2^64 mod n: the biased low values to reject
    for (;;) {
      uint64_t x = gen_();
      if (x >= threshold) return x % n;
    }
  }

 private:
  std::mt19937_64 gen_;
};

}  // namespace sim
