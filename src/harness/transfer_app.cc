#include "harness/transfer_app.h"

#include <charconv>
#include <cstring>
#include <string_view>

namespace harness {

namespace {
constexpr size_t kChunk = 32 * 1024;
constexpr size_t kPeriod = 251;

// kChunk + kPeriod pattern bytes: the pattern from any offset is a slice starting at offset % 251.
const std::vector<uint8_t>& pattern_buffer() {
  static const std::vector<uint8_t> buf = [] {
    std::vector<uint8_t> b(kChunk + kPeriod);
    for (size_t i = 0; i < b.size(); ++i) b[i] = pattern_byte(i);
    return b;
  }();
  return buf;
}

quic::Bytes pattern_at(uint64_t offset, size_t len) {
  return quic::Bytes(pattern_buffer().data() + offset % kPeriod, len);
}
}  // namespace

TransferClient::TransferClient(quic::SocketAddress local, quic::SocketAddress remote,
                               TransferPlan plan)
    : local_(local), remote_(remote), plan_(std::move(plan)), buf_(kChunk) {}

void TransferClient::fail(std::string why) {
  if (failed_) return;
  failed_ = true;
  error_ = std::move(why);
}

quic::Connection* TransferClient::current(quic::Endpoint& endpoint) const {
  return handle_ ? endpoint.connection(*handle_) : nullptr;
}

void TransferClient::start_connection(quic::Endpoint& endpoint, Instant now) {
  auto h = endpoint.connect(local_, remote_, now, plan_.resume ? next_options_ : quic::ConnectOptions{});
  if (!h) return fail("connect: " + h.error().reason);
  handle_ = *h;
  next_request_ = 0;
  completed_streams_ = 0;
  streams_.clear();
  records_.push_back(ConnectionRecord{now});
}

void TransferClient::on_activity(quic::Endpoint& endpoint, Instant now) {
  if (done_ || failed_) return;
  if (!handle_) start_connection(endpoint, now);
  quic::Connection* c = current(endpoint);
  if (c == nullptr) return fail("connection vanished");
  drive(*c, now);
  if (completed_streams_ != plan_.sizes.size()) return;
  ConnectionRecord& r = records_.back();
  if (!r.completed) {
    r.completed = true;
    r.finished = now;
    r.stats = c->stats();
    r.alpn = c->alpn();
    next_options_.session_ticket = c->session_ticket();
    next_options_.token = c->new_token();
    next_options_.zero_rtt = plan_.zero_rtt;
  }
  if (plan_.linger && plan_.linger(now)) return;
  c->close(0, "done", now);
  if (records_.size() >= plan_.connections) {
    done_ = true;
  } else {
    start_connection(endpoint, now);
    if (auto* n = current(endpoint)) drive(*n, now);
  }
}

// The server's RESET_STREAM_AT (TransferPlan::reset_at): every byte below the reliable size
// must have been read first. False for any other reset.
bool TransferClient::on_reset(uint64_t id, uint64_t code) {
  auto it = streams_.find(id);
  if (!plan_.reset_at || code != kTransferResetCode || it == streams_.end()) return false;
  StreamState& s = it->second;
  if (s.fin) return true;
  if (s.received < std::min(*plan_.reset_at, s.expected)) {
    fail("stream " + std::to_string(id) + " reset after " + std::to_string(s.received) +
         " bytes, below the reliable size");
    return true;
  }
  s.fin = true;
  ++streams_reset_;
  reset_stream_bytes_ += s.received;
  ++completed_streams_;
  return true;
}

void TransferClient::drive(quic::Connection& c, Instant now) {
  while (auto e = c.poll_event()) {
    switch (e->kind) {
      case quic::EventKind::kHandshakeCompleted:
        records_.back().handshake_done = now;
        break;
      case quic::EventKind::kStreamReset:  // the stream may be freed once this is polled
        if (!on_reset(e->stream_id, e->error_code)) return fail("unexpected stream reset");
        break;
      case quic::EventKind::kClosed:
        if (completed_streams_ < plan_.sizes.size()) {
          return fail("connection closed early: " + std::string(quic::error_name(e->error_code)) +
                      " " + e->reason);
        }
        break;
      default:
        break;
    }
  }
  if (c.is_closed() && completed_streams_ < plan_.sizes.size()) {
    auto& err = c.close_error();
    return fail("connection closed: " + (err ? err->reason : std::string("?")));
  }
  // With 0-RTT the requests leave before the handshake completes (RFC 9001 §4.6.1).
  if (!c.handshake_complete() && !c.zero_rtt_active()) return;
  // Open requests up to the parallelism limit; the peer's MAX_STREAMS may hold some back.
  while (next_request_ < plan_.sizes.size() &&
         streams_.size() - completed_streams_ < plan_.max_parallel) {
    auto id = c.open_stream(true);
    if (!id) break;
    std::string req = "GET " + std::to_string(plan_.sizes[next_request_]);
    if (plan_.reset_at) req += " RESET " + std::to_string(*plan_.reset_at);
    req += "\r\n";
    auto n = c.stream_write(*id, quic::Bytes(reinterpret_cast<const uint8_t*>(req.data()), req.size()), true);
    if (!n || *n != req.size()) return fail("request did not fit in the send buffer");
    streams_[*id] = StreamState{plan_.sizes[next_request_]};
    ++next_request_;
  }
  for (auto& [id, s] : streams_) {
    while (!s.fin) {
      bool fin = false;
      auto n = c.stream_read(id, buf_, &fin);
      if (!n && on_reset(id, n.error().code)) break;
      if (!n) return fail("stream read: " + n.error().reason);
      if (std::memcmp(buf_.data(), pattern_at(s.received, *n).data(), *n) != 0) {
        return fail("corrupt data after offset " + std::to_string(s.received) + " of stream " +
                    std::to_string(id));
      }
      s.received += *n;
      bytes_received_ += *n;
      if (fin) {
        s.fin = true;
        if (s.received != s.expected) {
          return fail("stream " + std::to_string(id) + " ended after " +
                      std::to_string(s.received) + " of " + std::to_string(s.expected));
        }
        ++completed_streams_;
      }
      if (*n == 0) break;
    }
  }
}

void TransferServer::on_activity(quic::Endpoint& endpoint, Instant now) {
  while (auto h = endpoint.accept()) conns_[*h];
  for (auto it = conns_.begin(); it != conns_.end();) {
    quic::Connection* c = endpoint.connection(it->first);
    if (c == nullptr) {
      it = conns_.erase(it);
      continue;
    }
    drive(*c, it->second, now);
    ++it;
  }
}

void TransferServer::drive(quic::Connection& c, std::map<uint64_t, Response>& streams,
                           Instant now) {
  while (auto e = c.poll_event()) {
    if (on_event) on_event(*e, now);
    if (e->kind == quic::EventKind::kStreamOpened || e->kind == quic::EventKind::kStreamReadable) {
      streams[e->stream_id];
    }
  }
  for (auto it = streams.begin(); it != streams.end();) {
    uint64_t id = it->first;
    Response& r = it->second;
    while (!r.request_done) {
      bool fin = false;
      uint8_t tmp[kMaxRequestBytes];
      auto n = c.stream_read(id, tmp, &fin);
      if (!n) break;
      if (r.request.size() + *n > kMaxRequestBytes) {
        (void)c.stream_reset(id, 1);
        r.request_done = r.fin_written = true;
        break;
      }
      r.request.append(reinterpret_cast<const char*>(tmp), *n);
      if (fin) {
        r.request_done = true;
        uint64_t size = 0;
        const char* b = r.request.data();
        const char* e = b + r.request.size();
        auto parsed = std::from_chars(b + 4, e, size);
        if (r.request.rfind("GET ", 0) == 0 && parsed.ec == std::errc() &&
            size <= kMaxResponseBytes) {
          r.size = size;
          uint64_t reliable = 0;
          std::string_view rest(parsed.ptr, static_cast<size_t>(e - parsed.ptr));
          if (rest.rfind(" RESET ", 0) == 0 &&
              std::from_chars(rest.data() + 7, e, reliable).ec == std::errc()) {
            r.reset_at = std::min(reliable, size);
          }
        } else {
          error_ = "bad request";
          (void)c.stream_reset(id, 1);
          r.fin_written = true;
        }
      }
      if (*n == 0) break;
    }
    while (r.request_done && !r.fin_written) {
      uint64_t left = r.size - r.written;
      size_t len = static_cast<size_t>(std::min<uint64_t>(left, kChunk));
      bool fin = len == left && !r.reset_at;
      auto n = c.stream_write(id, pattern_at(r.written, len), fin);
      if (!n) break;
      r.written += *n;
      bytes_sent_ += *n;
      if (fin && *n == len) r.fin_written = true;
      if (r.reset_at && r.written == r.size) {
        if (auto st = c.stream_reset_at(id, kTransferResetCode, *r.reset_at); !st) {
          error_ = "stream_reset_at: " + st.error().reason;
        }
        r.fin_written = true;
      }
      if (*n < len || len == 0) break;
    }
    if (r.fin_written) {
      it = streams.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace harness
