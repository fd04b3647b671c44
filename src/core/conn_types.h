// The value types a Connection hands its owner: events, transmits and counters (split out
// of connection.h, which keeps the Connection class itself).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "common/address.h"
#include "common/time.h"

namespace quic {

enum class EventKind : uint8_t {
  kHandshakeCompleted,
  kStreamOpened,     // the peer opened a stream
  kStreamReadable,   // data (or FIN) can be read
  kStreamWritable,   // send credit became available again
  kStreamReset,      // the peer reset its sending half (error_code)
  kStopSending,      // the peer asked us to stop sending (error_code)
  kStreamFinished,   // everything we sent on the stream, FIN included, was acknowledged
  kStreamsAvailable, // the peer raised MAX_STREAMS (stream_id 0: bidi, 2: uni)
  kDatagramReceived,
  kDatagramsWritable,       // a refused send_datagram would now be queued (low water reached)
  kDatagramPayloadChanged,  // stream_id = the new max_datagram_payload()
  kPathValidated,    // stream_id = path id: the path passed validation and carries data
  kPathFailed,       // stream_id = path id: failure detection gave up on it (it is probed)
  kPathRecovered,    // stream_id = path id: a failed path answers again
  kPathClosed,       // stream_id = path id: abandoned (by us or the peer); error_code
  kClosed,           // terminal: error_code / reason say why
};

struct Event {
  EventKind kind;
  uint64_t stream_id = 0;
  uint64_t error_code = 0;
  std::string reason;
  bool application = false;
};

struct Transmit {
  SocketAddress local, remote;
  uint8_t ecn = 0;
  size_t size = 0;          // bytes written into the caller's buffer
  size_t segment_size = 0;  // for GSO: every datagram but the last has this size
  // Earliest time the datagram may leave (pacing, RFC 9002 §7.7); at or before the `now` it was
  // polled with: at once. The caller must not send it earlier.
  Instant send_at{};
};

struct ConnectionStats {
  uint64_t packets_sent = 0, packets_received = 0, packets_lost = 0, packets_dropped = 0;
  uint64_t bytes_sent = 0, bytes_received = 0, stream_bytes_retransmitted = 0;
  uint64_t handshakes = 0;
  uint64_t key_updates = 0;
  uint64_t packet_numbers_skipped = 0;  // optimistic-ACK defence (RFC 9000 §21.4)
  uint64_t authentication_failures = 0;  // 1-RTT packets that failed to open (RFC 9001 §6.6)
  // ACK and PATH_ACK frames we sent (all spaces); ACK_FREQUENCY / IMMEDIATE_ACK frames sent.
  uint64_t ack_frames_sent = 0, ack_frequency_sent = 0, immediate_acks_sent = 0;
  uint64_t ecn_ce_received = 0;  // CE marks the peer reported on our packets
  bool ecn_capable = false;      // path 0 passed ECN validation
  uint64_t paths_opened = 0, paths_validated = 0, paths_failed = 0, paths_abandoned = 0;
  uint64_t migrations = 0;              // path 0 moved to a new 4-tuple (either side)
  bool preferred_address_used = false;  // client: moved to the server's preferred address
  uint64_t path_challenges_sent = 0, path_challenges_received = 0;
  uint64_t path_responses_sent = 0;
  uint64_t reinjected_packets = 0;      // in-flight packets re-sent after a path was suspected
  // CIDs retired: ours by the peer's (PATH_)RETIRE_CONNECTION_ID, the peer's by ours.
  uint64_t local_cids_retired = 0, peer_cids_retired = 0;
  // DATAGRAMs (docs/datagrams.md): sent (first transmissions) and received; refused by a full
  // send queue (send_datagram would block); dropped on arrival by a full receive queue; dropped
  // unsent because their deadline passed (expired) or no usable path's MTU fits them any more
  // (too_large); sent again after their path failed (resent) or not, for want of a kept copy
  // or of room (resend_exhausted); copies the redundant scheduler sent on extra paths.
  uint64_t datagrams_sent = 0, datagrams_received = 0;
  uint64_t datagrams_refused = 0, datagrams_recv_dropped = 0;
  uint64_t datagrams_expired = 0, datagrams_too_large = 0;
  uint64_t datagrams_resent = 0, datagrams_resend_exhausted = 0;
  uint64_t datagram_copies_sent = 0;
  uint64_t datagrams_interactive = 0;  // taken into the interactive queue (DatagramPriority)
  // Interactive datagrams that left on another path than the lane's choice once their patience
  // ran out (interactive_spill_at).
  uint64_t interactive_spills = 0;
  Duration handshake_time{0};
  bool retry_received = false, resumed = false;
  // 0-RTT (conn_zerortt.cc). Client: attempted = 0-RTT keys installed, accepted = the server
  // said so; bytes/packets sent in 0-RTT packets. Server: accepted = 0-RTT keys installed.
  bool zero_rtt_attempted = false, zero_rtt_accepted = false;
  uint64_t zero_rtt_bytes_sent = 0, zero_rtt_packets_sent = 0, zero_rtt_packets_received = 0;
};

}  // namespace quic
