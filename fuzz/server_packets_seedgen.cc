// Writes the server_packets seed corpus: datagrams a real client Connection (null crypto)
// sends, recorded in each mode of the fuzz target, plus crafted packets with one frame type
// each. Usage: fuzz_server_packets_seedgen <corpus dir>. Exits non-zero if a 1-RTT seed would
// not reach the established server connection (the recorded connection IDs went stale).
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "seed_support.h"
#include "server_packets_driver.h"
#include "wire/frame.h"
#include "wire/packet.h"

namespace {

using namespace fuzz_server_packets;
using fuzz_seeds::Bytes8;
using fuzz_seeds::F;
using fuzz_seeds::Record;
using fuzz_seeds::short_packet;

std::string g_dir;
int g_failures = 0;

void write_seed(const std::string& name, Mode mode, const std::vector<Record>& records) {
  fuzz_seeds::write_records(g_dir, name, {static_cast<uint8_t>(mode)}, records);
}

// A session whose client datagrams are recorded from the moment `recording` is set.
struct Recorder {
  Session s;
  std::vector<Record> got;
  bool recording = false;
  explicit Recorder(Mode mode = Mode::kFresh) : s(mode) {
    s.on_client_datagram = [this](std::span<const uint8_t> d) {
      if (recording) got.push_back({1, Bytes8(d.begin(), d.end())});
    };
  }
  quic::Connection* client() { return s.client()->connection(*s.client_handle()); }
};

quic::PacketHeader header_of(const Bytes8& d) {
  auto h = quic::parse_header(quic::Bytes(d.data(), d.size()), 8);
  if (!h) die("recorded datagram does not parse");
  return *h;
}

Bytes8 long_packet(quic::LongType type, const quic::ConnectionId& dcid,
                   const quic::ConnectionId& scid, uint64_t pn, const Bytes8& frames,
                   size_t pad_to = 0) {
  Bytes8 b(1500);
  quic::Writer w(quic::MutBytes(b.data(), b.size()));
  auto layout = quic::write_long_header(w, quic::kVersion1, type, dcid, scid, {}, 4, pn, 2);
  if (!layout) die("long header");
  w.bytes(quic::Bytes(frames.data(), frames.size()));
  size_t body = w.written() - layout->pn_offset - layout->pn_len;
  if (w.written() + quic::kAeadTagSize < pad_to) w.zeros(pad_to - w.written() - quic::kAeadTagSize);
  body = w.written() - layout->pn_offset - layout->pn_len;
  w.zeros(quic::kAeadTagSize);
  b.resize(w.written());
  if (!quic::patch_length(quic::MutBytes(b.data(), b.size()), *layout,
                          layout->pn_len + body + quic::kAeadTagSize)) {
    die("patch length");
  }
  return b;
}

// Replays a mode-2 seed's datagrams and checks the server connection counted them as received.
void check_established(const std::string& name, const std::vector<Record>& records,
                       Mode mode = Mode::kEstablished) {
  Session s(mode);
  if (!s.prefix(mode)) die("established prefix failed");
  auto* c = s.server_conn();
  uint64_t before = c->stats().packets_received, dropped = c->stats().packets_dropped;
  s.deliver(records[0].ctl, std::span<uint8_t>(const_cast<uint8_t*>(records[0].bytes.data()),
                                               records[0].bytes.size()));
  c = s.server_conn();
  if (c == nullptr || c->stats().packets_received == before ||
      c->stats().packets_dropped != dropped) {
    std::fprintf(stderr, "seed %s: first datagram was not received by the connection\n",
                 name.c_str());
    ++g_failures;
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus dir>\n", argv[0]);
    return 2;
  }
  g_dir = argv[1];

  // --- mode 1 prefix: the client's first flight and its answer to the server's flight
  Recorder hs;
  hs.recording = true;
  if (!hs.s.prefix(Mode::kHandshake)) die("handshake prefix failed");
  std::vector<Record> client_initial = hs.got;
  hs.got.clear();
  hs.s.client_to_server();  // Finished + ACKs
  std::vector<Record> client_finished = hs.got;
  if (client_initial.empty() || client_finished.empty()) die("no client datagrams");
  write_seed("fresh-01-client-initial", Mode::kFresh, client_initial);
  write_seed("handshake-01-client-finished", Mode::kHandshake, client_finished);

  auto ih = header_of(client_initial[0].bytes);
  auto fh = header_of(client_finished[0].bytes);  // DCID: the server's chosen CID
  const quic::ConnectionId server_cid = fh.dcid, client_cid = fh.scid;

  // --- mode 0 extras
  {
    std::vector<Record> r = client_initial;
    r.push_back(client_initial[0]);  // duplicate Initial
    r.push_back({20, client_finished[0].bytes});
    write_seed("fresh-02-initial-duplicate-then-finished", Mode::kFresh, r);
    Bytes8 vn = client_initial[0].bytes;
    vn[1] = 0x1a, vn[2] = 0x2a, vn[3] = 0x3a, vn[4] = 0x4a;  // unknown version: VN
    write_seed("fresh-03-unknown-version", Mode::kFresh, {{1, vn}});
    Bytes8 sh =
        short_packet(quic::ConnectionId::from(ih.dcid.view()), 0, F{}.raw({0x01}).n(30, 0).b);
    write_seed("fresh-04-short-header-unknown-cid", Mode::kFresh, {{1, sh}});
    // An Initial too small to be a client's first (RFC 9000 §14.1: must be dropped).
    Bytes8 small(client_initial[0].bytes.begin(), client_initial[0].bytes.begin() + 200);
    write_seed("fresh-05-short-initial", Mode::kFresh, {{1, small}});
  }

  // --- mode 1 crafted Handshake packets (server is waiting for the client's Finished)
  {
    using quic::LongType;
    write_seed("handshake-02-ping-ack-padding", Mode::kHandshake,
               {{1, long_packet(LongType::kHandshake, server_cid, client_cid, 0,
                                F{}.raw({0x01}).raw({0x02}).v(0).v(0).v(0).v(0).n(20, 0).b)}});
    write_seed("handshake-03-crypto-out-of-order", Mode::kHandshake,
               {{1, long_packet(LongType::kHandshake, server_cid, client_cid, 1,
                                F{}.raw({0x06}).v(4000).v(16).n(16, 0x14).b)},
                {1, long_packet(LongType::kHandshake, server_cid, client_cid, 2,
                                F{}.raw({0x06}).v(0).v(8).raw({0x14, 0, 0, 32, 1, 2, 3, 4}).b)}});
    write_seed("handshake-04-connection-close", Mode::kHandshake,
               {{1, long_packet(LongType::kHandshake, server_cid, client_cid, 3,
                                F{}.raw({0x1c}).v(0x0a).v(0x06).v(3).str("bye").b)}});
    write_seed("handshake-05-initial-ack-ranges", Mode::kHandshake,
               {{1, long_packet(LongType::kInitial, server_cid, client_cid, 5,
                                F{}.raw({0x03}).v(2).v(0).v(1).v(0).v(0).v(0).v(0).v(1).v(2).v(3).b,
                                1200)}});
    // 1-RTT before the handshake completes (the server has no 1-RTT read keys yet).
    write_seed("handshake-06-early-1rtt", Mode::kHandshake,
               {{1, short_packet(server_cid, 0, F{}.raw({0x08}).v(0).str("early").b)}});
  }

  // --- mode 2: recorded 1-RTT datagrams of an established connection
  Recorder est;
  if (!est.s.prefix(Mode::kEstablished)) die("established prefix failed");
  est.recording = true;
  auto sid = est.client()->open_stream(true);
  if (!sid) die("open_stream");
  std::string req = "GET /index.html\r\n";
  (void)est.client()->stream_write(
      *sid, quic::Bytes(reinterpret_cast<const uint8_t*>(req.data()), req.size()), true);
  est.s.client_to_server();
  std::vector<Record> request = est.got;
  est.got.clear();
  auto uni = est.client()->open_stream(false);
  Bytes8 blob(6000);
  for (size_t i = 0; i < blob.size(); ++i) blob[i] = static_cast<uint8_t>(i * 7);
  if (uni) (void)est.client()->stream_write(*uni, quic::Bytes(blob.data(), blob.size()), true);
  (void)est.client()->send_datagram(quic::Bytes(blob.data(), 100));
  est.s.advance(std::chrono::milliseconds(1));
  est.s.client_to_server();
  std::vector<Record> bulk = est.got;
  if (request.empty() || bulk.empty()) die("no 1-RTT datagrams");
  write_seed("established-01-stream-request", Mode::kEstablished, request);
  write_seed("established-02-uni-stream-and-datagram", Mode::kEstablished, bulk);
  check_established("established-01-stream-request", request);
  {
    std::vector<Record> all = client_initial;
    all.insert(all.end(), client_finished.begin(), client_finished.end());
    all.insert(all.end(), request.begin(), request.end());
    write_seed("fresh-06-full-flight-and-stream", Mode::kFresh, all);
  }

  // --- mode 2: one crafted 1-RTT packet per frame type (RFC 9000 §19 and extensions)
  const quic::ConnectionId dcid = header_of(request[0].bytes).dcid;
  uint64_t pn = 100;
  auto one = [&](const std::string& name, const Bytes8& frames, uint8_t ctl = 1, bool kp = false) {
    std::vector<Record> r{{ctl, short_packet(dcid, pn++, frames, kp)}};
    write_seed("established-" + name, Mode::kEstablished, r);
    check_established(name, r);
  };
  one("10-stream-offsets-fin",
      F{}.raw({0x0f}).v(0).v(5).v(3).str("abc").raw({0x0e}).v(0).v(0).v(5).str("hello").b);
  one("11-stream-gap-and-overlap", F{}.raw({0x0e})
                                       .v(4)
                                       .v(100)
                                       .v(4)
                                       .str("late")
                                       .raw({0x0a})
                                       .v(4)
                                       .v(3)
                                       .str("abc")
                                       .raw({0x0e})
                                       .v(4)
                                       .v(1)
                                       .v(10)
                                       .n(10, 'x')
                                       .b);
  one("12-stream-server-uni-id", F{}.raw({0x0a}).v(3).v(2).str("no").b);
  one("13-stream-beyond-limit", F{}.raw({0x0a}).v(4 * 1000).v(1).str("x").b);
  one("14-ack-ranges-ecn", F{}.raw({0x03}).v(3).v(5).v(1).v(0).v(0).v(0).v(1).v(1).v(2).b);
  one("15-ack-unsent-pn", F{}.raw({0x02}).v(1000000).v(0).v(0).v(0).b);
  one("16-reset-stop-sending",
      F{}.raw({0x0a}).v(8).v(2).str("hi").raw({0x04}).v(8).v(7).v(2).raw({0x05}).v(8).v(9).b);
  one("17-flow-control", F{}.raw({0x10})
                             .v(1 << 24)
                             .raw({0x11})
                             .v(0)
                             .v(1 << 22)
                             .raw({0x12})
                             .v(200)
                             .raw({0x13})
                             .v(200)
                             .raw({0x14})
                             .v(1000)
                             .raw({0x15})
                             .v(0)
                             .v(10)
                             .raw({0x16})
                             .v(50)
                             .raw({0x17})
                             .v(50)
                             .b);
  {
    F f;
    f.raw({0x18}).v(1).v(0).raw({8}).n(8, 0xa1).n(16, 0xb1);
    f.raw({0x18}).v(2).v(1).raw({8}).n(8, 0xa2).n(16, 0xb2);
    one("18-new-connection-id-retire-prior", f.b);
  }
  one("19-retire-connection-id", F{}.raw({0x19}).v(0).raw({0x19}).v(5).b);
  one("20-path-challenge-response", F{}.raw({0x1a}).n(8, 0x42).raw({0x1b}).n(8, 0x43).b);
  one("21-path-challenge-new-port", F{}.raw({0x1a}).n(8, 0x44).raw({0x01}).b, 0x81);
  one("22-connection-close-transport", F{}.raw({0x1c}).v(0x07).v(0x08).v(5).str("error").b);
  one("23-connection-close-app", F{}.raw({0x1d}).v(77).v(0).b);
  one("24-handshake-done-from-client", F{}.raw({0x1e}).b);
  one("25-new-token-from-client", F{}.raw({0x07}).v(4).raw({1, 2, 3, 4}).b);
  one("26-datagram-frames", F{}.raw({0x31}).v(3).str("dgm").raw({0x30}).str("tail").b);
  one("27-crypto-1rtt", F{}.raw({0x06}).v(0).v(4).raw({0x04, 0, 0, 0}).b);
  one("28-ping-padding", F{}.raw({0x01}).n(1100, 0).b);
  one("29-key-phase-flip", F{}.raw({0x01}).b, 1, true);
  one("30-ack-frequency-immediate-ack",
      F{}.raw({0x40, 0xaf}).v(1).v(10).v(25000).v(1).raw({0x1f}).b);
  one("31-multipath-path-ack", F{}.raw({0x40, 0x3e}).v(0).v(3).v(0).v(0).v(0).b);
  one("32-reset-stream-at",
      F{}.raw({0x0a}).v(12).v(4).str("abcd").raw({0x40, 0x24}).v(12).v(1).v(10).v(2).b);
  one("33-unknown-frame-type", F{}.raw({0x40, 0x99}).v(0).b);
  one("34-stream-data-blocked-unopened", F{}.raw({0x15}).v(16).v(0).raw({0x11}).v(20).v(0).b);
  // Several packets, with time between them so ACKs, PTOs and idle timers run.
  {
    std::vector<Record> r;
    for (int i = 0; i < 8; ++i) {
      r.push_back(
          {static_cast<uint8_t>(30 + i * 10),
           short_packet(
               dcid, pn++,
               F{}.raw({0x0e}).v(0).v(static_cast<uint64_t>(i) * 100).v(100).n(100, 'a' + i).b)});
    }
    write_seed("established-40-stream-over-time", Mode::kEstablished, r);
  }

  // --- mode 3: multipath negotiated. A recorded second path (PATH_CHALLENGE from the second
  // client port on path ID 1), then one crafted 1-RTT packet per multipath frame type
  // (draft-ietf-quic-multipath-21 §4) on path 0.
  Recorder mp(Mode::kMultipath);
  if (!mp.s.prefix(Mode::kMultipath)) die("multipath prefix failed");
  mp.recording = true;
  if (!mp.client()->add_path(kClientAddr2, kServerAddr)) die("add_path");
  for (int i = 0; i < 4 && mp.got.empty(); ++i) {
    mp.s.advance(std::chrono::milliseconds(5));
    mp.s.client_to_server();
  }
  if (mp.got.empty()) die("no datagram on the second path");
  for (auto& r : mp.got) r.ctl |= 0x80;
  write_seed("multipath-01-open-second-path", Mode::kMultipath, mp.got);
  const quic::ConnectionId mp_dcid = dcid;  // the fixed-seed CIDs match mode 2's
  auto mpone = [&](const std::string& name, const Bytes8& frames) {
    std::vector<Record> r{{1, short_packet(mp_dcid, pn++, frames)}};
    write_seed("multipath-" + name, Mode::kMultipath, r);
    check_established(name, r, Mode::kMultipath);
  };
  namespace ft = quic::frame_type;
  mpone("10-path-ack-ecn", F{}.v(ft::kPathAckEcn).v(0).v(2).v(0).v(0).v(2).v(1).v(0).v(0).b);
  mpone("11-path-abandon", F{}.v(ft::kPathAbandon).v(1).v(0).v(ft::kPathAbandon).v(0).v(9).b);
  mpone("12-path-status", F{}.v(ft::kPathStatusBackup).v(0).v(1).v(ft::kPathStatusAvailable)
                              .v(0).v(1).v(ft::kPathStatusBackup).v(3).v(5).b);
  {
    F f;
    f.v(ft::kPathNewConnectionId).v(1).v(2).v(1).raw({8}).n(8, 0xc1).n(16, 0xd1);
    f.v(ft::kPathNewConnectionId).v(9).v(0).v(0).raw({8}).n(8, 0xc2).n(16, 0xd2);
    mpone("13-path-new-connection-id", f.b);
  }
  mpone("14-path-retire-connection-id",
        F{}.v(ft::kPathRetireConnectionId).v(1).v(0).v(ft::kPathRetireConnectionId).v(2).v(7).b);
  mpone("15-max-path-id-and-blocked", F{}.v(ft::kMaxPathId)
                                          .v(12)
                                          .v(ft::kPathsBlocked)
                                          .v(7)
                                          .v(ft::kPathCidsBlocked)
                                          .v(1)
                                          .v(2)
                                          .v(ft::kMaxPathId)
                                          .v(3)
                                          .b);
  if (g_failures != 0) {
    std::fprintf(stderr, "%d seed(s) failed their check\n", g_failures);
    return 1;
  }
  return 0;
}
