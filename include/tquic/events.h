// What a connection reports. Events are polled (Connection::poll_event); the library never calls
// back into the application.
#pragma once

#include <cstdint>
#include <optional>

#include "tquic/error.h"

namespace tquic {

enum class EventKind : uint8_t {
  handshake_completed,
  stream_opened,      // stream_id: the peer opened it
  stream_readable,    // stream_id: data or the end of the stream can be read
  stream_writable,    // stream_id: room again after a short write (a quarter of the send
                      // buffer or 64 KiB, whichever is less)
  stream_reset,       // stream_id, app_code: the peer reset its sending part
  stop_sending,       // stream_id, app_code: the peer asked us to stop; our side was reset
  stream_acked,       // stream_id: everything we sent, FIN included, was acknowledged
  streams_available,  // the peer raised its stream limit (stream_id 0: bidi, 2: uni)
  datagram_received,  // recv_datagram() has data: read until would_block (edge-triggered)
  datagrams_writable,        // send_datagram has room again after a would_block
  datagram_payload_changed,  // max_datagram_payload() changed (a path came or went, PMTU)
  path_validated,     // path_id: the path passed validation and carries data
  path_failed,        // path_id: failure detection gave up on it (it keeps being probed)
  path_recovered,     // path_id: a failed path answers again
  path_closed,        // path_id, app_code: abandoned by us or the peer
  closed,             // terminal; `close` says why
};

struct Event {
  EventKind kind = EventKind::closed;
  uint64_t stream_id = 0;
  uint64_t path_id = 0;
  uint64_t app_code = 0;
  std::optional<TransportError> close;  // set on `closed`
};

// "stream_readable" ...
const char* event_name(EventKind kind);

}  // namespace tquic
