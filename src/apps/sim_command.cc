#include "apps/sim_command.h"

#include <cstdio>

#include <nlohmann/json.hpp>

#include "apps/mp_sim_command.h"
#include "harness/spread.h"
#include "obs/qlog_writer.h"

namespace apps {

namespace {

double ack_frames_per_mib(const harness::ScenarioResult& r) {
  return r.bytes == 0 ? 0 : static_cast<double>(r.client_ack_frames) * (1 << 20) /
                                static_cast<double>(r.bytes);
}

nlohmann::json to_json(const harness::Scenario& s, const harness::ScenarioResult& r) {
  return {
      {"scenario", s.name},
      {"seed", s.seed},
      {"ok", r.ok},
      {"error", r.error},
      {"bytes", r.bytes},
      {"elapsed_ms", quic::to_ms(r.elapsed)},
      {"goodput_mbps", r.goodput_bps / 1e6},
      {"link_rate_mbps", r.link_rate_bps / 1e6},
      {"capacity_share", r.capacity_share},
      {"handshakes", r.handshakes},
      {"handshake_ms", quic::to_ms(r.first_handshake)},
      {"mean_handshake_ms", quic::to_ms(r.mean_handshake)},
      {"server_packets_sent", r.server_packets_sent},
      {"server_packets_lost", r.server_packets_lost},
      {"stream_bytes_retransmitted", r.stream_bytes_retransmitted},
      {"rtt_ms", {{"min", quic::to_ms(r.min_rtt)}, {"p50", quic::to_ms(r.rtt_p50)}, {"p90", quic::to_ms(r.rtt_p90)}, {"p99", quic::to_ms(r.rtt_p99)}}},
      {"sim_events", r.sim_events},
      {"client_ack_frames", r.client_ack_frames},
      {"ack_frames_per_mib", ack_frames_per_mib(r)},
      {"server_ack_frequency_frames", r.server_ack_frequency_frames},
      {"server_immediate_acks", r.server_immediate_acks},
  };
}

}  // namespace

quic::Result<harness::Scenario> scenario_from(const SimOptions& o) {
  harness::Scenario s;
  if (!o.scenario.empty()) {
    auto named = harness::named_scenario(o.scenario);
    if (!named) return quic::fail(quic::err::kInternalError, "unknown scenario '" + o.scenario + "'");
    s = *named;
  } else {
    if (o.rate_mbit <= 0 || o.delay_ms < 0 || o.loss_pct < 0 || o.loss_pct >= 100 ||
        o.corrupt_pct < 0 || o.corrupt_pct > 100 || o.size_mib <= 0 || o.streams < 1 ||
        o.queue_packets < 1) {
      return quic::fail(quic::err::kInternalError, "link or transfer option out of range");
    }
    auto link = harness::default_link();
    link.rate_bps = o.rate_mbit * 1e6;
    link.delay = std::chrono::duration_cast<quic::Duration>(std::chrono::duration<double, std::milli>(o.delay_ms));
    link.loss = o.loss_pct / 100.0;
    link.corrupt = o.corrupt_pct / 100.0;
    // Queue: the given packet count, but never less than one bandwidth-delay product.
    double bdp = link.rate_bps / 8 * 2 * o.delay_ms / 1000;
    link.queue_bytes = static_cast<size_t>(std::max(o.queue_packets * 1500, bdp));
    s.client_to_server = s.server_to_client = link;
    uint64_t total = static_cast<uint64_t>(o.size_mib * 1024 * 1024);
    s.plan.sizes.assign(static_cast<size_t>(o.streams), total / static_cast<uint64_t>(o.streams));
    s.name = "custom";
    s.time_limit = std::chrono::seconds(3600);
  }
  auto cc = quic::parse_cc_name(o.cc);
  if (!cc) return quic::fail(quic::err::kInternalError, "unknown congestion controller '" + o.cc + "'");
  s.client.cc = s.server.cc = *cc;
  if (o.null_crypto) s.client.aead = s.server.aead = quic::AeadBackend::kNull;
  // Windows large enough not to limit fast links (auto-tuning grows them further).
  if (o.scenario.empty()) {
    s.client.initial_max_data = s.server.initial_max_data = 16 << 20;
    s.client.initial_max_stream_data = s.server.initial_max_stream_data = 8 << 20;
    // Windows and send buffers of at least twice the bandwidth-delay product.
    double bdp = o.rate_mbit * 1e6 / 8 * 2 * o.delay_ms / 1000;
    auto twice_bdp = static_cast<uint64_t>(2 * bdp);
    for (auto* c : {&s.client, &s.server}) {
      c->stream_send_buffer = std::max<size_t>(c->stream_send_buffer, twice_bdp);
      c->max_stream_window = std::max<uint64_t>(c->max_stream_window, twice_bdp);
      c->max_connection_window = std::max<uint64_t>(c->max_connection_window, twice_bdp);
    }
  }
  if (o.ack_frequency == "on" || o.ack_frequency == "off") {
    s.client.ack_frequency = s.server.ack_frequency = o.ack_frequency == "on";
  } else if (!o.ack_frequency.empty()) {
    return quic::fail(quic::err::kInternalError, "--ack-frequency takes on or off");
  }
  s.seed = o.seed;
  s.pcap_path = o.pcap;
  if (!o.qlog_dir.empty()) s.client.trace = s.server.trace = obs::qlog_factory(o.qlog_dir);
  return s;
}

void print_results(const std::vector<std::pair<harness::Scenario, harness::ScenarioResult>>& runs,
                   bool json) {
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& [s, r] : runs) out.push_back(to_json(s, r));
    std::printf("%s\n", (runs.size() == 1 ? out[0] : out).dump(2).c_str());
    return;
  }
  std::printf("%-20s %-4s %10s %10s %8s %9s %9s %8s %8s  %s\n", "scenario", "ok", "bytes",
              "goodput", "of link", "handshake", "rtt p50", "lost", "events", "description");
  for (const auto& [s, r] : runs) {
    std::printf("%-20s %-4s %10llu %7.2f Mb %7.1f%% %7.1fms %7.1fms %8llu %8llu  %s\n",
                s.name.c_str(), r.ok ? "yes" : "NO", static_cast<unsigned long long>(r.bytes),
                r.goodput_bps / 1e6, 100 * r.capacity_share, quic::to_ms(r.first_handshake),
                quic::to_ms(r.rtt_p50), static_cast<unsigned long long>(r.server_packets_lost),
                static_cast<unsigned long long>(r.sim_events), s.description.c_str());
    if (!r.ok) std::printf("    error: %s\n", r.error.c_str());
  }
}

int run_sim(const SimOptions& o) {
  auto s = scenario_from(o);
  if (!s) {
    std::fprintf(stderr, "tquic sim: %s\n", s.error().reason.c_str());
    return 2;
  }
  if (o.seeds <= 1) {
    auto r = harness::run_scenario(*s);
    print_results({{*s, r}}, o.json);
    if (!o.json) {
      std::printf("acks: %llu ACK frames from the client (%.1f per MiB); server sent %llu "
                  "ACK_FREQUENCY, %llu IMMEDIATE_ACK\n",
                  static_cast<unsigned long long>(r.client_ack_frames), ack_frames_per_mib(r),
                  static_cast<unsigned long long>(r.server_ack_frequency_frames),
                  static_cast<unsigned long long>(r.server_immediate_acks));
    }
    return r.ok ? 0 : 1;
  }
  // Several seeds: every run, then min / median / max of the share of the link and goodput.
  std::vector<std::pair<harness::Scenario, harness::ScenarioResult>> runs;
  std::vector<double> share, goodput;
  bool ok = true;
  for (int i = 0; i < o.seeds; ++i) {
    harness::Scenario one = *s;
    one.seed = o.seed + static_cast<uint64_t>(i);
    auto r = harness::run_scenario(one);
    ok &= r.ok;
    share.push_back(r.capacity_share);
    goodput.push_back(r.goodput_bps / 1e6);
    runs.emplace_back(std::move(one), std::move(r));
  }
  const auto sh = harness::spread_of(share), gp = harness::spread_of(goodput);
  if (o.json) {
    nlohmann::json runs_json = nlohmann::json::array();
    for (const auto& [sc, r] : runs) runs_json.push_back(to_json(sc, r));
    nlohmann::json out{{"scenario", s->name},
                       {"seeds", o.seeds},
                       {"capacity_share", {{"min", sh.min}, {"median", sh.median}, {"max", sh.max}}},
                       {"goodput_mbps", {{"min", gp.min}, {"median", gp.median}, {"max", gp.max}}},
                       {"runs", runs_json}};
    std::printf("%s\n", out.dump(2).c_str());
  } else {
    print_results(runs, false);
    std::printf("%d seeds from %llu: share of link min %.1f%% median %.1f%% max %.1f%%; "
                "goodput median %.2f Mbit/s\n",
                o.seeds, static_cast<unsigned long long>(o.seed), 100 * sh.min,
                100 * sh.median, 100 * sh.max, gp.median);
  }
  return ok ? 0 : 1;
}

int run_demo(bool json) {
  if (!json) {
    std::printf(
        "TQUIC demo: the quic-interop-runner cases, run in virtual time through TQUIC's network\n"
        "simulator with real TLS 1.3 (GnuTLS) and real packet protection. Every byte is checked.\n\n");
  }
  std::vector<std::pair<harness::Scenario, harness::ScenarioResult>> runs;
  bool ok = true;
  for (const auto& name : harness::scenario_names()) {
    auto s = *harness::named_scenario(name);
    auto r = harness::run_scenario(s);
    ok &= r.ok;
    runs.emplace_back(std::move(s), std::move(r));
  }
  print_results(runs, json);
  if (!json) ok &= run_mp_demo(false);
  return ok ? 0 : 1;
}

}  // namespace apps
