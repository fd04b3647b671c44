#include "tquicd/metrics.h"

#include <cinttypes>
#include <cstdio>
#include <string_view>

namespace bond {
namespace {

// Label values escape backslash, double quote and newline (the exposition format's rule).
std::string label(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void header(std::string& out, const char* name, const char* type, const char* help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

void sample(std::string& out, const char* name, const std::string& labels, double v) {
  char num[64];
  snprintf(num, sizeof num, "%.17g", v);
  out += name;
  if (!labels.empty()) out += "{" + labels + "}";
  out += ' ';
  out += num;
  out += '\n';
}

// One metric family with a sample per link.
template <typename F>
void per_link(std::string& out, const Status& s, const char* name, const char* type,
              const char* help, F value) {
  header(out, name, type, help);
  for (const auto& l : s.links) sample(out, name, "link=\"" + label(l.name) + "\"", value(l));
}

double d(uint64_t v) {
  return static_cast<double>(v);
}

void link_metrics(std::string& out, const Status& s) {
  header(out, "tquicd_link_state", "gauge", "1 for the link's current state (up, down, failed).");
  for (const auto& l : s.links)
    for (LinkHealth st : {LinkHealth::kUp, LinkHealth::kDown, LinkHealth::kFailed})
      sample(out, "tquicd_link_state",
             "link=\"" + label(l.name) + "\",role=\"" + to_string(l.role) + "\",state=\"" +
                 to_string(st) + "\"",
             l.state == st ? 1 : 0);
  per_link(out, s, "tquicd_link_rtt_seconds", "gauge", "Smoothed RTT of the link's path.",
           [](const LinkStatus& l) { return d(l.rtt_us) / 1e6; });
  per_link(out, s, "tquicd_link_loss_ratio", "gauge", "Fraction of packets lost on the link.",
           [](const LinkStatus& l) { return l.loss; });
  per_link(out, s, "tquicd_link_tx_bytes_total", "counter", "Bytes sent on the link.",
           [](const LinkStatus& l) { return d(l.tx_bytes); });
  per_link(out, s, "tquicd_link_rx_bytes_total", "counter", "Bytes received on the link.",
           [](const LinkStatus& l) { return d(l.rx_bytes); });
  per_link(out, s, "tquicd_link_tx_bits_per_second", "gauge", "Recent send rate of the link.",
           [](const LinkStatus& l) { return d(l.tx_rate_bps); });
  per_link(out, s, "tquicd_link_rx_bits_per_second", "gauge", "Recent receive rate of the link.",
           [](const LinkStatus& l) { return d(l.rx_rate_bps); });
  per_link(out, s, "tquicd_link_quota_bytes", "gauge", "Data quota of a metered link (0: none).",
           [](const LinkStatus& l) { return d(l.quota_bytes); });
  per_link(out, s, "tquicd_link_quota_used_bytes", "gauge", "Bytes counted against the quota.",
           [](const LinkStatus& l) { return d(l.quota_used_bytes); });
}

// The client's ingress queue: its drops by reason (the server has none: all zero there).
void ingress_metrics(std::string& out, const Status& s) {
  const IngressStatus& i = s.ingress;
  header(out, "tquicd_ingress_drops_total", "counter",
         "Client: packets dropped by the ingress queue, by reason (tail: full; codel: sojourn "
         "above target; outage: waited past the outage bound without a tunnel).");
  sample(out, "tquicd_ingress_drops_total", "reason=\"tail\"", d(i.tail_drops));
  sample(out, "tquicd_ingress_drops_total", "reason=\"codel\"", d(i.codel_drops));
  sample(out, "tquicd_ingress_drops_total", "reason=\"outage\"", d(i.outage_drops));
  header(out, "tquicd_ingress_ce_marks_total", "counter",
         "Client: packets the ingress queue marked CE instead of dropping.");
  sample(out, "tquicd_ingress_ce_marks_total", "", d(i.ce_marks));
  header(out, "tquicd_ingress_queue_bytes", "gauge", "Client: bytes waiting in the ingress queue.");
  sample(out, "tquicd_ingress_queue_bytes", "", d(i.queued_bytes));
}

}  // namespace

std::string format_metrics(const Status& s, uint64_t events_total) {
  std::string out;
  header(out, "tquicd_bond_state", "gauge", "1 for the bond's current state.");
  for (BondState b : {BondState::kSingle, BondState::kBonded, BondState::kDegraded,
                      BondState::kDown, BondState::kReconnecting})
    sample(out, "tquicd_bond_state", std::string("state=\"") + to_string(b) + "\"",
           s.bond == b ? 1 : 0);
  header(out, "tquicd_uptime_seconds", "gauge", "Seconds since the daemon started.");
  sample(out, "tquicd_uptime_seconds", "", d(s.uptime_ms) / 1e3);
  link_metrics(out, s);
  header(out, "tquicd_paths_active", "gauge", "Paths validated and usable.");
  size_t active = 0;
  for (const auto& p : s.paths) active += p.active;
  sample(out, "tquicd_paths_active", "", d(active));
  header(out, "tquicd_clients", "gauge", "Connected clients (server).");
  sample(out, "tquicd_clients", "", d(s.conns.size()));
  header(out, "tquicd_tunnel_tx_bytes_total", "counter", "Bytes sent into the tunnel.");
  sample(out, "tquicd_tunnel_tx_bytes_total", "", d(s.tx_bytes));
  header(out, "tquicd_tunnel_rx_bytes_total", "counter", "Bytes received from the tunnel.");
  sample(out, "tquicd_tunnel_rx_bytes_total", "", d(s.rx_bytes));
  header(out, "tquicd_control_refused_total", "counter", "Control clients refused.");
  sample(out, "tquicd_control_refused_total", "", d(s.control_refused));
  header(out, "tquicd_disconnects_total", "counter", "Client: connections to the server lost.");
  sample(out, "tquicd_disconnects_total", "", d(s.reconnect.disconnects));
  header(out, "tquicd_reconnects_total", "counter", "Client: connections made again after a loss.");
  sample(out, "tquicd_reconnects_total", "", d(s.reconnect.reconnects));
  ingress_metrics(out, s);
  header(out, "tquicd_events_total", "counter", "Events logged (path, failover, quota).");
  sample(out, "tquicd_events_total", "", d(events_total));
  return out;
}

}  // namespace bond
