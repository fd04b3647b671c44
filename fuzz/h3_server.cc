// A whole HTTP/3 server fed stream data: a raw QUIC client (ALPN "h3", no HTTP/3 session) and a
// server whose connection is wrapped in an h3::Session, shaking hands in memory with null packet
// protection, fresh for every input so inputs reproduce. The input is a list of records the
// client writes on its streams:
//   u8 ctl | u8 length | length bytes (truncated at the end)
//   ctl bits 0-1: which stream of its kind (4 of each), bit 2: unidirectional, bit 3: FIN,
//   bits 4-7: milliseconds the clock advances before the write.
// The server answers every request head with a small response and reads every body; it
// accepts WebTransport-style session streams and has echoing handlers registered for
// "webtransport" (owns streams) and "connect-udp" (capsules, datagrams). Checks:
// no crash, no hang (every loop is bounded), the session only ever closes with an H3/QPACK
// code.
// Built with FUZZ_WEBTRANSPORT_HOST (target fuzz_wt_server), the server runs a
// webtransport::Host instead of the echoing handlers, with small limits: it accepts every
// session, echoes bidi streams and datagrams, answers uni streams with one of its own, and
// closes a session whose stream was reset, so every Host path meets hostile input.
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <vector>

#include "core/endpoint.h"
#include "fuzz_tls.h"
#include "h3/session.h"
#ifdef FUZZ_WEBTRANSPORT_HOST
#include "webtransport/host.h"
#endif

namespace {

// Echoes what it gets through its Outbox, so the extension paths send as well as receive.
class EchoHandler : public h3::StreamHandler {
 public:
  explicit EchoHandler(bool owns) : owns_(owns) {}
  void on_capsule(h3::Outbox& out, uint64_t type, quic::Bytes v) override {
    (void)out.send_capsule(type, v);
  }
  void on_datagram(h3::Outbox& out, quic::Bytes p) override { (void)out.send_datagram(p); }
  bool owns_streams() const override { return owns_; }
  void on_stream_data(h3::Outbox& out, uint64_t id, quic::Bytes d, bool fin) override {
    if ((id & 2) == 0) (void)out.write(id, d, fin);
    if (d.size() > 100) (void)out.pause(id);
    if (fin) (void)out.open_stream(false);
  }

 private:
  bool owns_;
};

h3::SessionConfig server_config() {
  h3::SessionConfig c;
  c.enable_connect_protocol = c.enable_datagrams = c.accept_session_streams = true;
  c.max_pending_session_streams = 2;
  c.max_queued_datagram_bytes = 4096;
  return c;
}

constexpr size_t kMaxRecords = 64;
constexpr int kMaxRounds = 16;         // datagram exchanges after each write
constexpr size_t kMaxTransmits = 256;  // per side per round
constexpr size_t kMaxEvents = 1024;    // per drain

const quic::SocketAddress kClient = quic::SocketAddress::v4(192, 0, 2, 1, 50000);
const quic::SocketAddress kServer = quic::SocketAddress::v4(192, 0, 2, 2, 443);

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "h3_server: %s\n", what);
  std::abort();
}

const quic::TestTlsPair& tls() {
  return fuzz_support::test_tls("h3");
}

quic::ConnectionConfig config() {
  quic::ConnectionConfig c;
  c.aead = quic::AeadBackend::kNull;
  c.max_datagram_frame_size = 1200;
  return c;
}

class Run {
 public:
  Run()
      : crand_(1),
        srand_(2),
        client_(quic::EndpointConfig{false, config(), tls().client}, crand_),
        server_(quic::EndpointConfig{true, config(), tls().server}, srand_) {}

  bool handshake() {
    auto h = client_.connect(kClient, kServer, now_);
    if (!h) return false;
    ch_ = *h;
    for (int i = 0; i < 32; ++i) {
      exchange();
      quic::Connection* c = client_.connection(ch_);
      if (c && c->handshake_complete() && session_) return true;
    }
    return false;
  }

  void write(uint8_t ctl, quic::Bytes data) {
    now_ += std::chrono::milliseconds(ctl >> 4);
    quic::Connection* c = client_.connection(ch_);
    if (c == nullptr || c->is_closed()) return;
    bool uni = (ctl & 0x04) != 0;
    auto& ids = uni ? uni_ : bidi_;
    size_t slot = ctl & 0x03;
    while (ids.size() <= slot) {
      auto id = c->open_stream(!uni);
      if (!id) return;
      ids.push_back(*id);
    }
    (void)c->stream_write(ids[slot], data, (ctl & 0x08) != 0);
    for (int i = 0; i < kMaxRounds; ++i) exchange();
  }

 private:
  void exchange() {
    now_ += std::chrono::milliseconds(1);
    move(client_, server_, kClient, kServer);
    serve();
    move(server_, client_, kServer, kClient);
    drain_client();
    for (auto* ep : {&client_, &server_}) {
      if (ep->next_timeout() <= now_) ep->on_timeout(now_);
    }
  }

  void move(quic::Endpoint& from, quic::Endpoint& to, const quic::SocketAddress& src,
            const quic::SocketAddress& dst) {
    for (size_t n = 0; n < kMaxTransmits; ++n) {
      auto t = from.poll_transmit(now_, buf_);
      if (!t) break;
      to.on_datagram(now_, dst, src, 0, quic::MutBytes(buf_.data(), t->size));
    }
  }

  void drain_client() {
    quic::Connection* c = client_.connection(ch_);
    if (c == nullptr) return;
    for (size_t n = 0; n < kMaxEvents; ++n) {
      auto e = c->poll_event();
      if (!e) break;
      if (e->kind == quic::EventKind::kStreamReadable) {
        bool fin = false;
        while (true) {
          auto r = c->stream_read(e->stream_id, quic::MutBytes(buf_.data(), buf_.size()), &fin);
          if (!r || *r == 0) break;
        }
      }
    }
  }

  void serve() {
    if (!sh_) sh_ = server_.accept();
    if (!sh_) return;
    quic::Connection* c = server_.connection(*sh_);
    if (c == nullptr) return;
#ifdef FUZZ_WEBTRANSPORT_HOST
    if (!session_) {
      webtransport::Config wc;
      wc.max_sessions = 4;
      wc.initial_max_streams_bidi = wc.initial_max_streams_uni = 4;
      wc.initial_max_data = 4096;
      wc.max_stream_buffer = 1024;
      wc.max_datagrams = 8;
      h3::SessionConfig cfg = server_config();
      webtransport::configure_h3(cfg, wc);
      session_ = std::make_unique<h3::Session>(*c, h3::Role::kServer, cfg);
      host_ = std::make_unique<webtransport::Host>(*session_, wc);
    }
#else
    if (!session_) {
      session_ = std::make_unique<h3::Session>(*c, h3::Role::kServer, server_config());
      for (bool owns : {true, false}) {
        session_->register_protocol(owns ? "webtransport" : "connect-udp",
                                    [owns](uint64_t, std::span<const h3::Field>) {
                                      return std::make_unique<EchoHandler>(owns);
                                    });
      }
    }
#endif
    for (size_t n = 0; n < kMaxEvents; ++n) {
      auto e = c->poll_event();
      if (!e) break;
      session_->on_transport_event(*e, now_);
    }
    session_->poll(now_);
    for (size_t n = 0; n < kMaxEvents; ++n) {
      auto e = session_->poll_event();
      if (!e) break;
#ifdef FUZZ_WEBTRANSPORT_HOST
      if (host_->on_h3_event(*e, now_)) continue;
#endif
      if (e->kind == h3::EventKind::kHeaders) {
        const std::array<h3::Field, 1> status{h3::Field{":status", "200"}};
        const uint8_t body[] = {'o', 'k'};
        (void)session_->send_response(e->stream_id, status, quic::Bytes(body, sizeof(body)));
      } else if (e->kind == h3::EventKind::kDatagram) {
        while (session_->recv_datagram(quic::MutBytes(buf_.data(), 64))) {
        }
      } else if (e->kind == h3::EventKind::kData || e->kind == h3::EventKind::kFinished) {
        bool fin = false;
        while (session_->read_body(e->stream_id, quic::MutBytes(buf_.data(), buf_.size()), &fin) >
               0) {
        }
      }
    }
#ifdef FUZZ_WEBTRANSPORT_HOST
    serve_webtransport();
#endif
  }

#ifdef FUZZ_WEBTRANSPORT_HOST
  void serve_webtransport() {
    for (size_t n = 0; n < kMaxEvents; ++n) {
      auto e = host_->poll_event();
      if (!e) break;
      using K = webtransport::EventKind;
      if (e->kind == K::kRequest) {
        (void)host_->accept(e->session_id);
      } else if (e->kind == K::kReadable) {
        auto r = host_->read(e->stream_id, quic::MutBytes(buf_.data(), 512));
        if (r && (e->stream_id & 2) == 0) {
          (void)host_->write(e->stream_id, quic::Bytes(buf_.data(), r->bytes), r->fin);
        } else if (r && r->fin) {
          if (auto u = host_->open_stream(e->session_id, false)) {
            (void)host_->write(*u, quic::Bytes(buf_.data(), r->bytes), true);
          }
        }
      } else if (e->kind == K::kDatagram) {
        while (auto d = host_->recv_datagram(e->session_id, quic::MutBytes(buf_.data(), 64))) {
          size_t len = std::min<size_t>(*d, 64);
          (void)host_->send_datagram(e->session_id, quic::Bytes(buf_.data(), len));
        }
      } else if (e->kind == K::kStreamReset) {
        (void)host_->close_session(e->session_id, 1, "reset");
      }
    }
    session_->poll(now_);
  }

#endif
  quic::SeededRandom crand_, srand_;
  quic::Endpoint client_, server_;
  quic::Instant now_{};
  quic::ConnectionHandle ch_ = 0;
  std::optional<quic::ConnectionHandle> sh_;
  std::unique_ptr<h3::Session> session_;
#ifdef FUZZ_WEBTRANSPORT_HOST
  std::unique_ptr<webtransport::Host> host_;  // after session_: destroyed first
#endif
  std::vector<uint64_t> bidi_, uni_;
  std::vector<uint8_t> buf_ = std::vector<uint8_t>(65536);
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Run run;
  if (!run.handshake()) die("handshake did not complete");
  size_t off = 0;
  for (size_t r = 0; r < kMaxRecords && off + 2 <= size; ++r) {
    uint8_t ctl = data[off];
    size_t len = std::min<size_t>(data[off + 1], size - off - 2);
    run.write(ctl, quic::Bytes(data + off + 2, len));
    off += 2 + len;
  }
  return 0;
}
