#include "apps/mp_paths.h"

#include <cstdio>

#include <CLI/CLI.hpp>

namespace apps {

void add_path_options(CLI::App& cmd, PathOptions& o) {
  // One value per occurrence, so a URL after --path stays a URL.
  cmd.add_option("--path", o.paths,
                 "multipath: also open a path from this local IP[:PORT] (repeatable; needs "
                 "--multipath)")
      ->allow_extra_args(false);
  cmd.add_option("--backup-path", o.backup_paths,
                 "multipath: open a backup path from this local IP[:PORT] (repeatable)")
      ->allow_extra_args(false);
}

namespace {

std::optional<quic::SocketAddress> parse_local(const std::string& text) {
  if (auto a = quic::SocketAddress::parse(text)) return a;
  // A bare IP: an ephemeral port.
  if (text.find(':') != std::string::npos && text.front() != '[') {
    return quic::SocketAddress::parse("[" + text + "]:0");  // bare IPv6
  }
  return quic::SocketAddress::parse(text + ":0");
}

}  // namespace

std::optional<std::vector<ExtraPath>> open_extra_paths(const PathOptions& o, const NetOptions& net,
                                                       const quic::SocketAddress& remote,
                                                       int& rc) {
  rc = kExitUsage;
  std::vector<ExtraPath> out;
  if (!net.multipath && (!o.paths.empty() || !o.backup_paths.empty())) {
    std::fprintf(stderr, "tquic: --path/--backup-path need --multipath\n");
    return std::nullopt;
  }
  auto open_one = [&](const std::string& text, bool backup) {
    auto addr = parse_local(text);
    if (!addr) {
      std::fprintf(stderr, "tquic: --path: expected IP or IP:PORT, got '%s'\n", text.c_str());
      return false;
    }
    if (addr->v6 != remote.v6) {
      std::fprintf(stderr, "tquic: --path %s: not the server's address family\n", text.c_str());
      return false;
    }
    auto sock = io::UdpSocket::open(*addr, socket_options(net));
    if (!sock) {
      std::fprintf(stderr, "tquic: --path %s: %s\n", text.c_str(), sock.error().reason.c_str());
      return false;
    }
    for (const auto& w : (*sock)->warnings()) log_at(1, "warning: %s", w.c_str());
    out.push_back(ExtraPath{std::move(*sock), backup});
    return true;
  };
  for (const auto& p : o.paths) {
    if (!open_one(p, false)) return std::nullopt;
  }
  for (const auto& p : o.backup_paths) {
    if (!open_one(p, true)) return std::nullopt;
  }
  if (out.size() + 1 > net.max_paths) {
    log_at(0, "warning: %zu paths asked, --max-paths %u: the rest wait for a free path ID",
           out.size() + 1, net.max_paths);
  }
  rc = kExitOk;
  return out;
}

std::vector<io::UdpSocket*> all_sockets(io::UdpSocket* primary,
                                        const std::vector<ExtraPath>& extra) {
  std::vector<io::UdpSocket*> v{primary};
  for (const auto& e : extra) v.push_back(e.socket.get());
  return v;
}

std::vector<PathRequest> path_requests(const std::vector<ExtraPath>& extra) {
  std::vector<PathRequest> v;
  for (const auto& e : extra) v.push_back(PathRequest{e.socket->local_address(), e.backup});
  return v;
}

std::vector<PathFigures> path_figures(const quic::Connection& c) {
  std::vector<PathFigures> v;
  for (size_t i = 0; i < c.path_count(); ++i) {
    const quic::Path& p = c.path(i);
    v.push_back(PathFigures{p.id, p.local, p.remote, p.bytes_sent, p.bytes_received,
                            p.stream_bytes_sent, p.packets_sent, p.packets_lost, p.rtt.smoothed(),
                            p.health.failed(), p.role.local_backup()});
  }
  return v;
}

std::string format_path_figures(const std::vector<PathFigures>& paths, bool json) {
  std::string s = json ? "[" : "";
  char line[512];
  for (size_t i = 0; i < paths.size(); ++i) {
    const PathFigures& p = paths[i];
    double srtt_ms = static_cast<double>(p.srtt.count()) / 1e6;
    if (json) {
      std::snprintf(line, sizeof(line),
                    "%s{\"id\": %llu, \"local\": \"%s\", \"remote\": \"%s\", \"bytes_sent\": %llu, "
                    "\"bytes_received\": %llu, \"stream_bytes_sent\": %llu, \"packets_sent\": "
                    "%llu, \"packets_lost\": %llu, \"srtt_ms\": %.3f, \"failed\": %s, "
                    "\"backup\": %s}",
                    i ? ", " : "", (unsigned long long)p.id, p.local.to_string().c_str(),
                    p.remote.to_string().c_str(), (unsigned long long)p.bytes_sent,
                    (unsigned long long)p.bytes_received, (unsigned long long)p.stream_bytes_sent,
                    (unsigned long long)p.packets_sent, (unsigned long long)p.packets_lost,
                    srtt_ms, p.failed ? "true" : "false", p.backup ? "true" : "false");
    } else {
      std::snprintf(line, sizeof(line),
                    "path %llu %s -> %s%s: %llu bytes sent, %llu received, %llu stream bytes "
                    "sent, packets sent %llu lost %llu, srtt %.3f ms%s\n",
                    (unsigned long long)p.id, p.local.to_string().c_str(),
                    p.remote.to_string().c_str(), p.backup ? " (backup)" : "",
                    (unsigned long long)p.bytes_sent, (unsigned long long)p.bytes_received,
                    (unsigned long long)p.stream_bytes_sent, (unsigned long long)p.packets_sent,
                    (unsigned long long)p.packets_lost, srtt_ms, p.failed ? ", FAILED" : "");
    }
    s += line;
  }
  if (json) s += "]";
  return s;
}

}  // namespace apps
