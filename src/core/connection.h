// A QUIC connection, sans-I/O (docs/design.md "The core contract").
//
// The owner hands it datagrams with their addresses and the current time (on_datagram), asks it
// for datagrams to send (poll_transmit), wakes it at next_timeout() (on_timeout) and drains
// events (poll_event). Nothing here reads a clock, a socket or OS randomness, and nothing calls
// back into the owner. The implementation is split by concern: connection.cc (lifecycle, public
// API, timers), conn_crypto.cc (TLS, keys, transport parameters), conn_recv.cc (packet
// decryption and frame handling), conn_send.cc (packet assembly).
#pragma once

#include <array>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "cc/coupled.h"
#include "common/address.h"
#include "common/error.h"
#include "common/fifo.h"
#include "core/cid_sets.h"
#include "core/config.h"
#include "core/conn_types.h"
#include "core/datagram_queue.h"
#include "core/path.h"
#include "core/random.h"
#include "core/sent_frame.h"
#include "core/stream_map.h"
#include "core/trace.h"
#include "core/version_negotiation.h"
#include "core/zero_rtt.h"
#include "crypto/packet_protector.h"
#include "mp/path_manager.h"
#include "mp/scheduler.h"
#include "mp/scheduler_state.h"
#include "tls/tls_session.h"
#include "wire/frame.h"
#include "wire/packet.h"
#include "wire/transport_params.h"

namespace quic {

// Limits on peer-controlled state (docs/style.md: every one named and tested).
inline constexpr size_t kMaxCryptoReorderBytes = 64 * 1024;  // out-of-order CRYPTO per level
inline constexpr size_t kMaxPendingPathResponses = 256;  // per path
// Paths (open or being abandoned) at once, whatever max_paths says; and the largest path ID
// multipath-21 §2.1 allows (it is part of the AEAD nonce).
inline constexpr size_t kMaxPathsLimit = 16;
inline constexpr uint64_t kMaxPathId = 0xffffffffull;
static_assert(mp::kMaxWantedPaths == kMaxPathsLimit, "add_path allows a wanted path per path");
// Room a DATAGRAM leaves in a packet for the ACK that precedes it (an ACK_ECN with a few
// ranges): without it, a datagram of the largest size would never fit a packet that also
// acknowledges, and every data packet does once the peer sent anything.
inline constexpr size_t kDatagramAckReserve = 40;
// Code of the "would block" status (never sent on the wire: above the varint range):
// send_datagram with a full queue, recv_datagram with an empty one.
inline constexpr uint64_t kWouldBlock = ~uint64_t{0};
inline bool would_block(const Error& e) { return e.code == kWouldBlock; }
inline constexpr size_t kMaxPeerCids = 16;  // we never advertise more than this limit
inline constexpr size_t kMaxRetiredCidsPending = 64;
// RFC 9000 §10.3: a stateless reset is at least 21 bytes (5 unpredictable + 16-byte token).
inline constexpr size_t kMinStatelessResetSize = 21;

enum class Side : uint8_t { kClient, kServer };

// Per-connection client inputs remembered from an earlier connection to the same server.
struct ConnectOptions {
  std::vector<uint8_t> token;           // NEW_TOKEN token: skips the server's Retry
  std::vector<uint8_t> session_ticket;  // TLS session ticket: resumption (no certificate)
  // Send early data in 0-RTT packets when the ticket allows it (RFC 9001 §5.6: only when the
  // application asks). Stream data and DATAGRAMs written before the handshake completes go
  // out as 0-RTT; if the server rejects it they are resent in 1-RTT.
  bool zero_rtt = false;
  // The server's transport parameters to bound 0-RTT by (RFC 9000 §7.4.1), as returned by
  // Connection::remembered_params(); empty: those stored inside session_ticket.
  std::vector<uint8_t> remembered_params;
};

// What the Endpoint learned about a client Initial before creating its server connection.
struct AcceptInfo {
  ConnectionId original_dcid;   // the client's first DCID (after a Retry: from the token)
  ConnectionId initial_dcid;    // the DCID of this Initial: Initial keys derive from it
  ConnectionId client_scid;
  uint32_t version = kVersion1;
  std::optional<ConnectionId> retry_scid;  // set when the client echoed our Retry token
  bool address_validated = false;          // a valid Retry or NEW_TOKEN token
};

class Connection {
 public:
  // Client: starts the handshake towards `remote` (the first poll_transmit yields the Initial).
  static Result<std::unique_ptr<Connection>> connect(const ConnectionConfig& config,
                                                     std::shared_ptr<const TlsContext> tls,
                                                     const SocketAddress& local,
                                                     const SocketAddress& remote, Instant now,
                                                     Random& random,
                                                     const ConnectOptions& options = {});
  // Server: created by the Endpoint for a client Initial.
  static Result<std::unique_ptr<Connection>> accept(const ConnectionConfig& config,
                                                    std::shared_ptr<const TlsContext> tls,
                                                    const SocketAddress& local,
                                                    const SocketAddress& remote,
                                                    const AcceptInfo& info, Instant now,
                                                    Random& random);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // --- the sans-I/O contract
  void on_datagram(Instant now, const SocketAddress& local, const SocketAddress& remote,
                   uint8_t ecn, MutBytes datagram);
  // Writes the next datagram into `buffer`. With max_segments > 1 (the caller can send a GSO
  // run: UDP_SEGMENT) it may write a run of up to max_segments datagrams for one path, every
  // one but the last of exactly Transmit::segment_size bytes, as many as the buffer, the
  // congestion window and the pacer allow. The caller sizes the buffer to what one send may
  // carry (Linux: 64 segments, 64 KiB).
  std::optional<Transmit> poll_transmit(Instant now, MutBytes buffer, size_t max_segments = 1);
  Instant next_timeout() const;
  void on_timeout(Instant now);
  std::optional<Event> poll_event();

  // --- streams (stream IDs as in RFC 9000 §2.1)
  Result<uint64_t> open_stream(bool bidirectional);
  // Accepts what fits in the stream's send buffer (backpressure: a short count).
  Result<size_t> stream_write(uint64_t id, Bytes data, bool fin);
  // Reads in-order bytes; *fin is set once the final byte has been read.
  Result<size_t> stream_read(uint64_t id, MutBytes out, bool* fin);
  // Zero-copy forms (FillBytes, TakeBytes: stream_buffers.h): fill writes up to max bytes
  // straight into the send buffer (fin applies if it wrote all max); take is handed up to max
  // received bytes in place, and what it takes is consumed.
  Result<size_t> stream_write_with(uint64_t id, size_t max, FillBytes fill, bool fin);
  Result<size_t> stream_read_with(uint64_t id, size_t max, TakeBytes take, bool* fin);
  // A kStreamWritable event once the send buffer frees room (Stream::writable_for_writer), for
  // a writer that wrote what it had room for rather than being cut short (h3's DATA frames
  // are sized to the room, so their writes are never short).
  void stream_want_writable(uint64_t id) { streams_.want_writable(id); }
  Status stream_reset(uint64_t id, uint64_t app_error);
  // RESET_STREAM_AT (draft-ietf-quic-reliable-stream-reset): the peer still receives the first
  // reliable_size bytes (at most what was written; retransmitted if lost), then the reset.
  // Needs the peer's reset_stream_at transport parameter (else an error: the application may
  // fall back to stream_reset). Called again, it may only lower the reliable size.
  Status stream_reset_at(uint64_t id, uint64_t app_error, uint64_t reliable_size);
  Status stream_stop_sending(uint64_t id, uint64_t app_error);
  // RFC 9218 priority of our sending part (urgency 0-7, lower first; incremental streams share
  // round robin, others go one at a time by stream ID); default u=3, incremental.
  Status set_stream_priority(uint64_t id, uint8_t urgency, bool incremental);
  // A stream's state, or null when it was never opened or has been freed. The public API
  // (src/api) reads its send/receive states to report precise per-call results.
  const Stream* find_stream(uint64_t id) { return streams_.find(id); }

  // Deadline of everything the stream has still to send (docs/multipath.md "Deadline
  // scheduler"): under the deadline scheduler its packets go on a path that can deliver them
  // by then; stream data is never dropped for being late. nullopt clears it. At most
  // kMaxDeadlineStreams streams have one at a time.
  Status set_stream_deadline(uint64_t id, std::optional<Instant> deadline);
  std::optional<Instant> stream_deadline(uint64_t id) const;

  // --- DATAGRAM frames (RFC 9221), unreliable, queues bounded in bytes both ways
  // (docs/datagrams.md). Queues a copy of `data`; a full queue refuses it with kWouldBlock
  // (stats().datagrams_refused) until kDatagramsWritable. With a deadline: dropped
  // (stats().datagrams_expired) if still queued at or after it, and under the deadline
  // scheduler sent on a path that can deliver it by then.
  // kInteractive (a tunnel's ping, a game's input): goes ahead of every queued datagram, on
  // the usable path with the lowest smoothed RTT, waiting for that path rather than spilling
  // onto a slower one, for at most half the RTT difference to the next path
  // (interactive_spill_at); its own queue holds kInteractiveDatagramBytes (beyond that it
  // queues as kNormal).
  Status send_datagram(Bytes data, std::optional<Instant> deadline = std::nullopt,
                       DatagramPriority priority = DatagramPriority::kNormal) {
    return send_datagram(std::span<const Bytes>(&data, 1), deadline, priority);
  }
  // The same for a datagram made of `parts` joined (an HTTP datagram's quarter stream ID and
  // context ID before a payload): copied once, into the queue.
  Status send_datagram(std::span<const Bytes> parts, std::optional<Instant> deadline = std::nullopt,
                       DatagramPriority priority = DatagramPriority::kNormal);
  // Moves the oldest received datagram into `out` and returns its size; kWouldBlock when none
  // is queued. One larger than `out` stays queued (an error; next_datagram_size() tells).
  Result<size_t> recv_datagram(MutBytes out);
  std::optional<size_t> next_datagram_size() const;
  // The oldest received datagram in place (no copy), valid until pop_datagram() or the next
  // packet processed; pop_datagram() removes it (nothing when none is queued).
  std::optional<Bytes> peek_datagram() const;
  void pop_datagram();
  // Convenience for callers that want a vector (allocates): the oldest received datagram.
  std::optional<std::vector<uint8_t>> recv_datagram();
  // The largest payload send_datagram takes: within the peer's max_datagram_frame_size and
  // a packet of every usable path's PMTU (kDatagramPayloadChanged when it changes).
  size_t max_datagram_payload() const;
  size_t datagram_send_queue_bytes() const { return datagrams_out_.bytes(); }
  // A send_datagram was refused and the queue has not drained to the low-water mark since:
  // kDatagramsWritable is still owed (it turns false in the poll_event that raises it). For an
  // application that stops reading its source on a refusal and polls rather than keeps events.
  bool datagrams_blocked() const { return datagrams_blocked_; }

  // Starts a 1-RTT key update (RFC 9001 §6). Fails until the handshake is confirmed and the
  // previous update has been acknowledged (§6.1 forbids consecutive updates).
  Status initiate_key_update();
  bool key_phase() const { return key_update_.tx_phase; }

  // Application close (CONNECTION_CLOSE 0x1d).
  void close(uint64_t app_error, std::string reason, Instant now);

  bool handshake_complete() const { return handshake_complete_; }
  bool is_closed() const { return state_ == State::kClosed; }
  bool is_draining_or_closing() const { return state_ == State::kClosing || state_ == State::kDraining; }
  Side side() const { return side_; }
  uint32_t version() const { return version_; }
  // Version negotiation (RFC 9368): the version of the client's first flight (a reserved one
  // when it elicited Version Negotiation) and whether a VN packet restarted the handshake.
  uint32_t original_version() const { return vneg_.original; }
  bool version_negotiation_received() const { return vneg_.vn_acted; }
  const ConnectionStats& stats() const { return stats_; }
  const Path& path(size_t i = 0) const { return *paths_[i]; }
  size_t path_count() const { return paths_.size(); }
  const Path* find_path(uint64_t id) const;

  // --- paths: migration (RFC 9000 §9) and multipath (draft-ietf-quic-multipath-21)
  bool multipath() const { return multipath_; }
  // Client: opens a path from `local` to `remote` once multipath is negotiated and the
  // handshake confirmed. Until then, or until both sides have CIDs for an unused path ID, the
  // request waits; it is retried with backoff after failures. Returns the path ID it will use
  // (or uses).
  Status add_path(const SocketAddress& local, const SocketAddress& remote, bool backup = false);
  // Abandons a path (PATH_ABANDON, multipath-21 §3.4); its frames in flight move elsewhere.
  Status abandon_path(uint64_t id, uint64_t error_code = 0);
  // Marks a path backup (only keepalives while an available path works) or available, and
  // tells the peer (PATH_STATUS_BACKUP / PATH_STATUS_AVAILABLE).
  Status set_path_backup(uint64_t id, bool backup);
  // Local sending policy of one open path (nothing is signalled to the peer): its weight under
  // the weighted scheduler (kMinPathWeight..kMaxPathWeight) and a cap on its send rate in
  // bit/s (0: none), e.g. a link's contracted rate, so its queue stays in our pacer.
  Status set_path_weight(uint64_t id, double weight);
  Status set_path_rate_cap(uint64_t id, uint64_t bps);
  // How often an idle path is sent a PING: its own interval (mp::kMinPathKeepalive to
  // kMaxPathKeepalive; 0: back to the connection-wide path_keepalive), e.g. rarely on a metered
  // backup link. It stays with the client's wanted 4-tuple, so a path reopened there after a
  // failure keeps it. path_keepalive() is the interval in force: at most half the negotiated
  // idle timeout unless another working path keeps the connection alive
  // (mp::PathManager::keepalive_interval says why); 0: none. A PING from the peer on the path
  // defers ours: one end's keepalives prove an idle path for both.
  Status set_path_keepalive(uint64_t id, Duration interval);
  Duration path_keepalive(uint64_t id) const;
  // A cap on the whole connection's send rate over all its paths, in bit/s (0: none), e.g. a
  // server's per-client rate limit: a connection-wide pacer in front of the paths' own.
  void set_send_rate_cap(uint64_t bps) { send_rate_cap_bps_ = bps; }
  uint64_t send_rate_cap() const { return send_rate_cap_bps_; }
  // Client: active migration of path 0 to a new local address (RFC 9000 §9.2): a fresh DCID,
  // path validation, and congestion state reset.
  Status migrate(const SocketAddress& new_local);
  // Connection-ID rotation on one path (RFC 9000 §5.1.2, multipath-21 §3.2), e.g. so an observer
  // cannot link the path's packets across the change. rotate_peer_cid: we switch to a spare CID
  // the peer issued for the path and retire the old one. retire_local_cids: we issue a fresh set
  // with retire_prior_to above every CID issued so far, so the peer must move to a new one and
  // retire the old (they stay routable until it does). Both need a confirmed handshake and the
  // path open; rotate_peer_cid also needs a spare.
  Status rotate_peer_cid(uint64_t path_id);
  Status retire_local_cids(uint64_t path_id);
  void set_scheduler(SchedulerKind kind);
  SchedulerKind scheduler_kind() const { return scheduler_->kind(); }
  std::string alpn() const;
  // The TLS cipher suite protecting 1-RTT packets; nullopt until those keys are installed.
  std::optional<CipherSuite> tls_cipher_suite() const;
  // The peer's leaf certificate: SHA-256 of its DER encoding and its subject DN (TlsSession).
  // A server sees a client's only when it asked for one (TlsConfig::client_auth).
  std::optional<std::array<uint8_t, 32>> peer_certificate_sha256() const;
  std::string peer_certificate_subject() const;
  // False once a server has released its TLS session after the handshake (GnuTLS has nothing
  // left to do; docs/performance.md "Many connections"); alpn() and the peer certificate stay.
  bool holds_tls_session() const { return tls_ != nullptr; }
  const std::optional<Error>& close_error() const { return closing_.error; }
  bool closed_by_peer() const { return closing_.by_peer; }
  // Source CIDs the endpoint must route to this connection (issued and not retired), and a
  // counter that changes whenever that list does.
  const std::vector<ConnectionId>& local_cids() const { return local_cid_list_; }
  uint64_t local_cids_generation() const { return cid_generation_; }
  const ConnectionId& original_dcid() const { return original_dcid_; }
  // A datagram that no key could open but that ends in one of the peer's stateless reset
  // tokens (RFC 9000 §10.3.1); on_stateless_reset then ends the connection silently (false:
  // it had ended already, a repeated reset changes nothing).
  bool is_stateless_reset(Bytes datagram) const;
  bool on_stateless_reset(Instant now);
  // The tokens of the peer's CIDs we send with, one per path at most (PeerCids::
  // current_reset_token), for the endpoint's index of them; the generation changes whenever
  // they may have. is_stateless_reset() also matches the spares'.
  void peer_reset_tokens(std::vector<ResetToken>& out) const;
  uint64_t peer_reset_tokens_generation() const;
  // Client: the latest NEW_TOKEN token from the server, for the next connection's Initial.
  const std::vector<uint8_t>& new_token() const { return new_token_; }
  // Client: the latest TLS session ticket (empty until the server sent one), for resumption.
  const std::vector<uint8_t>& session_ticket() const { return session_ticket_; }
  // Client: the server's transport parameters of this connection (encoded), to remember with
  // session_ticket() for 0-RTT limits (RFC 9000 §7.4.1); the ticket also embeds them.
  std::vector<uint8_t> remembered_params() const;
  // Client: 0-RTT keys are live (handshake not complete): stream writes and DATAGRAMs now go
  // out as 0-RTT, within the remembered limits.
  bool zero_rtt_active() const;
  // Server: the Endpoint hands over a NEW_TOKEN token once the handshake is confirmed.
  bool wants_new_token() const;
  void send_new_token(std::vector<uint8_t> token);

 private:
  enum class State : uint8_t { kHandshake, kEstablished, kClosing, kDraining, kClosed };
  static constexpr size_t kSpaces = 3;

  // Per-operation state, on the stack of the operation and passed by reference (not members):
  // one received datagram being processed (conn_recv.cc) ...
  struct RecvContext {
    // The path of the packet being processed; null when the datagram counts towards a probing
    // address's budget rather than the path's (on_new_peer_address).
    Path* path = nullptr;
    bool immediate_ack = false;  // the packet being processed had IMMEDIATE_ACK
  };
  // ... one datagram being assembled (transmit_on, maybe_send_mtu_probe) ...
  struct DatagramBuild {
    uint8_t ecn = 0;               // its ECN codepoint
    uint16_t mtu_probe_size = 0;   // non-zero: a PMTU probe of this size
    bool probe_response = false;   // to a probing address (transmit_probe_responses)
  };
  // ... and one packet being assembled (build_packet): its frames, their record, and whether
  // it elicits an ACK.
  struct PacketBuilder {
    Writer& w;
    SentFrames& sent;
    bool ack_eliciting = false;
  };

  struct CryptoLevel {
    SendBuffer tx{SIZE_MAX};
    RecvBuffer rx;
    std::unique_ptr<PacketProtector> seal, open;
  };
  struct CidRef {
    uint64_t path, seq;
    bool operator==(const CidRef&) const = default;
  };

  Connection(Side side, const ConnectionConfig& config, Random& random);
  Path& init_path(uint64_t id, const SocketAddress& local, const SocketAddress& remote);
  // A path's congestion controller as configured (algorithm, coupled group, delay bound).
  std::unique_ptr<CongestionController> new_path_controller() const;
  void restart_path_figures(Path& path);

  // conn_crypto.cc
  Status init_tls(std::shared_ptr<const TlsContext> tls, const ConnectOptions& options = {});
  Status install_initial_keys(const ConnectionId& dcid);
  Status drain_tls();
  Status on_crypto_frame(PnSpaceId space, const CryptoFrame& f);
  Status on_peer_transport_params();
  TransportParameters local_transport_params() const;
  void discard_space(PnSpaceId space);
  void on_handshake_completed(Instant now);
  void on_handshake_confirmed();
  void release_tls();
  Status on_crypto_after_release(const CryptoLevel& level, const CryptoFrame& f);
  Status rotate_rx_keys(Instant now, uint64_t pn);
  Status set_local_transport_params();
  Status update_tx_keys();
  void maybe_update_keys();

  // conn_zerortt.cc (0-RTT; small hooks in the files above)
  Status zero_rtt_setup(const ConnectOptions& options);
  Status zero_rtt_on_secret(const TlsSession::SecretEvent& ev);
  bool zero_rtt_defers_peer_params() const;
  bool zero_rtt_sending() const;  // client: the next app-space packet is 0-RTT
  PacketProtector* zero_rtt_open_key(Instant now);
  void zero_rtt_on_packet(Instant now, bool zero_rtt_packet);
  Status zero_rtt_on_handshake_complete(Instant now);
  void zero_rtt_requeue_all(Instant now);
  const TransportParameters* zero_rtt_limits() const;
  // conn_version.cc (RFC 9368, RFC 9369 §4)
  Status init_version_negotiation();
  std::vector<uint32_t> advertised_versions() const;
  Status initial_keys_for(uint32_t version, const ConnectionId& dcid,
                          std::unique_ptr<PacketProtector>& seal,
                          std::unique_ptr<PacketProtector>& open) const;
  void on_version_negotiation(Instant now, const DatagramPacket& pkt);
  Status restart_handshake(uint32_t version);
  PacketProtector* initial_opener(const PacketHeader& hdr);
  void on_version_authenticated(uint32_t version);
  Status buffer_client_hello(Bytes data);
  Status check_peer_version_information(const TransportParameters& tp) const;
  void disguise_first_flight(MutBytes datagram) const;

  // conn_recv.cc
  void process_packet(Instant now, const SocketAddress& local, const SocketAddress& remote,
                      uint8_t ecn, DatagramPacket& pkt, MutBytes datagram, size_t datagram_size,
                      RecvContext& rx);
  Status process_frames(Instant now, PnSpaceId space, LongType type, bool long_header,
                        Bytes payload, RecvContext& rx, bool& ack_eliciting, bool& non_probing);
  uint64_t path_id_for_dcid(const ConnectionId& dcid) const;
  Status on_frame(Instant now, PnSpaceId space, const Frame& frame, RecvContext& rx);
  Status on_ack_frame(Instant now, PnSpaceId space, const AckFrame& ack, const RecvContext& rx);
  void on_authentication_failure(Instant now, CipherSuite suite);
  void on_packets_acked(PnSpaceId space, std::span<const SentFrames> acked);
  void on_packets_lost(Instant now, PnSpaceId space, std::span<const SentPacket> lost,
                       std::span<SentFrames> frames);
  void on_space_lost(Instant now, PnSpaceId space, Path& path, std::span<const SentPacket> lost,
                     std::span<SentFrames> frames);
  void requeue_frames(PnSpaceId space, std::span<const SentFrame> frames, bool declared_lost);
  struct SentRecordHandler;  // conn_sent.cc: per record type, on acked and on lost
  Status on_new_connection_id(const NewConnectionIdFrame& f);
  Status check_path_frame(uint64_t path_id, uint64_t frame) const;
  void on_connection_close_frame(Instant now, const ConnectionCloseFrame& f);
  void on_retry(Instant now, const DatagramPacket& pkt);

  // conn_send.cc
  size_t build_packet(Instant now, PnSpaceId space, Path& path, MutBytes out, size_t min_size,
                      bool paced_out, bool data_allowed, const DatagramBuild& d);
  void maybe_skip_packet_number(Path& path);
  uint64_t next_skip_pn(const Path& path) const;
  bool space_wants_send(PnSpaceId space, const Path& path, Instant now) const;
  // A source of frames for 1-RTT packets (conn_send.cc, kFrameSources).
  struct FrameSource {
    enum class Role : uint8_t {
      kAppData,    // wants a packet of its own (app_has_data)
      kMpControl,  // wants a packet of its own: multipath control (mp_control_pending)
      kPathCopy,   // wants a packet on a path it owes a redundant copy
      kRideAlong,  // only fills room in a packet sent for something else
    };
    Role role;
    bool one_rtt_only;  // never in 0-RTT
    bool (*pending)(const Connection&, const Path&);  // nullptr for kRideAlong
    void (*write)(Connection&, Instant, Path&, PacketBuilder&);
  };
  static const FrameSource kFrameSources[];
  bool sources_pending(FrameSource::Role role, const Path& path) const;
  bool app_has_data() const;        // a kAppData source is pending
  bool mp_control_pending() const;  // the kMpControl source is pending
  size_t write_frames(Instant now, PnSpaceId space, Path& path, PacketBuilder& b,
                      bool may_send_data);
  bool write_ack(Instant now, PnSpace& pns, uint64_t path_id, bool path_ack, Writer& w,
                 SentFrames& sent);
  bool silent_ack_copy_due(const Path& q, const Path& carrier, Instant now) const;
  void write_cid_frames(PacketBuilder& b);
  size_t build_close_datagram(Path& path, MutBytes buffer);
  uint64_t amplification_room(const Path& path) const;
  std::optional<Transmit> poll_datagram(Instant now, MutBytes buffer, Path* run);
  std::optional<Transmit> poll_close(MutBytes buffer);
  std::optional<Transmit> poll_multipath(Instant now, MutBytes buffer, Path* run);
  Path* run_path(const Transmit& t, Bytes datagram) const;
  bool probe_responses_pending() const;
  std::optional<Transmit> transmit_on(Instant now, Path& path, MutBytes buffer,
                                      bool data_allowed, bool probe_response = false);
  void note_app_limited(Path& path);

  // conn_streams.cc
  static StreamMapConfig stream_config_from(Side side, const ConnectionConfig& config);
  void write_control_frames(Instant now, PacketBuilder& b);
  void write_stream_frames(PacketBuilder& b);
  void fill_stream_chunk(StreamChunk& c, const Stream& s, size_t room);
  bool dup_pending_for(const Path& path) const;
  void write_dup_frames(Path& path, PacketBuilder& b);
  void pump_stream_events();
  Status on_reset_stream_at_frame(const ResetStreamAtFrame& f);
  std::optional<StreamChunk> next_chunk_for_packet(uint64_t max_len);

  // conn_datagrams.cc (DATAGRAM frames into packets; redundant copies; re-sending)
  void write_datagram_frames(Instant now, Path& path, PacketBuilder& b);
  bool write_one_datagram(Path& path, Writer& w, SentFrames& sent,
                          DatagramQueue& q, uint64_t seq);
  bool dup_datagram_pending_for(const Path& path) const;
  void write_dup_datagrams(Instant now, Path& path, PacketBuilder& b);
  bool dups_queued() const { return sched_.chunks_queued() || !dup_datagrams_.empty(); }
  bool datagrams_queued() const {
    return !datagrams_out_.empty() || !datagrams_resend_.empty() || !datagrams_urgent_.empty();
  }
  // The path interactive datagrams wait for (`fast`): the data path with the lowest smoothed
  // RTT among those whose PTO has not fired (all data paths when every one's has: then
  // `skip_pto` is false). One walk decides skip_pto for every use below.
  struct InteractiveChoice {
    const Path* fast = nullptr;
    bool skip_pto = false;
  };
  InteractiveChoice interactive_choice() const;
  bool interactive_candidate(const Path& p, bool skip_pto) const;
  // When the oldest interactive datagram stops waiting for that path and takes any (kNever:
  // none waits, or no other path): once it has waited half the RTT difference to the next
  // fastest path, that path delivers it sooner. A path that went dark (no ACKs, its window
  // full) then costs an interactive flow that wait, not the time until it is suspected.
  Instant interactive_spill_at(const InteractiveChoice& choice) const;
  size_t datagram_payload_on(const Path& path) const;
  std::pair<size_t, size_t> datagram_payload_bounds() const;
  void on_datagram_frame(Bytes data);
  void resend_datagrams(std::span<SentFrame> frames, Instant limit = kNever);
  void requeue_zero_rtt_datagrams();
  void pump_datagram_events();

  // conn_deadline.cc (deadline-aware scheduling)
  struct DeadlineItem {
    Instant at;
    uint64_t bytes;
  };
  std::optional<DeadlineItem> earliest_deadline(Instant now);
  std::optional<DeadlineItem> earliest_datagram_deadline(Instant now);  // conn_datagrams.cc
  Path* choose_deadline_path(Instant now, std::span<const PathCandidate> cands, Instant wake);

  // conn_path.cc (path validation, migration, multipath path management, failure detection)
  Path* path_by_id(uint64_t id);
  Path* choose_path(Instant now);
  bool urgent_packet_takes_data(Instant now, Path& path);
  bool path_has_urgent(const Path& path, Instant now) const;
  bool keepalive_due(const Path& path, Instant now) const;
  Instant keepalive_at(const Path& path) const;
  bool other_path_keeps_alive(const Path& path) const;
  // What the path manager (mp/path_manager.h) reads of a path.
  static mp::PathFigures figures(const Path& path);
  static mp::PathPolicy path_policy(const ConnectionConfig& config);
  void on_path_challenge(Path& path, const PathChallengeData& data);
  void on_path_response(Instant now, Path& path, const PathChallengeData& data);
  void start_validation(Instant now, Path& path);
  void on_path_validated(Instant now, Path& path);
  void write_path_frames(Path& path, PacketBuilder& b);
  void write_mp_control_frames(PacketBuilder& b);
  bool is_data_path(const Path& path) const;
  bool can_carry_own_acks(const Path& path) const;
  // Path-ID-carrying frames (PATH_ACK, PATH_NEW/RETIRE_CONNECTION_ID) for this path: always
  // for paths other than 0, and for path 0 once multipath is negotiated (multipath-21 §2.3,
  // §3.2). A server knows that from the ClientHello; a client's 0-RTT packets go out before it
  // knows (and may carry no multipath frame), its 1-RTT packets after.
  bool uses_path_frames(uint64_t path_id) const {
    return path_id != 0 || (multipath_ && (side_ == Side::kServer || handshake_complete_));
  }
  bool orphan_acks_due(Instant now) const;
  bool has_other_data_path(const Path& path) const;
  bool in_outage() const;
  Duration max_probe_interval() const { return path_manager_.max_probe_interval(in_outage()); }
  bool suspect_due(const Path& path, Instant now) const;
  Status on_path_abandon(Instant now, const PathAbandonFrame& f);
  Status on_path_status(const PathStatusFrame& f);
  Status on_max_path_id(uint64_t max);
  Path* accept_new_path(Instant now, uint64_t id, const SocketAddress& local,
                        const SocketAddress& remote);
  // Server: a packet of `path` came from another 4-tuple (RFC 9000 §9.1-9.3). A non-probing one
  // that is the newest moves the path; a probing one is answered there (its challenges,
  // `new_responses` at the end of path.responses, move to the path's probe tuple).
  void on_new_peer_address(Instant now, RecvContext& rx, Path& path, const SocketAddress& local,
                           const SocketAddress& remote, uint64_t pn, bool non_probing,
                           size_t new_responses, size_t datagram_size);
  void drop_probe(Path& path);
  // One datagram with the PATH_RESPONSEs owed to a probing address, if any.
  std::optional<Transmit> transmit_probe_responses(Instant now, MutBytes buffer);
  void on_peer_address_change(Instant now, Path& path, const SocketAddress& local,
                              const SocketAddress& remote);
  void close_path(Instant now, Path& path, uint64_t error_code, bool send_abandon);
  void path_timers(Instant now);
  Instant path_deadline() const;
  void reinject(Path& path);
  void on_path_progress(Instant now, Path& path);
  void open_wanted_paths(Instant now);
  Status on_preferred_address(const PreferredAddress& pa);
  void migrate_to_preferred_address();
  void issue_path_cids();
  // Queues (PATH_)RETIRE_CONNECTION_ID for CIDs the peer issued for a path.
  void retire_peer_cids(uint64_t path_id, const std::vector<uint64_t>& seqs);
  const ConnectionId& dcid_of(const Path& path) const;
  bool path_ack_mode() const { return multipath_ && handshake_confirmed_; }

  // conn_ack_frequency.cc (draft-ietf-quic-ack-frequency)
  bool ack_frequency_sending() const;
  Duration advertised_min_ack_delay() const;
  Status on_ack_frequency_frame(const AckFrequencyFrame& f, Path& rx_path);
  Status on_immediate_ack_frame(RecvContext& rx);
  void update_ack_frequency(Instant now, Path& path);
  void write_ack_frequency(Path& path, PacketBuilder& b);
  void on_ack_frequency_acked(const sent::AckFrequency& f);
  void on_ack_frequency_lost(const sent::AckFrequency& f);
  Duration path_max_ack_delay(const Path& path) const;
  bool immediate_ack_wanted(const Path& path, bool probe, bool ack_eliciting) const;

  // conn_pmtu.cc (DPLPMTUD, RFC 8899)
  std::optional<Transmit> maybe_send_mtu_probe(Instant now, Path& path, MutBytes buffer,
                                               bool ahead_of_data);
  // The size of the probe maybe_send_mtu_probe would send now (0: none).
  uint16_t mtu_probe_size(Instant now, const Path& path, bool ahead_of_data) const;
  void on_mtu_probe_acked(Instant now, Path& path, uint16_t size);
  void arm_pmtu_raise(Instant now, Path& path) const;
  void on_mtu_probe_lost(Instant now, Path& path, uint16_t size);
  // Suspected PMTU black hole: back to the base size and search again (conn_pmtu.cc).
  void on_mtu_black_hole(Path& path);
  void watch_mtu_black_hole(Path& path, const AckResult& res);
  void report_loss_to_cc(Instant now, Path& path, std::span<const SentPacket> lost,
                         bool persistent);
  // conn_ecn.cc (RFC 9000 §13.4)
  uint8_t ecn_mark_for_send(Path& path);
  uint8_t next_ecn_mark(const Path& path) const;  // what ecn_mark_for_send would return
  void on_ecn_feedback(Instant now, Path& path, PnSpaceId space, const AckFrame& ack,
                       const AckResult& res);
  void on_ecn_marked_lost(Path& path, std::span<const SentPacket> lost);

  // connection.cc
  struct RecoveryTimer {
    Instant at = kNever;
    PnSpaceId space = PnSpaceId::kInitial;
    Path* path = nullptr;  // the path of a 1-RTT space
    bool is_loss = false;
  };
  RecoveryTimer loss_or_pto_deadline() const;
  void on_loss_timer(Instant now, const RecoveryTimer& t);
  void enter_closing(Instant now, Error error, bool send_close);
  void enter_draining(Instant now);
  void close_with_error(Instant now, Error error) { enter_closing(now, std::move(error), true); }
  Duration pto_period() const;  // the largest over the paths (multipath-21 §2.4, §2.5)
  Duration idle_period() const;
  Duration peer_max_ack_delay() const;
  uint64_t bytes_in_flight(const Path& path) const;
  void push_event(Event e) { events_.push_back(std::move(e)); }
  PnSpace& pn_space(PnSpaceId s);
  const PnSpace& pn_space(PnSpaceId s) const;
  void add_local_cid(uint64_t path_id, const ConnectionId& cid);
  void rebuild_local_cid_list();
  void issue_local_cids();
  Status on_retire_connection_id(uint64_t path_id, uint64_t seq);

  Side side_;
  ConnectionConfig config_;
  Random& random_;
  State state_ = State::kHandshake;
  uint32_t version_;
  VersionNegotiationState vneg_;

  // TLS and keys: levels Initial, Handshake, 1-RTT (0-RTT lands with the resumption issue).
  // A server's session goes once its handshake is done (release_tls); tls_facts_ then answers
  // what the application may still ask of it.
  std::unique_ptr<TlsSession> tls_;
  struct TlsFacts {
    std::string alpn;
    std::optional<std::array<uint8_t, 32>> peer_sha256;
    std::string peer_subject;
  } tls_facts_;
  std::array<CryptoLevel, kSpaces> crypto_;
  std::array<PnSpace, 2> handshake_spaces_;  // Initial, Handshake; 1-RTT lives on each Path
  std::array<bool, kSpaces> discarded_{};
  bool handshake_complete_ = false, handshake_confirmed_ = false;
  bool peer_params_received_ = false;
  TransportParameters peer_params_;
  Instant created_at_;
  // Key update (RFC 9001 §6, conn_crypto.cc): the next receive key is derived ahead; the
  // previous one is kept for reordered packets until prev_open_expiry (three PTOs).
  struct KeyUpdate {
    bool tx_phase = false;  // the phase we send with
    std::unique_ptr<PacketProtector> next_open, prev_open;
    bool rx_phase = false;
    uint64_t rx_phase_first_pn = 0;
    Instant prev_open_expiry = kNever;
    bool acked = true;  // a packet of our current phase was acknowledged
    uint64_t tx_phase_first_pn = 0;
    uint64_t packets_in_phase = 0;
  } key_update_;
  std::vector<uint8_t> retry_token_;   // client: token for our Initials (Retry or NEW_TOKEN)
  std::optional<ConnectionId> retry_scid_;  // the Retry's SCID (RFC 9000 §7.3)
  std::vector<uint8_t> new_token_;     // client: received; server: to send
  std::vector<uint8_t> session_ticket_;  // client: latest ticket received
  ZeroRttState zero_rtt_;
  bool new_token_sent_ = false;      // server: a token was handed over by the Endpoint
  bool new_token_pending_ = false;   // server: NEW_TOKEN to (re)send

  // Connection IDs.
  ConnectionId original_dcid_;  // first DCID the client used
  ConnectionId initial_scid_;   // ours, sent in initial_source_connection_id
  ConnectionId peer_cid_;       // during the handshake: the DCID of path 0's packets
  bool peer_cid_confirmed_ = false;
  std::map<uint64_t, PeerCids> peer_cids_;    // by path ID: CIDs the peer issued
  uint64_t peer_cids_dropped_generations_ = 0;  // of the sets erased, for the generation
  std::map<uint64_t, LocalCids> local_cids_;  // by path ID: CIDs we issued
  std::vector<ConnectionId> local_cid_list_;
  uint64_t cid_generation_ = 0;
  // path_id_for_dcid's last answer, valid while cid_generation_ has not moved (every change of
  // local_cids_ or retired_routes_ moves it): packets arrive on a few CIDs, nearly always the
  // previous packet's, and the lookup otherwise compares every path's CIDs.
  struct DcidPath {
    uint64_t generation = UINT64_MAX;
    ConnectionId cid;
    uint64_t path_id = 0;
  };
  mutable DcidPath dcid_path_;
  // CIDs the peer retired, still routed to us until `until` (3 PTO): packets it sent with them
  // before its RETIRE_CONNECTION_ID may still be on the way, possibly on a slower path.
  struct RetiredRoute {
    ConnectionId cid;
    uint64_t path_id = 0;
    Instant until{};
  };
  std::vector<RetiredRoute> retired_routes_;
  void expire_retired_routes(Instant now);
  std::vector<CidRef> pending_retire_cids_;  // (PATH_)RETIRE_CONNECTION_ID to send
  std::vector<CidRef> pending_new_cids_;     // (PATH_)NEW_CONNECTION_ID to (re)send

  // Shared by the paths' coupled congestion controllers (LIA/OLIA/BALIA, null otherwise);
  // declared before paths_ so it outlives them.
  std::unique_ptr<CoupledGroup> cc_group_ = make_coupled_group_if_needed(config_.cc);
  // Paths: path 0 exists from the first packet (multipath from day one). Multipath is on when
  // both sides sent initial_max_path_id (multipath-21 §2).
  std::vector<std::unique_ptr<Path>> paths_;
  bool multipath_ = false;
  uint64_t local_max_path_id_ = 0, peer_max_path_id_ = 0;
  uint64_t next_path_id_ = 1;        // client: the next path ID to open
  std::unique_ptr<PathScheduler> scheduler_;
  // set_send_rate_cap: the connection-wide pacer (bursts of kPacerBurstPackets packets).
  uint64_t send_rate_cap_bps_ = 0;
  Pacer cap_pacer_;
  Instant cap_send_time(Instant now, const Path& path) const;
  std::set<uint64_t> closed_path_ids_;  // never reused (the path ID is in the nonce)
  bool max_path_id_pending_ = false;
  // Redundant copies owed, deadlines, the deadline lane (mp/scheduler_state.h).
  mp::SchedulerState sched_;
  // Datagram copies owed to other paths (redundant scheduler); an entry's tag is as
  // mp::DupChunk::served.
  DatagramQueue dup_datagrams_{kMaxDuplicateDatagrams * size_t{config_.max_mtu},
                               kMaxDuplicateDatagrams};
  // Wanted paths, failure detection, backup roles and keepalives (mp/path_manager.h).
  mp::PathManager path_manager_{path_policy(config_)};
  std::optional<SocketAddress> peer_preferred_;  // client: where the server would rather be

  // Streams and flow control.
  StreamMap streams_;

  bool handshake_done_pending_ = false;
  uint64_t ack_freq_next_seq_ = 0;       // ACK_FREQUENCY sequence numbers, all paths
  // Buffers reused from call to call so the per-packet paths do not allocate.
  struct Scratch {
    std::vector<PathCandidate> candidates;  // choose_path
    std::vector<AckRange> acks;             // an ACK frame being written
    std::vector<Range> ack_ranges;          // an ACK frame being processed
    std::vector<SentPacket> lost;           // packets declared lost
  } scratch_;
  std::array<EcnCounts, 2> peer_ecn_{};  // the peer's latest ECN counts: Initial, Handshake

  // DATAGRAM queues (conn_datagrams.cc). Re-sent ones (path failure, 0-RTT rejection) go
  // before new ones; copies of those in flight are kept for re-sending when it is on
  // (sent::Datagram holds the copy's sequence number).
  DatagramQueue datagrams_out_{config_.datagram_send_buffer, config_.datagram_send_queue};
  DatagramQueue datagrams_urgent_{kInteractiveDatagramBytes, kInteractiveDatagramBytes / 64};
  DatagramQueue datagrams_resend_{config_.datagram_resend_buffer, config_.datagram_send_queue};
  DatagramQueue datagrams_in_{config_.datagram_recv_buffer, config_.datagram_recv_queue};
  DatagramQueue datagram_copies_{config_.datagram_resend_buffer, config_.datagram_send_queue};
  bool datagrams_blocked_ = false;     // send_datagram refused one: kDatagramsWritable owed
  size_t datagram_payload_told_ = 0;   // max_datagram_payload() at the last event

  // Timers and closing.
  Instant idle_deadline_ = kNever;
  Instant pacing_wakeup_ = kNever;
  bool fill_packets_ = false;  // this poll_transmit may build a GSO run (conn_streams.cc)
  Instant last_activity_;
  Instant last_sent_time_;
  uint32_t pto_count_ = 0;  // handshake spaces; 1-RTT spaces back off per path
  uint8_t pto_probe_pending_[2] = {};  // probe datagrams still to send: Initial, Handshake
  // Closing and draining (RFC 9000 §10.2): why, who, whether CONNECTION_CLOSE is owed (again:
  // it is repeated, rate-limited, to packets arriving while closing), and when the state goes.
  struct Closing {
    std::optional<Error> error;
    bool by_peer = false;
    bool frame_pending = false;
    uint64_t packets_while_closing = 0;
    Instant deadline = kNever;
  } closing_;

  Fifo<Event> events_;
  ConnectionStats stats_;

  // Tracing (trace.h); `now_` is the time of the call being served, for hooks without one.
  std::unique_ptr<TraceSink> trace_;
  RecoveryMetrics last_metrics_;
  Instant now_;
  void trace_metrics(Instant now);
  void trace_drop(size_t size, std::string_view reason) {
    if (trace_) trace_->packet_dropped(now_, size, reason);
  }
};

}  // namespace quic
