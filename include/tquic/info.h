// Snapshots of a connection's figures (Connection::info()): copied out, never live references.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tquic/address.h"
#include "tquic/time.h"

namespace tquic {

enum class PathState : uint8_t {
  validating,  // PATH_CHALLENGE outstanding: only probes go out
  active,      // validated and carrying data
  backup,      // validated, but marked backup by us or the peer: only keepalives while another works
  failed,      // failure detection gave up on it; probed until it answers again
  closed,      // abandoned; kept a few PTOs for stragglers
};

struct PathInfo {
  uint64_t id = 0;
  Address local, remote;
  PathState state = PathState::active;
  Duration srtt{0}, min_rtt{0}, rttvar{0};
  uint64_t cwnd = 0;              // bytes
  uint64_t bytes_in_flight = 0;   // 1-RTT bytes sent and neither acknowledged nor lost
  uint64_t pacing_rate_bps = 0;   // bits per second
  // Bytes since the path's 4-tuple was last set (a migration restarts them).
  uint64_t bytes_sent = 0, bytes_received = 0;
  uint64_t packets_sent = 0, packets_lost = 0;  // 1-RTT packets of this path
  uint16_t pmtu = 0;  // UDP payload size the path currently uses
  // An idle path is sent a PING this often (Connection::set_path_keepalive, capped at half the
  // idle timeout); 0: never.
  Duration keepalive{0};
};

struct ConnectionInfo {
  // Connection totals (all paths, all packet-number spaces).
  uint64_t packets_sent = 0, packets_received = 0, packets_lost = 0, packets_dropped = 0;
  uint64_t bytes_sent = 0, bytes_received = 0, stream_bytes_retransmitted = 0;
  uint64_t key_updates = 0, ecn_ce_received = 0;
  bool ecn_capable = false;  // path 0 passed ECN validation
  uint64_t paths_opened = 0, paths_validated = 0, paths_failed = 0, paths_abandoned = 0;
  uint64_t migrations = 0;              // path 0 moved to a new 4-tuple (either side)
  bool preferred_address_used = false;  // client: moved to the server's preferred address
  uint64_t path_challenges_sent = 0, path_challenges_received = 0, path_responses_sent = 0;
  uint64_t reinjected_packets = 0;  // in-flight packets re-sent after a path was suspected
  uint64_t local_cids_retired = 0, peer_cids_retired = 0;
  // DATAGRAMs: sent and received; refused (send queue full), dropped on receipt (receive queue
  // full), expired (deadline passed in the queue), too large for the paths left; re-sent after a
  // path failure, or not for want of copy budget; redundant copies sent.
  uint64_t datagrams_sent = 0, datagrams_received = 0;
  uint64_t datagrams_refused = 0, datagrams_recv_dropped = 0;
  uint64_t datagrams_expired = 0, datagrams_too_large = 0;
  uint64_t datagrams_resent = 0, datagrams_resend_exhausted = 0, datagram_copies_sent = 0;
  bool retry_received = false, resumed = false;
  bool zero_rtt_attempted = false, zero_rtt_accepted = false;
  uint64_t zero_rtt_bytes_sent = 0, zero_rtt_packets_sent = 0, zero_rtt_packets_received = 0;
  Duration handshake_time{0};  // from the first packet to handshake completion
  bool handshake_complete = false;
  bool server = false;
  uint32_t version = 0;     // negotiated QUIC version (0x00000001 = v1, 0x6b3343cf = v2)
  std::string alpn;         // negotiated application protocol, empty before the handshake
  bool multipath = false;   // multipath negotiated with the peer
  size_t max_datagram_payload = 0;  // 0: DATAGRAM not negotiated
  std::vector<PathInfo> paths;  // path 0 first
};

}  // namespace tquic
