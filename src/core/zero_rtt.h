// Per-connection 0-RTT state (RFC 9000 §4.6.1, §7.4.1, §17.2.3; RFC 9001 §4.6, §5.6).
// The logic lives in conn_zerortt.cc; the connection keeps one of these.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "common/lazy_deque.h"
#include "common/time.h"
#include "crypto/packet_protector.h"
#include "wire/transport_params.h"

namespace quic {

struct ZeroRttState {
  // Client: the 0-RTT seal key until 1-RTT keys exist; server: the open key until
  // discard_at (RFC 9001 §4.9.3: three PTOs after the first 1-RTT packet).
  std::unique_ptr<PacketProtector> key;
  // Client: the server transport parameters remembered with the ticket (RFC 9000 §7.4.1);
  // they bound everything sent in 0-RTT.
  std::unique_ptr<TransportParameters> remembered;  // on the heap: servers never use it
  bool attempted = false;  // client: 0-RTT keys were installed; server: 0-RTT accepted
  bool resolved = false;   // client: the handshake told whether the server accepted
  bool building = false;   // the packet being assembled is a 0-RTT packet
  Instant discard_at = kNever;
  // Client: the first packet number sent with 1-RTT keys; ACKs below it only cover 0-RTT
  // packets and do not confirm the handshake (RFC 9001 §4.1.2).
  uint64_t first_1rtt_pn = 0;
  // Client: DATAGRAM payloads sent in 0-RTT, queued again if the server rejects 0-RTT
  // (bounded by ConnectionConfig::datagram_send_queue).
  LazyDeque<std::vector<uint8_t>> datagrams_sent;
};

}  // namespace quic
