#include "emu/link_spec.h"

#include <algorithm>
#include <charconv>
#include <cctype>
#include <cmath>
#include <optional>
#include <cstdio>

namespace emu {
namespace {

using quic::Duration;

constexpr size_t kFullPacket = 1500;
constexpr size_t kMinDefaultQueue = 16 * kFullPacket;

std::string quoted(std::string_view s) {
  // Error messages echo the user's text; cap it so a huge argument stays a readable message.
  constexpr size_t kEcho = 80;
  std::string out = "'";
  out.append(s.substr(0, kEcho));
  if (s.size() > kEcho) out += "...";
  return out + "'";
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// A non-negative finite decimal number at the front of `v`; `unit` gets the rest.
std::optional<double> number_prefix(std::string_view v, std::string& unit) {
  size_t n = 0;
  while (n < v.size() && (std::isdigit(static_cast<unsigned char>(v[n])) || v[n] == '.')) ++n;
  if (n == 0) return std::nullopt;
  double x = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + n, x);
  if (ec != std::errc() || p != v.data() + n || !std::isfinite(x) || x < 0) return std::nullopt;
  unit = lower(v.substr(n));
  return x;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  for (;;) {
    size_t next = s.find(sep, pos);
    out.push_back(s.substr(pos, next == std::string_view::npos ? next : next - pos));
    if (next == std::string_view::npos) return out;
    pos = next + 1;
  }
}

constexpr const char* kKeys =
    "rate, delay, jitter, queue, loss, burst_loss, max_burst, corrupt, reorder, reorder_delay, "
    "header";

Parsed<int> parse_int(std::string_view v, int lo, int hi) {
  int x = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
  if (ec != std::errc() || p != v.data() + v.size() || x < lo || x > hi) {
    return std::unexpected("bad integer " + quoted(v) + " (" + std::to_string(lo) + ".." +
                           std::to_string(hi) + ")");
  }
  return x;
}

// Applies one key to one direction.
Parsed<bool> apply(sim::LinkConfig& c, std::string_view key, std::string_view value) {
  auto fail = [&](const std::string& why) -> Parsed<bool> {
    return std::unexpected(std::string(key) + ": " + why);
  };
  if (key == "rate") {
    auto r = parse_rate(value);
    if (!r) return fail(r.error());
    c.rate_bps = *r;
  } else if (key == "delay" || key == "jitter" || key == "reorder_delay") {
    auto d = parse_duration(value);
    if (!d) return fail(d.error());
    (key == "delay" ? c.delay : key == "jitter" ? c.jitter : c.reorder_delay) = *d;
  } else if (key == "queue") {
    auto b = parse_bytes(value);
    if (!b) return fail(b.error());
    c.queue_bytes = *b;
  } else if (key == "loss" || key == "burst_loss" || key == "corrupt" || key == "reorder") {
    auto p = parse_probability(value);
    if (!p) return fail(p.error());
    (key == "loss" ? c.loss : key == "burst_loss" ? c.burst_loss : key == "corrupt" ? c.corrupt
                                                                                     : c.reorder) =
        *p;
  } else if (key == "max_burst") {
    auto n = parse_int(value, 1, kMaxBurst);
    if (!n) return fail(n.error());
    c.max_burst = *n;
  } else if (key == "header") {
    auto n = parse_int(value, 0, static_cast<int>(kMaxHeaderBytes));
    if (!n) return fail(n.error());
    c.header_bytes = static_cast<size_t>(*n);
  } else {
    return std::unexpected("unknown key " + quoted(key) + " (keys: " + kKeys +
                           ", each optionally prefixed up. or down.)");
  }
  return true;
}

}  // namespace

LinkProfile transparent_profile() {
  LinkProfile p;
  for (sim::LinkConfig* c : {&p.up, &p.down}) {
    c->rate_bps = 0;
    c->delay = Duration::zero();
    c->queue_bytes = kMinDefaultQueue;
    c->header_bytes = 28;
  }
  return p;
}

Parsed<double> parse_rate(std::string_view v) {
  std::string unit;
  auto x = number_prefix(v, unit);
  double mult = 0;
  if (unit == "bit") mult = 1;
  if (unit == "kbit") mult = 1e3;
  if (unit == "mbit") mult = 1e6;
  if (unit == "gbit") mult = 1e9;
  if (x && *x == 0 && unit.empty()) return 0.0;  // unlimited
  if (!x || mult == 0) {
    return std::unexpected("bad rate " + quoted(v) +
                           " (a number with bit, kbit, mbit or gbit; 0 = unlimited)");
  }
  if (*x * mult > kMaxRateBps) return std::unexpected("rate " + quoted(v) + " above 1000gbit");
  return *x * mult;
}

Parsed<Duration> parse_duration(std::string_view v, Duration max) {
  std::string unit;
  auto x = number_prefix(v, unit);
  double ns_per = 0;
  if (unit == "ns") ns_per = 1;
  if (unit == "us") ns_per = 1e3;
  if (unit == "ms") ns_per = 1e6;
  if (unit == "s") ns_per = 1e9;
  if (x && *x == 0 && unit.empty()) return Duration::zero();
  if (!x || ns_per == 0) {
    return std::unexpected("bad duration " + quoted(v) + " (a number with ns, us, ms or s)");
  }
  double ns = *x * ns_per;
  if (ns > static_cast<double>(max.count())) {
    return std::unexpected("duration " + quoted(v) + " above " +
                           std::to_string(max.count() / 1000000000) + "s");
  }
  return Duration(static_cast<int64_t>(std::llround(ns)));
}

Parsed<size_t> parse_bytes(std::string_view v) {
  std::string unit;
  auto x = number_prefix(v, unit);
  double mult = 0;
  if (unit.empty() || unit == "b") mult = 1;
  if (unit == "k" || unit == "kb") mult = 1024;
  if (unit == "m" || unit == "mb") mult = 1024.0 * 1024;
  if (unit == "p" || unit == "pkt") mult = kFullPacket;
  if (!x || mult == 0) {
    return std::unexpected("bad size " + quoted(v) +
                           " (bytes, or a number with k, m (x1024) or p (1500-byte packets))");
  }
  double bytes = *x * mult;
  if (bytes > static_cast<double>(kMaxQueueBytes)) {
    return std::unexpected("size " + quoted(v) + " above 256m");
  }
  return static_cast<size_t>(bytes);
}

Parsed<double> parse_probability(std::string_view v) {
  std::string unit;
  auto x = number_prefix(v, unit);
  if (x && unit == "%") *x /= 100;
  if (!x || !(unit.empty() || unit == "%") || *x > 1) {
    return std::unexpected("bad probability " + quoted(v) + " (0..1 or 0%..100%)");
  }
  return *x;
}

Parsed<quic::SocketAddress> parse_ip(std::string_view v) {
  std::string text(v);
  if (!text.empty() && text.front() == '[') {
    text += ":0";
  } else if (text.find(':') != std::string::npos) {
    text = "[" + text + "]:0";
  } else {
    text += ":0";
  }
  auto a = quic::SocketAddress::parse(text);
  if (!a || a->port != 0) return std::unexpected("bad IP address " + quoted(v));
  return *a;
}

Parsed<LinkProfile> parse_profile(std::string_view text, LinkProfile base) {
  if (text.size() > kMaxSpecLength) return std::unexpected("link spec longer than 4096 bytes");
  if (text.empty()) return base;
  for (std::string_view item : split(text, ',')) {
    size_t eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      return std::unexpected("expected KEY=VALUE, got " + quoted(item));
    }
    std::string_view key = item.substr(0, eq), value = item.substr(eq + 1);
    bool up = true, down = true;
    if (key.starts_with("up.")) {
      key.remove_prefix(3);
      down = false;
    } else if (key.starts_with("down.")) {
      key.remove_prefix(5);
      up = false;
    }
    std::string k = lower(key);
    for (int dir = 0; dir < 2; ++dir) {
      if (!(dir == 0 ? up : down)) continue;
      auto r = apply(dir == 0 ? base.up : base.down, k, value);
      if (!r) return std::unexpected(r.error() + " in " + quoted(item));
      if (k == "queue") base.queue_set[dir] = true;
    }
  }
  return base;
}

Parsed<LinkArg> parse_link_arg(std::string_view text, const LinkProfile& base) {
  // The IP ends at the first '=' (IPv6 addresses contain ':' but never '=').
  size_t eq = text.find('=');
  if (eq == std::string_view::npos) {
    return std::unexpected("expected IP=KEY=VALUE,..., got " + quoted(text));
  }
  auto ip = parse_ip(text.substr(0, eq));
  if (!ip) return std::unexpected(ip.error());
  auto p = parse_profile(text.substr(eq + 1), base);
  if (!p) return std::unexpected(p.error());
  return LinkArg{*ip, *p};
}

Parsed<DownArg> parse_down_arg(std::string_view text) {
  size_t at = text.rfind('@');
  if (at == std::string_view::npos) return std::unexpected("expected IP@START-END, got " + quoted(text));
  auto ip = parse_ip(text.substr(0, at));
  if (!ip) return std::unexpected(ip.error());
  std::string_view window = text.substr(at + 1);
  size_t dash = window.find('-');
  if (dash == std::string_view::npos) {
    return std::unexpected("expected START-END after '@', got " + quoted(window));
  }
  auto start = parse_duration(window.substr(0, dash), kMaxScheduleTime);
  if (!start) return std::unexpected(start.error());
  auto end = parse_duration(window.substr(dash + 1), kMaxScheduleTime);
  if (!end) return std::unexpected(end.error());
  if (*end <= *start) return std::unexpected("window " + quoted(window) + " ends before it starts");
  return DownArg{*ip, *start, *end};
}

void size_default_queues(LinkProfile& p) {
  for (int dir = 0; dir < 2; ++dir) {
    if (p.queue_set[dir]) continue;
    sim::LinkConfig& c = dir == 0 ? p.up : p.down;
    const sim::LinkConfig& back = dir == 0 ? p.down : p.up;
    double rtt_s = static_cast<double>((c.delay + back.delay).count()) / 1e9;
    double bdp = c.rate_bps > 0 ? c.rate_bps / 8 * rtt_s : 0;
    c.queue_bytes = std::clamp(static_cast<size_t>(bdp), kMinDefaultQueue, kMaxQueueBytes);
  }
}

std::string describe(const sim::LinkConfig& c) {
  char buf[256];
  std::string out;
  if (c.rate_bps > 0) {
    std::snprintf(buf, sizeof(buf), "rate=%.3fmbit", c.rate_bps / 1e6);
  } else {
    std::snprintf(buf, sizeof(buf), "rate=unlimited");
  }
  out += buf;
  std::snprintf(buf, sizeof(buf), " delay=%.3fms queue=%zuB header=%zuB",
                static_cast<double>(c.delay.count()) / 1e6, c.queue_bytes, c.header_bytes);
  out += buf;
  auto prob = [&](const char* name, double p) {
    if (p <= 0) return;
    std::snprintf(buf, sizeof(buf), " %s=%g", name, p);
    out += buf;
  };
  auto dur = [&](const char* name, Duration d) {
    if (d <= Duration::zero()) return;
    std::snprintf(buf, sizeof(buf), " %s=%.3fms", name, static_cast<double>(d.count()) / 1e6);
    out += buf;
  };
  dur("jitter", c.jitter);
  prob("loss", c.loss);
  prob("burst_loss", c.burst_loss);
  prob("corrupt", c.corrupt);
  prob("reorder", c.reorder);
  if (c.reorder > 0) dur("reorder_delay", c.reorder_delay);
  for (const auto& [s, e] : c.blackholes) {
    std::snprintf(buf, sizeof(buf), " dark=%.3fs-%.3fs", static_cast<double>(s.count()) / 1e9,
                  static_cast<double>(e.count()) / 1e9);
    out += buf;
  }
  return out;
}

}  // namespace emu
