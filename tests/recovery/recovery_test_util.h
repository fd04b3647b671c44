// Helpers shared by the recovery tests.
#pragma once

#include "common/time.h"

namespace quic::test {

// The tests' clock origin: 10 s after the epoch, so that samples taken up to 10 s earlier
// (t0 - 10s) are still valid instants. Every test time is relative to it.
inline const Instant t0 = instant_from_ns(10'000'000'000);

}  // namespace quic::test
