// `tquicd server`: docs/tquicd.md. The MASQUE proxy application (apps::MasqueProxyApp) with
// only connect-ip registered, behind a token check: a request without a valid
// `authorization: Bearer TOKEN` gets 403 from a handler that holds no tunnel state (no
// address, no TUN route, no reorder buffer) and is counted; a valid one gets the
// CONNECT-IP server tunnel keyed by the client's name, so its addresses are stable across
// reconnects. A reorder buffer per tunnel sits in front of the TUN device.
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <random>

#include "apps/h3_serve.h"
#include "apps/hq_client.h"
#include "apps/masque_ip_proxy.h"
#include "apps/masque_proxy.h"
#include "io/clock.h"
#include "io/os_random.h"
#include "masque/proxy_handler.h"
#include "tquicd/address_store.h"
#include "tquicd/backup_keepalive.h"
#include "tquicd/daemon.h"
#include "tquicd/daemon_control.h"
#include "tquicd/daemon_status.h"
#include "tquicd/nft.h"
#include "tquicd/quota_file.h"
#include "tquicd/reset_key.h"
#include "tquicd/settings.h"
#include "tquicd/tokens.h"

namespace bond {

namespace {

using apps::log_at;

// Answers 403 and holds nothing else.
class RefusedRequest : public masque::ProxyHandler {
 public:
  std::optional<masque::ConnectResponse> on_request(Respond) override {
    return masque::refusal_response(
        "tquicd", masque::refuse(masque::ProxyError::kHttpRequestDenied, "bad or missing token"));
  }
};

quic::Result<TokenStore> load_tokens(const std::string& path) {
  if (path.empty()) return std::move(*TokenStore::parse(""));  // certificates only (client_ca)
  auto text = apps::read_file(path);
  if (!text) return std::unexpected(text.error());
  if (text->size() > kMaxTokensFileBytes) {
    return quic::fail(quic::err::kInternalError, path + ": larger than the token file limit");
  }
  auto store = TokenStore::parse(*text);
  if (!store) return quic::fail(quic::err::kInternalError, path + ": " + store.error());
  return std::move(*store);
}

// The client's name: by its token, else by the certificate it presented (verified against
// server.client_ca during the handshake, or it would not have completed).
std::optional<std::string> authenticate(const TokenStore& tokens,
                                        std::span<const h3::Field> fields,
                                        const quic::Connection& conn) {
  if (auto name = tokens.authenticate(presented_token(fields))) return name;
  if (!conn.peer_certificate_sha256()) return std::nullopt;
  return client_name_from_subject(conn.peer_certificate_subject());
}

// The clients' addresses from before a restart (address_store.h); a missing file is a first
// start, a bad one is logged and ignored (addresses then come from the pools' hashing).
std::vector<StoredAddress> load_addresses(const Config& cfg) {
  std::string path = address_state_path(cfg.state_dir);
  auto text = read_state_file(path);
  if (!text || !*text) {
    if (!text) log_at(0, "tquicd: warning: %s", text.error().c_str());
    return {};
  }
  auto parsed = parse_address_state(**text);
  if (!parsed) {
    log_at(0, "tquicd: warning: %s: %s (ignored)", path.c_str(), parsed.error().c_str());
    return {};
  }
  return std::move(*parsed);
}

apps::MasqueIpProxyOptions ip_options(const Config& cfg, const std::vector<StoredAddress>& kept,
                                      FlowClassifier& classifier) {
  apps::MasqueIpProxyOptions o;
  for (const IpPrefix& p : cfg.server.pools) o.pools.push_back(p.to_string());
  o.tun = cfg.tunnel.name;
  o.tun_mtu = cfg.tunnel.mtu;
  for (const StoredAddress& a : kept) {
    if (auto ip = masque::IpAddress::parse(a.address)) o.remembered.emplace_back(a.client, *ip);
  }
  // The download direction has no ingress queue: past the backlog sized from the client's
  // paths a packet is dropped (the inner TCP's congestion signal) rather than waiting in the
  // connection's 4 MiB DATAGRAM queue, which after a link failure drains at the survivors' rate.
  // Measured (docs/bench/bond.md): one download CUBIC flow keeps its rate, and ping under it
  // falls from about 270 to 85 ms (p50).
  o.datagram_backlog = datagram_backlog;
  o.classify = [&classifier](quic::Bytes packet, quic::Instant now) {
    return tun_priority(classifier, now, packet);
  };
  return o;
}

// The pools' remembered addresses, as the state file holds them.
std::vector<StoredAddress> current_addresses(const masque::ConnectIpServer& server) {
  std::vector<StoredAddress> out;
  for (uint8_t v : {4, 6}) {
    if (const masque::AddressPool* p = server.pool(v)) {
      for (const auto& [key, a] : p->remembered()) out.push_back({key, a.to_string()});
    }
  }
  return out;
}

// NAT and MSS clamping (nft.h) as server.nft says; returns false when applying failed.
bool setup_nft(const Config& cfg) {
  if (cfg.server.nft == NftMode::kOff) return true;
  auto rules = nft_ruleset(cfg.server.pools, cfg.tunnel.name, cfg.server.uplink);
  if (!rules) {
    std::fprintf(stderr, "tquicd: nftables: %s\n", rules.error().c_str());
    return false;
  }
  if (cfg.server.nft == NftMode::kPrint) {
    std::printf("tquicd: nftables rules to apply (server.nft = \"print\"):\n%s", rules->c_str());
    std::fflush(stdout);
    return true;
  }
  if (auto r = nft_apply(*rules); !r) {
    std::fprintf(stderr, "tquicd: nftables: %s (server.nft = \"print\" shows the rules)\n",
                 r.error().c_str());
    return false;
  }
  log_at(0, "tquicd: nftables table %s applied", std::string(kNftTable).c_str());
  return true;
}

void teardown_nft(const Config& cfg) {
  if (cfg.server.nft != NftMode::kApply) return;
  if (auto r = nft_apply(nft_teardown()); !r) {
    std::fprintf(stderr, "tquicd: nftables: %s\n", r.error().c_str());
  }
}

// The stateless reset key of earlier runs (reset_key.h), or a new one kept for later runs.
ResetKey load_reset_key(const std::string& state_dir) {
  std::string path = reset_key_path(state_dir);
  auto text = read_state_file(path);
  if (text && *text) {
    if (auto key = parse_reset_key(**text)) return *key;
    log_at(0, "tquicd: warning: %s: not a reset key (a new one replaces it)", path.c_str());
  } else if (!text) {
    log_at(0, "tquicd: warning: %s", text.error().c_str());
  }
  ResetKey key{};
  io::OsRandom().fill(quic::MutBytes(key.data(), key.size()));
  if (auto r = write_state_file(path, format_reset_key(key)); !r) {
    log_at(0,
           "tquicd: warning: reset key not saved (%s): after a restart, clients notice only "
           "at their idle timeout",
           r.error().c_str());
  }
  return key;
}

struct ServerParts {
  std::unique_ptr<io::OsRandom> random;  // on the heap: the endpoint keeps a reference
  std::unique_ptr<quic::Endpoint> endpoint;
  std::optional<apps::ListenSockets> sockets;
};

quic::Result<ServerParts> make_server_parts(const Config& cfg) {
  apps::NetOptions net;
  net.datagrams = true;
  net.multipath = true;
  net.max_paths = kMaxLinks;
  net.scheduler = "minrtt";  // as the client (daemon_client.cc)
  net.datagram_resend_on_path_failure = true;
  net.datagram_resend_on_loss = true;  // as the client (daemon_client.cc)
  net.cc_delay_bound = cfg.tunnel.delay_bound;
  net.qlog_dir = cfg.log.qlog_dir;
  quic::EndpointConfig ec;
  ec.server = true;
  ec.connection.reset_key = load_reset_key(cfg.state_dir);
  ec.max_connections = cfg.server.max_clients;
  if (auto st = apps::apply_connection_options(net, ec.connection); !st) {
    return std::unexpected(st.error());
  }
  int rc = 0;
  auto id = apps::server_identity(cfg.server.certificate, cfg.server.key, net, apps::kH3Alpn, rc,
                                  cfg.server.client_ca);
  if (!id) return quic::fail(quic::err::kInternalError, "server.certificate/key refused");
  ec.tls = id->tls;
  ServerParts p;
  p.sockets = apps::open_listen_sockets({cfg.server.listen.to_string()}, net);
  if (!p.sockets) return quic::fail(quic::err::kInternalError, "cannot bind server.listen");
  p.random = std::make_unique<io::OsRandom>();
  p.endpoint = std::make_unique<quic::Endpoint>(ec, *p.random);
  return p;
}

struct ServerRun {
  Config cfg;
  std::string path;
  io::EndpointDriver& driver;
  quic::Endpoint& endpoint;
  apps::MasqueProxyApp& app;
  apps::ConnectIpProxy& ip;
  ReorderSink& reorder;
  FlowClassifier& classifier;  // the downlink's (ip_options)
  TokenStore& tokens;
  DaemonState& state;
  uint64_t& client_rate;  // server.client_rate as clients connecting now get it
  uint32_t& max_clients;  // server.max_clients as requests arriving now are checked against
  std::vector<StoredAddress> saved;  // what the address file holds

  DaemonControl* control = nullptr;

  void apply(const Config& next) {
    reorder.set_policy(reorder_limits(next), next.classifier.udp_unordered);
    classifier.set_policy(flow_policy(next));
    cfg.reorder = next.reorder;
    take_live_classifier_keys(cfg, next);
    client_rate = cfg.server.client_rate_bps = next.server.client_rate_bps;
    max_clients = cfg.server.max_clients = next.server.max_clients;
    // The tokens file is read again even when its name is unchanged: its content is what
    // an operator edits to add or revoke a client (open tunnels stay).
    if (auto t = load_tokens(next.server.tokens_file)) {
      tokens = std::move(*t);
      cfg.server.tokens_file = next.server.tokens_file;
      log_at(0, "tquicd: reload: %zu client tokens", tokens.size());
    } else {
      log_at(0, "tquicd: reload: tokens kept: %s", t.error().reason.c_str());
    }
  }

  void reload() {
    if (control->reload(cfg, io::monotonic_now())) ++state.reloads;
  }

  // Writes the clients' addresses when they changed (a new client, a moved one).
  void save_addresses() {
    auto now = current_addresses(ip.server());
    if (now == saved) return;
    if (auto r = write_state_file(address_state_path(cfg.state_dir), format_address_state(now));
        !r) {
      log_at(0, "tquicd: warning: client addresses not saved: %s", r.error().c_str());
      return;
    }
    saved = std::move(now);
  }

  void refresh() {
    save_addresses();
    state.ready = true;
    state.clients = ip.server().tunnels();
    state.tunnel = ip.server().stats();
    state.reorder = reorder.stats();
    state.reorder_hold = reorder.hold_time();
  }

  int run(const StateObserver& observe) {
    install_signal_handlers();
    announce_ready("server listen=" + cfg.server.listen.to_string() + " tun=" + cfg.tunnel.name +
                   " clients_known=" + std::to_string(tokens.size()));
    quic::Instant next_state = io::monotonic_now();
    while (!stop_requested()) {
      auto r = driver.run_until([] { return stop_requested(); },
                                io::monotonic_now() + kStateInterval / 4);
      if (!r) {
        std::fprintf(stderr, "tquicd: %s\n", r.error().reason.c_str());
        return apps::kExitFailure;
      }
      if (take_reload()) reload();
      if (quic::Instant now = io::monotonic_now(); now >= next_state) {
        next_state = now + kStateInterval;
        control->refresh(now);  // refreshes `state` too
        if (observe) observe(state);
      }
    }
    refresh();
    // The clients reconnect at once (their CONNECTION_CLOSE says why) rather than after their
    // idle timeout, or at the restarted server's stateless reset.
    app.shutdown(endpoint, io::monotonic_now());
    (void)driver.run_until([] { return false; }, io::monotonic_now() + kShutdownFlush);
    std::fprintf(stderr, "tquicd: stopping: clients=%llu auth_refused=%llu %s %s\n",
                 static_cast<unsigned long long>(state.clients),
                 static_cast<unsigned long long>(state.auth_refused), ip.stats_line().c_str(),
                 format_reorder_stats(state.reorder).c_str());
    return apps::kExitOk;
  }
};

// The clients' connections for the control plane, each named with its pool address.
ClientTracker client_tracker(apps::ConnectIpProxy& ip) {
  return ClientTracker([&ip](const std::string& client) -> std::string {
    for (uint8_t v : {4, 6}) {
      const masque::AddressPool* pool = ip.server().pool(v);
      if (auto a = pool ? pool->address_of(client) : std::nullopt) return a->to_string();
    }
    return "";
  });
}

// The control plane of a server (daemon_control.h): status from the run and its clients'
// connections, `set` through ServerRun::apply (the SIGHUP code).
std::unique_ptr<DaemonControl> open_server_control(ServerRun& run, ClientTracker& clients,
                                                   quic::Endpoint& endpoint) {
  ControlHooks hooks;
  hooks.refresh = [&run, &clients, &endpoint](quic::Instant now, Status& s, EventBus& bus) {
    run.refresh();
    clients.update([&endpoint](uint64_t h) { return endpoint.connection(h); }, now, bus, s);
    // Once a second, with the clients' connections at hand: their backup paths are kept alive
    // by the clients, within their links' budgets (backup_keepalive.h).
    for (uint64_t h : clients.handles()) {
      quic::Connection* c = endpoint.connection(h);
      if (c == nullptr) continue;
      if (size_t refused = space_peer_backup_keepalives(*c)) {
        log_at(1, "tquicd: %zu backup paths keep the connection-wide keepalive", refused);
      }
    }
    s.tx_bytes = run.state.tunnel.bytes_out;
    s.rx_bytes = run.state.tunnel.bytes_in;
    s.flows = top_flows(run.classifier);
  };
  hooks.apply = [&run](const Config& next) { run.apply(next); };
  auto control =
      DaemonControl::open(run.driver, run.cfg, run.path, io::monotonic_now(), std::move(hooks));
  run.control = control.get();
  return control;
}

}  // namespace

int run_server_daemon(const std::string& config_path, const StateObserver& observe) {
  auto loaded = load_config(config_path);
  if (!loaded) {
    for (const std::string& e : loaded.error()) std::fprintf(stderr, "%s\n", e.c_str());
    return apps::kExitUsage;
  }
  Config cfg = std::move(*loaded);
  if (cfg.role != DaemonRole::kServer) {
    std::fprintf(stderr, "tquicd: %s configures a client (daemon.role)\n", config_path.c_str());
    return apps::kExitUsage;
  }
  apps::set_log_level(cfg.log.level >= LogLevel::kDebug ? 2 : 1);
  auto tokens = load_tokens(cfg.server.tokens_file);
  if (!tokens) {
    std::fprintf(stderr, "tquicd: %s\n", tokens.error().reason.c_str());
    return apps::kExitUsage;
  }
  // The state directory is ours: made (owner only) when missing.
  if (::mkdir(cfg.state_dir.c_str(), 0700) != 0 && errno != EEXIST) {
    log_at(0, "tquicd: warning: %s: %s", cfg.state_dir.c_str(), std::strerror(errno));
  }
  auto parts = make_server_parts(cfg);
  if (!parts) {
    std::fprintf(stderr, "tquicd: %s\n", parts.error().reason.c_str());
    return apps::kExitUsage;
  }
  io::EndpointDriver driver(*parts->endpoint, parts->sockets->raw);
  if (!driver.ok()) return apps::kExitFailure;
  ReorderSink* reorder = nullptr;
  auto wrap = [&](masque::PacketSink& tun) {
    auto r = std::make_unique<ReorderSink>(tun, reorder_limits(cfg), cfg.classifier.udp_unordered,
                                           [] { return io::monotonic_now(); });
    reorder = r.get();
    return r;
  };
  std::vector<StoredAddress> kept = load_addresses(cfg);
  FlowClassifier classifier(flow_policy(cfg), std::random_device{}());
  auto ip = apps::ConnectIpProxy::create(ip_options(cfg, kept, classifier), driver, wrap);
  if (!ip) {
    std::fprintf(stderr, "tquicd: %s\n", ip.error().reason.c_str());
    return apps::kExitFailure;
  }
  DaemonState state;
  state.role = DaemonRole::kServer;
  state.tun = cfg.tunnel.name;
  ReorderTimer reorder_timer(driver, *reorder);
  DaemonControl* control = nullptr;
  ClientTracker clients = client_tracker(**ip);
  uint64_t client_rate = cfg.server.client_rate_bps;
  uint32_t max_clients = cfg.server.max_clients;
  apps::MasqueProxyApp app("tquicd");
  app.register_protocol(std::string(masque::kConnectIpProtocol), [&](apps::ProxySession& ps) {
    return [&, &ps_session = ps.session, &ps_conn = ps.connection, ps_handle = ps.handle](
               uint64_t id, std::span<const h3::Field> fields) -> std::unique_ptr<h3::StreamHandler> {
      auto name = authenticate(*tokens, fields, ps_conn);
      // Lowering max_clients keeps the tunnels already open; new requests wait for room.
      if (!name || (*ip)->server().tunnels() >= max_clients) {
        ++state.auth_refused;
        log_at(0, "tquicd: refused a request: %s", name ? "max_clients reached" : "bad token");
        return std::make_unique<RefusedRequest>();
      }
      log_at(0, "tquicd: client %s authenticated", name->c_str());
      if (control) clients.on_authenticated(ps_handle, *name, io::monotonic_now(), control->bus());
      // server.client_rate: a cap on everything the server sends this client, all paths.
      ps_conn.set_send_rate_cap(client_rate);
      return (*ip)->factory_for(ps_session, ps_conn, *name)(id, fields);
    };
  });
  driver.set_app([&](quic::Endpoint& ep, quic::Instant now) {
    app.on_activity(ep, now);
    reorder_timer.rearm();
  });
  if (!setup_nft(cfg)) return apps::kExitFailure;
  ServerRun run{cfg,    config_path, driver, *parts->endpoint, app,         **ip,
                *reorder, classifier, *tokens,   state,  client_rate, max_clients,
                std::move(kept)};
  auto opened = open_server_control(run, clients, *parts->endpoint);
  control = opened.get();
  int rc = run.run(observe);
  teardown_nft(cfg);
  return rc;
}

}  // namespace bond
