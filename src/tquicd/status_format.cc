#include "tquicd/status_format.h"

#include <cinttypes>
#include <cstdarg>
#include <cstdio>

namespace bond {
namespace {

// printf into a std::string (g++ 12 has no <format>).
[[gnu::format(printf, 1, 2)]] std::string sf(const char* fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n < 0) return {};
  if (static_cast<size_t>(n) < sizeof buf) return std::string(buf, static_cast<size_t>(n));
  std::string out(static_cast<size_t>(n) + 1, '\0');
  va_start(ap, fmt);
  vsnprintf(out.data(), out.size(), fmt, ap);
  va_end(ap);
  out.resize(static_cast<size_t>(n));
  return out;
}

std::string rate(uint64_t bps) {
  double v = static_cast<double>(bps);
  if (bps >= 1'000'000'000) return sf("%.2fG", v / 1e9);
  if (bps >= 1'000'000) return sf("%.2fM", v / 1e6);
  if (bps >= 1'000) return sf("%.1fk", v / 1e3);
  return std::to_string(bps);
}

std::string bytes(uint64_t b) {
  double v = static_cast<double>(b);
  if (b >= (1ull << 30)) return sf("%.2fGiB", v / (1ull << 30));
  if (b >= (1ull << 20)) return sf("%.2fMiB", v / (1ull << 20));
  if (b >= (1ull << 10)) return sf("%.1fKiB", v / (1ull << 10));
  return sf("%" PRIu64 "B", b);
}

std::string ms(uint64_t us) { return us ? sf("%.1f", static_cast<double>(us) / 1e3) : "-"; }

std::string quota(const LinkStatus& l) {
  if (l.quota_bytes == 0) return "-";
  return sf("%s/%s (%.0f%%)", bytes(l.quota_used_bytes).c_str(), bytes(l.quota_bytes).c_str(),
            100.0 * static_cast<double>(l.quota_used_bytes) / static_cast<double>(l.quota_bytes));
}

void links_text(std::string& out, const Status& s) {
  out += sf("%-15s %-15s %-9s %-6s %8s %6s %9s %9s %10s %10s %s\n", "LINK", "INTERFACE", "ROLE",
            "STATE", "RTT(ms)", "LOSS%", "TX(bit/s)", "RX(bit/s)", "TX", "RX", "QUOTA");
  for (const auto& l : s.links) {
    // An administratively downed link shows as "down*".
    std::string state = l.admin_down ? "down*" : to_string(l.state);
    out += sf("%-15s %-15s %-9s %-6s %8s %6.2f %9s %9s %10s %10s %s\n", l.name.c_str(),
              l.interface.empty() ? "-" : l.interface.c_str(), to_string(l.role), state.c_str(),
              ms(l.rtt_us).c_str(), l.loss * 100, rate(l.tx_rate_bps).c_str(),
              rate(l.rx_rate_bps).c_str(), bytes(l.tx_bytes).c_str(), bytes(l.rx_bytes).c_str(),
              quota(l).c_str());
  }
}

// A keepalive interval: "25s", "1.5s", "587.7s"; "-" for none.
std::string interval(uint64_t ms) {
  if (ms == 0) return "-";
  if (ms % 1000 == 0) return sf("%" PRIu64 "s", ms / 1000);
  return sf("%.1fs", static_cast<double>(ms) / 1000);
}

void paths_text(std::string& out, const Status& s) {
  out += sf("%4s %-15s %-24s %-24s %-8s %8s %10s %10s %8s %9s\n", "PATH", "LINK", "LOCAL", "REMOTE",
            "STATE", "RTT(ms)", "CWND", "SENT", "LOST", "KEEPALIVE");
  for (const auto& p : s.paths) {
    const char* st = !p.active ? "inactive" : p.standby ? "standby" : "active";
    out += sf("%4" PRIu64 " %-15s %-24s %-24s %-8s %8s %10s %10" PRIu64 " %8" PRIu64 " %9s\n",
              p.path_id, p.link.c_str(), p.local.c_str(), p.remote.c_str(), st,
              ms(p.rtt_us).c_str(), bytes(p.cwnd_bytes).c_str(), p.packets_sent, p.packets_lost,
              interval(p.keepalive_ms).c_str());
  }
}

void conns_text(std::string& out, const Status& s) {
  out += sf("%-20s %-20s %-24s %5s %10s %10s %8s\n", "CLIENT", "ADDRESS", "REMOTE", "PATHS", "TX",
            "RX", "AGE(s)");
  for (const auto& c : s.conns)
    out += sf("%-20s %-20s %-24s %5zu %10s %10s %8" PRIu64 "\n", c.client.c_str(),
              c.inner_address.c_str(), c.remote.c_str(), c.paths, bytes(c.tx_bytes).c_str(),
              bytes(c.rx_bytes).c_str(), c.age_ms / 1000);
}

void flows_text(std::string& out, const Status& s) {
  out += sf("%-5s %-40s %-40s %-11s %10s %8s\n", "PROTO", "SOURCE", "DESTINATION", "CLASS",
            "BYTES", "PACKETS");
  for (const auto& f : s.flows)
    out += sf("%-5s %-40s %-40s %-11s %10s %8" PRIu64 "\n", f.protocol.c_str(), f.src.c_str(),
              f.dst.c_str(), f.klass.c_str(), bytes(f.bytes).c_str(), f.packets);
}

// JSON writers: `first` tracks whether a comma is due.
struct Obj {
  std::string& out;
  bool first = true;
  explicit Obj(std::string& o) : out(o) { out += '{'; }
  ~Obj() { out += '}'; }
  void key(std::string_view k) {
    if (!first) out += ',';
    first = false;
    append_json_string(out, k);
    out += ':';
  }
  void str(std::string_view k, std::string_view v) { key(k); append_json_string(out, v); }
  void num(std::string_view k, uint64_t v) { key(k); out += std::to_string(v); }
  void real(std::string_view k, double v) { key(k); out += sf("%.6g", v); }
  void boolean(std::string_view k, bool v) { key(k); out += v ? "true" : "false"; }
};

template <typename T, typename F>
void array(Obj& o, std::string_view k, const std::vector<T>& items, F each) {
  o.key(k);
  o.out += '[';
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) o.out += ',';
    Obj item(o.out);
    each(item, items[i]);
  }
  o.out += ']';
}

void link_json(Obj& o, const LinkStatus& l) {
  o.str("name", l.name);
  o.str("interface", l.interface);
  o.str("role", to_string(l.role));
  o.str("state", to_string(l.state));
  o.boolean("admin_down", l.admin_down);
  o.num("rtt_us", l.rtt_us);
  o.real("loss", l.loss);
  o.num("tx_bytes", l.tx_bytes);
  o.num("rx_bytes", l.rx_bytes);
  o.num("tx_rate_bps", l.tx_rate_bps);
  o.num("rx_rate_bps", l.rx_rate_bps);
  o.num("quota_bytes", l.quota_bytes);
  o.num("quota_used_bytes", l.quota_used_bytes);
}

void path_json(Obj& o, const PathStatus& p) {
  o.num("path_id", p.path_id);
  o.str("link", p.link);
  o.str("local", p.local);
  o.str("remote", p.remote);
  o.boolean("active", p.active);
  o.boolean("standby", p.standby);
  o.num("rtt_us", p.rtt_us);
  o.num("rtt_var_us", p.rtt_var_us);
  o.num("cwnd_bytes", p.cwnd_bytes);
  o.num("packets_sent", p.packets_sent);
  o.num("packets_lost", p.packets_lost);
  o.num("keepalive_ms", p.keepalive_ms);
}

void conn_json(Obj& o, const ConnStatus& c) {
  o.str("client", c.client);
  o.str("inner_address", c.inner_address);
  o.str("remote", c.remote);
  o.num("paths", c.paths);
  o.num("tx_bytes", c.tx_bytes);
  o.num("rx_bytes", c.rx_bytes);
  o.num("age_ms", c.age_ms);
}

void flow_json(Obj& o, const FlowStatus& f) {
  o.str("protocol", f.protocol);
  o.str("src", f.src);
  o.str("dst", f.dst);
  o.str("class", f.klass);
  o.num("bytes", f.bytes);
  o.num("packets", f.packets);
}

// "reconnecting: attempt 3, next in 1.8s, down 4.2s (lost: ...)": what an operator asks first.
void reconnect_text(std::string& out, const ReconnectStatus& r) {
  auto secs = [](uint64_t ms) { return sf("%" PRIu64 ".%" PRIu64 "s", ms / 1000, ms % 1000 / 100); };
  std::string next = r.next_attempt_ms == 0 ? "running" : "next in " + secs(r.next_attempt_ms);
  out += sf("reconnecting: attempt %" PRIu64 ", %s, down %s (lost: %s)\n", r.attempt,
            next.c_str(), secs(r.down_ms).c_str(),
            r.last_reason.empty() ? "-" : r.last_reason.c_str());
}

void reconnect_json(Obj& o, const ReconnectStatus& r) {
  o.num("disconnects", r.disconnects);
  o.num("reconnects", r.reconnects);
  o.num("attempt", r.attempt);
  o.num("next_attempt_ms", r.next_attempt_ms);
  o.num("down_ms", r.down_ms);
  o.num("last_downtime_ms", r.last_downtime_ms);
  o.str("last_reason", r.last_reason);
}

// "ingress: 12.0KiB in 8 packets  drops: tail 0  codel 3  outage 41  ce-marked 2"
void ingress_text(std::string& out, const IngressStatus& i) {
  out += sf("ingress: %s in %" PRIu64 " packets  drops: tail %" PRIu64 "  codel %" PRIu64
            "  outage %" PRIu64 "  ce-marked %" PRIu64 "\n",
            bytes(i.queued_bytes).c_str(), i.queued_packets, i.tail_drops, i.codel_drops,
            i.outage_drops, i.ce_marks);
}

void ingress_json(Obj& o, const IngressStatus& i) {
  o.num("queued_bytes", i.queued_bytes);
  o.num("queued_packets", i.queued_packets);
  o.num("tail_drops", i.tail_drops);
  o.num("codel_drops", i.codel_drops);
  o.num("outage_drops", i.outage_drops);
  o.num("ce_marks", i.ce_marks);
}

}  // namespace

void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      out += sf("\\u%04x", c);
    } else {
      out += static_cast<char>(c);  // UTF-8 passes through; names are ASCII by config rules
    }
  }
  out += '"';
}

std::string format_text(const Status& s, StatusView view) {
  std::string out = sf("bond: %s  role: %s  links up: ", to_string(s.bond), to_string(s.role));
  size_t up = 0;
  for (const auto& l : s.links) up += l.state == LinkHealth::kUp;
  out += sf("%zu/%zu  uptime: %" PRIu64 "s  tunnel: %s  tx: %s  rx: %s\n", up, s.links.size(),
            s.uptime_ms / 1000, s.tunnel_interface.empty() ? "-" : s.tunnel_interface.c_str(),
            bytes(s.tx_bytes).c_str(), bytes(s.rx_bytes).c_str());
  if (s.bond == BondState::kReconnecting) reconnect_text(out, s.reconnect);
  bool all = view == StatusView::kStatus;
  if (all && s.role == DaemonRole::kClient) ingress_text(out, s.ingress);
  if (all || view == StatusView::kLinks) links_text(out, s);
  if (all || view == StatusView::kPaths) paths_text(out, s);
  if ((all && s.role == DaemonRole::kServer) || view == StatusView::kConns) conns_text(out, s);
  if (view == StatusView::kFlows) flows_text(out, s);
  return out;
}

std::string format_json(const Status& s, StatusView view) {
  std::string out;
  {
    Obj o(out);
    o.str("bond", to_string(s.bond));
    o.str("role", to_string(s.role));
    o.num("uptime_ms", s.uptime_ms);
    o.str("tunnel", s.tunnel_interface);
    o.num("tx_bytes", s.tx_bytes);
    o.num("rx_bytes", s.rx_bytes);
    o.num("control_refused", s.control_refused);
    if (s.role == DaemonRole::kClient) {
      o.key("reconnect");
      Obj r(o.out);
      reconnect_json(r, s.reconnect);
    }
    if (s.role == DaemonRole::kClient) {
      o.key("ingress");
      Obj i(o.out);
      ingress_json(i, s.ingress);
    }
    bool all = view == StatusView::kStatus;
    if (all || view == StatusView::kLinks) array(o, "links", s.links, link_json);
    if (all || view == StatusView::kPaths) array(o, "paths", s.paths, path_json);
    if (all || view == StatusView::kConns) array(o, "conns", s.conns, conn_json);
    if (all || view == StatusView::kFlows) array(o, "flows", s.flows, flow_json);
  }
  return out;
}

std::string format_event_text(const Event& e) {
  std::string out = sf("#%" PRIu64 " +%" PRIu64 ".%03" PRIu64 "s %s", e.seq, e.time_ms / 1000,
                       e.time_ms % 1000, to_string(e.kind));
  if (!e.link.empty()) out += " " + e.link;
  if (!e.detail.empty()) out += ": " + e.detail;
  return out;
}

std::string format_event_json(const Event& e) {
  std::string out;
  {
    Obj o(out);
    o.num("seq", e.seq);
    o.num("time_ms", e.time_ms);
    o.str("event", to_string(e.kind));
    o.str("link", e.link);
    o.str("detail", e.detail);
  }
  return out;
}

}  // namespace bond
