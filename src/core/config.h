// Connection and endpoint configuration: every limit we advertise or enforce, with defaults a
// production deployment can keep.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cc/congestion_controller.h"
#include "core/flow_control.h"
#include "common/address.h"
#include "common/time.h"
#include "core/trace.h"
#include "crypto/packet_protector.h"
#include "crypto/reset_token.h"
#include "mp/scheduler.h"
#include "recovery/ecn.h"
#include "wire/version.h"

namespace quic {

class TlsContext;

struct ConnectionConfig {
  // Client: the version of the first flight (the Original Version, RFC 9368 §2). A reserved
  // version (0x?a?a?a?a, RFC 9000 §15) elicits Version Negotiation on purpose.
  uint32_t version = kVersion1;
  // Versions this endpoint speaks, most preferred first (RFC 9368 §3). Empty: `version` (if v1
  // or v2) followed by the other one. A client lists them as Available Versions and picks from
  // a Version Negotiation packet by this order; a server answers unknown versions with them
  // and, when this list is set, switches a compatible first flight to the first version here
  // that the client offers (v1 -> v2); left empty, a server follows the client's order.
  std::vector<uint32_t> versions;
  uint8_t cid_length = 8;  // our source CIDs; 0..20
  // Key of our stateless reset tokens (RFC 9000 §10.3.2). The Endpoint fills it with random
  // bytes when left zero; a server that restarts with the same key can reset old connections.
  std::array<uint8_t, kResetKeySize> reset_key{};

  // Transport parameters we advertise (RFC 9000 §18.2).
  Duration idle_timeout = 30s;
  uint64_t initial_max_data = 1 << 20;
  uint64_t initial_max_stream_data = 256 << 10;  // bidi local, bidi remote and uni
  uint64_t max_streams_bidi = 100;
  uint64_t max_streams_uni = 100;
  Duration max_ack_delay = 25ms;
  uint8_t ack_delay_exponent = 3;
  uint64_t active_connection_id_limit = 4;
  uint64_t max_datagram_frame_size = 0;  // 0: DATAGRAM (RFC 9221) not offered
  uint16_t max_udp_payload_size = 1472;  // what we accept
  // ACK_FREQUENCY (draft-ietf-quic-ack-frequency, docs/ack-frequency.md): advertise
  // min_ack_delay (we honour the peer's ACK_FREQUENCY / IMMEDIATE_ACK) and, when the peer
  // advertised it too, ask it for fewer ACKs on paths with a large window. min_ack_delay is
  // the smallest delay we accept being asked for (at most max_ack_delay).
  bool ack_frequency = false;
  Duration min_ack_delay = 1ms;
  // RESET_STREAM_AT (draft-ietf-quic-reliable-stream-reset): advertise the reset_stream_at
  // transport parameter; stream_reset_at() needs the peer's.
  bool reliable_reset = false;

  // Bytes a stream buffers for sending (unsent + unacknowledged) before writes come up short.
  // It caps one stream's rate at about this much per round trip, so it must exceed the path's
  // bandwidth-delay product (25 MB at 1 Gbit/s and 200 ms); with multipath, the fastest path's
  // rate times the slowest path's RTT plus its loss recovery (docs/multipath.md, "Windows").
  size_t stream_send_buffer = 32 << 20;

  // Auto-tuned receive windows grow up to these (flow_control.h).
  uint64_t max_connection_window = kMaxConnectionWindow;
  uint64_t max_stream_window = kMaxStreamWindow;

  // Path MTU: start at 1200 (RFC 9000 §14.1); DPLPMTUD probes up to max_mtu.
  uint16_t initial_mtu = 1200;
  uint16_t max_mtu = 1452;
  bool pmtud = true;
  // A search that ended below max_mtu starts again after this long (RFC 8899 §5.1.1
  // PMTU_RAISE_TIMER, 600 s there), so a path whose MTU grew back is used at its size again.
  Duration pmtu_raise_interval = 600s;

  // Multipath (draft-ietf-quic-multipath-21): offered with initial_max_path_id = max_paths - 1.
  bool multipath = false;
  uint32_t max_paths = 8;  // path IDs we allow at once (kMaxPathsLimit at most)
  SchedulerKind scheduler = SchedulerKind::kEcf;
  // Failure detection (docs/multipath.md): a path with data outstanding and no ACK for
  // max(path_suspect_rtts x SRTT, path_suspect_min) is suspected (its packets in flight are
  // re-sent elsewhere); after path_fail_ptos consecutive PTOs it is failed until
  // path_recover_acks ACKs in a row show progress again.
  uint32_t path_suspect_rtts = 3;
  Duration path_suspect_min = 100ms;
  uint32_t path_fail_ptos = 3;
  uint32_t path_recover_acks = 3;
  Duration path_keepalive = 1s;  // PING an idle path this often (0: never); per path: set_path_keepalive
  Duration path_max_probe_interval = 1s;  // cap on the PTO backoff of a failed path
  // A path failed for this long is abandoned (PATH_ABANDON, PATH_UNSTABLE_OR_POOR; multipath-21
  // §3.4) instead of being probed for ever; a client's path manager then reopens its 4-tuple
  // with backoff (at most 30 s between attempts). 0: probe for ever.
  Duration path_abandon_after = 300s;
  Duration path_validation_timeout = 3s;  // give up and abandon an unvalidated path
  // A PING when nothing ack-eliciting was sent for this long (RFC 9000 §10.1.2); 0: off. Keeps
  // NAT bindings alive and lets a server find a client whose binding changed.
  Duration keep_alive{0};
  // Server: addresses offered in the preferred_address transport parameter (RFC 9000 §9.6);
  // the endpoint must also receive on them. A client moves path 0 there once the handshake is
  // confirmed (and back if the new address does not validate).
  std::optional<SocketAddress> preferred_address_v4, preferred_address_v6;
  bool use_preferred_address = true;  // client: follow the server's preferred_address

  CcAlgorithm cc = CcAlgorithm::kCubic;
  // Cap every path's window by the queueing delay its RTT shows (cc/delay_bound.h, docs/cc.md
  // "Delay bound"): for a sender that owns its bottleneck's buffer (a tunnel over its links).
  bool cc_delay_bound = false;
  bool ecn = true;  // mark ECT(0) and validate the path (RFC 9000 §13.4)
  // The ECN-capable codepoint we mark: kEcnEct0, or kEcnEct1 for L4S (RFC 9331). Validation
  // expects the peer's counts to grow in this codepoint (or CE); other values mean ECT(0).
  uint8_t ecn_codepoint = kEcnEct0;
  AeadBackend aead = AeadBackend::kAuto;  // kNull only for simulations and fuzzing
  // Start a key update after this many packets in one key phase; 0: only when half the AEAD
  // confidentiality limit (RFC 9001 §6.6) is reached.
  uint64_t key_update_interval = 0;
  // Close with AEAD_LIMIT_REACHED once more 1-RTT packets than this failed authentication
  // (RFC 9001 §6.6); 0: the cipher suite's integrity limit (2^52 AES-GCM, 2^36 ChaCha20).
  uint64_t aead_integrity_limit = 0;
  // Optimistic-ACK defence (RFC 9000 §21.4): skip one 1-RTT packet number in about every
  // skip_pn_period packets of a path (uniformly 0.5x..1.5x apart, so 256..767 by default); an
  // ACK of a skipped number closes the connection with PROTOCOL_VIOLATION. 0: never skip.
  uint32_t skip_pn_period = 512;

  // DATAGRAM (RFC 9221) queues, bounded in bytes and in entries (docs/datagrams.md). The
  // defaults hold about 33 ms of 1 Gbit/s each way. A full send queue refuses send_datagram
  // (would block) and raises kDatagramsWritable once it drained to datagram_send_low_water
  // bytes (0: half of datagram_send_buffer); a full receive queue drops what arrives.
  size_t datagram_send_buffer = 4 << 20;
  size_t datagram_recv_buffer = 4 << 20;
  size_t datagram_send_queue = 32768;  // entries
  size_t datagram_recv_queue = 32768;  // entries
  size_t datagram_send_low_water = 0;
  // Multipath: keep copies of DATAGRAMs in flight (up to datagram_resend_buffer bytes) and send
  // them again on another path when their path is suspected, failed, abandoned or migrated.
  // The receiver may then see a datagram twice (a tunnel drops duplicates by its own numbers).
  bool datagram_resend_on_path_failure = false;
  size_t datagram_resend_buffer = 4 << 20;
  // A DATAGRAM declared lost (RFC 9002 §6.1) is sent again, on whatever path the scheduler
  // picks, until datagram_resend_window after its first loss (copies share
  // datagram_resend_buffer). RFC 9221 §5 leaves re-sending to the application: a tunnel asks
  // for it so that its links' congestion drops do not reach the connections inside it, whose
  // congestion signal is the tunnel's own ingress queue (docs/datagrams.md). The receiver may
  // see a datagram twice (a spurious loss); a tunnel drops duplicates by its own numbers.
  bool datagram_resend_on_loss = false;
  Duration datagram_resend_window = std::chrono::milliseconds(250);

  // Server: accept 0-RTT (RFC 9001 §4.6) from clients resuming with a ticket that allows it.
  // Off (the default: 0-RTT data can be replayed, so the application opts in), tickets are
  // still issued (resumption) but carry no early_data, and 0-RTT packets from clients holding
  // older tickets are dropped (the client resends their data in 1-RTT).
  bool accept_0rtt = false;

  // Tracing: a sink per connection (e.g. obs::qlog_factory(dir) writes <dir>/<odcid>.sqlog).
  TraceFactory trace;
  // Where the application wants qlog files; the core never opens files: the application turns
  // this into `trace` with obs::qlog_factory.
  std::string qlog_dir;
};

}  // namespace quic
