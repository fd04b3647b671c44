// quic::Random backed by the kernel CSPRNG (getrandom(2)). The core never reads OS randomness
// itself (sans-I/O); real endpoints pass this, the simulator a seeded generator.
#pragma once

#include "core/random.h"

namespace io {

class OsRandom final : public quic::Random {
 public:
  // Aborts if the kernel cannot supply randomness: connection IDs, stateless-reset tokens and
  // TLS secrets must never fall back to something predictable.
  void fill(quic::MutBytes out) override;
};

}  // namespace io
