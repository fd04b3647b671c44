// Small helpers several tquicd unit tests share.
#pragma once

#include <cstdint>
#include <string>

#include "common/address.h"
#include "common/time.h"
#include "tquicd/config.h"

namespace bond::testutil {

// An instant `d` after the tests' epoch.
inline quic::Instant at(quic::Duration d) { return quic::instant_from_ns(0) + d; }
// An IPv4 address without a port.
inline quic::SocketAddress v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  return quic::SocketAddress::v4(a, b, c, d, 0);
}
// A FileCheck that accepts every file (the tests write no secrets to disk).
inline std::string any_file(const std::string&, FileKind) { return {}; }

}  // namespace bond::testutil
