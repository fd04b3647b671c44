// A WebTransport client and server (webtransport::Host on h3::Session) over the virtual-time
// simulator (tests/h3/h3_fixture.h), with per-side event records and hooks.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "h3_fixture.h"
#include "webtransport/host.h"

namespace wttest {

using webtransport::Event;
using webtransport::EventKind;

struct WtPeer {
  h3test::Peer* peer = nullptr;
  std::unique_ptr<webtransport::Host> host;
  std::vector<Event> events;
  std::function<void(WtPeer&, const Event&)> on_event;  // after it is recorded
  std::function<void(WtPeer&)> on_tick;
  bool auto_accept = true;  // server: accept every request

  webtransport::Host& wt() { return *host; }
  size_t count(EventKind k) const;
  const Event* find(EventKind k, uint64_t session_or_stream) const;
  quic::Instant now{};
};

struct WtOptions {
  webtransport::Config client, server;
  // Applied after the WebTransport defaults: tests may break them on purpose.
  std::function<void(h3test::PairOptions&)> tweak;
};

class WtPair {
 public:
  explicit WtPair(WtOptions o = {});
  bool run_until(const std::function<bool()>& done,
                 quic::Duration limit = std::chrono::seconds(20)) {
    return pair_->run_until(done, limit);
  }
  // Runs until the client's kReady.
  bool ready();
  // Connects one session (client) and runs until it is established; nullopt on failure.
  std::optional<uint64_t> open_session(const std::string& path = "/wt");
  WtPeer client, server;
  h3test::Pair& pair() { return *pair_; }

 private:
  std::unique_ptr<h3test::Pair> pair_;
};

// Reads everything buffered on a stream; appends to `out`; true once the FIN was read.
bool drain(webtransport::Host& h, uint64_t stream_id, std::string& out);
std::string pattern(size_t n, char seed);  // deterministic bytes
quic::Bytes bytes(std::string_view s);

}  // namespace wttest
