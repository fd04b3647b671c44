// Hostile-peer test fixture: a lone client Connection and a server Endpoint shake hands on
// ::test::Pair (tests/support/pair.h: sim/ links of 0.5 ms one way, virtual time) with real
// GnuTLS and AeadBackend::kNull packet protection (plaintext payload, zero tag, zero
// header-protection mask); then the test plays a malicious client by writing packets by hand and injecting them
// into the server. This file adds the packet crafting and server-side bookkeeping; moving
// datagrams, stepping time and bounding runs are ::test::Pair's.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/connection.h"
#include "core/endpoint.h"
#include "core/random.h"
#include "wire/frame.h"
#include "support/pair.h"
#include "wire/packet.h"

namespace quic::hostile {

using Datagram = std::vector<uint8_t>;

// Live bytes allocated through the global operator new (the fixture replaces it), so tests can
// assert that a flood does not grow memory without bound.
int64_t live_heap_bytes();
// Allocations made through the global operator new so far (for zero-allocation checks).
uint64_t heap_allocations();

// TLS contexts of the fixture's self-signed "localhost" certificate (server: cert and key;
// client: trust anchor and SNI).
std::shared_ptr<const TlsContext> test_tls_context(bool server,
                                                   const std::vector<std::string>& alpn);

struct PairOptions {
  ConnectionConfig client, server;  // aead is forced to kNull on both
  std::vector<std::string> client_alpn{"hq-interop"};
  std::vector<std::string> server_alpn{"hq-interop"};
  size_t max_connections = 4096;  // the server Endpoint's cap
  RetryPolicy retry = RetryPolicy::kUnderLoad;  // the server Endpoint's Retry policy
  size_t retry_half_open_limit = 256;
  // 0-RTT tests: a server TLS context shared by several pairs (its anti-replay context only
  // gives 0-RTT to tickets issued after it was created), and the client's connect options.
  std::shared_ptr<const TlsContext> server_tls;
  std::shared_ptr<const TlsContext> client_tls;  // e.g. with a client certificate
  ConnectOptions connect;
};

// Both sides offer DATAGRAM frames (RFC 9221) of up to 1200 bytes.
inline PairOptions with_datagrams(PairOptions o = {}) {
  o.client.max_datagram_frame_size = o.server.max_datagram_frame_size = 1200;
  return o;
}

// One packet of a datagram, decoded under null protection.
struct PlainPacket {
  bool long_header = false;
  LongType type = LongType::kInitial;
  ConnectionId dcid, scid;
  uint64_t truncated_pn = 0;
  size_t pn_len = 0;
  std::vector<uint8_t> payload;  // plaintext frames (tag removed)
};
// Splits a datagram into its packets; `short_dcid_len` is the receiver's CID length.
std::vector<PlainPacket> decode_datagram(Bytes datagram, size_t short_dcid_len);
// Every frame of a payload, in order; stops at the first undecodable one. Frames view `payload`.
std::vector<Frame> decode_frames(Bytes payload);
// Encodes frames back to back; empty when one does not encode.
std::vector<uint8_t> encode_frames(std::initializer_list<Frame> frames);
// Bytes in a batch of datagrams.
size_t total_bytes(const std::vector<Datagram>& ds);

struct CloseSeen {
  uint64_t error_code = 0, frame_type = 0;
  bool application = false;
  std::string reason;
};
// The first CONNECTION_CLOSE in a datagram, if any.
std::optional<CloseSeen> find_close(Bytes datagram, size_t short_dcid_len);

// Handcrafted packets (null protection: the tag is 16 zero bytes, no header protection).
// `first_byte_or` is OR-ed into the first byte (e.g. 0x18 sets the short header's reserved bits).
Datagram short_packet(const ConnectionId& dcid, uint64_t pn, Bytes payload,
                      uint8_t first_byte_or = 0);
// A long-header packet; `pad_datagram_to` appends PADDING frames until the datagram has that
// many bytes (the client's 1200-byte Initial rule).
Datagram long_packet(uint32_t version, LongType type, const ConnectionId& dcid,
                     const ConnectionId& scid, uint64_t pn, Bytes payload,
                     size_t pad_datagram_to = 0);

class Pair {
 public:
  explicit Pair(PairOptions options = {});

  Instant now() const { return pair_.now(); }
  // Moves the clock without waking either side.
  void advance(Duration d) { pair_.advance(d); }

  Endpoint& server_endpoint() { return pair_.server_endpoint(); }
  Connection& client() { return *pair_.client(); }
  Connection* server() { return pair_.server(); }
  ::test::Pair& pair() { return pair_; }

  // Steps until nothing is on the wire and neither side wants waking within 100 ms (so delayed
  // ACKs fire), for at most kRunLimits.
  void run();
  static constexpr ::test::Limits kRunLimits{12'800, 20s};
  // run() and report whether both sides completed the handshake.
  bool handshake();

  // Pending datagrams of one side, taken without delivering them (server ones are recorded).
  std::vector<Datagram> poll_client();
  std::vector<Datagram> poll_server(size_t max = ::test::kMaxDatagramsPerTake);
  void deliver_to_server(Datagram d);
  void deliver_to_client(Datagram d);

  // CIDs learnt from the first long-header packets each side sent.
  const ConnectionId& server_cid() const { return server_cid_; }
  const ConnectionId& client_cid() const { return client_cid_; }
  // The client's first Initial datagram (for tests that rebuild Initials).
  const Datagram& client_first_initial() const { return client_first_initial_; }

  // Sends a 1-RTT packet "from the client" with a fresh packet number above any the real
  // client used.
  void inject(Bytes payload, uint8_t first_byte_or = 0);
  void inject_frames(std::initializer_list<Frame> frames);
  // inject_frames, but from another client address (probing, migration); `pn` 0 = the next.
  void inject_frames_from(const SocketAddress& from, std::initializer_list<Frame> frames,
                          uint64_t pn = 0);
  // poll_server with each datagram's destination.
  std::vector<std::pair<SocketAddress, Datagram>> poll_server_addressed();
  const SocketAddress& client_addr() const { return client_addr_; }
  const SocketAddress& server_addr() const { return server_addr_; }
  // A 0-RTT packet "from the client" (to its original DCID) carrying `payload`.
  void inject_zero_rtt(Bytes payload, uint64_t pn);

  // The server connection's transport error code, if it closed.
  std::optional<uint64_t> server_close_code();
  // The CONNECTION_CLOSE in the server's next datagrams (polled now), if any.
  std::optional<CloseSeen> server_close_frame();
  // Every datagram the server has sent so far (including those poll_server took).
  const std::vector<Datagram>& server_sent() const { return server_sent_; }
  // The largest 1-RTT packet number the server has sent (from its short headers).
  std::optional<uint64_t> server_largest_1rtt_pn() const { return server_largest_pn_; }
  // Acknowledges every 1-RTT packet the server sent so far, like an honest client: the
  // numbers the server skipped (RFC 9000 §21.4) stay unacknowledged.
  void ack_all_server_packets();
  // The 1-RTT packet numbers the server has sent so far, ascending.
  const std::set<uint64_t>& server_1rtt_pns() const { return server_pns_; }

  uint64_t next_injected_pn() const { return inject_pn_; }

 private:
  // Reads what both sides sent since the last call (through the links or taken by hand).
  void absorb_sent();
  void record_server_datagram(const Datagram& d);
  void learn_cids(const Datagram& d, bool from_server);
  std::vector<Datagram> payloads(std::vector<sim::Datagram> taken);
  void deliver_from(const SocketAddress& from, Datagram d);

  SocketAddress client_addr_, server_addr_;
  ::test::Pair pair_;
  size_t absorbed_[2] = {0, 0};  // entries of pair_.sent(Dir) already read
  ConnectionId server_cid_, client_cid_;
  Datagram client_first_initial_;
  std::vector<Datagram> server_sent_;
  std::optional<uint64_t> server_largest_pn_;
  std::set<uint64_t> server_pns_;
  uint64_t inject_pn_ = 1'000'000;
};

}  // namespace quic::hostile
