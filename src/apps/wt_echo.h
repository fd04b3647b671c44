// The WebTransport echo of `tquic serve --webtransport-echo PATH` (one per connection): a
// session to PATH is accepted (any other path: 404); each bidirectional stream is echoed on
// itself, each unidirectional stream on a new unidirectional stream once its FIN arrived,
// each datagram as a datagram.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "webtransport/host.h"

namespace apps {

// Bytes the echo holds per stream: a unidirectional stream longer than this is reset (its
// echo waits for the FIN); a bidirectional one is read only while less is unsent.
inline constexpr size_t kMaxEchoStreamBytes = 1 << 20;
// The echo's application error code when it gives up on a stream.
inline constexpr uint32_t kEchoTooLong = 1;

// The example page (HTML + JS) served at GET PATH, for a certificate with this SHA-256.
std::string webtransport_echo_page(std::string_view cert_sha256_hex);

class WtEcho {
 public:
  WtEcho(h3::Session& session, const webtransport::Config& config, std::string path,
         std::string peer);
  // Every h3 event goes here first; true: it was WebTransport's.
  bool on_h3_event(const h3::Event& e, quic::Instant now) { return host_.on_h3_event(e, now); }
  // Answers the WebTransport events that arrived; true when there were any.
  bool poll();
  const webtransport::Host& host() const { return host_; }

 private:
  struct Pending {
    std::vector<uint8_t> data;
    size_t off = 0;
    bool fin = false;
    uint64_t session_id = 0;
    bool read_blocked = false;  // bidi: reading stopped at kMaxEchoStreamBytes unsent
    size_t size() const { return data.size() - off; }
  };
  void on_request(const webtransport::Event& e);
  void on_readable(uint64_t session_id, uint64_t stream_id);
  void flush(uint64_t stream_id);
  void echo_datagrams(uint64_t session_id);

  webtransport::Host host_;
  std::string path_, peer_;
  std::map<uint64_t, std::vector<uint8_t>> uni_;  // peer uni streams: bytes until the FIN
  std::map<uint64_t, Pending> out_;               // bytes still to write per stream
  std::vector<uint8_t> buf_;
};

}  // namespace apps
