// Simulator scenarios: a client and a server endpoint joined by one or more simulated links,
// running a TransferPlan, and the figures users and tests read from the run (goodput, share of
// link capacity, retransmissions, RTT percentiles, handshake time). Named scenarios reproduce
// the quic-interop-runner test cases in virtual time; `tquic sim` runs them from the shell.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "core/endpoint.h"
#include "harness/transfer_app.h"
#include "sim/link_config.h"
#include "sim/node.h"

namespace harness {

using quic::Duration;

struct Scenario {
  std::string name = "custom";
  std::string description;
  uint64_t seed = 1;
  sim::LinkConfig client_to_server, server_to_client;
  TransferPlan plan;
  quic::ConnectionConfig client, server;
  bool chacha20_only = false;
  int cert_chain_length = 1;  // >1: leaf + intermediates (amplification-limit case)
  quic::RetryPolicy server_retry = quic::RetryPolicy::kUnderLoad;
  // The server stops accepting 0-RTT once the client starts its second connection (as if
  // restarted with 0-RTT off): that connection's ticket allows 0-RTT, the server rejects it.
  bool server_rejects_0rtt_after_first = false;
  Duration time_limit = std::chrono::seconds(300);
  std::string pcap_path;  // non-empty: write the run as a pcap
};

struct ScenarioResult {
  bool ok = false;
  std::string error;
  Duration elapsed{0};  // first connect to last byte verified
  uint64_t bytes = 0;   // response bytes verified by the client
  double goodput_bps = 0;
  double link_rate_bps = 0;
  double capacity_share = 0;  // goodput / bottleneck rate
  size_t handshakes = 0;
  Duration first_handshake{0}, mean_handshake{0};
  uint64_t client_packets_sent = 0, server_packets_sent = 0;
  uint64_t server_packets_lost = 0, stream_bytes_retransmitted = 0;
  Duration rtt_p50{0}, rtt_p90{0}, rtt_p99{0}, min_rtt{0}, max_rtt{0};
  uint64_t server_bytes_before_validation = 0, client_bytes_before_validation = 0;
  bool server_validated_client = false;
  uint64_t client_initial_datagrams = 0;  // first connection only
  uint64_t client_key_updates = 0, server_key_updates = 0;
  size_t retries_received = 0;  // connections of the client that followed a Retry
  size_t resumed = 0;           // connections whose TLS handshake resumed a session
  uint32_t server_version = 0;  // the version of the server's (first) connection
  // Version negotiation (RFC 9368), first connection: the Version field of the first long
  // header each side sent, the client's version once its handshake completed, whether it
  // restarted after a Version Negotiation packet, and how many VN packets the server sent.
  uint32_t client_first_version = 0, server_first_version = 0, client_version = 0;
  bool client_version_negotiated = false;
  uint64_t server_version_negotiations = 0;
  uint64_t server_datagrams_ect0 = 0, server_datagrams_ect1 = 0;  // server's ECN marks
  bool server_ecn_capable = false;  // the server's path passed ECN validation
  uint64_t server_greased_quic_bit = 0;  // server datagrams sent with the QUIC bit cleared
  uint64_t server_ecn_ce = 0;       // CE marks the client reported on the server's packets
  uint64_t server_retries_sent = 0;
  // 0-RTT: connections whose 0-RTT the server accepted / rejected (client's view), and the
  // client's 0-RTT and 1-RTT bytes on the wire (packet bytes after the header) during its
  // last connection, counted from the datagrams like quic-interop-runner's pcap check.
  size_t zero_rtt_accepted = 0, zero_rtt_rejected = 0;
  uint64_t last_client_0rtt_bytes = 0, last_client_1rtt_bytes = 0;
  uint64_t server_0rtt_packets_received = 0;
  uint64_t server_connections = 0;
  size_t server_handshakes_completed = 0;  // server connections that completed the handshake
  // What the link really did, both directions: the impairment cases assert it happened.
  uint64_t link_dropped_loss = 0, link_corrupted = 0, link_dropped_blackhole = 0;
  uint64_t sim_events = 0;
  uint64_t trace_hash = 0;
  // ACK_FREQUENCY (docs/ack-frequency.md): ACK frames the client (the data receiver) sent,
  // ACK_FREQUENCY and IMMEDIATE_ACK frames the server sent.
  uint64_t client_ack_frames = 0, server_ack_frames = 0;
  uint64_t server_ack_frequency_frames = 0, server_immediate_acks = 0;
  // TransferPlan::reset_at: streams that ended with RESET_STREAM_AT, bytes read from them.
  uint64_t streams_reset = 0, reset_stream_bytes = 0;
};

ScenarioResult run_scenario(const Scenario& s);

// quic-interop-runner cases: handshake, transfer, multiplexing, longrtt, chacha20,
// handshakeloss, transferloss, handshakecorruption, transfercorruption, blackhole,
// amplificationlimit, goodput, keyupdate, retry, resumption, v2, versionnegotiation, ecn,
// ecnect1 (our L4S-codepoint variant), zerortt (+ the zerortt-reject variant).
std::optional<Scenario> named_scenario(std::string_view name);
std::vector<std::string> scenario_names();

// The interop runner's default link: 10 Mbit/s, 15 ms one way, 25-packet drop-tail queue.
sim::LinkConfig default_link();

}  // namespace harness
