#include "core/endpoint.h"

#include <algorithm>
#include <cstring>

#include "crypto/packet_protector.h"
#include "crypto/reset_token.h"
#include "crypto/retry.h"
#include "wire/packet_number.h"

namespace quic {

namespace {
// RFC 9000 §14.1: a server drops client Initials in datagrams smaller than 1200 bytes.
constexpr size_t kMinInitialDatagram = 1200;
// RFC 9000 §7.2: the client's first DCID is at least 8 bytes.
constexpr size_t kMinOriginalDcid = 8;
}  // namespace

Endpoint::Endpoint(EndpointConfig config, Random& random)
    : config_(std::move(config)), random_(random), token_key_(random), by_reset_token_(random) {
  auto& key = config_.connection.reset_key;
  if (std::all_of(key.begin(), key.end(), [](uint8_t b) { return b == 0; })) random_.fill(key);
}

Result<ConnectionHandle> Endpoint::connect(const SocketAddress& local, const SocketAddress& remote,
                                           Instant now, const ConnectOptions& options) {
  auto conn = Connection::connect(config_.connection, config_.tls, local, remote, now, random_,
                                  options);
  if (!conn) return std::unexpected(conn.error());
  ConnectionHandle h = add(std::move(*conn));
  refresh_routes(h);
  return h;
}

ConnectionHandle Endpoint::add(std::unique_ptr<Connection> conn) {
  ConnectionHandle h = next_handle_++;
  Entry& e = conns_[h];
  e.conn = std::move(conn);
  e.half_open = true;  // corrected by the first settle() if it is not
  ++half_open_;
  schedule_.touch(h);
  note_activity(h, e);
  return h;
}

void Endpoint::settle() const {
  schedule_.settle([this](ConnectionHandle h) { return observe(h); });
}

// What a connection's state says after a call: its deadline (std::nullopt: no such handle), and
// whether it left the half-open count or joined the closed list.
std::optional<Instant> Endpoint::observe(ConnectionHandle h) const {
  auto it = conns_.find(h);
  if (it == conns_.end()) return std::nullopt;
  const Entry& e = it->second;
  if (e.half_open && e.conn->handshake_complete()) {
    e.half_open = false;
    --half_open_;
  }
  if (!e.closed_listed && e.conn->is_closed()) {
    e.closed_listed = true;
    closed_.push_back(h);
  }
  index_reset_tokens(h, e);
  return e.conn->next_timeout();
}

// New peer reset tokens only come with a datagram, and anything that hands a connection a
// datagram or changes its CIDs touches it, so observe() sees every change. Retired tokens are
// left in the index until a rebuild, which comes once it holds 4x as many entries as there
// are connections (amortised O(1) per token).
void Endpoint::index_reset_tokens(ConnectionHandle h, const Entry& e) const {
  uint64_t g = e.conn->peer_reset_tokens_generation();
  if (g == e.tokens_generation) return;
  e.tokens_generation = g;
  std::vector<ResetToken> tokens;
  e.conn->peer_reset_tokens(tokens);
  by_reset_token_.add(h, tokens);
  if (by_reset_token_.size() <= 4 * conns_.size() + 64) return;
  by_reset_token_.clear();
  for (const auto& [other, oe] : conns_) {
    tokens.clear();
    oe.conn->peer_reset_tokens(tokens);
    by_reset_token_.add(other, tokens);
  }
}

void Endpoint::note_activity(ConnectionHandle h, Entry& e) {
  if (!track_activity_ || e.activity_listed) return;
  e.activity_listed = true;
  activity_.push_back(h);
}

std::vector<ConnectionHandle> Endpoint::take_activity() {
  std::vector<ConnectionHandle> out;
  out.swap(activity_);
  for (ConnectionHandle h : out) {
    if (auto it = conns_.find(h); it != conns_.end()) it->second.activity_listed = false;
  }
  return out;
}

void Endpoint::refresh_routes(ConnectionHandle h) {
  auto it = conns_.find(h);
  if (it == conns_.end()) return;
  Entry& e = it->second;
  // Called after every datagram: only touch the routing table when the CID set changed.
  if (e.routed_generation != e.conn->local_cids_generation()) {
    const auto& now_cids = e.conn->local_cids();
    for (const auto& c : e.routed) {
      if (std::find(now_cids.begin(), now_cids.end(), c) == now_cids.end()) by_cid_.erase(c);
    }
    for (const auto& c : now_cids) by_cid_[c] = h;
    e.routed = now_cids;
    e.routed_generation = e.conn->local_cids_generation();
  }
  if (e.conn->wants_new_token()) {
    TokenData t;
    t.type = TokenType::kNewToken;
    t.issued = token_now_;
    t.client = e.conn->path().remote;
    e.conn->send_new_token(token_key_.mint(t, random_));
  }
}

std::optional<ConnectionHandle> Endpoint::route(const PacketHeader& hdr,
                                                const SocketAddress&) const {
  if (auto it = by_cid_.find(hdr.dcid); it != by_cid_.end()) return it->second;
  // A retransmitted client Initial still carries the original DCID.
  if (hdr.long_header) {
    if (auto it = by_original_dcid_.find(hdr.dcid); it != by_original_dcid_.end()) {
      return it->second;
    }
  }
  return std::nullopt;
}

void Endpoint::on_datagram(Instant now, const SocketAddress& local, const SocketAddress& remote,
                           uint8_t ecn, MutBytes datagram) {
  token_now_ = now;
  auto hdr = parse_header(datagram, config_.connection.cid_length);
  if (!hdr) {
    ++stats_.datagrams_dropped;
    return;
  }
  if (auto h = route(*hdr, remote)) {
    Entry& e = conns_[*h];
    e.conn->on_datagram(now, local, remote, ecn, datagram);
    schedule_.touch(*h);
    note_activity(*h, e);
    refresh_routes(*h);
    return;
  }
  handle_unrouted(now, local, remote, ecn, *hdr, datagram);
}

void Endpoint::handle_unrouted(Instant now, const SocketAddress& local,
                               const SocketAddress& remote, uint8_t ecn,
                               const PacketHeader& hdr, MutBytes datagram) {
  if (!hdr.long_header) {
    handle_unrouted_short(now, local, remote, hdr, datagram);
    return;
  }
  if (!config_.server) {
    ++stats_.datagrams_dropped;
    return;
  }
  if (is_supported_version(hdr.version) && hdr.type == LongType::kZeroRtt) {
    buffer_early_zero_rtt(local, remote, ecn, hdr, datagram);
    return;
  }
  if (datagram.size() < kMinInitialDatagram) {
    ++stats_.datagrams_dropped;
    return;
  }
  // Versions we can parse but do not offer get Version Negotiation too (RFC 9368 §2.2).
  const auto offered = supported_versions(config_.connection);
  if (std::find(offered.begin(), offered.end(), hdr.version) == offered.end()) {
    send_version_negotiation(local, remote, hdr);
    return;
  }
  if (hdr.type != LongType::kInitial || hdr.dcid.len < kMinOriginalDcid ||
      conns_.size() >= config_.max_connections) {
    ++stats_.datagrams_dropped;
    return;
  }
  // Address validation (RFC 9000 §8.1): a token we minted proves the client's address.
  AcceptInfo info{hdr.dcid, hdr.dcid, hdr.scid, hdr.version, std::nullopt, false};
  if (!hdr.token.empty()) {
    auto token = token_key_.validate(hdr.token, remote, now);
    if (TokenKey::marked_type(hdr.token) == TokenType::kRetry &&
        !(token && token->retry_scid == hdr.dcid)) {
      // RFC 9000 §8.1.3: an invalid Retry token (expired, from another address, for other
      // connection IDs, forged) gets INVALID_TOKEN, not another Retry the client could not
      // follow (it accepts one Retry per connection, §17.2.5.2) nor a connection.
      ++stats_.tokens_rejected;
      drop_early_zero_rtt(hdr.dcid);
      if (initial_opens(hdr, datagram)) {
        send_invalid_token_close(local, remote, hdr);
      } else {
        ++stats_.datagrams_dropped;
      }
      return;
    }
    if (token && token->type == TokenType::kRetry) {
      info.original_dcid = token->original_dcid;
      info.retry_scid = token->retry_scid;
      info.address_validated = true;
    } else if (token && token->type == TokenType::kNewToken) {
      info.address_validated = true;
    }
    ++(info.address_validated ? stats_.tokens_accepted : stats_.tokens_rejected);
  }
  if (!info.address_validated && retry_required()) {
    // 0-RTT waiting for this Initial can never be used: the client restarts after the Retry.
    drop_early_zero_rtt(hdr.dcid);
    send_retry(now, local, remote, hdr);
    return;
  }
  auto conn = Connection::accept(config_.connection, config_.tls, local, remote, info, now,
                                 random_);
  if (!conn) {
    ++stats_.datagrams_dropped;
    return;
  }
  // State is created only for an Initial that authenticates: a corrupted or forged one would
  // otherwise pin wrong connection IDs (or just memory) until the idle timeout.
  (*conn)->on_datagram(now, local, remote, ecn, datagram);
  if ((*conn)->stats().packets_received == 0) {
    ++stats_.datagrams_dropped;
    return;
  }
  ConnectionHandle h = add(std::move(*conn));
  conns_[h].original_dcid = hdr.dcid;
  by_original_dcid_[hdr.dcid] = h;
  accept_queue_.push_back(h);
  ++stats_.connections_accepted;
  refresh_routes(h);
  replay_early_zero_rtt(h, hdr.dcid, remote);
}

void Endpoint::drop_early_zero_rtt(const ConnectionId& dcid) {
  std::erase_if(early_zero_rtt_, [&](const EarlyZeroRtt& e) {
    if (e.dcid != dcid) return false;
    early_zero_rtt_bytes_ -= e.bytes.size();
    ++stats_.datagrams_dropped;
    return true;
  });
}

void Endpoint::buffer_early_zero_rtt(const SocketAddress& local,
                                     const SocketAddress& remote, uint8_t ecn,
                                     const PacketHeader& hdr, Bytes datagram) {
  // Only DCIDs a client may have chosen for its first flight (RFC 9000 §7.2).
  if (hdr.dcid.len < kMinOriginalDcid || datagram.size() > kMaxBufferedZeroRttBytes) {
    ++stats_.datagrams_dropped;
    return;
  }
  while (!early_zero_rtt_.empty() &&
         (early_zero_rtt_.size() >= kMaxBufferedZeroRttDatagrams ||
          early_zero_rtt_bytes_ + datagram.size() > kMaxBufferedZeroRttBytes)) {
    early_zero_rtt_bytes_ -= early_zero_rtt_.front().bytes.size();
    early_zero_rtt_.pop_front();
    ++stats_.datagrams_dropped;
  }
  early_zero_rtt_bytes_ += datagram.size();
  early_zero_rtt_.push_back(
      EarlyZeroRtt{hdr.dcid, local, remote, ecn, {datagram.begin(), datagram.end()}});
  ++stats_.zero_rtt_buffered;
}

// Hands the new connection the 0-RTT datagrams that overtook its Initial (same DCID and
// client address), in arrival order.
void Endpoint::replay_early_zero_rtt(ConnectionHandle h, const ConnectionId& dcid,
                                     const SocketAddress& remote) {
  std::vector<EarlyZeroRtt> mine;
  std::erase_if(early_zero_rtt_, [&](EarlyZeroRtt& e) {
    if (e.dcid != dcid || e.remote != remote) return false;
    early_zero_rtt_bytes_ -= e.bytes.size();
    mine.push_back(std::move(e));
    return true;
  });
  for (EarlyZeroRtt& e : mine) {
    auto it = conns_.find(h);
    if (it == conns_.end()) return;
    // The connection sees the datagram when the Initial got there, not when it arrived.
    it->second.conn->on_datagram(token_now_, e.local, e.remote, e.ecn, e.bytes);
    ++stats_.zero_rtt_replayed;
  }
  refresh_routes(h);
}

// RFC 9000 §10.3: a short-header packet for no known connection is either the peer's stateless
// reset of one of ours, or a packet for a connection we lost, which we reset in turn.
void Endpoint::handle_unrouted_short(Instant now, const SocketAddress& local,
                                     const SocketAddress& remote, const PacketHeader& hdr,
                                     Bytes datagram) {
  settle();  // tokens that came in this batch's datagrams
  if (datagram.size() >= kMinStatelessResetSize) {
    auto h = by_reset_token_.find(datagram.data() + datagram.size() - kResetTokenSize);
    auto it = h ? conns_.find(*h) : conns_.end();
    if (it != conns_.end() && it->second.conn->is_stateless_reset(datagram)) {
      if (it->second.conn->on_stateless_reset(now)) ++stats_.stateless_resets_received;
      schedule_.touch(*h);
      note_activity(*h, it->second);
      return;
    }
  }
  // Only for CIDs we could have issued, and always smaller than the trigger so that two
  // endpoints cannot loop; a trigger too small for that gets nothing.
  if (hdr.dcid.len == 0 || hdr.dcid.len != config_.connection.cid_length ||
      datagram.size() <= kMinStatelessResetSize || stateless_.size() >= config_.max_stateless_queue) {
    ++stats_.datagrams_dropped;
    return;
  }
  size_t size = std::min<size_t>(datagram.size() - 1, kMaxStatelessResetSize);
  std::vector<uint8_t> bytes(size);
  random_.fill(MutBytes(bytes.data(), size - kResetTokenSize));
  bytes[0] = static_cast<uint8_t>((bytes[0] & 0x3f) | 0x40);  // looks like a short header
  auto token = stateless_reset_token(config_.connection.reset_key, hdr.dcid.view());
  std::copy(token.begin(), token.end(), bytes.end() - kResetTokenSize);
  queue_stateless(local, remote, std::move(bytes));
  ++stats_.stateless_resets_sent;
}

bool Endpoint::retry_required() {
  switch (config_.retry) {
    case RetryPolicy::kDisabled: return false;
    case RetryPolicy::kAlways: return true;
    case RetryPolicy::kUnderLoad: break;
  }
  settle();  // handshakes completed by the datagrams of this batch leave the count
  return half_open_ >= config_.retry_half_open_limit;
}

void Endpoint::queue_stateless(const SocketAddress& local, const SocketAddress& remote,
                               std::vector<uint8_t> bytes) {
  stateless_.push_back(Stateless{local, remote, std::move(bytes)});
}

// RFC 9000 §6.1: answer an unknown version with the versions we support.
void Endpoint::send_version_negotiation(const SocketAddress& local, const SocketAddress& remote,
                                        const PacketHeader& hdr) {
  if (hdr.version == kVersionNegotiationVersion || stateless_.size() >= config_.max_stateless_queue) {
    ++stats_.datagrams_dropped;
    return;
  }
  std::vector<uint8_t> bytes(64 + 2 * 255);
  uint8_t bits;
  random_.fill(MutBytes(&bits, 1));
  // A reserved version (RFC 9000 §15: 0x?a?a?a?a) among ours, so clients cannot assume the list.
  const uint32_t grease_version = 0x0a0a0a0a | (static_cast<uint32_t>(bits & 0xf0) << 24);
  std::vector<uint32_t> versions = supported_versions(config_.connection);
  versions.push_back(grease_version);
  size_t n = build_version_negotiation(bytes, hdr.scid_raw, hdr.dcid_raw, versions, bits);
  if (n == 0) return;
  bytes.resize(n);
  queue_stateless(local, remote, std::move(bytes));
  ++stats_.version_negotiations_sent;
}

// RFC 9000 §17.2.5: a Retry with a token binding the client's address and both CIDs.
void Endpoint::send_retry(Instant now, const SocketAddress& local, const SocketAddress& remote,
                          const PacketHeader& hdr) {
  if (stateless_.size() >= config_.max_stateless_queue) {
    ++stats_.datagrams_dropped;
    return;
  }
  TokenData t;
  t.type = TokenType::kRetry;
  t.issued = now;
  t.client = remote;
  t.original_dcid = hdr.dcid;
  t.retry_scid.len = std::max<uint8_t>(config_.connection.cid_length, 8);
  random_.fill(MutBytes(t.retry_scid.bytes.data(), t.retry_scid.len));
  std::vector<uint8_t> token = token_key_.mint(t, random_);
  std::vector<uint8_t> bytes(64 + 2 * kMaxCidLength + token.size() + kRetryTagLength);
  uint8_t bits;
  random_.fill(MutBytes(&bits, 1));
  size_t n = write_retry(bytes, hdr.version, hdr.scid, t.retry_scid, token, bits);
  auto tag = retry_integrity_tag(hdr.version, hdr.dcid.view(), Bytes(bytes.data(), n));
  if (n == 0 || !tag) return;
  std::copy(tag->begin(), tag->end(), bytes.begin() + static_cast<std::ptrdiff_t>(n));
  bytes.resize(n + kRetryTagLength);
  queue_stateless(local, remote, std::move(bytes));
  ++stats_.retries_sent;
}

// RFC 9000 §8.1.3 closes an Initial whose Retry token is invalid "but is otherwise valid": its
// first packet must open under the Initial keys of its DCID, so that garbage carrying our
// marker gets nothing back. Works on a copy; the datagram is left as it came.
bool Endpoint::initial_opens(const PacketHeader& hdr, Bytes datagram) const {
  if (!hdr.has_packet_number() || hdr.packet_size > datagram.size()) return false;
  auto opener = PacketProtector::create(
      CipherSuite::kAes128Gcm, derive_initial_secrets(hdr.version, hdr.dcid.view()).client,
      hdr.version, config_.connection.aead);
  if (!opener) return false;
  std::vector<uint8_t> pkt(datagram.begin(),
                           datagram.begin() + static_cast<std::ptrdiff_t>(hdr.packet_size));
  auto unprotected = (*opener)->unprotect_header(pkt.data(), pkt.size(), hdr.pn_offset);
  if (!unprotected) return false;
  auto [pn_len, truncated] = *unprotected;
  const size_t header_len = hdr.pn_offset + pn_len;
  if (pkt.size() < header_len + kAeadTagSize) return false;
  return (*opener)->open(decode_packet_number(0, truncated, pn_len), 0,
                         Bytes(pkt.data(), header_len), pkt.data() + header_len,
                         pkt.size() - header_len);
}

// RFC 9000 §8.1.3, §10.2.3: CONNECTION_CLOSE(INVALID_TOKEN) in a server Initial under the
// Initial keys of the client's DCID, built without creating a connection. It is far smaller
// than the 1200-byte Initial that triggered it, so it cannot amplify, and the stateless queue
// bounds how many wait.
void Endpoint::send_invalid_token_close(const SocketAddress& local, const SocketAddress& remote,
                                        const PacketHeader& hdr) {
  if (stateless_.size() >= config_.max_stateless_queue) {
    ++stats_.datagrams_dropped;
    return;
  }
  auto protector = PacketProtector::create(
      CipherSuite::kAes128Gcm, derive_initial_secrets(hdr.version, hdr.dcid.view()).server,
      hdr.version, config_.connection.aead);
  if (!protector) return;
  ConnectionId scid;
  scid.len = std::max<uint8_t>(config_.connection.cid_length, 8);
  random_.fill(MutBytes(scid.bytes.data(), scid.len));
  constexpr size_t kPnLen = 4;
  std::vector<uint8_t> bytes(128 + 2 * kMaxCidLength);
  Writer w(bytes);
  auto layout = write_long_header(w, hdr.version, LongType::kInitial, hdr.scid, scid, {}, kPnLen,
                                  0);
  if (!layout) return;
  const size_t header_len = w.written();
  Writer fw(MutBytes(bytes.data() + header_len, bytes.size() - header_len - kAeadTagSize));
  static constexpr std::string_view kReason = "invalid Retry token";
  ConnectionCloseFrame f;
  f.error_code = err::kInvalidToken;
  f.reason = Bytes(reinterpret_cast<const uint8_t*>(kReason.data()), kReason.size());
  if (!encode_frame(fw, f)) return;
  const size_t payload_len = fw.written();  // > 4 bytes: enough for the header sample
  const size_t total = header_len + payload_len + kAeadTagSize;
  if (!patch_length(bytes, *layout, kPnLen + payload_len + kAeadTagSize) ||
      !(*protector)->seal(0, 0, Bytes(bytes.data(), header_len), bytes.data() + header_len,
                          payload_len) ||
      !(*protector)->protect_header(bytes.data(), total, layout->pn_offset, kPnLen)) {
    return;
  }
  bytes.resize(total);
  queue_stateless(local, remote, std::move(bytes));
  ++stats_.invalid_token_closes;
}

std::optional<Transmit> Endpoint::poll_transmit(Instant now, MutBytes buffer,
                                                size_t max_segments) {
  if (!stateless_.empty()) {
    Stateless s = std::move(stateless_.front());
    stateless_.pop_front();
    size_t n = std::min(s.bytes.size(), buffer.size());
    std::memcpy(buffer.data(), s.bytes.data(), n);
    return Transmit{s.local, s.remote, 0, n, 0};
  }
  settle();
  // Round-robin over the connections that may send: one that sends goes to the back, one that
  // has nothing leaves until something touches it again (a datagram, its deadline, the
  // application). Each is asked at most once per call.
  for (size_t n = schedule_.ready_count(); n > 0; --n) {
    auto h = schedule_.pop_ready();
    if (!h) break;
    Entry& e = conns_.at(*h);
    auto t = e.conn->poll_transmit(now, buffer, max_segments);
    if (t) {
      // The datagram may carry NEW_CONNECTION_ID frames for CIDs issued since the last
      // datagram in (an API call such as retire_local_cids): routed before the peer uses them.
      refresh_routes(*h);
      schedule_.requeue(*h);
      note_activity(*h, e);
    }
    // Sending (or finding nothing to send) moves its pacer, loss and ACK deadlines.
    if (auto at = observe(*h)) schedule_.set_deadline(*h, *at);
    if (t) return t;
  }
  return std::nullopt;
}

Instant Endpoint::next_timeout() const {
  settle();
  return schedule_.next_deadline();
}

void Endpoint::on_timeout(Instant now) {
  token_now_ = now;
  settle();
  // Only the due connections; each runs once (its next deadline is queued by the next settle).
  while (auto h = schedule_.pop_due(now)) {
    Entry& e = conns_.at(*h);
    e.conn->on_timeout(now);
    schedule_.touch(*h);
    note_activity(*h, e);
    refresh_routes(*h);
  }
}

std::optional<ConnectionHandle> Endpoint::accept() {
  if (accept_queue_.empty()) return std::nullopt;
  ConnectionHandle h = accept_queue_.front();
  accept_queue_.pop_front();
  return h;
}

Connection* Endpoint::connection(ConnectionHandle h) {
  auto it = conns_.find(h);
  if (it == conns_.end()) return nullptr;
  schedule_.touch(h);
  return it->second.conn.get();
}

void Endpoint::touch(ConnectionHandle h) {
  if (conns_.contains(h)) schedule_.touch(h);
}

std::vector<ConnectionHandle> Endpoint::reap_closed() {
  settle();
  std::vector<ConnectionHandle> reaped;
  // A connection only closes in a call (a timer, a datagram, a stateless reset), which touched
  // it: the closed ones are all in closed_.
  for (ConnectionHandle h : closed_) {
    auto it = conns_.find(h);
    if (it == conns_.end()) continue;
    Entry& e = it->second;
    for (const auto& c : e.routed) by_cid_.erase(c);
    std::vector<ResetToken> tokens;
    e.conn->peer_reset_tokens(tokens);
    by_reset_token_.remove(h, tokens);
    if (e.original_dcid) {
      auto o = by_original_dcid_.find(*e.original_dcid);
      if (o != by_original_dcid_.end() && o->second == h) by_original_dcid_.erase(o);
    }
    if (e.half_open) --half_open_;
    const bool listed = e.activity_listed;
    conns_.erase(it);
    schedule_.remove(h);
    if (track_activity_ && !listed) activity_.push_back(h);
    reaped.push_back(h);
  }
  closed_.clear();
  return reaped;
}

}  // namespace quic
