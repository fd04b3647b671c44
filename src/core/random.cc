#include "core/random.h"

#include <cstring>

namespace quic {

SeededRandom::SeededRandom(uint64_t seed) {
  for (auto& s : s_) {
    seed += 0x9e3779b97f4a7c15ull;
    uint64_t z = seed;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    s = z ^ (z >> 31);
  }
}

uint64_t SeededRandom::next() {
  auto rotl = [](uint64_t x, int k) { return (x << k) | (x >> (64 - k)); };
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

void SeededRandom::fill(MutBytes out) {
  size_t i = 0;
  while (i < out.size()) {
    uint64_t v = next();
    size_t n = std::min(out.size() - i, sizeof(v));
    std::memcpy(out.data() + i, &v, n);
    i += n;
  }
}

}  // namespace quic
