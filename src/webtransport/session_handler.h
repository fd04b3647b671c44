// The h3::StreamHandler of one WebTransport session's CONNECT stream: it only forwards the h3
// layer's callbacks to its Host, which keeps the session's state (host.h).
#pragma once

#include "webtransport/host.h"

namespace webtransport {

class SessionHandler : public h3::StreamHandler {
 public:
  SessionHandler(Host& host, uint64_t session_id) : host_(host), id_(session_id) {}

  std::span<const h3::CapsuleType> capsule_types() const override { return capsule_table(); }
  void on_established(h3::Outbox&) override { host_.on_established(id_); }
  void on_capsule(h3::Outbox&, uint64_t type, quic::Bytes value) override {
    host_.on_capsule(id_, type, value);
  }
  void on_skipped_capsules(h3::Outbox&) override { host_.on_skipped_capsules(id_); }
  void on_datagram(h3::Outbox&, quic::Bytes payload) override { host_.on_datagram(id_, payload); }
  bool owns_streams() const override { return true; }
  void on_stream_opened(h3::Outbox&, uint64_t id, bool bidi) override {
    host_.on_stream_opened(id_, id, bidi);
  }
  void on_stream_data(h3::Outbox&, uint64_t id, quic::Bytes data, bool fin) override {
    host_.on_stream_data(id_, id, data, fin);
  }
  void on_stream_reset(h3::Outbox&, uint64_t id, uint64_t code) override {
    host_.on_stream_reset(id, code);
  }
  void on_stream_stop_sending(h3::Outbox&, uint64_t id, uint64_t code) override {
    host_.on_stop_sending(id, code);
  }
  void on_closed(uint64_t code) override { host_.on_handler_closed(id_, code); }

 private:
  Host& host_;
  uint64_t id_;
};

}  // namespace webtransport
