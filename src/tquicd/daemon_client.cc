// `tquicd client`: docs/tquicd.md. The links follow their interfaces (rtnetlink, link_manager.h:
// one UDP socket and one path per link that can run, role/weight/rate/quota applied to it),
// the handshake races across the links (HandshakeRace), the CONNECT-IP tunnel carries the
// token and the seq context (apps::MasqueIpClientApp), and the reorder buffer sits in front
// of the TUN device. Quota usage is kept in daemon.state_dir across restarts. The control
// plane (daemon_control.h) sees the links through a LinkTracker fed from the connection's
// paths and the LinkManager's sockets and quota figures; `link up|down` goes through the
// LinkManager, and its events reach the control plane's bus.
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <random>

#include "apps/h3_serve.h"
#include "apps/masque_ip.h"
#include "io/clock.h"
#include "io/endpoint_driver.h"
#include "tquicd/daemon.h"
#include "tquicd/daemon_control.h"
#include "tquicd/daemon_status.h"
#include "tquicd/ingress_queue.h"
#include "tquicd/link_manager.h"
#include "tquicd/netlink_watch.h"
#include "tquicd/quota_file.h"
#include "tquicd/reconnect.h"
#include "tquicd/settings.h"

namespace bond {

namespace {

using apps::log_at;

std::optional<std::string> read_client_token(const std::string& path) {
  auto text = apps::read_file(path);
  if (!text || text->size() > kMaxClientTokenFile) return std::nullopt;
  std::string t = *text;
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r' || t.back() == ' ')) t.pop_back();
  if (t.empty() || t.find_first_of(" \t\r\n") != std::string::npos) return std::nullopt;
  return t;
}

constexpr int kTunBatch = 64;  // packets per TUN readiness call: the network side gets its turn

// TUN packets -> flow classifier -> interactive ones straight to the connection (tun_priority),
// the rest into the ingress queue -> the connection, as its DATAGRAM send queue has room.
class IngressPump {
 public:
  IngressPump(masque::TunDevice& tun, IngressLimits limits, const FlowPolicy& flows)
      : tun_(tun), queue_(limits), classifier_(flows, std::random_device{}()) {
    buf_.resize(65536);
  }
  // The tunnel's application once the handshake race has a winner (null before).
  void set_app(apps::MasqueIpClientApp* app) { app_ = app; }
  void on_readable(quic::Instant now) {
    for (int i = 0; i < kTunBatch; ++i) {
      auto n = tun_.read(buf_);
      if (!n || *n == 0) break;
      quic::Bytes packet(buf_.data(), *n);
      if (tun_priority(classifier_, now, packet) == quic::DatagramPriority::kInteractive &&
          sending()) {
        app_->send_to_tunnel(packet, now, quic::DatagramPriority::kInteractive);
        continue;
      }
      queue_.enqueue(now, packet);
    }
    pump(now);
  }
  void pump(quic::Instant now) {
    // Without a tunnel the queue only ages: packets past the outage bound are dropped, so a
    // reconnection does not send inner flows seconds-old duplicates (ingress_queue.h).
    queue_.note_tunnel(now, sending());
    if (!sending()) return;
    quic::Connection* c = app_->connection();
    // The connection's queue is FIFO over every path: what it holds beyond what the paths
    // send before the next turn only delays the packets behind it (and, after a path fails,
    // drains at the survivors' rate); the rest waits in the ingress queue, under CoDel.
    const size_t backlog = datagram_backlog(*c);
    if (left_behind_ && c->datagram_send_queue_bytes() == 0) ++underruns_;
    while (c->datagram_send_queue_bytes() < backlog) {
      auto p = queue_.dequeue(now);
      if (!p) break;
      app_->send_to_tunnel(*p, now);
    }
    left_behind_ = queue_.bytes() > 0;
  }
  IngressQueue& queue() { return queue_; }
  FlowClassifier& classifier() { return classifier_; }
  // Pumps that found the connection's queue empty although the previous pump had left packets
  // here (it stopped at the backlog): the paths may have idled for want of a refill, a
  // backlog too small for the time between two turns of the loop.
  uint64_t underruns() const { return underruns_; }

 private:
  uint64_t underruns_ = 0;
  bool left_behind_ = false;  // the last pump stopped at the backlog with packets still here
  // Whether the tunnel takes packets now (a finished app's connection may have been reaped
  // already: its pointer is stale).
  bool sending() const {
    return app_ != nullptr && !app_->finished() && app_->ready() && app_->connection() != nullptr;
  }

  masque::TunDevice& tun_;
  apps::MasqueIpClientApp* app_ = nullptr;
  IngressQueue queue_;
  FlowClassifier classifier_;
  std::vector<uint8_t> buf_;
};

// Before a handshake wins, a new attempt starts on the next link every kRaceStagger: a dark
// first link costs this much, not a handshake timeout (docs/tquicd.md "Handshake race").
constexpr quic::Duration kRaceStagger = std::chrono::milliseconds(700);
// How often the quota usage is written to state_dir when it changed (and at exit).
constexpr quic::Duration kQuotaSaveInterval = std::chrono::seconds(10);

WallTime wall_now() {
  return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
}

// The handshake race: attempts on links in race order, staggered; the first whose QUIC
// handshake completes carries the tunnel and the others are closed. Every attempt is driven
// before the winner is picked, so each one's connection pointer is fresh when it is used.
// The race runs in rounds (one per connection attempt, reconnect.h): restart() starts one, in
// which every link that is up gets at most one try; given_up() says when the round is lost.
class HandshakeRace {
 public:
  using MakeApp = std::function<std::unique_ptr<apps::MasqueIpClientApp>(const io::UdpSocket&)>;
  HandshakeRace(LinkManager& links, MakeApp make) : links_(links), make_(std::move(make)) {}

  // Drives the attempts, or the winner once there is one (returned).
  apps::MasqueIpClientApp* step(quic::Endpoint& ep, quic::Instant now) {
    if (winner_) {
      winner_->on_activity(ep, now);
      return winner_.get();
    }
    for (Attempt& a : attempts_) a.app->on_activity(ep, now);
    auto won = std::find_if(attempts_.begin(), attempts_.end(), [](const Attempt& a) {
      quic::Connection* c = a.app->connection();
      return !a.app->finished() && c != nullptr && c->handshake_complete();
    });
    if (won != attempts_.end()) {
      log_at(0, "tquicd: handshake done on link %s", links_.name(won->link).c_str());
      winner_ = std::move(won->app);
      attempts_.erase(won);
      close_attempts(now, "another link won the handshake race");
      return winner_.get();
    }
    std::erase_if(attempts_, [&](Attempt& a) {
      bool link_gone = !links_.holds(a.link, a.socket);
      if (!link_gone && !a.app->finished()) return false;
      log_at(0, "tquicd: handshake on link %s given up: %s", links_.name(a.link).c_str(),
             link_gone ? "the link went down" : a.app->error().c_str());
      close(a, now, "link down");
      return true;
    });
    if (armed_ && (attempts_.empty() || now >= last_start_ + kRaceStagger)) start(ep, now);
    return nullptr;
  }
  // A new round: the previous winner (if any) and attempts are dropped.
  void restart(quic::Instant now) {
    stop(now);
    armed_ = true;
    deadline_ = now + kReconnectAttemptTimeout;
  }
  // Ends the round: no new attempts, the running ones and the winner are closed and dropped.
  void stop(quic::Instant now) {
    if (winner_ && !winner_->finished()) {
      if (quic::Connection* c = winner_->connection()) c->close(0, "reconnecting", now);
    }
    winner_.reset();
    close_attempts(now, "attempt given up");
    tried_.clear();
    armed_ = false;
  }
  // The round's winner carries the tunnel: no more wake-ups for it.
  void settle() { armed_ = false; }
  // No link was up to try in this round.
  bool tried_none() const { return tried_.empty(); }
  quic::Instant deadline() const { return deadline_; }
  // The round is lost: no tunnel by its deadline, or every link up was tried and failed.
  bool given_up(quic::Instant now) const {
    if (winner_ && winner_->ready()) return false;
    if (now >= deadline_) return true;
    return !winner_ && attempts_.empty() && !tried_.empty() && !links_.next_race_link(tried_);
  }
  // When step() should run again without traffic (the next staggered start, the deadline).
  quic::Instant next_wake() const {
    if (!armed_) return quic::kNever;
    return winner_ ? deadline_ : std::min(last_start_ + kRaceStagger, deadline_);
  }
  apps::MasqueIpClientApp* winner() const { return winner_.get(); }

 private:
  struct Attempt {
    size_t link;
    const io::UdpSocket* socket;
    std::unique_ptr<apps::MasqueIpClientApp> app;
  };
  void start(quic::Endpoint& ep, quic::Instant now) {
    auto i = links_.next_race_link(tried_);
    if (!i) return;
    last_start_ = now;
    tried_.push_back(*i);
    log_at(0, "tquicd: handshake attempt on link %s", links_.name(*i).c_str());
    attempts_.push_back({*i, links_.socket(*i), make_(*links_.socket(*i))});
    attempts_.back().app->on_activity(ep, now);
  }
  static void close(Attempt& a, quic::Instant now, const char* why) {
    quic::Connection* c = a.app->connection();
    if (c != nullptr && !a.app->finished()) c->close(0, why, now);
  }
  void close_attempts(quic::Instant now, const char* why) {
    for (Attempt& a : attempts_) close(a, now, why);
    attempts_.clear();
  }

  LinkManager& links_;
  MakeApp make_;
  std::vector<Attempt> attempts_;
  std::vector<size_t> tried_;  // links tried in this round
  std::unique_ptr<apps::MasqueIpClientApp> winner_;
  quic::Instant last_start_{}, deadline_{};
  bool armed_ = false;
};

// The quota ledger and its state file (daemon.state_dir).
class QuotaStore {
 public:
  explicit QuotaStore(const Config& cfg) : path_(quota_state_path(cfg)) {
    ledger_.configure(wall_now(), quota_links(cfg));
    // The state directory is ours: made (owner only) when missing.
    if (::mkdir(cfg.state_dir.c_str(), 0700) != 0 && errno != EEXIST) {
      log_at(0, "tquicd: warning: %s: %s", cfg.state_dir.c_str(), std::strerror(errno));
    }
    auto text = read_state_file(path_);
    if (!text) {
      log_at(0, "tquicd: warning: quota usage not restored: %s", text.error().c_str());
    } else if (*text) {
      if (auto r = ledger_.restore(wall_now(), **text); !r) {
        log_at(0, "tquicd: warning: %s: %s (usage starts at 0)", path_.c_str(), r.error().c_str());
      }
    }
  }
  QuotaLedger& ledger() { return ledger_; }
  void reconfigure(const Config& cfg) { ledger_.configure(wall_now(), quota_links(cfg)); }
  void save(quic::Instant now, bool force) {
    if (!ledger_.dirty() || (!force && now < next_save_)) return;
    next_save_ = now + kQuotaSaveInterval;
    if (auto r = write_state_file(path_, ledger_.serialize()); !r) {
      log_at(0, "tquicd: warning: quota usage not saved: %s", r.error().c_str());
    }
  }

 private:
  std::string path_;
  QuotaLedger ledger_;
  quic::Instant next_save_{};
};

// Interfaces as rtnetlink reports them, applied to the links.
struct InterfaceFeed {
  InterfaceTable table;
  std::unique_ptr<NetlinkWatch> watch;

  void resync() {
    table.clear();
    for (const InterfaceEvent& e : snapshot_interfaces()) table.apply(e);
  }
  void on_readable() {
    bool lost = false;
    for (const InterfaceEvent& e : watch->read(lost)) table.apply(e);
    if (lost) resync();
  }
};

void log_exit_counters(const IngressStats& is, uint64_t underruns, const DaemonState& st) {
  std::fprintf(
      stderr,
      "tquicd: ingress enqueued=%llu tail_drops=%llu codel_drops=%llu outage_drops=%llu "
      "ce_marks=%llu backlog_underruns=%llu\n",
      static_cast<unsigned long long>(is.enqueued), static_cast<unsigned long long>(is.tail_drops),
      static_cast<unsigned long long>(is.codel_drops),
      static_cast<unsigned long long>(is.outage_drops),
      static_cast<unsigned long long>(is.ce_marks), static_cast<unsigned long long>(underruns));
  std::fprintf(stderr, "tquicd: stopping: %s %s\n", apps::format_ip_stats(st.tunnel).c_str(),
               format_reorder_stats(st.reorder).c_str());
  for (const LinkState& l : st.links) {
    std::fprintf(stderr,
                 "tquicd: link %s %s: path %s%s sent=%llu received=%llu srtt=%.1fms "
                 "quota_used=%llu%s\n",
                 l.name.c_str(), l.local.to_string().c_str(), l.path_open ? "open" : "none",
                 l.failed ? " (failed)" : "", static_cast<unsigned long long>(l.bytes_sent),
                 static_cast<unsigned long long>(l.bytes_received),
                 std::chrono::duration<double, std::milli>(l.srtt).count(),
                 static_cast<unsigned long long>(l.quota_used),
                 l.quota_stopped ? " (quota reached)" : "");
  }
}

// What the client's loop holds; the loop itself is run().
struct ClientRun {
  Config cfg;
  std::string path;
  io::EndpointDriver& driver;
  ReorderSink& reorder;
  IngressPump& ingress;
  LinkManager& links;
  HandshakeRace& race;
  QuotaStore& quota;
  InterfaceFeed& interfaces;
  LinkTracker& tracker;
  masque::TunDevice& tun;
  ReconnectSchedule& schedule;
  DaemonState state;
  DaemonControl* control = nullptr;
  // Where the connection stands (reconnect.h): an attempt (a race round) runs, the tunnel is
  // up, or the next attempt is waited for.
  enum class Phase { kTrying, kConnected, kWaiting } phase = Phase::kTrying;
  std::string fatal;                     // a definitive refusal: the daemon exits with it
  bool no_link = false;                  // the last failed attempt had no link up to try
  masque::ConnectIpStats ended;          // the tunnel figures of connections gone
  std::vector<masque::IpPrefix> held;    // the device's addresses when the connection was lost
  std::optional<io::EndpointDriver::TimerId> wake_timer;
  quic::Instant wake_at{};

  // The tunnel's connection; null before the race is won and once the app has finished (the
  // endpoint may have reaped the connection by then, and the app's pointer is stale).
  quic::Connection* connection() const {
    apps::MasqueIpClientApp* w = race.winner();
    return w != nullptr && !w->finished() ? w->connection() : nullptr;
  }
  void refresh() {
    state.role = DaemonRole::kClient;
    apps::MasqueIpClientApp* w = race.winner();
    state.ready = w != nullptr && w->ready();
    state.tunnel = ended;
    if (w != nullptr) state.tunnel.add(w->stats());
    state.reorder = reorder.stats();
    state.reorder_hold = reorder.hold_time();
    state.links = links.states(connection());
  }
  // The live keys of `next` (SIGHUP, or `tquicctl set`).
  void apply(const Config& next) {
    reorder.set_policy(reorder_limits(next), next.classifier.udp_unordered);
    ingress.queue().set_limits(ingress_limits(next));
    ingress.classifier().set_policy(flow_policy(next));
    cfg.ingress = next.ingress;
    cfg.reorder = next.reorder;
    take_live_classifier_keys(cfg, next);
    cfg.links = next.links;
    quota.reconfigure(cfg);
    tracker.configure(cfg.links);
    links.configure(cfg.links, connection());
    links.sync(interfaces.table, connection(), io::monotonic_now());
  }
  void reload() {
    if (control->reload(cfg, io::monotonic_now())) ++state.reloads;
  }
  // The control plane's view: the links' sockets and quota figures, then the paths.
  void refresh_status(quic::Instant now, Status& s, EventBus& bus) {
    refresh();
    for (const LinkState& l : state.links) {
      if (l.local.port != 0) tracker.set_local(l.name, l.local);  // a reopened socket
      tracker.set_quota(l.name, l.quota_bytes, l.quota_used);
    }
    std::vector<PathSample> paths;
    if (quic::Connection* c = connection()) paths = sample_paths(*c);
    tracker.update(paths, now, bus, s);
    s.tx_bytes = state.tunnel.bytes_out;
    s.rx_bytes = state.tunnel.bytes_in;
    s.flows = top_flows(ingress.classifier());
    const IngressQueue& q = ingress.queue();
    const IngressStats& is = q.stats();
    s.ingress = {q.bytes(),      q.packets(),     is.tail_drops,
                 is.codel_drops, is.outage_drops, is.ce_marks};
    reconnect_status(now, s);
  }
  void reconnect_status(quic::Instant now, Status& s) const;
  // After each event-loop batch: follows the connection's end, the attempts and the backoff.
  void supervise(quic::Instant now);
  void lost(quic::Instant now, const std::string& reason);
  void attempt_failed(quic::Instant now, const std::string& reason);
  void begin_attempt(quic::Instant now);
  void connected(quic::Instant now);
  // Keeps one driver timer at the race's or the schedule's next deadline.
  void arm_wake(quic::Instant now);
  int run(const StateObserver& observe, const std::string& server);
};

std::string seconds_text(quic::Duration d) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1fs", std::chrono::duration<double>(d).count());
  return text;
}

std::string prefixes_text(const std::vector<masque::IpPrefix>& v) {
  std::string out;
  for (const masque::IpPrefix& p : v) out += (out.empty() ? "" : " ") + p.to_string();
  return out.empty() ? "none" : out;
}

void ClientRun::reconnect_status(quic::Instant now, Status& s) const {
  auto ms = [](quic::Duration d) {
    return static_cast<uint64_t>(
        std::max<int64_t>(0, std::chrono::duration_cast<std::chrono::milliseconds>(d).count()));
  };
  ReconnectStatus& r = s.reconnect;
  r.disconnects = schedule.disconnects();
  r.reconnects = schedule.reconnects();
  r.last_reason = schedule.last_reason();
  r.last_downtime_ms = ms(schedule.last_downtime());
  r.attempt = phase == Phase::kConnected ? 0 : schedule.attempt();
  quic::Instant next = schedule.next_attempt();
  r.next_attempt_ms = next == quic::kNever ? 0 : ms(next - now);
  r.down_ms = schedule.reconnecting() ? ms(now - schedule.down_since()) : 0;
  if (schedule.reconnecting()) s.bond = BondState::kReconnecting;
}

void ClientRun::supervise(quic::Instant now) {
  if (stop_requested()) return;  // our own shutdown ends the connection: no reconnecting
  apps::MasqueIpClientApp* w = race.winner();
  switch (phase) {
    case Phase::kConnected:
      if (w == nullptr || w->finished()) lost(now, w != nullptr ? w->error() : "connection gone");
      return;
    case Phase::kTrying:
      if (w != nullptr && w->ready()) return connected(now);
      if (w != nullptr && w->finished()) {
        // 403 (a bad token) and the like: retrying cannot cure them (reconnect.h).
        if (definitive_refusal(w->refused_status())) fatal = w->error();
        if (fatal.empty()) attempt_failed(now, w->error());
        return;
      }
      if (race.given_up(now)) {
        attempt_failed(now, now >= race.deadline() ? "no tunnel within the attempt's time"
                                                   : "the handshake failed on every link up");
      }
      return;
    case Phase::kWaiting:
      // An attempt that found no link up to try says nothing about the server: a link that
      // comes back is tried at once rather than after the backoff.
      if (now >= schedule.next_attempt() || (no_link && links.next_race_link({}))) {
        begin_attempt(now);
      }
      return;
  }
}

void ClientRun::lost(quic::Instant now, const std::string& reason) {
  log_at(0, "tquicd: disconnected: %s; the tunnel device stays, reconnecting", reason.c_str());
  if (race.winner() != nullptr) ended.add(race.winner()->stats());
  held = tun.addresses();
  race.stop(now);
  ingress.set_app(nullptr);
  // The old connection's sequence space is gone with it.
  reorder.forget_tunnels();
  schedule.on_disconnected(now, reason);
  if (control != nullptr) control->bus().push(now, EventKind::kDisconnected, "", reason);
  phase = Phase::kWaiting;
  if (now >= schedule.next_attempt()) begin_attempt(now);
}

void ClientRun::attempt_failed(quic::Instant now, const std::string& reason) {
  no_link = race.tried_none();
  log_at(0, "tquicd: connection attempt %llu failed: %s%s",
         static_cast<unsigned long long>(schedule.attempt()), reason.c_str(),
         no_link ? " (no link up to try)" : "");
  if (race.winner() != nullptr) ended.add(race.winner()->stats());
  race.stop(now);
  ingress.set_app(nullptr);
  schedule.on_attempt_failed(now);
  phase = Phase::kWaiting;
  log_at(0, "tquicd: next connection attempt (%llu) in %s",
         static_cast<unsigned long long>(schedule.attempt()),
         seconds_text(schedule.next_attempt() - now).c_str());
}

void ClientRun::begin_attempt(quic::Instant now) {
  log_at(0, "tquicd: connection attempt %llu", static_cast<unsigned long long>(schedule.attempt()));
  schedule.on_attempt_started();
  // The paths that follow are the new connection's (their ids start over).
  links.on_new_connection();
  tracker.on_new_connection();
  race.restart(now);
  phase = Phase::kTrying;
}

void ClientRun::connected(quic::Instant now) {
  race.settle();
  phase = Phase::kConnected;
  auto down = schedule.on_connected(now);
  if (!down) return;
  std::string detail = "after " + seconds_text(*down);
  const std::vector<masque::IpPrefix>& now_held = tun.addresses();
  if (now_held != held) {
    // The server's pools keep a client's address across its restarts; another one means its
    // state was lost: the device has the new address now (apps::MasqueIpClientApp::apply).
    detail += ", address " + prefixes_text(held) + " -> " + prefixes_text(now_held);
    log_at(0, "tquicd: warning: the server assigned another tunnel address: %s -> %s",
           prefixes_text(held).c_str(), prefixes_text(now_held).c_str());
  }
  log_at(0, "tquicd: reconnected %s", detail.c_str());
  if (control != nullptr) control->bus().push(now, EventKind::kReconnected, "", detail);
}

void ClientRun::arm_wake(quic::Instant now) {
  quic::Instant wake = std::min(race.next_wake(), schedule.next_attempt());
  if (wake == quic::kNever || (wake_timer && wake_at <= wake)) return;
  if (wake_timer) driver.cancel_timer(*wake_timer);
  // A deadline already passed that step() did not act on (no link to start on): not a
  // busy loop, another look after one stagger.
  wake_at = wake > now ? wake : now + kRaceStagger;
  wake_timer = driver.add_timer(wake_at, [this](quic::Instant) { wake_timer.reset(); });
}

int ClientRun::run(const StateObserver& observe, const std::string& server) {
  install_signal_handlers();
  bool announced = false;
  quic::Instant next_state = io::monotonic_now();
  // The connection ending is no reason to stop (supervise() makes another); a definitive
  // refusal is.
  auto finished = [&] { return !fatal.empty(); };
  while (!stop_requested() && !finished()) {
    auto r = driver.run_until([&] { return stop_requested() || finished() ||
                                           (!announced && state.ready); },
                              io::monotonic_now() + kStateInterval / 4);
    if (!r) {
      std::fprintf(stderr, "tquicd: %s\n", r.error().reason.c_str());
      return apps::kExitFailure;
    }
    if (!announced && race.winner() != nullptr && race.winner()->ready()) {
      announced = true;
      std::string names;
      for (const LinkConfig& l : cfg.links) names += " " + l.name;
      announce_ready("client tun=" + cfg.tunnel.name + " server=" + server +
                     " links=" + names.substr(1));
    }
    if (take_reload()) reload();
    quic::Instant now = io::monotonic_now();
    quota.save(now, false);
    if (now >= next_state) {
      next_state = now + kStateInterval;
      control->refresh(now);  // refreshes `state` too
      if (observe) observe(state);
    }
  }
  bool signalled = stop_requested();
  refresh();  // the links' last figures, while the connection is there to read
  if (signalled && race.winner() != nullptr) {
    race.winner()->shutdown(io::monotonic_now());
    (void)driver.run_until([] { return false; }, io::monotonic_now() + kShutdownFlush);
  }
  // The quota usage with the bytes of the shutdown flush: what the state file keeps.
  std::vector<LinkState> last = links.states(nullptr);
  for (size_t i = 0; i < last.size() && i < state.links.size(); ++i) {
    state.links[i].quota_used = last[i].quota_used;
  }
  quota.save(io::monotonic_now(), true);
  log_exit_counters(ingress.queue().stats(), ingress.underruns(), state);
  if (!fatal.empty() && !signalled) {
    std::fprintf(stderr, "tquicd: %s (not retried)\n", fatal.c_str());
    return apps::kExitFailure;
  }
  return apps::kExitOk;
}

// The LinkManager's events: logged, and pushed into the control plane's bus but for those the
// LinkTracker reports itself from the sampled paths (path_up, path_down, failover), and
// the link_up/link_down of a `tquicctl link` request (the tracker reports it as such).
struct EventForward {
  DaemonControl* control = nullptr;
  bool admin_request = false;

  void operator()(EventKind kind, std::string_view link, std::string_view detail) const {
    log_at(0, "tquicd: event %s link=%.*s %.*s", to_string(kind), static_cast<int>(link.size()),
           link.data(), static_cast<int>(detail.size()), detail.data());
    bool tracked = kind == EventKind::kPathUp || kind == EventKind::kPathDown ||
                   kind == EventKind::kFailover;
    if (control == nullptr || tracked) return;
    bool link_event = kind == EventKind::kLinkUp || kind == EventKind::kLinkDown;
    if (link_event && admin_request) return;
    control->bus().push(io::monotonic_now(), kind, link, detail);
  }
};

// The control plane of a client (daemon_control.h): status from the tracker, `set` through
// apply(), `link up|down` through the LinkManager, whose events then go to the bus.
std::unique_ptr<DaemonControl> open_client_control(ClientRun& run, EventForward& events) {
  ControlHooks hooks;
  hooks.refresh = [&run](quic::Instant now, Status& s, EventBus& bus) {
    run.refresh_status(now, s, bus);
  };
  hooks.apply = [&run](const Config& next) { run.apply(next); };
  hooks.link_admin = [&run, &events](std::string_view name, bool up, quic::Instant now,
                                     EventBus& bus) -> std::expected<std::string, std::string> {
    events.admin_request = true;
    auto r = run.links.set_admin_down(name, !up, run.connection());
    if (r) run.links.sync(run.interfaces.table, run.connection(), now);
    events.admin_request = false;
    if (r) run.tracker.set_admin_down(name, !up, now, bus);
    return r;
  };
  auto control =
      DaemonControl::open(run.driver, run.cfg, run.path, io::monotonic_now(), std::move(hooks));
  run.control = control.get();
  events.control = control.get();
  return control;
}

// The event loop's hooks: the app hook (links, the race, the ingress pump, timers), socket
// errors, and the TUN and rtnetlink descriptors. False when a descriptor cannot be watched.
bool wire_client_loop(ClientRun& run, masque::TunDevice& tun, ReorderTimer& timer) {
  io::EndpointDriver& driver = run.driver;
  driver.set_app([&run, &timer](quic::Endpoint& ep, quic::Instant now) {
    if (run.links.needs_resync()) run.links.sync(run.interfaces.table, run.connection(), now);
    run.race.step(ep, now);
    run.supervise(now);  // may drop the race's winner: the pump takes it afterwards
    run.ingress.set_app(run.race.winner());
    run.links.tick(run.connection(), now, wall_now());
    run.ingress.pump(now);
    timer.rearm();
    // Wakes the loop for the next staggered start, the attempt's deadline and the next
    // attempt even when no packet arrives (a dark link, a server that is down).
    run.arm_wake(now);
  });
  driver.set_socket_error_handler(
      [&run](io::UdpSocket& s, const quic::Error& e) { run.links.on_socket_error(s, e); });
  bool fds =
      driver
          .register_fd(tun.fd(), io::kReadable,
                       [&run](int, uint32_t) { run.ingress.on_readable(io::monotonic_now()); })
          .has_value();
  fds = fds && driver
                   .register_fd(run.interfaces.watch->fd(), io::kReadable,
                                [&run](int, uint32_t) {
                                  run.interfaces.on_readable();
                                  run.links.sync(run.interfaces.table, run.connection(),
                                                 io::monotonic_now());
                                })
                   .has_value();
  return fds;
}

int run_client_loop(Config cfg, const std::string& path, const apps::MasqueIpOptions& o,
                    const h3::UriTemplate& tmpl, apps::ClientSetup& setup, masque::TunDevice& tun,
                    const StateObserver& observe) {
  apps::TunSink tun_sink;
  tun_sink.tun = &tun;
  ReorderSink reorder(tun_sink, reorder_limits(cfg), cfg.classifier.udp_unordered,
                      [] { return io::monotonic_now(); });
  io::EndpointDriver driver(*setup.endpoint, {});
  if (!driver.ok()) return apps::kExitFailure;
  InterfaceFeed interfaces;
  auto watch = NetlinkWatch::open();
  if (!watch) {
    std::fprintf(stderr, "tquicd: %s\n", watch.error().reason.c_str());
    return apps::kExitFailure;
  }
  interfaces.watch = std::move(*watch);
  interfaces.resync();  // after subscribing: a change in between is in both
  QuotaStore quota(cfg);
  EventForward events;
  LinkManager links(
      driver, setup.remote, quota.ledger(),
      [&events](EventKind k, std::string_view l, std::string_view d) { events(k, l, d); });
  HandshakeRace race(links, [&](const io::UdpSocket& s) {
    auto app =
        std::make_unique<apps::MasqueIpClientApp>(s.local_address(), setup.remote, tmpl, tun, o);
    app->set_sink(reorder);
    return app;
  });
  ReorderTimer timer(driver, reorder);
  IngressPump ingress(tun, ingress_limits(cfg), flow_policy(cfg));
  LinkTracker tracker({});
  tracker.configure(cfg.links);  // addresses come from the links' sockets (refresh_status)
  ReconnectSchedule schedule(std::random_device{}());  // the jitter's seed
  ClientRun run{cfg,        path,    driver,  reorder, ingress, links, race,
                quota,      interfaces, tracker, tun,   schedule, {}};
  run.state.tun = cfg.tunnel.name;
  if (!wire_client_loop(run, tun, timer)) return apps::kExitFailure;
  auto control = open_client_control(run, events);
  links.configure(cfg.links, nullptr);
  links.sync(interfaces.table, nullptr, io::monotonic_now());
  race.restart(io::monotonic_now());  // the first attempt
  driver.defer([] {});  // the first hook starts the race
  int rc = run.run(observe, setup.remote.to_string());
  driver.unregister_fd(interfaces.watch->fd());
  driver.unregister_fd(tun.fd());
  if (run.wake_timer) driver.cancel_timer(*run.wake_timer);
  return rc;
}
}  // namespace

int run_client_daemon(const std::string& config_path, const StateObserver& observe) {
  auto loaded = load_config(config_path);
  if (!loaded) {
    for (const std::string& e : loaded.error()) std::fprintf(stderr, "%s\n", e.c_str());
    return apps::kExitUsage;
  }
  Config cfg = std::move(*loaded);
  if (cfg.role != DaemonRole::kClient) {
    std::fprintf(stderr, "tquicd: %s configures a server (daemon.role)\n", config_path.c_str());
    return apps::kExitUsage;
  }
  // No token_file: the client authenticates by its certificate alone (client.certificate).
  auto token = cfg.client.token_file.empty() ? std::optional<std::string>(std::string())
                                             : read_client_token(cfg.client.token_file);
  if (!token) {
    std::fprintf(stderr, "tquicd: %s: no token (one word, at most %zu bytes)\n",
                 cfg.client.token_file.c_str(), kMaxClientTokenFile);
    return apps::kExitUsage;
  }
  auto url = apps::parse_url(cfg.client.server_url);
  auto tmpl = url ? apps::ip_template_for(*url) : quic::fail(quic::err::kInternalError, "");
  if (!url || !tmpl) {
    std::fprintf(stderr, "tquicd: client.server_url: bad URL '%s'\n",
                 cfg.client.server_url.c_str());
    return apps::kExitUsage;
  }
  apps::MasqueIpOptions o;
  o.proxy = cfg.client.server_url;
  o.tun = cfg.tunnel.name;
  o.offer_context = true;
  if (!token->empty()) {
    o.request_fields.push_back({std::string(kAuthField), std::string(kBearerPrefix) + *token});
  }
  o.trust.client_cert = cfg.client.certificate;
  o.trust.client_key = cfg.client.key;
  o.net.datagrams = true;
  // Multipath even with one link: a link added by SIGHUP joins the same connection.
  o.net.multipath = true;
  // A tunnel is window-limited inner traffic: ECF (the default) keeps waiting for the fastest
  // path, minrtt spills over to the next as soon as its window is full (docs/tquicd.md).
  o.net.scheduler = "minrtt";
  o.net.datagram_resend_on_path_failure = true;
  // The links' congestion drops are repaired inside the tunnel (within 250 ms, which the
  // receiver's reorder hold covers as it follows the delay spread): the inner TCP then sees
  // one wide pipe and backs off only at the ingress queue (docs/tquicd.md).
  o.net.datagram_resend_on_loss = true;
  o.net.max_paths = static_cast<uint32_t>(kMaxLinks);
  o.net.cc_delay_bound = cfg.tunnel.delay_bound;
  if (!cfg.client.pinned_cert.empty()) {
    auto pem = apps::read_file(cfg.client.pinned_cert);
    auto pin = pem ? apps::leaf_sha256(*pem) : quic::fail(quic::err::kInternalError, "");
    if (!pin) {
      std::fprintf(stderr, "tquicd: client.pinned_cert: no certificate in %s\n",
                   cfg.client.pinned_cert.c_str());
      return apps::kExitUsage;
    }
    o.trust.pin = apps::to_hex(pin->data(), pin->size());
  }
  apps::set_log_level(cfg.log.level >= LogLevel::kDebug ? 1 : 0);
  int rc = 0;
  auto setup = apps::make_client(*url, o.net, o.trust, rc, apps::kH3Alpn);
  if (!setup) return rc;
  auto tun = masque::TunDevice::open(cfg.tunnel.name);
  if (!tun) {
    std::fprintf(stderr, "tquicd: %s\n", tun.error().reason.c_str());
    return apps::kExitFailure;
  }
  if (auto s = (*tun)->set_mtu(cfg.tunnel.mtu); !s) {
    std::fprintf(stderr, "tquicd: %s\n", s.error().reason.c_str());
    return apps::kExitFailure;
  }
  if (auto s = (*tun)->disable_ipv6(); !s) log_at(0, "warning: %s", s.error().reason.c_str());
  return run_client_loop(std::move(cfg), config_path, o, *tmpl, *setup, **tun,
                         observe);
}

}  // namespace bond
