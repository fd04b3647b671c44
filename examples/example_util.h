// Small helpers shared by the examples: command-line flags and whole-file I/O.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tquic/tquic.h"

namespace example {

// "--name value" pairs; a flag given without a value is an error.
inline std::optional<std::map<std::string, std::string>> parse_flags(int argc, char** argv) {
  std::map<std::string, std::string> flags;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) != 0 || i + 1 >= argc) return std::nullopt;
    flags[a.substr(2)] = argv[++i];
  }
  return flags;
}

inline std::string flag(const std::map<std::string, std::string>& f, const std::string& name,
                        const std::string& fallback) {
  auto it = f.find(name);
  return it == f.end() ? fallback : it->second;
}

inline std::optional<std::vector<uint8_t>> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

inline bool write_file(const std::string& path, const void* data, size_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
  return static_cast<bool>(out);
}

// A server endpoint with a fresh self-signed certificate for "localhost" (written to
// --cert-out for the client to trust) listening on --listen (port 0: a free port, written to
// --port-file). Prints why and returns nullopt on failure.
struct Server {
  tquic::Endpoint endpoint;
  tquic::io::UdpSocket socket;
};

inline std::optional<Server> start_server(const std::map<std::string, std::string>& flags,
                                          tquic::EndpointOptions options) {
  auto listen = tquic::Address::parse(flag(flags, "listen", "127.0.0.1:4433"));
  auto cert = tquic::make_self_signed_certificate("localhost");
  if (!listen || !cert) {
    std::fprintf(stderr, "bad --listen address or no certificate\n");
    return std::nullopt;
  }
  if (auto out = flag(flags, "cert-out", "");
      !out.empty() && !write_file(out, cert->cert_pem.data(), cert->cert_pem.size())) {
    std::fprintf(stderr, "cannot write %s\n", out.c_str());
    return std::nullopt;
  }
  options.server = true;
  options.tls.cert_pem = cert->cert_pem;
  options.tls.key_pem = cert->key_pem;
  auto endpoint = tquic::Endpoint::create(options);
  if (!endpoint) {
    std::fprintf(stderr, "endpoint: %s\n", tquic::to_string(endpoint.error()).c_str());
    return std::nullopt;
  }
  auto socket = tquic::io::UdpSocket::open(*listen);
  if (!socket) {
    std::fprintf(stderr, "socket: %s\n", socket.error().what.c_str());
    return std::nullopt;
  }
  tquic::Address bound = socket->local_address();
  std::printf("listening on %s\n", bound.to_string().c_str());
  std::fflush(stdout);
  if (auto pf = flag(flags, "port-file", ""); !pf.empty()) {
    std::string port = std::to_string(bound.port) + "\n";
    if (!write_file(pf, port.data(), port.size())) return std::nullopt;
  }
  return Server{std::move(*endpoint), std::move(*socket)};
}

// A client endpoint trusting --ca for "localhost" and a socket on the wildcard address of
// `remote`'s family.
struct Client {
  tquic::Endpoint endpoint;
  tquic::io::UdpSocket socket;
};

inline std::optional<Client> start_client(const std::map<std::string, std::string>& flags,
                                          const tquic::Address& remote,
                                          tquic::EndpointOptions options) {
  options.tls.ca_file = flag(flags, "ca", "");
  options.tls.server_name = "localhost";
  auto endpoint = tquic::Endpoint::create(options);
  if (!endpoint) {
    std::fprintf(stderr, "endpoint: %s\n", tquic::to_string(endpoint.error()).c_str());
    return std::nullopt;
  }
  tquic::Address any = remote.v6 ? *tquic::Address::parse("[::]:0") : tquic::Address::v4(0, 0, 0, 0, 0);
  auto socket = tquic::io::UdpSocket::open(any);
  if (!socket) {
    std::fprintf(stderr, "socket: %s\n", socket.error().what.c_str());
    return std::nullopt;
  }
  return Client{std::move(*endpoint), std::move(*socket)};
}

// Runs the driver until done() or timeout_s seconds; false (after printing why) on an I/O
// error or the timeout.
inline bool run(tquic::io::Driver& driver, const std::function<bool()>& done, int timeout_s) {
  tquic::Instant deadline = timeout_s > 0
                                ? tquic::io::monotonic_now() + std::chrono::seconds(timeout_s)
                                : tquic::kNever;
  auto r = driver.run_until(done, deadline);
  if (!r) {
    std::fprintf(stderr, "I/O error: %s (errno %d)\n", r.error().what.c_str(),
                 r.error().errno_value);
    return false;
  }
  if (!*r) std::fprintf(stderr, "timed out\n");
  return *r;
}

// Serves with `hook` until `served()` connections are done (--max-connections; 0: until the
// --timeout-s deadline, forever without one). Returns the process exit status.
inline int run_server(Server& server, const std::map<std::string, std::string>& flags,
                      tquic::io::Driver::AppHook hook, const std::function<size_t()>& served) {
  auto driver = tquic::io::Driver::create(server.endpoint, {&server.socket});
  if (!driver) {
    std::fprintf(stderr, "driver: %s\n", driver.error().what.c_str());
    return 1;
  }
  driver->set_app(std::move(hook));
  size_t max_conns = std::stoul(flag(flags, "max-connections", "0"));
  bool done = run(*driver, [&] { return max_conns > 0 && served() >= max_conns; },
                  std::stoi(flag(flags, "timeout-s", "0")));
  std::printf("served %zu connection(s)\n", served());
  return done || max_conns == 0 ? 0 : 1;
}

}  // namespace example
