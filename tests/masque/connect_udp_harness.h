// In-process CONNECT-UDP test rig over real loopback sockets: a UDP echo server and a fake DNS
// server (threads), the MASQUE proxy (MasqueProxyApp + ConnectUdpProxy + AresResolver on its
// own EndpointDriver, in a thread), and a client connection (h3::Session with ConnectUdpClient
// handlers) driven from the test's thread. Every wait is bounded in real time.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "apps/hq_client.h"
#include "apps/masque_proxy.h"
#include "apps/net_options.h"
#include "io/endpoint_driver.h"
#include "masque/connect_udp.h"

namespace masque_test {

using namespace std::chrono_literals;

// A thread answering UDP datagrams on 127.0.0.1 (port chosen by the kernel).
class UdpThread {
 public:
  // `answer` returns the reply to a datagram (nullopt: no reply).
  using Answer = std::function<std::optional<std::vector<uint8_t>>(const std::vector<uint8_t>&)>;
  explicit UdpThread(Answer answer);
  ~UdpThread();
  uint16_t port() const { return port_; }
  uint64_t received() const { return received_.load(); }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> received_{0};
  std::thread thread_;
};
std::unique_ptr<UdpThread> echo_server();
// A DNS server for the resolver tests: "ok.test" has A 127.0.0.1, "public.test" A 192.0.2.1,
// "nx.test" is NXDOMAIN, "slow.test" is never answered; AAAA questions get no records.
std::unique_ptr<UdpThread> fake_dns_server();

struct ProxyOptions {
  masque::AccessPolicy policy{{}, true};  // --allow-private
  std::string dns_servers = "127.0.0.1:9";
  quic::Duration dns_timeout = 300ms;
  size_t max_flows_per_session = masque::kDefaultMaxFlowsPerSession;
  std::string udp_template;
  // Extra protocols registered on the app (before the loop starts).
  std::function<void(apps::MasqueProxyApp&)> extra;
};

class ProxyThread {
 public:
  explicit ProxyThread(ProxyOptions o);
  ~ProxyThread();
  uint16_t port() const { return port_; }
  // Runs `fn` on the proxy's loop thread and waits for it.
  void call(const std::function<void()>& fn);
  masque::ConnectUdpStats udp_stats();
  apps::ProxyCounters counters();

 private:
  void run(ProxyOptions o);
  uint16_t port_ = 0;
  std::atomic<bool> ready_{false}, stop_{false};
  std::string error_;
  std::mutex mu_;
  std::vector<std::function<void()>> calls_;
  io::EndpointDriver* driver_ = nullptr;
  masque::ConnectUdpProxy* udp_ = nullptr;
  apps::MasqueProxyApp* app_ = nullptr;
  std::thread thread_;
};

// What a client stream saw.
struct ClientFlow {
  masque::ConnectUdpClient* handler = nullptr;  // owned by the session; null once closed
  std::optional<uint16_t> status;
  std::string proxy_status;
  std::vector<std::vector<uint8_t>> payloads;
  std::optional<uint64_t> closed;
  masque::ClientFlowStats last_stats;  // copied when the handler closes
};

class ClientConn {
 public:
  ClientConn(uint16_t proxy_port, bool h3_datagram = true);
  ~ClientConn();
  // Drives the loop until pred() holds or `timeout` passes; returns pred().
  bool run_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 5000ms);
  bool ready() const;
  std::optional<uint64_t> open(const std::vector<h3::Field>& fields);
  std::optional<uint64_t> open_target(const std::string& host, uint16_t port);
  masque::SendOutcome send(uint64_t id, const std::vector<uint8_t>& payload);
  // Waits for the response head of `id`.
  std::optional<uint16_t> status(uint64_t id, std::chrono::milliseconds timeout = 5000ms);
  h3::Session& session() { return *session_; }
  quic::Connection& conn();
  std::map<uint64_t, ClientFlow> flows;
  h3::UriTemplate udp_template;

 private:
  void on_activity(quic::Endpoint& ep, quic::Instant now);
  std::optional<apps::ClientSetup> setup_;
  std::unique_ptr<io::EndpointDriver> driver_;
  std::optional<quic::ConnectionHandle> handle_;
  std::unique_ptr<h3::Session> session_;
};

std::vector<uint8_t> bytes(std::string_view s);
// Runs `loop` until pred() or `timeout`, with a 5 ms tick so that predicates on other threads'
// state (the proxy's counters, a server thread) are seen although this loop has no event.
bool run_loop_until(io::EndpointDriver& loop, const std::function<bool()>& pred,
                    std::chrono::milliseconds timeout);
// Resident set size of this process, bytes (/proc/self/statm).
size_t rss_bytes();

}  // namespace masque_test
