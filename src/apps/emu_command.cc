#include "apps/emu_command.h"

#include <cstdio>

#include <CLI/CLI.hpp>

#include "apps/net_options.h"
#include "emu/relay.h"

namespace apps {
namespace {

std::string ip_text(const quic::SocketAddress& a) {
  std::string s = a.to_string();
  return s.substr(0, s.rfind(':'));
}

}  // namespace

void add_emu_options(CLI::App& cmd, EmuOptions& o) {
  cmd.add_option("--listen", o.listen, "address the clients talk to (port 0: ephemeral)")
      ->capture_default_str();
  cmd.add_option("--to", o.to, "the server's address")->required();
  cmd.add_option("--link", o.links,
                 "IP=KEY=VALUE,...: the link of clients from IP, e.g. "
                 "127.0.0.2=rate=50mbit,delay=10ms,loss=1% (keys: rate delay jitter queue loss "
                 "burst_loss max_burst corrupt reorder reorder_delay header; up./down. prefix "
                 "for one direction)");
  cmd.add_option("--default-link", o.default_link,
                 "KEY=VALUE,...: the link of clients without a --link (default: transparent)");
  cmd.add_option("--down", o.downs, "IP@START-END: the link of IP is dark in that window, e.g. "
                                    "127.0.0.2@5s-8s (from the relay's start)");
  cmd.add_option("--seed", o.seed, "seed of the loss/jitter/reorder patterns")
      ->capture_default_str();
  cmd.add_option("--duration", o.duration_s, "stop after this many seconds (default: on signal)")
      ->check(CLI::Range(0.0, 1e7));
  cmd.add_flag("--json", o.json, "print the final figures as JSON");
}

int run_emu(const EmuOptions& o) {
  auto listen = quic::SocketAddress::parse(o.listen);
  auto to = quic::SocketAddress::parse(o.to);
  if (!listen || !to) {
    std::fprintf(stderr, "tquic emu: bad %s '%s' (expected IP:PORT)\n", !listen ? "--listen" : "--to",
                 !listen ? o.listen.c_str() : o.to.c_str());
    return kExitUsage;
  }
  emu::RelayConfig config;
  config.server = *to;
  config.seed = o.seed;
  auto def = emu::parse_profile(o.default_link, emu::transparent_profile());
  if (!def) {
    std::fprintf(stderr, "tquic emu: --default-link: %s\n", def.error().c_str());
    return kExitUsage;
  }
  config.default_profile = *def;
  for (const std::string& text : o.links) {
    auto l = emu::parse_link_arg(text, emu::transparent_profile());
    if (!l) {
      std::fprintf(stderr, "tquic emu: --link: %s\n", l.error().c_str());
      return kExitUsage;
    }
    for (const auto& prev : config.links) {
      if (prev.ip == l->ip) {
        std::fprintf(stderr, "tquic emu: --link: %s given twice\n", ip_text(l->ip).c_str());
        return kExitUsage;
      }
    }
    config.links.push_back(*l);
  }
  if (config.links.size() > emu::kMaxLinks) {
    std::fprintf(stderr, "tquic emu: more than %zu --link\n", emu::kMaxLinks);
    return kExitUsage;
  }
  for (const std::string& text : o.downs) {
    auto d = emu::parse_down_arg(text);
    if (!d) {
      std::fprintf(stderr, "tquic emu: --down: %s\n", d.error().c_str());
      return kExitUsage;
    }
    config.downs.push_back(*d);
  }
  if (config.downs.size() > emu::kMaxBlackholeWindows) {
    std::fprintf(stderr, "tquic emu: more than %zu --down\n", emu::kMaxBlackholeWindows);
    return kExitUsage;
  }

  auto relay = emu::Relay::open(*listen, config);
  if (!relay) {
    std::fprintf(stderr, "tquic emu: %s\n", relay.error().reason.c_str());
    return kExitUsage;
  }
  std::printf("listening on %s -> %s\n", (*relay)->listen_address().to_string().c_str(),
              to->to_string().c_str());
  for (const emu::LinkReport& l : (*relay)->core().report()) {
    std::printf("emu link %s up: %s\n", ip_text(l.ip).c_str(), emu::describe(l.up_config).c_str());
    std::printf("emu link %s down: %s\n", ip_text(l.ip).c_str(),
                emu::describe(l.down_config).c_str());
  }
  emu::LinkProfile shown = config.default_profile;
  emu::size_default_queues(shown);
  std::printf("emu default link: up %s; down %s\n", emu::describe(shown.up).c_str(),
              emu::describe(shown.down).c_str());
  std::fflush(stdout);

  auto duration = std::chrono::duration_cast<quic::Duration>(
      std::chrono::duration<double>(o.duration_s));
  auto st = (*relay)->run(duration);
  if (!st) {
    std::fprintf(stderr, "tquic emu: %s\n", st.error().reason.c_str());
    return kExitFailure;
  }
  if (o.json) {
    std::string j = "{\"links\": [";
    bool first = true;
    for (const emu::LinkReport& l : (*relay)->core().report()) {
      for (int dir = 0; dir < 2; ++dir) {
        const sim::DirCounters& c = dir == 0 ? l.up : l.down;
        char buf[512];
        std::snprintf(buf, sizeof(buf),
                      "%s{\"ip\": \"%s\", \"direction\": \"%s\", \"offered_packets\": %llu, "
                      "\"offered_bytes\": %llu, \"forwarded_packets\": %llu, \"forwarded_bytes\": "
                      "%llu, \"dropped_loss\": %llu, \"dropped_queue\": %llu, "
                      "\"dropped_blackhole\": %llu}",
                      first ? "" : ", ", ip_text(l.ip).c_str(), dir == 0 ? "up" : "down",
                      (unsigned long long)c.sent_packets, (unsigned long long)c.sent_bytes,
                      (unsigned long long)c.delivered_packets,
                      (unsigned long long)c.delivered_bytes, (unsigned long long)c.dropped_loss,
                      (unsigned long long)c.dropped_queue,
                      (unsigned long long)c.dropped_blackhole);
        j += buf;
        first = false;
      }
    }
    char tail[128];
    std::snprintf(tail, sizeof(tail), "], \"send_drops\": %llu, \"cpu_seconds\": %.3f}\n",
                  (unsigned long long)(*relay)->stats().send_drops,
                  (*relay)->stats().cpu_seconds);
    std::printf("%s%s", j.c_str(), tail);
  } else {
    std::printf("%s", (*relay)->format_report().c_str());
  }
  std::fflush(stdout);
  return kExitOk;
}

}  // namespace apps
