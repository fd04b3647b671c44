// Multipath simulator scenarios (docs/multipath.md): a client with one address per link, a
// server with one address, one bulk download over a multipath connection, and scheduled link
// failures. The figures are the ones issue #6 asks for: goodput as a share of the sum of the
// link rates, the stall after a failure, bytes a backup path carried while the primary
// worked, and the bytes delivered (a run only passes if every byte arrives intact).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "mp/scheduler.h"
#include "sim/link_config.h"

namespace harness {

using quic::Duration;

struct MpLink {
  sim::LinkConfig up, down;  // client->server, server->client
  bool backup = false;       // the client marks this path backup (PATH_STATUS_BACKUP)
  size_t mtu = 0;            // drops UDP payloads larger than this both ways (0: none)
  // The sender's (server's) policy for this link's path: weighted-scheduler weight and send
  // rate cap in bit/s, 0 none (Connection::set_path_weight / set_path_rate_cap).
  double weight = 1.0;
  uint64_t rate_cap_bps = 0;
};

// Both directions of a link of `mbps` (IPv4 and UDP headers charged, sim::kIpv4UdpHeaderBytes) with
// round-trip time `rtt`, random loss, and a bandwidth-delay product of queue (at least 25
// packets), as a sized router buffer.
MpLink mp_link(double mbps, Duration rtt, double loss = 0, bool backup = false);

// The link's MTU (largest UDP payload it carries, both ways; 0: no limit) changes at `at`.
struct MpMtuEvent {
  Duration at{0};
  size_t link = 0;
  size_t mtu = 0;
};

struct MpLinkEvent {
  Duration at{0};
  size_t link = 0;
  bool up = false;
};

// NAT rebinding of a link's client address (RFC 9000 §9.3): a new port, or a new IP address
// (reached over a new link with the same configuration).
struct MpRebind {
  Duration at{0};
  size_t link = 0;
  bool new_address = false;
};

// Connection-ID rotation on one path (RFC 9000 §5.1.2): `rotate` switches the acting side to a
// spare CID of the peer's; otherwise it retires every CID it issued for the path
// (retire_prior_to), forcing the peer onto a new one.
struct MpCidAction {
  Duration at{0};
  bool server = false;
  uint64_t path = 0;
  bool rotate = true;
};

struct MpScenario {
  std::string name = "custom";
  std::string description;
  uint64_t seed = 1;
  std::vector<MpLink> links;  // link 0 carries the handshake
  uint64_t bytes = 64ull << 20;
  quic::SchedulerKind scheduler = quic::SchedulerKind::kEcf;  // the connection default
  quic::CcAlgorithm cc = quic::CcAlgorithm::kCubic;
  std::vector<MpLinkEvent> events;
  // Failover figures are measured from this event (index into events), if any.
  std::optional<size_t> failure_event;
  bool multipath = true;  // false: plain QUIC over link 0 (migration cases)
  std::vector<MpRebind> rebinds;
  std::optional<Duration> migrate_at;  // client: active migration of path 0 to link 1's address
  bool preferred_address = false;      // server offers a second address; the client moves there
  std::optional<Duration> abandon_at;  // client: abandons path 1 (PATH_ABANDON)
  // DATAGRAM frames (RFC 9221) the server sends during the transfer (mp_datagram_flow.h): one
  // every datagram_interval from datagram_start on, each with a deadline of its send time plus
  // datagram_deadline when that is set (a real-time flow).
  uint64_t datagrams = 0;
  Duration datagram_interval = std::chrono::milliseconds(1);
  Duration datagram_start = std::chrono::seconds(1);
  size_t datagram_size = 1000;
  size_t datagram_burst = 1;  // datagrams sent together every datagram_interval
  // true: the flow is woken at each send time, so it keeps its clock while the network is
  // silent (a dark path, nothing else in flight), as an application does; false: it sends only
  // when a simulator event happens anyway, and pauses with the network (the older figures).
  bool datagram_clock = false;
  std::optional<Duration> datagram_deadline;
  // Both sides' ConnectionConfig: max_datagram_frame_size and datagram_resend_on_path_failure.
  uint64_t max_datagram_frame_size = 1200;
  bool datagram_resend = false;
  bool datagram_resend_on_loss = false;  // ConnectionConfig::datagram_resend_on_loss, both sides
  size_t datagram_resend_buffer = 4 << 20;
  // The same flow as one unidirectional stream per item (FIN after it) whose stream deadline
  // is the item's (Connection::set_stream_deadline); the datagram figures count the items.
  bool datagrams_as_streams = false;
  // Every Nth datagram (sequence number 0, N, 2N, ...) is sent as DatagramPriority::
  // kInteractive (a tunnel's ping beside its bulk); 0: none.
  uint64_t datagram_interactive_every = 0;
  std::vector<MpCidAction> cid_actions;
  // Every client address reaches the server over link 0 (one shared bottleneck; the other
  // links' configurations are unused), as when two uplinks share one congested upstream.
  bool shared_bottleneck = false;
  // A single-path client with this controller downloads through link 0 at the same time
  // (it starts 10 ms after the multipath client), to measure fairness at the bottleneck.
  std::optional<quic::CcAlgorithm> competitor;
  // GSO runs the endpoints may build (SimEndpoint::set_max_segments, as the I/O driver on a
  // GSO socket: 64); 1, the default: one datagram per poll.
  size_t gso_segments = 1;
  // false: 64 MiB windows and send buffers from the start (the scenario figures); true: the
  // ConnectionConfig defaults, auto-tuned.
  bool default_windows = false;
  bool ack_frequency = false;  // ACK_FREQUENCY on both sides (docs/ack-frequency.md)
  std::optional<Duration> path_abandon_after;  // both sides' ConnectionConfig (default 300 s)
  std::optional<Duration> pmtu_raise_interval;  // both sides' ConnectionConfig (default 600 s)
  // Both sides' optimistic-ACK defence period (ConnectionConfig::skip_pn_period); unset: the
  // default. For tests comparing a run with and without skipped packet numbers.
  std::optional<uint32_t> skip_pn_period;
  std::vector<MpMtuEvent> mtu_events;
  Duration time_limit = std::chrono::seconds(120);
  // The server's cap on its connection's send rate over all paths (0: none).
  uint64_t server_rate_cap_bps = 0;
};

struct MpPathFigures {
  uint64_t id = 0;
  uint64_t stream_bytes = 0;  // STREAM payload the server sent on it
  uint64_t datagrams = 0;     // DATAGRAM frames the server sent on it
  uint64_t packets_sent = 0, packets_lost = 0;
  Duration srtt{0};
  bool failed = false;
  uint64_t ack_threshold = 1;  // the Ack-Eliciting Threshold last requested for it (ACK_FREQUENCY)
  size_t mtu = 0;                 // the server's datagram size on it at the end (DPLPMTUD)
  uint64_t pmtu_black_holes = 0;  // times it fell back to the base size
};

struct MpResult {
  bool ok = false;
  std::string error;
  Duration elapsed{0};  // connect to last byte verified
  uint64_t bytes = 0;
  double goodput_bps = 0, sum_rate_bps = 0, share = 0;  // share = goodput / sum of link rates
  std::vector<MpPathFigures> paths;                     // server side
  // Failover: how long delivery effectively stopped after the failure event (the largest lag
  // behind 80% of the surviving links' rate over the following two seconds).
  Duration stall{0};
  // What a user feels (gap_meter.h), from the first link failure on: the longest time between
  // two in-order stream deliveries to the application, and between two DATAGRAM arrivals
  // (first copies), time with every link down left out. failure_happened: the failing link
  // really dropped packets; surviving_srtt: the server's SRTT at the end on the first link
  // still up after the first failure (the goal is longest_gap <= surviving_srtt + 100 ms).
  Duration longest_gap{0}, datagram_longest_gap{0};
  bool failure_happened = false;
  Duration surviving_srtt{0};
  double backup_share_before_failure = 0;  // backup paths' stream bytes / all, before failure
  uint64_t reinjected_packets = 0, paths_failed = 0, paths_validated = 0, paths_abandoned = 0;
  size_t server_paths_at_end = 0;
  uint64_t datagrams_received = 0;  // by the client, checked byte for byte (first copies)
  uint64_t datagrams_sent = 0, datagrams_on_time = 0;  // on time: within datagram_deadline
  uint64_t datagram_duplicates = 0, datagrams_corrupt = 0;  // extra copies; damaged ones
  uint64_t datagrams_expired = 0, datagram_copies_sent = 0;  // server stats
  uint64_t datagrams_refused = 0, datagrams_too_large = 0;   // server stats
  uint64_t datagrams_resent = 0, datagrams_resend_exhausted = 0;  // server stats
  uint64_t datagrams_recv_dropped = 0;                        // client stats
  uint64_t interactive_spills = 0;  // server stats
  // The server's kDatagramPayloadChanged events: (time since start, new payload limit).
  std::vector<std::pair<Duration, size_t>> datagram_payload_events;
  size_t datagram_payload_at_end = 0;  // server's max_datagram_payload()
  Duration datagram_worst_latency{0};
  // The interactive ones (datagram_interactive_every): received, and the worst of their
  // one-way latencies (also without the first MpDatagramFlow::kWarmUp); the worst of the others.
  uint64_t interactive_received = 0;
  Duration interactive_worst_latency{0}, steady_interactive_worst_latency{0};
  // The longest gap between two interactive arrivals (first copies), counted as
  // datagram_longest_gap is (from the first link failure on), and every interactive arrival:
  // (its send time since the start, its latency), in arrival order, to explain a gap.
  Duration interactive_longest_gap{0};
  std::vector<std::pair<Duration, Duration>> interactive_arrivals;
  Duration bulk_worst_latency{0};
  // Migration checks (quic-interop-runner rebind/connectionmigration criteria): every datagram
  // that is the first between a new pair of addresses after the handshake carries a
  // PATH_CHALLENGE, and every challenge is answered.
  uint64_t new_tuples = 0, new_tuples_without_challenge = 0;
  uint64_t challenges_sent = 0, responses_sent = 0;  // both sides
  uint64_t server_migrations = 0;
  bool client_used_preferred_address = false;
  bool client_dcid_changed = false;  // the client's DCID after the move differs from before
  // Distinct DCIDs in the 1-RTT packets each side sent over each link (index = link).
  std::vector<size_t> client_dcids, server_dcids;
  // CIDs each side issued that the peer retired.
  uint64_t client_cids_retired = 0, server_cids_retired = 0;
  uint64_t stateless_resets_sent = 0;  // by both endpoints (a retired CID still in use)
  // With a competitor: its goodput while the multipath transfer ran, and the multipath
  // connection's goodput divided by it (RFC 6356 §2 goal: about 1 at a shared bottleneck).
  double competitor_goodput_bps = 0, fairness = 0;
  uint64_t sim_events = 0;
  // ACK frames the client sent (all paths); ACK_FREQUENCY frames the server sent.
  uint64_t client_ack_frames = 0, server_ack_frequency_frames = 0;
  uint64_t server_pns_skipped = 0;  // packet numbers the server skipped (RFC 9000 §21.4)
};

MpResult run_mp_scenario(const MpScenario& s);

class GapMeter;
// Sets `m` to count gaps from the scenario's first link failure (start + its time) and to leave
// out the windows when every link is down. No link failure: nothing is counted.
void configure_gap_meter(GapMeter& m, const MpScenario& s, quic::Instant start);

// aggregation-a, aggregation-b, aggregation-c, failover, backup, flapping, both-die, datagrams,
// mp-rebind, abandon, cid-retire, and the single-path migration cases rebind-port, rebind-addr, migration, connectionmigration.
std::optional<MpScenario> named_mp_scenario(std::string_view name);
// deadline, deadline-streams, datagrams-redundant, datagrams-failover, datagrams-burst,
// datagrams-mtu (mp_deadline_scenarios.cc; named_mp_scenario finds them too).
std::optional<MpScenario> deadline_mp_scenario(std::string_view name);
std::vector<std::string> mp_scenario_names();

}  // namespace harness
