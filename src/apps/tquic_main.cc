// tquic: the command-line front end (subcommands; `tquic <cmd> --help` for each).
#include <cstdio>

#include <CLI/CLI.hpp>

#include "apps/masque_ip.h"
#include "apps/masque_proxy.h"
#include "apps/masque_udp.h"
#include "apps/net_commands.h"
#include "apps/mp_sim_command.h"
#include "apps/sim_command.h"
#include "apps/udp_blast.h"
#include "harness/mp_scenario.h"

int main(int argc, char** argv) {
  CLI::App app{"tquic: a multipath QUIC stack and its tools"};
  app.require_subcommand(1);

  bool demo_json = false;
  auto* demo = app.add_subcommand("demo", "run the main demo (interop-runner cases in the simulator)");
  demo->add_flag("--json", demo_json, "print figures as JSON");

  apps::SimOptions so;
  bool list = false;
  auto* sim = app.add_subcommand("sim", "run a simulator scenario and print its figures");
  sim->add_option("scenario", so.scenario, "named scenario (see --list); omit for a custom link");
  sim->add_flag("--list", list, "list the named scenarios");
  sim->add_option("--rate", so.rate_mbit, "link rate, Mbit/s (custom link)");
  sim->add_option("--delay", so.delay_ms, "one-way delay, ms (custom link)");
  sim->add_option("--loss", so.loss_pct, "random loss each way, percent (custom link)");
  sim->add_option("--corrupt", so.corrupt_pct, "corrupted packets each way, percent (custom link)");
  sim->add_option("--queue", so.queue_packets, "drop-tail queue, packets (custom link)");
  sim->add_option("--size", so.size_mib, "bytes to download, MiB (custom link)");
  sim->add_option("--streams", so.streams, "parallel streams sharing --size (custom link)");
  sim->add_option("--cc", so.cc, "congestion controller: cubic | newreno | lia | olia | balia | bbr");
  sim->add_option("--seed", so.seed, "simulator seed (same seed, same result)");
  sim->add_option("--seeds", so.seeds,
                  "run N seeds (--seed, --seed + 1, ...) and print min / median / max")
      ->check(CLI::Range(1, 1000));
  sim->add_flag("--null-crypto", so.null_crypto, "skip AEAD work (very large simulations)");
  sim->add_option("--pcap", so.pcap, "write the simulated traffic to a pcap file");
  sim->add_option("--qlog-dir", so.qlog_dir, "write a qlog (JSON-SEQ) per connection into DIR");
  sim->add_flag("--json", so.json, "print figures as JSON");
  sim->add_option("--ack-frequency", so.ack_frequency,
                  "on | off: ACK_FREQUENCY on both sides (default: the scenario's choice)");
  std::string scheduler = "ecf";
  sim->add_option("--scheduler", scheduler,
                  "multipath scenarios: minrtt | roundrobin | weighted | ecf | blest | redundant | deadline | all");

  size_t gso_segments = 1;
  sim->add_option("--gso", gso_segments,
                  "multipath scenarios: the endpoints build GSO runs of up to N datagrams, as the "
                  "I/O driver does on a GSO socket (64); default 1, one datagram per poll")
      ->check(CLI::Range(1, 64));

  std::vector<std::string> mp_links;
  sim->add_option("--link", mp_links,
                  "a link of a custom multipath scenario, as `tquic emu --default-link`: "
                  "rate=50mbit,delay=10ms,loss=1% (repeatable; --size, --seeds, --scheduler, --cc "
                  "apply)");

  apps::NetCommands net(app);
  apps::UdpBlastCommand udp_blast(app);
  apps::MasqueIpOptions masque_ip_opts;
  auto* masque_ip = app.add_subcommand("masque-ip", "CONNECT-IP client: a TUN device through a MASQUE proxy");
  apps::add_masque_ip_options(*masque_ip, masque_ip_opts);
  apps::MasqueProxyOptions masque_proxy_opts;
  auto* masque_proxy = app.add_subcommand("masque-proxy", "MASQUE proxy: CONNECT-UDP over HTTP/3");
  apps::add_masque_proxy_options(*masque_proxy, masque_proxy_opts);
  apps::MasqueUdpOptions masque_udp_opts;
  auto* masque_udp = app.add_subcommand("masque-udp", "forward a local UDP port through a MASQUE proxy");
  apps::add_masque_udp_options(*masque_udp, masque_udp_opts);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help exits 0; every usage error exits 2 (the network commands' contract).
    return app.exit(e) == 0 ? 0 : 2;
  }

  if (auto rc = net.dispatch()) return *rc;
  if (auto rc = udp_blast.dispatch()) return *rc;
  if (*masque_ip) return apps::run_masque_ip(masque_ip_opts);
  if (*masque_proxy) return apps::run_masque_proxy(masque_proxy_opts);
  if (*masque_udp) return apps::run_masque_udp(masque_udp_opts);

  if (*demo) return apps::run_demo(demo_json);
  if (*sim) {
    if (list) {
      for (const auto& n : harness::scenario_names()) {
        std::printf("%-20s %s\n", n.c_str(), harness::named_scenario(n)->description.c_str());
      }
      for (const auto& n : harness::mp_scenario_names()) {
        std::printf("%-20s %s\n", n.c_str(), harness::named_mp_scenario(n)->description.c_str());
      }
      return 0;
    }
    if (!mp_links.empty()) {
      if (!so.scenario.empty()) {
        std::fprintf(stderr, "tquic sim: --link builds its own scenario; drop '%s'\n",
                     so.scenario.c_str());
        return 2;
      }
      auto custom = apps::custom_mp_scenario(
          mp_links, static_cast<uint64_t>(so.size_mib * static_cast<double>(1 << 20)));
      if (!custom) {
        std::fprintf(stderr, "tquic sim: %s\n", custom.error().reason.c_str());
        return 2;
      }
      custom->gso_segments = gso_segments;
      return apps::run_mp_sim(std::move(*custom), scheduler, so.cc, so.seed, so.seeds, so.json);
    }
    if (auto named = harness::named_mp_scenario(so.scenario)) {
      named->gso_segments = gso_segments;
      return apps::run_mp_sim(std::move(*named), scheduler, so.cc, so.seed, so.seeds, so.json);
    }
    return apps::run_sim(so);
  }
  return 2;
}
