// The event loop's clock: CLOCK_MONOTONIC in nanoseconds is the epoch of every quic::Instant
// that io/ hands to the core, so timerfd deadlines (TFD_TIMER_ABSTIME) need no conversion.
#pragma once

#include "common/time.h"

namespace io {

quic::Instant monotonic_now();

}  // namespace io
