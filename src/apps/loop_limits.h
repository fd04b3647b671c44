// Bounds the tools' event-loop handlers share.
#pragma once

namespace apps {

// Event/poll rounds per activity: each round consumes events, so this only bounds a loop.
inline constexpr int kMaxDriveRounds = 1000;
// Packets taken from a TUN device per readiness call, so the network side gets its turn.
inline constexpr int kTunBatch = 64;

}  // namespace apps
