#include "harness/scenario.h"

#include <algorithm>
#include <map>

#include "sim/network.h"
#include "tls/test_certs.h"
#include "tls/tls_config.h"

namespace harness {

namespace {

using namespace std::chrono_literals;

constexpr size_t kMaxRttSamples = 1 << 20;
constexpr uint64_t kKiB = 1024, kMiB = 1024 * 1024;

// One generated certificate chain per length, reused by every scenario of the process.
quic::Result<quic::PemCertKey> certificate(int chain_length) {
  static std::map<int, quic::PemCertKey> cache;
  if (auto it = cache.find(chain_length); it != cache.end()) return it->second;
  auto c = chain_length <= 1 ? quic::make_self_signed("localhost")
                             : quic::make_cert_chain("localhost", chain_length);
  if (c) cache[chain_length] = *c;
  return c;
}

bool is_client_initial(const sim::Datagram& d, uint32_t version) {
  if (d.payload.size() < 5 || (d.payload[0] & 0x80) == 0) return false;
  uint8_t type_bits = (d.payload[0] >> 4) & 0x03;
  return type_bits == quic::long_type_bits(version, quic::LongType::kInitial);
}

// Adds the bytes after the header of every 0-RTT and 1-RTT packet in a datagram.
void count_app_packets(const std::vector<uint8_t>& d, size_t short_dcid_len, uint64_t& zero_rtt,
                       uint64_t& one_rtt) {
  size_t off = 0;
  while (off < d.size()) {
    auto h = quic::parse_header(quic::Bytes(d).subspan(off), short_dcid_len);
    if (!h || h->packet_size == 0) return;
    if (h->has_packet_number()) {
      uint64_t n = h->packet_size - h->pn_offset;
      if (!h->long_header) one_rtt += n;
      if (h->long_header && h->type == quic::LongType::kZeroRtt) zero_rtt += n;
    }
    off += h->packet_size;
  }
}

// The Version field of a long-header datagram, 0 for short headers.
uint32_t long_header_version(const sim::Datagram& d) {
  if (d.payload.size() < 5 || (d.payload[0] & 0x80) == 0) return 0;
  return uint32_t{d.payload[1]} << 24 | uint32_t{d.payload[2]} << 16 |
         uint32_t{d.payload[3]} << 8 | d.payload[4];
}

Duration percentile(std::vector<Duration> v, double p) {
  if (v.empty()) return Duration(0);
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(i), v.end());
  return v[i];
}

}  // namespace

sim::LinkConfig default_link() {
  sim::LinkConfig l;
  l.rate_bps = 10e6;
  l.delay = 15ms;
  l.queue_bytes = 25 * 1500;
  l.header_bytes = sim::kIpv4UdpHeaderBytes;  // the rate is the link's, headers included
  return l;
}

ScenarioResult run_scenario(const Scenario& s) {
  ScenarioResult res;
  auto cert = certificate(s.cert_chain_length);
  if (!cert) {
    res.error = "certificate: " + cert.error().reason;
    return res;
  }
  quic::TlsConfig server_tls;
  server_tls.server = true;
  server_tls.alpn = {"hq-interop"};
  server_tls.cert_pem = cert->cert_pem;
  server_tls.key_pem = cert->key_pem;
  server_tls.chacha20_only = s.chacha20_only;
  quic::TlsConfig client_tls;
  client_tls.alpn = {"hq-interop"};
  client_tls.ca_pem = cert->ca_pem;
  client_tls.server_name = "localhost";
  client_tls.chacha20_only = s.chacha20_only;
  auto stls = quic::make_tls_context(server_tls);
  auto ctls = quic::make_tls_context(client_tls);
  if (!stls || !ctls) {
    res.error = "tls: " + (stls ? ctls.error().reason : stls.error().reason);
    return res;
  }

  const auto client_addr = quic::SocketAddress::v4(192, 0, 2, 1, 50000);
  const auto server_addr = quic::SocketAddress::v4(192, 0, 2, 2, 443);
  quic::EndpointConfig ccfg{false, s.client, *ctls};
  quic::EndpointConfig scfg{true, s.server, *stls};
  scfg.retry = s.server_retry;
  SimEndpoint client(ccfg, s.seed * 2 + 1);
  SimEndpoint server(scfg, s.seed * 2 + 2);
  TransferClient client_app(client_addr, server_addr, s.plan);
  TransferServer server_app;
  client.set_app(&client_app);
  server.set_app(&server_app);

  sim::Network net(s.seed);
  if (!s.pcap_path.empty()) net.set_pcap(s.pcap_path);
  net.add_node(&client, {client_addr});
  net.add_node(&server, {server_addr});
  net.add_link(client_addr, server_addr, s.client_to_server, s.server_to_client);

  // Amplification accounting (RFC 9000 §8.1), as seen on the server's side of the wire.
  auto server_validated = [&]() {
    quic::Connection* c = nullptr;
    for (quic::ConnectionHandle h = 1; h < 4 && c == nullptr; ++h) c = server.endpoint().connection(h);
    return c != nullptr && c->path().validated;
  };
  bool first_connection_only = true;
  server.on_receive = [&](const sim::Datagram& d, Instant) {
    if (first_connection_only && !server_validated()) res.client_bytes_before_validation += d.payload.size();
  };
  server.on_send = [&](const sim::Datagram& d, Instant) {
    if (!d.payload.empty() && (d.payload[0] & 0x40) == 0) ++res.server_greased_quic_bit;
    if (d.ecn == sim::kEct0) ++res.server_datagrams_ect0;
    if (d.ecn == sim::kEct1) ++res.server_datagrams_ect1;
    if (res.server_first_version == 0) res.server_first_version = long_header_version(d);
    if (first_connection_only && !server_validated()) res.server_bytes_before_validation += d.payload.size();
  };
  uint64_t client_initials = 0;
  size_t counted_connection = 0;
  client.on_send = [&](const sim::Datagram& d, Instant) {
    if (res.client_first_version == 0) res.client_first_version = long_header_version(d);
    if (client_app.records().size() <= 1 && is_client_initial(d, s.client.version)) ++client_initials;
    if (client_app.records().size() != counted_connection) {
      counted_connection = client_app.records().size();
      res.last_client_0rtt_bytes = res.last_client_1rtt_bytes = 0;
    }
    count_app_packets(d.payload, s.server.cid_length, res.last_client_0rtt_bytes,
                      res.last_client_1rtt_bytes);
  };

  std::vector<Duration> rtt_samples;
  Duration last_rtt{0};
  Instant start = net.now();
  net.run(start + s.time_limit, [&]() {
    if (auto* c = client_app.current(client.endpoint())) {
      if (c->handshake_complete()) {
        if (client_app.records().size() <= 1 && res.client_version == 0) {
          res.client_version = c->version();
          res.client_version_negotiated = c->version_negotiation_received();
        }
        Duration r = c->path().rtt.latest();
        if (r != last_rtt && rtt_samples.size() < kMaxRttSamples) {
          rtt_samples.push_back(r);
          last_rtt = r;
        }
      }
    }
    if (s.server_rejects_0rtt_after_first && client_app.records().size() >= 2) {
      server.endpoint().set_accept_0rtt(false);
    }
    return client_app.done();
  });

  for (bool a_to_b : {true, false}) {
    const auto st = net.stats(0, a_to_b);
    res.link_dropped_loss += st.dropped_loss;
    res.link_corrupted += st.corrupted;
    res.link_dropped_blackhole += st.dropped_blackhole;
  }
  res.sim_events = net.events_processed();
  res.trace_hash = net.trace_hash();
  res.bytes = client_app.bytes_received();
  res.handshakes = client_app.records().size();
  res.server_connections = server.endpoint().stats().connections_accepted;
  res.server_validated_client = server_validated();
  res.server_retries_sent = server.endpoint().stats().retries_sent;
  res.server_version_negotiations = server.endpoint().stats().version_negotiations_sent;
  res.link_rate_bps = s.server_to_client.rate_bps;
  res.client_initial_datagrams = client_initials;
  if (client_app.failed()) {
    res.error = client_app.error();
  } else if (!client_app.done()) {
    res.error = "time limit reached after " + std::to_string(res.bytes) + " bytes";
  } else {
    res.ok = true;
  }
  res.streams_reset = client_app.streams_reset();
  res.reset_stream_bytes = client_app.reset_stream_bytes();
  const auto& recs = client_app.records();
  Duration hs_sum{0};
  size_t hs_n = 0;
  for (const auto& r : recs) {
    if (r.handshake_done != Instant{}) {
      hs_sum += r.handshake_done - r.started;
      ++hs_n;
    }
    res.client_packets_sent += r.stats.packets_sent;
    res.client_ack_frames += r.stats.ack_frames_sent;
    res.client_key_updates += r.stats.key_updates;
    res.retries_received += r.stats.retry_received ? 1 : 0;
    res.resumed += r.stats.resumed ? 1 : 0;
    if (r.stats.zero_rtt_attempted) ++(r.stats.zero_rtt_accepted ? res.zero_rtt_accepted : res.zero_rtt_rejected);
  }
  if (!recs.empty()) {
    res.first_handshake = recs.front().handshake_done - recs.front().started;
    Instant end = recs.back().completed ? recs.back().finished : net.now();
    res.elapsed = end - recs.front().started;
  }
  if (hs_n) res.mean_handshake = hs_sum / static_cast<int64_t>(hs_n);
  for (quic::ConnectionHandle h = 1; h <= res.server_connections; ++h) {
    if (auto* c = server.endpoint().connection(h)) {
      res.server_packets_sent += c->stats().packets_sent;
      res.server_ack_frames += c->stats().ack_frames_sent;
      res.server_packets_lost += c->stats().packets_lost;
      res.stream_bytes_retransmitted += c->stats().stream_bytes_retransmitted;
      res.server_key_updates += c->stats().key_updates;
      res.server_0rtt_packets_received += c->stats().zero_rtt_packets_received;
      res.server_ack_frequency_frames += c->stats().ack_frequency_sent;
      res.server_immediate_acks += c->stats().immediate_acks_sent;
      if (c->handshake_complete()) ++res.server_handshakes_completed;
      if (h == 1) {
        res.server_version = c->version();
        res.server_ecn_capable = c->stats().ecn_capable;
        res.server_ecn_ce = c->stats().ecn_ce_received;
      }
    }
  }
  double secs = std::chrono::duration<double>(res.elapsed).count();
  if (secs > 0) res.goodput_bps = static_cast<double>(res.bytes) * 8.0 / secs;
  if (res.link_rate_bps > 0) res.capacity_share = res.goodput_bps / res.link_rate_bps;
  res.rtt_p50 = percentile(rtt_samples, 0.50);
  res.rtt_p90 = percentile(rtt_samples, 0.90);
  res.rtt_p99 = percentile(rtt_samples, 0.99);
  if (!rtt_samples.empty()) {
    auto [lo, hi] = std::minmax_element(rtt_samples.begin(), rtt_samples.end());
    res.min_rtt = *lo;
    res.max_rtt = *hi;
  }
  return res;
}

std::vector<std::string> scenario_names() {
  return {"handshake",           "transfer",          "multiplexing", "longrtt",
          "chacha20",            "handshakeloss",     "transferloss", "handshakecorruption",
          "transfercorruption",  "blackhole",         "amplificationlimit", "goodput",
          "keyupdate",           "retry",             "resumption",   "v2",
          "versionnegotiation",  "ecn",               "ecnect1",
          "zerortt",             "zerortt-reject",    "ackfrequency", "resetstreamat"};
}

std::optional<Scenario> named_scenario(std::string_view name) {
  Scenario s;
  s.name = std::string(name);
  s.client_to_server = default_link();
  s.server_to_client = default_link();
  auto both = [&](auto fn) {
    fn(s.client_to_server);
    fn(s.server_to_client);
  };
  if (name == "handshake") {
    s.description = "one 1 KiB download, exactly one handshake";
    s.plan.sizes = {1 * kKiB};
  } else if (name == "transfer") {
    s.description = "2+3+5 MiB on three streams, small initial flow-control windows";
    s.plan.sizes = {2 * kMiB, 3 * kMiB, 5 * kMiB};
    s.client.initial_max_data = 128 * kKiB;
    s.client.initial_max_stream_data = 64 * kKiB;
  } else if (name == "multiplexing") {
    s.description = "1999 x 32 B on separate streams; server allows 1000 concurrent";
    s.plan.sizes.assign(1999, 32);
    s.plan.max_parallel = 2000;
    s.server.max_streams_bidi = 1000;
  } else if (name == "longrtt") {
    s.description = "1 KiB over 750 ms one-way delay: the ClientHello is retransmitted by PTO";
    s.plan.sizes = {1 * kKiB};
    both([](sim::LinkConfig& l) { l.delay = 750ms; });
  } else if (name == "chacha20") {
    s.description = "only TLS_CHACHA20_POLY1305_SHA256 offered";
    s.plan.sizes = {1 * kMiB};
    s.chacha20_only = true;
  } else if (name == "handshakeloss") {
    s.description = "50 handshakes with 30% loss each way in bursts of up to 3";
    s.plan.sizes = {1 * kKiB};
    s.plan.connections = 50;
    both([](sim::LinkConfig& l) {
      l.burst_loss = 0.18;
      l.max_burst = 3;
    });
  } else if (name == "transferloss") {
    s.description = "2 MiB with 2% random loss each way";
    s.plan.sizes = {2 * kMiB};
    both([](sim::LinkConfig& l) { l.loss = 0.02; });
  } else if (name == "handshakecorruption") {
    s.description = "50 handshakes with 30% of packets corrupted each way";
    s.plan.sizes = {1 * kKiB};
    s.plan.connections = 50;
    both([](sim::LinkConfig& l) { l.corrupt = 0.30; });
  } else if (name == "transfercorruption") {
    s.description = "2 MiB with 2% of packets corrupted each way";
    s.plan.sizes = {2 * kMiB};
    both([](sim::LinkConfig& l) { l.corrupt = 0.02; });
  } else if (name == "blackhole") {
    s.description = "10 MiB with the link dark for 2 s of every 7 s";
    s.plan.sizes = {10 * kMiB};
    both([](sim::LinkConfig& l) { l.periodic_blackhole = std::make_tuple(Duration(7s), Duration(2s), Duration(2s)); });
  } else if (name == "amplificationlimit") {
    s.description = "9-certificate chain, client packets 2-7 dropped: server stays within 3x";
    s.plan.sizes = {1 * kKiB};
    s.cert_chain_length = 9;
    s.client_to_server.drop_filter = [](const sim::Datagram&, uint64_t i) { return i >= 1 && i <= 6; };
  } else if (name == "keyupdate") {
    s.description = "3 MiB while the client updates its 1-RTT keys every 200 packets";
    s.plan.sizes = {3 * kMiB};
    s.client.key_update_interval = 200;
  } else if (name == "retry") {
    s.description = "the server validates the client's address with a Retry first";
    s.plan.sizes = {1 * kKiB};
    s.server_retry = quic::RetryPolicy::kAlways;
  } else if (name == "resumption") {
    s.description = "a second connection resumes the first one's TLS session (no certificate)";
    s.plan.sizes = {1 * kKiB};
    s.plan.connections = 2;
    s.plan.resume = true;
    s.server_retry = quic::RetryPolicy::kAlways;  // the NEW_TOKEN token must spare the second one
  } else if (name == "zerortt" || name == "zerortt-reject") {
    s.plan.sizes.assign(40, 32);
    s.plan.connections = 2;
    s.plan.resume = true;
    s.plan.zero_rtt = true;
    s.server.accept_0rtt = true;
    if (name == "zerortt") {
      s.description = "second connection sends its 40 requests as 0-RTT (RFC 9001 §4.6)";
    } else {
      s.description = "the server rejects the second connection's 0-RTT: all 40 files still arrive";
      s.server_rejects_0rtt_after_first = true;
    }
  } else if (name == "v2") {
    s.description = "compatible version negotiation (RFC 9368): the client's v1 Initial offers "
                    "v2, the server switches, the transfer runs in QUIC v2 (RFC 9369)";
    s.plan.sizes = {1 * kMiB};
    s.server.versions = {quic::kVersion2, quic::kVersion1};
  } else if (name == "versionnegotiation") {
    s.description = "the client starts with a reserved version, acts on the server's Version "
                    "Negotiation packet and completes in v1";
    s.plan.sizes = {1 * kKiB};
    s.client.version = 0x1a2a3a4a;  // RFC 9000 §15: reserved, never spoken by anyone
  } else if (name == "ecn") {
    s.description = "ECT(0) marking, ACK_ECN counts and path validation; 1% of packets CE-marked";
    s.plan.sizes = {2 * kMiB};
    s.server_to_client.ce_mark = 0.01;
  } else if (name == "ecnect1") {
    s.description = "ECT(1) marking (the L4S codepoint) validated against ECT(1) counts; 1% CE";
    s.plan.sizes = {2 * kMiB};
    s.server_to_client.ce_mark = 0.01;
    s.client.ecn_codepoint = s.server.ecn_codepoint = quic::kEcnEct1;
  } else if (name == "goodput") {
    s.description = "10 MiB download: goodput as a share of the 10 Mbit/s link";
    s.plan.sizes = {10 * kMiB};
  } else if (name == "ackfrequency") {
    s.description = "16 MiB over 100 Mbit/s, 20 ms RTT with ACK_FREQUENCY: fewer ACKs per MiB";
    s.plan.sizes = {16 * kMiB};
    both([](sim::LinkConfig& l) {
      l.rate_bps = 100e6;
      l.delay = 10ms;
      l.queue_bytes = 250'000;  // one bandwidth-delay product
    });
    for (auto* c : {&s.client, &s.server}) {
      c->ack_frequency = true;
      c->initial_max_data = 16 * kMiB;
      c->initial_max_stream_data = 8 * kMiB;
    }
  } else if (name == "resetstreamat") {
    s.description = "3 x 1 MiB responses reset with RESET_STREAM_AT at 600 KiB, 2% loss each way";
    s.plan.sizes = {1 * kMiB, 1 * kMiB, 1 * kMiB};
    s.plan.reset_at = 600 * kKiB;
    both([](sim::LinkConfig& l) { l.loss = 0.02; });
    s.client.reliable_reset = s.server.reliable_reset = true;
  } else {
    return std::nullopt;
  }
  return s;
}

}  // namespace harness
