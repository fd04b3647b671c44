#include "apps/mp_sim_command.h"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "emu/link_spec.h"
#include "harness/mp_scenario.h"
#include "harness/spread.h"

namespace apps {

namespace {

struct Run {
  harness::MpScenario s;
  harness::MpResult r;
};

nlohmann::json to_json(const Run& run) {
  nlohmann::json paths = nlohmann::json::array();
  for (const auto& p : run.r.paths) {
    paths.push_back({{"id", p.id},
                     {"stream_bytes", p.stream_bytes},
                     {"datagrams", p.datagrams},
                     {"packets_sent", p.packets_sent},
                     {"packets_lost", p.packets_lost},
                     {"srtt_ms", quic::to_ms(p.srtt)},
                     {"failed", p.failed}});
  }
  return {{"scenario", run.s.name},
          {"scheduler", std::string(quic::scheduler_name(run.s.scheduler))},
          {"cc", quic::make_congestion_controller(run.s.cc, quic::kMinMaxDatagramSize)->name()},
          {"ok", run.r.ok},
          {"error", run.r.error},
          {"bytes", run.r.bytes},
          {"elapsed_ms", quic::to_ms(run.r.elapsed)},
          {"goodput_mbps", run.r.goodput_bps / 1e6},
          {"sum_of_rates_mbps", run.r.sum_rate_bps / 1e6},
          {"share_of_sum", run.r.share},
          {"seed", run.s.seed},
          {"stall_ms", quic::to_ms(run.r.stall)},
          {"longest_gap_ms", quic::to_ms(run.r.longest_gap)},
          {"datagram_longest_gap_ms", quic::to_ms(run.r.datagram_longest_gap)},
          {"failure_happened", run.r.failure_happened},
          {"surviving_srtt_ms", quic::to_ms(run.r.surviving_srtt)},
          {"backup_share_before_failure", run.r.backup_share_before_failure},
          {"reinjected_packets", run.r.reinjected_packets},
          {"paths_failed", run.r.paths_failed},
          {"datagrams_received", run.r.datagrams_received},
          {"client_dcids_per_link", run.r.client_dcids},
          {"server_dcids_per_link", run.r.server_dcids},
          {"client_cids_retired", run.r.client_cids_retired},
          {"server_cids_retired", run.r.server_cids_retired},
          {"stateless_resets_sent", run.r.stateless_resets_sent},
          {"competitor_goodput_mbps", run.r.competitor_goodput_bps / 1e6},
          {"fairness", run.r.fairness},
          {"paths", paths},
          {"datagrams",
           {{"sent", run.r.datagrams_sent},
            {"received", run.r.datagrams_received},
            {"on_time", run.r.datagrams_on_time},
            {"duplicates", run.r.datagram_duplicates},
            {"expired", run.r.datagrams_expired},
            {"copies_sent", run.r.datagram_copies_sent},
            {"refused", run.r.datagrams_refused},
            {"too_large", run.r.datagrams_too_large},
            {"resent", run.r.datagrams_resent},
            {"resend_exhausted", run.r.datagrams_resend_exhausted},
            {"recv_dropped", run.r.datagrams_recv_dropped},
            {"worst_latency_ms", quic::to_ms(run.r.datagram_worst_latency)}}},
          {"sim_events", run.r.sim_events}};
}

void print(const std::vector<Run>& runs, bool json) {
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& r : runs) out.push_back(to_json(r));
    std::printf("%s\n", (runs.size() == 1 ? out[0] : out).dump(2).c_str());
    return;
  }
  std::printf("%-19s %-10s %-4s %9s %7s %8s %8s %8s  %s\n", "scenario", "scheduler", "ok",
              "goodput", "of sum", "lag", "max gap", "backup", "description");
  for (const auto& [s, r] : runs) {
    std::printf("%-19s %-10s %-4s %6.1f Mb %6.1f%% %6.0fms %6.0fms %7.2f%%  %s\n", s.name.c_str(),
                std::string(quic::scheduler_name(s.scheduler)).c_str(), r.ok ? "yes" : "NO",
                r.goodput_bps / 1e6, 100 * r.share, quic::to_ms(r.stall), quic::to_ms(r.longest_gap),
                100 * r.backup_share_before_failure, s.description.c_str());
    if (r.competitor_goodput_bps > 0) {
      std::printf("    single-path competitor %.1f Mbit/s; multipath / competitor = %.2f\n",
                  r.competitor_goodput_bps / 1e6, r.fairness);
    }
    if (r.datagrams_sent > 0) {
      std::printf(
          "    datagrams: %llu sent, %llu received, %llu on time (%.1f%%), %llu extra "
          "copies, %llu expired unsent, worst latency %.0f ms, longest gap %.0f ms\n",
          static_cast<unsigned long long>(r.datagrams_sent),
          static_cast<unsigned long long>(r.datagrams_received),
          static_cast<unsigned long long>(r.datagrams_on_time),
          100.0 * static_cast<double>(r.datagrams_on_time) / static_cast<double>(r.datagrams_sent),
          static_cast<unsigned long long>(r.datagram_duplicates),
          static_cast<unsigned long long>(r.datagrams_expired), quic::to_ms(r.datagram_worst_latency),
          quic::to_ms(r.datagram_longest_gap));
    }
    if (!r.ok) std::printf("    error: %s\n", r.error.c_str());
  }
}

// The figures summarised over seeds (min / median / max).
struct Figure {
  const char* name;
  double (*get)(const harness::MpResult&);
};
constexpr Figure kSeedFigures[] = {
    {"share_of_sum", [](const harness::MpResult& r) { return r.share; }},
    {"goodput_mbps", [](const harness::MpResult& r) { return r.goodput_bps / 1e6; }},
    {"longest_gap_ms", [](const harness::MpResult& r) { return quic::to_ms(r.longest_gap); }},
    {"stall_ms", [](const harness::MpResult& r) { return quic::to_ms(r.stall); }},
    {"backup_share_before_failure",
     [](const harness::MpResult& r) { return r.backup_share_before_failure; }},
    {"fairness", [](const harness::MpResult& r) { return r.fairness; }},
    {"datagram_longest_gap_ms",
     [](const harness::MpResult& r) { return quic::to_ms(r.datagram_longest_gap); }},
    {"datagrams_on_time_share",
     [](const harness::MpResult& r) {
       return r.datagrams_sent == 0 ? 0.0
                                    : static_cast<double>(r.datagrams_on_time) /
                                          static_cast<double>(r.datagrams_sent);
     }},
};

harness::Spread spread(const std::vector<Run>& runs, const Figure& f) {
  std::vector<double> v;
  for (const auto& run : runs) v.push_back(f.get(run.r));
  return harness::spread_of(std::move(v));
}

// One scenario and scheduler over several seeds: a summary row (JSON: every run too).
void print_seeds(const std::vector<std::vector<Run>>& groups, bool json) {
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& runs : groups) {
      nlohmann::json g{{"scenario", runs.front().s.name},
                       {"scheduler", std::string(quic::scheduler_name(runs.front().s.scheduler))},
                       {"seeds", runs.size()}};
      size_t ok = 0;
      for (const auto& run : runs) ok += run.r.ok ? 1 : 0;
      g["ok_runs"] = ok;
      for (const Figure& f : kSeedFigures) {
        const auto sp = spread(runs, f);
        g[f.name] = {{"min", sp.min}, {"median", sp.median}, {"max", sp.max}};
      }
      g["runs"] = nlohmann::json::array();
      for (const auto& run : runs) g["runs"].push_back(to_json(run));
      out.push_back(std::move(g));
    }
    std::printf("%s\n", (groups.size() == 1 ? out[0] : out).dump(2).c_str());
    return;
  }
  std::printf("%-19s %-10s %5s  %-20s  %-20s  %s\n", "scenario", "scheduler", "ok",
              "of sum min/med/max", "max gap ms min/med/max", "description");
  for (const auto& runs : groups) {
    size_t ok = 0;
    for (const auto& run : runs) ok += run.r.ok ? 1 : 0;
    const auto share = spread(runs, kSeedFigures[0]);
    const auto gap = spread(runs, kSeedFigures[2]);
    std::printf("%-19s %-10s %2zu/%-2zu  %5.1f/%5.1f/%5.1f%%  %6.0f/%6.0f/%6.0f  %s\n",
                runs.front().s.name.c_str(),
                std::string(quic::scheduler_name(runs.front().s.scheduler)).c_str(), ok,
                runs.size(), 100 * share.min, 100 * share.median, 100 * share.max, gap.min,
                gap.median, gap.max, runs.front().s.description.c_str());
  }
}

// Runs `s` with seeds first, first + 1, ... (count of them).
std::vector<Run> run_seeds(const harness::MpScenario& s, uint64_t first, int count) {
  std::vector<Run> runs;
  for (int i = 0; i < count; ++i) {
    harness::MpScenario one = s;
    one.seed = first + static_cast<uint64_t>(i);
    auto r = harness::run_mp_scenario(one);
    runs.push_back({std::move(one), std::move(r)});
  }
  return runs;
}

}  // namespace

quic::Result<harness::MpScenario> custom_mp_scenario(const std::vector<std::string>& links,
                                                     uint64_t bytes) {
  auto bad = [](std::string why) { return quic::fail(quic::err::kInternalError, std::move(why)); };
  if (links.size() > kMaxSimLinks) {
    return bad("at most " + std::to_string(kMaxSimLinks) + " --link options");
  }
  if (bytes == 0) return bad("--size must be positive");
  harness::MpScenario s;
  s.name = "custom";
  for (size_t i = 0; i < links.size(); ++i) {
    auto p = emu::parse_profile(links[i], emu::transparent_profile());
    if (!p) return bad("--link " + links[i] + ": " + p.error());
    if (p->up.rate_bps <= 0 || p->down.rate_bps <= 0) {
      return bad("--link " + links[i] + ": give the link a rate (rate=50mbit)");
    }
    emu::size_default_queues(*p);
    s.links.push_back(harness::MpLink{p->up, p->down});
    s.description += (i ? " + " : "") + links[i];
  }
  s.bytes = bytes;
  return s;
}

int run_mp_sim(harness::MpScenario base, const std::string& scheduler, const std::string& cc,
               uint64_t seed, int seeds, bool json) {
  auto algorithm = quic::parse_cc_name(cc);
  if (!algorithm) {
    std::fprintf(stderr, "tquic sim: unknown congestion controller '%s'\n", cc.c_str());
    return 2;
  }
  base.cc = *algorithm;
  std::vector<quic::SchedulerKind> kinds;
  if (scheduler == "all") {
    kinds = {quic::SchedulerKind::kMinRtt,   quic::SchedulerKind::kRoundRobin,
             quic::SchedulerKind::kWeighted, quic::SchedulerKind::kEcf,
             quic::SchedulerKind::kBlest,    quic::SchedulerKind::kRedundant,
             quic::SchedulerKind::kDeadline};
  } else if (auto k = quic::parse_scheduler(scheduler)) {
    kinds = {*k};
  } else {
    std::fprintf(stderr, "tquic sim: unknown scheduler '%s'\n", scheduler.c_str());
    return 2;
  }
  if (seeds < 1) {
    std::fprintf(stderr, "tquic sim: --seeds must be at least 1\n");
    return 2;
  }
  std::vector<std::vector<Run>> groups;
  bool ok = true;
  for (auto k : kinds) {
    harness::MpScenario s = base;
    s.scheduler = k;
    groups.push_back(run_seeds(s, seed, seeds));
    for (const auto& run : groups.back()) ok &= run.r.ok;
  }
  if (seeds > 1) {
    print_seeds(groups, json);
  } else {
    std::vector<Run> runs;
    for (auto& g : groups) runs.push_back(std::move(g.front()));
    print(runs, json);
  }
  return ok ? 0 : 1;
}

bool run_mp_demo(bool json) {
  if (!json) {
    std::printf(
        "\nMultipath (draft-ietf-quic-multipath-21): one download over several links, default\n"
        "scheduler; links fail mid-transfer in the failover, backup and flapping cases.\n\n");
  }
  std::vector<Run> runs;
  bool ok = true;
  for (const auto& name : harness::mp_scenario_names()) {
    auto s = *harness::named_mp_scenario(name);
    auto r = harness::run_mp_scenario(s);
    ok &= r.ok;
    runs.push_back({std::move(s), std::move(r)});
  }
  // The same scenarios with what suits them better than the defaults: BBR on the lossy links
  // of (c), the deadline scheduler for real-time items, redundant copies through a blackhole,
  // coupled BALIA at a drop-tail shared bottleneck, LIA at one with random loss.
  struct Showcase {
    const char* name;
    std::optional<quic::CcAlgorithm> cc;
    std::optional<quic::SchedulerKind> scheduler;
  };
  for (const Showcase& c :
       {Showcase{"aggregation-c", quic::CcAlgorithm::kBbr, std::nullopt},
        Showcase{"deadline", std::nullopt, quic::SchedulerKind::kDeadline},
        Showcase{"datagrams-redundant", std::nullopt, quic::SchedulerKind::kRedundant},
        Showcase{"shared-bottleneck", quic::CcAlgorithm::kBalia, std::nullopt},
        Showcase{"shared-lossy", quic::CcAlgorithm::kLia, std::nullopt}}) {
    auto s = *harness::named_mp_scenario(c.name);
    if (c.cc) {
      s.cc = *c.cc;
      s.description +=
          " [--cc " +
          std::string(quic::make_congestion_controller(*c.cc, quic::kMinMaxDatagramSize)->name()) +
          "]";
    }
    if (c.scheduler) s.scheduler = *c.scheduler;
    auto r = harness::run_mp_scenario(s);
    ok &= r.ok;
    runs.push_back({std::move(s), std::move(r)});
  }
  print(runs, json);
  return ok;
}

}  // namespace apps
