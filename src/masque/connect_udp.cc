#include "masque/connect_udp.h"

#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "h3/capsule.h"
#include "io/endpoint_driver.h"
#include "io/sockaddr.h"

namespace masque {

ConnectResponse established_response() {
  return {200, {{":status", "200"}, {"capsule-protocol", "?1"}}};
}

ConnectResponse refusal_response(std::string_view proxy_name, const Refusal& r) {
  return {r.status,
          {{":status", std::to_string(r.status)},
           {"proxy-status", format_proxy_status(proxy_name, r.proxy_status)},
           {"content-length", "0"}}};
}

SendOutcome send_udp_payload(h3::Outbox& out, const h3::Session& session, quic::Connection& conn,
                             std::vector<uint8_t>& scratch, quic::Bytes payload) {
  if (payload.size() > kMaxUdpPayload) return SendOutcome::kTooLarge;
  // Quarter stream ID + context ID + payload must fit one QUIC DATAGRAM frame; a larger UDP
  // payload goes as a DATAGRAM capsule, which RFC 9297 §3.5 allows at any time, rather than
  // being lost (a 1,500-byte DNS answer over a 1,200-byte path MTU).
  static constexpr uint8_t kContextZero[1] = {0};
  if (session.datagrams_enabled() && quic::varint_size(out.stream_id() / 4) + 1 + payload.size() <=
                                         conn.max_datagram_payload()) {
    // Context 0 and the payload as two parts: the transport's queue joins them (one copy).
    const std::array<quic::Bytes, 2> parts = {quic::Bytes(kContextZero), payload};
    auto st = out.send_datagram(parts);
    if (st) return SendOutcome::kDatagram;
    return quic::would_block(st.error()) ? SendOutcome::kQueueFull : SendOutcome::kFailed;
  }
  const quic::Stream* s = conn.find_stream(out.stream_id());
  if (s == nullptr) return SendOutcome::kFailed;
  if (s->send_buffer().buffered() >= kMaxCapsuleBacklog) return SendOutcome::kBacklog;
  scratch.clear();
  h3::append_context_payload(scratch, 0, payload);
  return out.send_capsule(h3::capsule::kDatagram, scratch) ? SendOutcome::kCapsule
                                                           : SendOutcome::kFailed;
}

// --- proxy

class ProxyFlow final : public ProxyHandler {
 public:
  ProxyFlow(ConnectUdpProxy& proxy, h3::Session& session, quic::Connection& conn, uint64_t id,
            std::expected<UdpTarget, Refusal> request, std::shared_ptr<size_t> session_flows)
      : p_(proxy), session_(session), conn_(conn), id_(id), request_(std::move(request)),
        session_flows_(std::move(session_flows)) {}
  ~ProxyFlow() override { release(); }

  std::optional<ConnectResponse> on_request(Respond respond) override;
  void on_established(h3::Outbox&) override;
  void on_datagram(h3::Outbox& out, quic::Bytes payload) override;
  void on_closed(uint64_t) override { release(); }

 private:
  ConnectResponse refuse_now(const Refusal& r) {
    ++p_.stats_.refused;
    release();
    return refusal_response(p_.config_.proxy_name, r);
  }
  void on_resolved(ResolveResult r);
  ConnectResponse connect_first_allowed(const std::vector<quic::SocketAddress>& addrs);
  std::optional<Refusal> open_socket(const quic::SocketAddress& target);
  void on_readable();
  void forward(h3::Outbox& out, const UdpRecvBatch::Datagram& d);
  void release();

  ConnectUdpProxy& p_;
  h3::Session& session_;
  quic::Connection& conn_;
  uint64_t id_;
  std::expected<UdpTarget, Refusal> request_;
  std::shared_ptr<size_t> session_flows_;
  bool counted_ = false;  // holds a slot in the flow limits
  std::optional<Resolver::QueryId> query_;
  Respond respond_;
  int fd_ = -1;
  bool reading_ = false;
};

std::optional<ConnectResponse> ProxyFlow::on_request(Respond respond) {
  ++p_.stats_.requests;
  if (!request_) return refuse_now(request_.error());
  if (p_.stats_.open_flows >= p_.config_.max_flows ||
      *session_flows_ >= p_.config_.max_flows_per_session) {
    return refuse_now(refuse(ProxyError::kConnectionLimitReached, "too many UDP flows"));
  }
  counted_ = true;
  ++p_.stats_.open_flows;
  ++*session_flows_;
  const UdpTarget& t = *request_;
  if (t.literal) return connect_first_allowed({*t.literal});
  auto q = p_.resolver_.resolve(t.host, [this](ResolveResult r) { on_resolved(std::move(r)); });
  if (!q) return refuse_now(refuse(ProxyError::kConnectionLimitReached, "too many DNS lookups"));
  query_ = *q;
  respond_ = std::move(respond);
  return std::nullopt;
}

void ProxyFlow::on_resolved(ResolveResult r) {
  query_.reset();
  Respond respond = std::move(respond_);
  ConnectResponse resp;
  switch (r.status) {
    case ResolveResult::Status::kOk:
      resp = connect_first_allowed(r.addresses);
      break;
    case ResolveResult::Status::kTimeout:
      resp = refuse_now(refuse(ProxyError::kDnsTimeout, request_->host + ": " + r.detail));
      break;
    case ResolveResult::Status::kNotFound:
    case ResolveResult::Status::kError: {
      Refusal ref = refuse(ProxyError::kDnsError, request_->host + ": " + r.detail);
      if (!r.rcode.empty()) ref.proxy_status.rcode = r.rcode;
      resp = refuse_now(ref);
      break;
    }
  }
  if (respond) respond(std::move(resp));
}

// The policy judges every resolved address (never the name): the first allowed one is used.
ConnectResponse ProxyFlow::connect_first_allowed(const std::vector<quic::SocketAddress>& addrs) {
  std::optional<Refusal> why;
  for (quic::SocketAddress a : addrs) {
    a.port = request_->port;
    if (auto denied = p_.config_.policy.check(a)) {
      if (!why) why = denied;
      continue;
    }
    why = open_socket(a);
    if (!why) return established_response();
  }
  return refuse_now(why ? *why : refuse(ProxyError::kDnsError, "no address"));
}

std::optional<Refusal> ProxyFlow::open_socket(const quic::SocketAddress& target) {
  int fd = socket(target.v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return refuse(ProxyError::kConnectionLimitReached,
                  std::string("cannot open a UDP socket: ") + std::strerror(errno));
  }
  sockaddr_storage ss{};
  socklen_t len = io::to_sockaddr(target, ss);
  if (connect(fd, reinterpret_cast<const sockaddr*>(&ss), len) != 0) {
    int e = errno;
    close(fd);
    return refuse(ProxyError::kDestinationIpUnroutable,
                  target.to_string() + ": " + std::strerror(e));
  }
  // A target that sends with GSO (a QUIC server, a bulk sender) comes up as one message per
  // burst (UdpRecvBatch splits it).
  (void)enable_udp_gro(fd);
  fd_ = fd;
  ++p_.stats_.open_sockets;
  p_.stats_.peak_open_sockets = std::max(p_.stats_.peak_open_sockets, p_.stats_.open_sockets);
  return std::nullopt;
}

void ProxyFlow::on_established(h3::Outbox&) {
  if (fd_ < 0) return;
  ++p_.stats_.established;
  // Target datagrams are read only now: nothing may reach the client before its 2xx.
  if (p_.loop_.register_fd(fd_, io::kReadable, [this](int, uint32_t) { on_readable(); })) {
    reading_ = true;
  }
}

void ProxyFlow::on_datagram(h3::Outbox&, quic::Bytes payload) {
  auto cp = h3::parse_context_payload(payload);
  if (!cp) {
    ++p_.stats_.dropped_malformed;
    return;
  }
  if (cp->context_id != 0) {
    ++p_.stats_.dropped_unknown_context;
    return;
  }
  if (cp->payload.size() > kMaxUdpPayload) {
    ++p_.stats_.dropped_oversize;
    return;
  }
  if (!reading_) {
    ++p_.stats_.dropped_not_connected;
    return;
  }
  // A connected non-blocking socket: a full send buffer drops the datagram, as UDP would
  // (counted when the batch is sent).
  p_.send_to_target(fd_, cp->payload);
}

void ProxyFlow::on_readable() {
  if (!p_.rx_) p_.rx_ = std::make_unique<UdpRecvBatch>(kTargetRecvSlots, kMaxUdpPayload + 1);
  UdpRecvBatch& rx = *p_.rx_;
  h3::Outbox out = session_.outbox(id_);
  for (size_t done = 0; done < kMaxReadsPerWakeup && fd_ >= 0;) {
    int n = rx.recv(fd_, kMaxReadsPerWakeup - done);
    if (n == 0) return;
    if (n < 0) {
      ++p_.stats_.dropped_send_error;  // an ICMP error reported on the connected socket
      ++done;
      continue;
    }
    done += static_cast<size_t>(n);
    for (size_t i = 0; i < static_cast<size_t>(n) && fd_ >= 0; ++i) forward(out, rx[i]);
  }
}

void ProxyFlow::forward(h3::Outbox& out, const UdpRecvBatch::Datagram& d) {
  if (d.truncated || d.data.size() > kMaxUdpPayload) {
    ++p_.stats_.dropped_truncated;
    return;
  }
  switch (send_udp_payload(out, session_, conn_, p_.scratch_, d.data)) {
    case SendOutcome::kCapsule:
      ++p_.stats_.as_capsules;
      [[fallthrough]];
    case SendOutcome::kDatagram:
      ++p_.stats_.from_target;
      p_.stats_.bytes_from_target += d.data.size();
      break;
    case SendOutcome::kTooLarge:
      ++p_.stats_.dropped_oversize;
      break;
    case SendOutcome::kQueueFull:
      ++p_.stats_.dropped_queue_full;
      break;
    case SendOutcome::kBacklog:
      ++p_.stats_.dropped_backlog;
      break;
    case SendOutcome::kFailed:  // the connection is closing: consume and drop, never spin
      ++p_.stats_.dropped_closed;
      break;
  }
}

void ProxyFlow::release() {
  if (query_) {
    p_.resolver_.cancel(*query_);
    query_.reset();
  }
  respond_ = nullptr;
  if (fd_ >= 0) {
    p_.flush_targets();  // nothing queued may outlive the descriptor (it could be reused)
    if (reading_) p_.loop_.unregister_fd(fd_);
    close(fd_);
    fd_ = -1;
    reading_ = false;
    --p_.stats_.open_sockets;
  }
  if (counted_) {
    counted_ = false;
    --p_.stats_.open_flows;
    --*session_flows_;
  }
}

quic::Result<std::unique_ptr<ConnectUdpProxy>> ConnectUdpProxy::create(io::EndpointDriver& loop,
                                                                       Resolver& resolver,
                                                                       ConnectUdpConfig config) {
  auto tmpl = make_udp_template(config.udp_template, "proxy");
  if (!tmpl) return std::unexpected(tmpl.error());
  auto vars = tmpl->variables();
  auto has = [&](std::string_view v) { return std::find(vars.begin(), vars.end(), v) != vars.end(); };
  if (!has("target_host") || !has("target_port")) {
    return quic::fail(quic::err::kInternalError,
                      "the UDP template needs {target_host} and {target_port}");
  }
  return std::unique_ptr<ConnectUdpProxy>(
      new ConnectUdpProxy(loop, resolver, std::move(config), std::move(*tmpl)));
}

void ConnectUdpProxy::send_to_target(int fd, quic::Bytes payload) {
  tx_.add(fd, payload);
  if (!tx_.empty() && !flush_scheduled_) {
    flush_scheduled_ = true;
    loop_.defer([this, alive = std::weak_ptr<int>(alive_)] {
      if (alive.expired()) return;  // the proxy went first
      flush_scheduled_ = false;
      flush_targets();
    });
  }
  sync_tx_stats();
}

void ConnectUdpProxy::sync_tx_stats() {
  const UdpSendBatch::Totals& t = tx_.totals();
  stats_.to_target = t.sent;
  stats_.bytes_to_target = t.sent_bytes;
  stats_.dropped_send_error += t.failed - tx_failed_seen_;
  tx_failed_seen_ = t.failed;
}

void ConnectUdpProxy::flush_targets() {
  tx_.flush();
  sync_tx_stats();
}

h3::HandlerFactory ConnectUdpProxy::factory(h3::Session& session, quic::Connection& conn) {
  auto flows = std::make_shared<size_t>(0);
  return [this, &session, &conn, flows](uint64_t id, std::span<const h3::Field> fields) {
    return std::make_unique<ProxyFlow>(*this, session, conn, id,
                                       validate_connect_udp(fields, template_), flows);
  };
}

// --- client

SendOutcome ConnectUdpClient::send(h3::Outbox& out, quic::Bytes payload) {
  if (!established_) {
    if (pending_.size() >= kMaxPendingPayloads || pending_bytes_ + payload.size() > kMaxPendingBytes) {
      ++stats_.dropped_pending;
      return SendOutcome::kQueueFull;
    }
    pending_.emplace_back(payload.begin(), payload.end());
    pending_bytes_ += payload.size();
    return SendOutcome::kDatagram;
  }
  SendOutcome o = send_udp_payload(out, session_, conn_, scratch_, payload);
  if (o == SendOutcome::kDatagram || o == SendOutcome::kCapsule) {
    ++stats_.sent;
  } else {
    ++stats_.dropped_send;
  }
  return o;
}

void ConnectUdpClient::on_established(h3::Outbox& out) {
  established_ = true;
  std::vector<std::vector<uint8_t>> held;
  held.swap(pending_);
  pending_bytes_ = 0;
  for (const auto& p : held) (void)send(out, p);
  if (cb_.on_established) cb_.on_established();
}

void ConnectUdpClient::on_datagram(h3::Outbox&, quic::Bytes payload) {
  auto cp = h3::parse_context_payload(payload);
  if (!cp) {
    ++stats_.dropped_malformed;
    return;
  }
  if (cp->context_id != 0) {
    ++stats_.dropped_unknown_context;
    return;
  }
  ++stats_.received;
  if (cb_.on_payload) cb_.on_payload(cp->payload);
}

void ConnectUdpClient::on_closed(uint64_t code) {
  if (cb_.on_closed) cb_.on_closed(code);
}

}  // namespace masque
