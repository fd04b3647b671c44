// Host: settings and version negotiation, session establishment, capsules and termination.
#include "webtransport/host.h"

#include <algorithm>

#include "webtransport/session_handler.h"

namespace webtransport {

namespace {

std::string_view field(std::span<const h3::Field> fields, std::string_view name) {
  for (const h3::Field& f : fields) {
    if (f.name == name) return f.value;
  }
  return {};
}

}  // namespace

void configure_h3(h3::SessionConfig& c, const Config& wt) {
  c.enable_connect_protocol = true;
  c.enable_datagrams = true;
  c.accept_session_streams = true;
  auto& s = c.extra_settings;
  if (wt.draft02) s.emplace_back(setting::kEnableWebtransportDraft02, 1);
  if (wt.draft07)
    s.emplace_back(setting::kMaxSessionsDraft07, std::max<uint64_t>(wt.max_sessions, 1));
  if (wt.draft15) {
    s.emplace_back(setting::kWtEnabled, 1);
    if (wt.initial_max_streams_uni != 0) {
      s.emplace_back(setting::kInitialMaxStreamsUni, wt.initial_max_streams_uni);
    }
    if (wt.initial_max_streams_bidi != 0) {
      s.emplace_back(setting::kInitialMaxStreamsBidi, wt.initial_max_streams_bidi);
    }
    if (wt.initial_max_data != 0) s.emplace_back(setting::kInitialMaxData, wt.initial_max_data);
  }
}

void configure_transport(quic::ConnectionConfig& c) {
  // QUIC DATAGRAM (RFC 9221) and RESET_STREAM_AT, both required by draft §3.1.
  if (c.max_datagram_frame_size == 0) c.max_datagram_frame_size = 65535;
  c.reliable_reset = true;
}

Host::Host(h3::Session& session, Config config) : h3_(session), config_(std::move(config)) {
  auto factory = [this](uint64_t id, std::span<const h3::Field>) { return make_handler(id); };
  if (config_.draft15) h3_.register_protocol(std::string(kTokenDraft15), factory);
  if (config_.draft02 || config_.draft07) h3_.register_protocol(std::string(kTokenLegacy), factory);
}

std::unique_ptr<h3::StreamHandler> Host::make_handler(uint64_t id) {
  connect_streams_.insert(id / 4);
  if (h3_.role() == h3::Role::kServer) {
    // Held until its head is checked and, before that, until the client's SETTINGS arrived
    // (draft §3.1). The QUIC stream limit bounds how many a client can make us hold.
    SessionState& s = sessions_[id];
    s.state = State::kHeld;
    // Streams may name the session before its request is processed: they count already.
    init_receive_limits(s);
  }
  return std::make_unique<SessionHandler>(*this, id);
}

void Host::init_receive_limits(SessionState& s) const {
  s.recv.max_data = config_.initial_max_data;
  s.recv.max_streams[0] = config_.initial_max_streams_bidi;
  s.recv.max_streams[1] = config_.initial_max_streams_uni;
}

bool Host::peer_supports(Version v) const {
  const auto& ps = h3_.peer_settings();
  if (!ps) return false;
  switch (v) {
    case Version::kDraft15:
      return config_.draft15 && ps->get(setting::kWtEnabled) == 1;
    case Version::kDraft07:
      return config_.draft07 && ps->get(setting::kMaxSessionsDraft07).value_or(0) > 0;
    case Version::kDraft02:
      return config_.draft02 && ps->get(setting::kEnableWebtransportDraft02) == 1;
    case Version::kNone:
      break;
  }
  return false;
}

uint64_t Host::session_limit() const {
  // Without flow control only one session at a time (draft §5.1); draft-07 advertises a count.
  bool client = h3_.role() == h3::Role::kClient;
  if (version_ == Version::kDraft15 && flow_control_)
    return std::max<uint64_t>(config_.max_sessions, 1);
  if (version_ == Version::kDraft07) {
    return std::max<uint64_t>(
        1, client ? std::min(peer_max_sessions_, config_.max_sessions) : config_.max_sessions);
  }
  return 1;
}

size_t Host::live_sessions() const {
  return static_cast<size_t>(std::count_if(sessions_.begin(), sessions_.end(), [](const auto& kv) {
    return kv.second.state != State::kHeld && kv.second.state != State::kClosing;
  }));
}

void Host::on_settings() {
  settings_seen_ = true;
  const h3::Settings& ps = *h3_.peer_settings();
  // A boolean above 1 is H3_SETTINGS_ERROR (draft §3.1 for SETTINGS_WT_ENABLED; draft-02's
  // setting was boolean too).
  for (uint64_t id : {setting::kWtEnabled, setting::kEnableWebtransportDraft02}) {
    if (ps.get(id).value_or(0) > 1) {
      return h3_.close(h3::err::kSettingsError, "WebTransport setting above 1", now_);
    }
  }
  // Datagrams and extended CONNECT are required (draft §3.1); the server checks the client's
  // H3_DATAGRAM, the client the server's ENABLE_CONNECT_PROTOCOL as well.
  bool ok = h3_.datagrams_enabled() &&
            (h3_.role() == h3::Role::kServer || h3_.connect_protocol_enabled());
  for (Version v : {Version::kDraft15, Version::kDraft07, Version::kDraft02}) {
    if (ok && peer_supports(v)) {
      version_ = v;
      break;
    }
  }
  peer_max_sessions_ = ps.get(setting::kMaxSessionsDraft07).value_or(0);
  if (version_ == Version::kDraft15) {
    uint64_t uni = ps.get(setting::kInitialMaxStreamsUni).value_or(0);
    uint64_t bidi = ps.get(setting::kInitialMaxStreamsBidi).value_or(0);
    uint64_t data = ps.get(setting::kInitialMaxData).value_or(0);
    bool ours = config_.initial_max_streams_uni != 0 || config_.initial_max_streams_bidi != 0 ||
                config_.initial_max_data != 0;
    flow_control_ = ours && (uni != 0 || bidi != 0 || data != 0);
    peer_initial_ = Flow{};
    peer_initial_.max_data = data;
    peer_initial_.max_streams[0] = bidi;
    peer_initial_.max_streams[1] = uni;
  }
  push({EventKind::kReady, 0, 0, static_cast<uint64_t>(version_)});
  // CONNECTs that overtook the SETTINGS are processed now (processing may end a session).
  std::vector<uint64_t> held;
  for (auto& [id, s] : sessions_) {
    if (s.state == State::kHeld && !s.request.empty()) held.push_back(id);
  }
  for (uint64_t id : held) {
    if (SessionState* s = find_session(id)) process_request(id, *s);
  }
}

void Host::process_request(uint64_t id, SessionState& s) {
  std::string_view protocol = field(s.request, ":protocol");
  if (version_ == Version::kNone) {
    // The client's SETTINGS lack what WebTransport requires: the request is malformed (§3.1).
    return abort_session(id, h3::err::kMessageError);
  }
  auto refuse = [&](uint16_t status) {
    s.state = State::kRequested;
    (void)reject(id, status);
  };
  if (protocol != upgrade_token(version_) || field(s.request, ":scheme") != "https") {
    return refuse(400);
  }
  std::string_view origin = field(s.request, "origin");
  if (!config_.allowed_origins.empty() &&
      std::find(config_.allowed_origins.begin(), config_.allowed_origins.end(), origin) ==
          config_.allowed_origins.end()) {
    return refuse(403);  // draft §3.2
  }
  if (live_sessions() >= session_limit()) {
    // Beyond the limit: the request was not processed (draft §5.2).
    return abort_session(id, h3::err::kRequestRejected);
  }
  s.state = State::kRequested;
  s.draft02_offer = field(s.request, kDraft02OfferHeader) == "1";
  s.send = peer_initial_;
  // A malformed list is ignored (§3.3): the request goes on without protocols.
  s.offered = parse_protocol_list(field(s.request, kAvailableProtocolsHeader))
                  .value_or(std::vector<std::string>{});
  push({EventKind::kRequest, id, 0, 0, false, false, true, {}, s.request, s.offered});
}

bool Host::on_h3_event(const h3::Event& e, quic::Instant now) {
  now_ = now;
  switch (e.kind) {
    case h3::EventKind::kSettings:
      on_settings();
      return false;
    case h3::EventKind::kGoaway:
      for (auto& [id, s] : sessions_) {
        if (s.state == State::kOpen) push({EventKind::kDraining, id});
      }
      return false;
    case h3::EventKind::kClosed:
      for (auto& [id, s] : sessions_) {
        if (s.state != State::kClosing && s.state != State::kHeld) {
          push({EventKind::kClosed, id, 0, e.code, false, false, true, e.reason});
        }
      }
      sessions_.clear();
      streams_.clear();
      want_writable_.clear();
      recent_resets_.clear();
      reset_order_.clear();
      return false;
    default:
      break;
  }
  if (!connect_streams_.contains(e.stream_id / 4) || (e.stream_id & 3) != 0) return false;
  SessionState* s = find_session(e.stream_id);
  if (e.kind == h3::EventKind::kHeaders && s != nullptr && h3_.role() == h3::Role::kServer &&
      s->state == State::kHeld) {
    s->request = e.fields;
    if (settings_seen_) {
      process_request(e.stream_id, *s);
    } else if (std::count_if(sessions_.begin(), sessions_.end(), [](const auto& kv) {
                 return kv.second.state == State::kHeld && !kv.second.request.empty();
               }) > static_cast<std::ptrdiff_t>(kMaxHeldRequests)) {
      abort_session(e.stream_id, h3::err::kRequestRejected);  // beyond what we hold unprocessed
    }
  } else if (e.kind == h3::EventKind::kHeaders && h3_.role() == h3::Role::kClient) {
    // The response head: a 2xx established the session already (on_established); anything
    // else was rejected before this event (on_handler_closed kept the record for the status).
    std::string_view status = field(e.fields, ":status");
    if (s != nullptr && s->state == State::kOpen) {
      on_response(e.stream_id, e.fields);
    } else if (!status.empty() && status[0] != '1' && status[0] != '2') {
      uint64_t code = 0;
      for (char c : status) code = code * 10 + static_cast<uint64_t>(c - '0');
      push({EventKind::kRejected, e.stream_id, 0, code, false, false, true, {}, e.fields});
      forget_session(e.stream_id);
    }
  }
  if (e.kind == h3::EventKind::kReset && s != nullptr && s->state == State::kConnecting) {
    push({EventKind::kRejected, e.stream_id, 0, 0, false, false, true});  // not answered
    forget_session(e.stream_id);
  }
  return true;  // every other event of a CONNECT stream of ours is WebTransport's
}

std::optional<Event> Host::poll_event() {
  check_writable();
  if (events_.empty()) return std::nullopt;
  Event e = std::move(events_.front());
  events_.pop_front();
  return e;
}

Host::SessionState* Host::find_session(uint64_t id) {
  auto it = sessions_.find(id);
  return it == sessions_.end() ? nullptr : &it->second;
}

Host::SessionState* Host::usable_session(uint64_t id) {
  SessionState* s = find_session(id);
  if (s == nullptr || s->state == State::kClosing || s->state == State::kHeld || h3_.is_closed()) {
    return nullptr;
  }
  return s;
}

bool Host::session_open(uint64_t session_id) const {
  auto it = sessions_.find(session_id);
  return it != sessions_.end() && it->second.state == State::kOpen;
}

quic::Result<uint64_t> Host::connect(std::string_view authority, std::string_view path,
                                     std::string_view origin, std::span<const h3::Field> extra) {
  if (h3_.role() != h3::Role::kClient) return fail_with(status::kInvalid, "server role");
  if (h3_.is_closed()) return fail_with(status::kClosed, "connection closed");
  // Not before the server's SETTINGS said which version (draft §3.1, §4.6).
  if (!settings_seen_) return fail_with(status::kWouldBlock, "server SETTINGS not received");
  if (version_ == Version::kNone) {
    return fail_with(status::kInvalid, "the server does not offer WebTransport");
  }
  if (live_sessions() >= session_limit()) {
    return fail_with(status::kWouldBlock, "session limit reached");
  }
  std::vector<h3::Field> fields{{":method", "CONNECT"},
                                {":protocol", std::string(upgrade_token(version_))},
                                {":scheme", "https"},
                                {":authority", std::string(authority)},
                                {":path", std::string(path)}};
  if (!origin.empty()) fields.push_back({"origin", std::string(origin)});
  if (version_ == Version::kDraft02) fields.push_back({std::string(kDraft02OfferHeader), "1"});
  if (!config_.protocols.empty()) {
    std::string list;
    for (const std::string& p : config_.protocols) {
      auto item = format_protocol(p);
      if (!item) return fail_with(status::kInvalid, "a protocol outside printable ASCII");
      list += (list.empty() ? "" : ", ") + *item;
    }
    fields.push_back({std::string(kAvailableProtocolsHeader), list});
  }
  fields.insert(fields.end(), extra.begin(), extra.end());
  // The handler is attached inside send_request: make the state first so it finds it.
  auto id = h3_.send_request(fields, {}, false);
  if (!id) {
    return fail_with(
        id.error().code == quic::err::kStreamLimitError ? status::kWouldBlock : status::kInvalid,
        id.error().reason);
  }
  SessionState& s = sessions_[*id];
  s.state = State::kConnecting;
  s.send = peer_initial_;
  init_receive_limits(s);
  return *id;
}

quic::Status Host::accept(uint64_t session_id, std::span<const h3::Field> extra,
                          std::string_view protocol) {
  SessionState* s = find_session(session_id);
  if (s == nullptr || s->state != State::kRequested) {
    return fail_with(status::kUnknown, "no session request with that ID");
  }
  std::vector<h3::Field> fields{{":status", "200"}};
  if (!protocol.empty()) {
    // §3.3: the server's choice MUST be one of the client's.
    auto item = format_protocol(protocol);
    if (!item || std::find(s->offered.begin(), s->offered.end(), protocol) == s->offered.end()) {
      return fail_with(status::kInvalid, "not one of the client's WT-Available-Protocols");
    }
    fields.push_back({std::string(kProtocolHeader), *item});
  }
  // Draft-02 clients (Chromium) require the version confirmation header.
  if (version_ == Version::kDraft02 && s->draft02_offer) {
    fields.push_back({std::string(kDraftSelectedHeader), std::string(kDraft02Value)});
  }
  fields.insert(fields.end(), extra.begin(), extra.end());
  s->state = State::kOpen;  // before send_response: it calls on_established
  auto r = h3_.send_response(session_id, fields, {}, false);
  // The 2xx also parses capsules the client sent early, which may have ended the session
  // already (its session_closed event is queued): look it up again.
  s = find_session(session_id);
  if (!r) {
    if (s != nullptr) s->state = State::kRequested;
    return fail_with(status::kInvalid, r.error().reason);
  }
  if (s != nullptr && s->state == State::kOpen) announce_streams(session_id, *s);
  return {};
}

quic::Status Host::reject(uint64_t session_id, uint16_t status_code) {
  SessionState* s = find_session(session_id);
  if (s == nullptr || s->state != State::kRequested) {
    return fail_with(status::kUnknown, "no session request with that ID");
  }
  if (status_code / 100 == 2 || status_code < 300 || status_code > 599) {
    return fail_with(status::kInvalid, "a rejection is a 3xx-5xx status");
  }
  std::vector<h3::Field> fields{{":status", std::to_string(status_code)}, {"content-length", "0"}};
  forget_session(session_id);  // the handler's on_closed finds nothing then
  auto r = h3_.send_response(session_id, fields, {}, true);
  if (!r) return fail_with(status::kInvalid, r.error().reason);
  return {};
}

void Host::on_response(uint64_t id, const std::vector<h3::Field>& fields) {
  std::vector<std::string> chosen;
  if (!config_.protocols.empty()) {
    auto p = parse_protocol_item(field(fields, kProtocolHeader));
    bool offered = p && std::find(config_.protocols.begin(), config_.protocols.end(), *p) !=
                            config_.protocols.end();
    // A choice we did not offer, or none when we need one: WT_ALPN_ERROR (§3.3).
    if ((p && !offered) || (!p && config_.require_protocol)) {
      return abort_session(id, err::kAlpnError);
    }
    if (p) chosen.push_back(std::move(*p));
  }
  push({EventKind::kEstablished, id, 0, 0, false, false, true, {}, fields, std::move(chosen)});
}

void Host::on_established(uint64_t id) {
  SessionState* s = find_session(id);
  if (s == nullptr) return;
  if (h3_.role() == h3::Role::kClient && s->state == State::kConnecting) {
    s->state = State::kOpen;
    announce_streams(id, *s);
  }
}

void Host::on_capsule(uint64_t id, uint64_t type, Bytes value) {
  SessionState* s = find_session(id);
  if (s == nullptr) return;
  // Any data after WT_CLOSE_SESSION: H3_MESSAGE_ERROR (§6).
  if (s->close_received) return abort_session(id, h3::err::kMessageError);
  h3::Outbox out = h3_.outbox(id);
  if (type == capsule::kCloseSession) {
    auto c = parse_close_session(value);
    if (!c) return abort_session(id, c.error().code);
    bool reported = s->state == State::kClosing;
    s->close_received = true;
    end_session(id, *s);
    // The recipient closes its side in response (§6).
    (void)out.finish();
    if (!reported) {
      push({EventKind::kClosed, id, 0, c->code, true, false, true, std::move(c->reason)});
    }
    return;
  }
  if (type == capsule::kDrainSession) {
    if (s->state != State::kClosing) push({EventKind::kDraining, id});
    return;
  }
  on_flow_capsule(id, *s, type, value);
}

void Host::on_skipped_capsules(uint64_t id) {
  // Unknown capsules are data too: after WT_CLOSE_SESSION, H3_MESSAGE_ERROR (§6).
  SessionState* s = find_session(id);
  if (s != nullptr && s->close_received) abort_session(id, h3::err::kMessageError);
}

void Host::on_flow_capsule(uint64_t id, SessionState& s, uint64_t type, Bytes value) {
  // Without flow control these capsules are ignored (§5.1).
  if (!flow_control_) return;
  if (type == capsule::kMaxStreamDataH2 || type == capsule::kStreamDataBlockedH2) {
    return abort_session(id, err::kFlowControlError);  // prohibited over HTTP/3 (§5.4)
  }
  auto v = parse_flow_capsule(type, value);
  if (!v) return abort_session(id, v.error().code);
  if (type == capsule::kMaxData) {
    if (*v <= s.send.max_data) return abort_session(id, err::kFlowControlError);
    s.send.max_data = *v;
    s.send.blocked_sent.reset();
    for (uint64_t sid : s.streams) {
      if (want_writable_.erase(sid) > 0) push({EventKind::kWritable, id, sid});
    }
  } else if (type == capsule::kMaxStreamsBidi || type == capsule::kMaxStreamsUni) {
    int dir = type == capsule::kMaxStreamsBidi ? 0 : 1;
    if (*v <= s.send.max_streams[dir]) return abort_session(id, err::kFlowControlError);
    s.send.max_streams[dir] = *v;
    s.send.blocked_sent.reset();
    push({EventKind::kStreamsAvailable, id});
  }
  // WT_DATA_BLOCKED / WT_STREAMS_BLOCKED: informational; we raise limits as data is read.
}

void Host::on_handler_closed(uint64_t id, uint64_t code) {
  SessionState* s = find_session(id);
  if (s == nullptr) return;
  if (h3_.role() == h3::Role::kClient && s->state == State::kConnecting) {
    // A non-2xx response or a reset: the kHeaders / kReset event that follows says which.
    return;
  }
  bool report = s->state == State::kOpen || s->state == State::kRequested;
  end_session(id, *s);
  // A clean end of the CONNECT stream is a close with code 0 and no message (§6).
  if (report) push({EventKind::kClosed, id, 0, code, code == 0, false, true});
  forget_session(id);
}

void Host::end_session(uint64_t id, SessionState& s) {
  // Every stream of the session ends with WT_SESSION_GONE (§6); the h3 layer resets those
  // it still routes when the handler ends, we reset them now for a WT_CLOSE_SESSION.
  h3::Outbox out = h3_.outbox(id);
  for (uint64_t sid : s.streams) {
    (void)out.reset(sid, err::kSessionGone);
    streams_.erase(sid);
    want_writable_.erase(sid);
  }
  s.streams.clear();
  resume_held_back();
  s.datagrams.clear();
  s.datagram_bytes = 0;
  s.state = State::kClosing;
}

void Host::forget_session(uint64_t id) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  for (uint64_t sid : it->second.streams) {
    streams_.erase(sid);  // the h3 layer resets them as the handler ends
    want_writable_.erase(sid);
  }
  sessions_.erase(it);
  resume_held_back();
}

void Host::abort_session(uint64_t id, uint64_t h3_code) {
  // A session error: the CONNECT stream is reset with the code; the handler's on_closed
  // reports the session closed (not an application close).
  (void)h3_.cancel(id, h3_code);
}

quic::Status Host::close_session(uint64_t session_id, uint32_t code, std::string_view reason) {
  SessionState* s = usable_session(session_id);
  if (s == nullptr) return fail_with(status::kUnknown, "no open session with that ID");
  h3::Outbox out = h3_.outbox(session_id);
  auto body = encode_close_session(code, reason);
  if (auto r = out.send_capsule(capsule::kCloseSession, body); !r) {
    return fail_with(status::kFinished, r.error().reason);
  }
  (void)out.finish();  // §6: FIN right after WT_CLOSE_SESSION
  end_session(session_id, *s);
  return {};
}

quic::Status Host::drain_session(uint64_t session_id) {
  if (usable_session(session_id) == nullptr) {
    return fail_with(status::kUnknown, "no open session with that ID");
  }
  if (auto r = h3_.outbox(session_id).send_capsule(capsule::kDrainSession, {}); !r) {
    return fail_with(status::kFinished, r.error().reason);
  }
  return {};
}

}  // namespace webtransport
