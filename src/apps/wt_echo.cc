#include "apps/wt_echo.h"

#include <algorithm>
#include <cstdio>

namespace apps {

using webtransport::EventKind;

WtEcho::WtEcho(h3::Session& session, const webtransport::Config& config, std::string path,
               std::string peer)
    : host_(session, config), path_(std::move(path)), peer_(std::move(peer)), buf_(64 * 1024) {}

bool WtEcho::poll() {
  bool any = false;
  while (auto e = host_.poll_event()) {
    any = true;
    switch (e->kind) {
      case EventKind::kRequest:
        on_request(*e);
        break;
      case EventKind::kReadable:
        on_readable(e->session_id, e->stream_id);
        break;
      case EventKind::kWritable:
        flush(e->stream_id);
        break;
      case EventKind::kDatagram:
        echo_datagrams(e->session_id);
        break;
      case EventKind::kStreamReset:
      case EventKind::kStopSending:
        uni_.erase(e->stream_id);
        out_.erase(e->stream_id);
        break;
      case EventKind::kClosed:
        std::fprintf(stderr, "%s webtransport session %llu closed: code %llu%s \"%s\"\n",
                     peer_.c_str(), static_cast<unsigned long long>(e->session_id),
                     static_cast<unsigned long long>(e->code), e->app_error ? "" : " (h3)",
                     e->reason.c_str());
        break;
      default:
        break;
    }
  }
  return any;
}

void WtEcho::on_request(const webtransport::Event& e) {
  std::string_view path, origin;
  for (const auto& f : e.fields) {
    if (f.name == ":path") path = f.value;
    if (f.name == "origin") origin = f.value;
  }
  std::string_view bare = path.substr(0, path.find('?'));
  bool ok = bare == path_;
  std::fprintf(stderr, "%s \"CONNECT %.*s\" webtransport %s origin=%.*s version=%s\n",
               peer_.c_str(), static_cast<int>(path.size()), path.data(), ok ? "accepted" : "404",
               static_cast<int>(origin.size()), origin.data(),
               webtransport::version_name(host_.version()));
  if (ok) {
    (void)host_.accept(e.session_id);
  } else {
    (void)host_.reject(e.session_id, 404);
  }
}

void WtEcho::on_readable(uint64_t session_id, uint64_t stream_id) {
  bool bidi = (stream_id & 2) == 0;
  for (;;) {
    if (bidi && out_[stream_id].size() >= kMaxEchoStreamBytes) {
      out_[stream_id].session_id = session_id;
      out_[stream_id].read_blocked = true;  // flush() reads on once the echo drained
      return;
    }
    auto r = host_.read(stream_id, buf_);
    if (!r) {
      if (r.error().code != webtransport::status::kWouldBlock) {
        uni_.erase(stream_id);
        if (!bidi || out_[stream_id].size() == 0) out_.erase(stream_id);
      }
      return;
    }
    quic::Bytes got(buf_.data(), r->bytes);
    if (bidi) {
      Pending& p = out_[stream_id];
      p.data.insert(p.data.end(), got.begin(), got.end());
      p.fin = r->fin;
      flush(stream_id);
    } else {
      std::vector<uint8_t>& in = uni_[stream_id];
      in.insert(in.end(), got.begin(), got.end());
      if (in.size() > kMaxEchoStreamBytes) {
        uni_.erase(stream_id);
        (void)host_.reset_stream(stream_id, kEchoTooLong);
        return;
      }
      if (r->fin) {
        auto echo = host_.open_stream(session_id, false);
        if (echo) {
          out_[*echo] = Pending{std::move(in), 0, true, session_id, false};
          flush(*echo);
        }
        uni_.erase(stream_id);
      }
    }
    if (r->fin) return;
  }
}

void WtEcho::flush(uint64_t stream_id) {
  auto it = out_.find(stream_id);
  if (it == out_.end()) return;
  Pending& p = it->second;
  if (p.size() > 0 || p.fin) {
    auto n = host_.write(stream_id, quic::Bytes(p.data).subspan(p.off), p.fin);
    if (!n && n.error().code != webtransport::status::kWouldBlock) {
      out_.erase(it);
      return;
    }
    if (n) p.off += *n;
  }
  if (p.size() == 0 && p.fin) {
    out_.erase(it);
    return;
  }
  if (p.size() == 0) {
    p.data.clear();
    p.off = 0;
  }
  // A bidirectional stream whose reading waited for room reads on (no new event would come:
  // its data had arrived already).
  if (p.read_blocked && p.size() < kMaxEchoStreamBytes) {
    p.read_blocked = false;
    on_readable(p.session_id, stream_id);
  }
}

void WtEcho::echo_datagrams(uint64_t session_id) {
  while (auto n = host_.recv_datagram(session_id, buf_)) {
    size_t len = std::min(*n, buf_.size());
    (void)host_.send_datagram(session_id, quic::Bytes(buf_.data(), len));
  }
}

}  // namespace apps
