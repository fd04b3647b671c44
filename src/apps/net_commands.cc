#include "apps/net_commands.h"

#include <CLI/CLI.hpp>

#include "apps/emu_command.h"
#include "apps/h3_get.h"
#include "apps/h3_serve.h"
#include "apps/hq_client.h"
#include "apps/hq_server.h"
#include "apps/perf_command.h"
#include "apps/udp_perf.h"

namespace apps {

struct NetCommands::State {
  HqServerOptions server, perf_server;
  ClientOptions client;
  PerfClientOptions perf_client;
  UdpPerfOptions udp;
  ServeOptions serve;
  GetOptions get;
  EmuOptions emu;
  CLI::App* emu_cmd;
  CLI::App *serve_cmd, *get_cmd;
  CLI::App *server_cmd, *client_cmd, *perf_cmd, *perf_server_cmd, *perf_client_cmd, *udp_cmd;
};

NetCommands::NetCommands(CLI::App& app) : s_(std::make_unique<State>()) {
  s_->server_cmd = app.add_subcommand("server", "serve files over QUIC (hq-interop, HTTP/0.9)");
  s_->server_cmd->add_option("--root", s_->server.root, "directory to serve");
  add_server_options(*s_->server_cmd, s_->server);

  s_->client_cmd = app.add_subcommand("client", "fetch hq-interop URLs over one QUIC connection");
  add_client_options(*s_->client_cmd, s_->client);

  s_->perf_cmd = app.add_subcommand("perf", "QUIC goodput/CPU benchmark over real sockets");
  s_->perf_cmd->require_subcommand(1);
  s_->perf_server_cmd = s_->perf_cmd->add_subcommand("server", "serve /perf/<N> and POST /perf");
  s_->perf_server.perf = true;
  s_->perf_server_cmd->add_flag("--json", s_->perf_server.json, "final statistics as JSON");
  add_server_options(*s_->perf_server_cmd, s_->perf_server);
  s_->perf_client_cmd = s_->perf_cmd->add_subcommand("client", "download/upload and measure");
  add_perf_client_options(*s_->perf_client_cmd, s_->perf_client);
  s_->udp_cmd = s_->perf_cmd->add_subcommand("udp", "raw UDP loopback limit (no QUIC)");
  add_udp_perf_options(*s_->udp_cmd, s_->udp);

  s_->serve_cmd = app.add_subcommand("serve", "serve a directory over HTTP/3 (h3)");
  add_serve_options(*s_->serve_cmd, s_->serve);
  s_->get_cmd = app.add_subcommand("get", "fetch HTTP/3 URLs over one connection (curl-like)");
  add_get_options(*s_->get_cmd, s_->get);
  s_->emu_cmd = app.add_subcommand("emu", "UDP link emulator relay: per-path rate/delay/loss");
  add_emu_options(*s_->emu_cmd, s_->emu);
}

NetCommands::~NetCommands() = default;

std::optional<int> NetCommands::dispatch() const {
  if (*s_->server_cmd) return run_server(s_->server);
  if (*s_->client_cmd) return run_client(s_->client);
  if (*s_->perf_server_cmd) return run_server(s_->perf_server);
  if (*s_->perf_client_cmd) return run_perf_client(s_->perf_client);
  if (*s_->udp_cmd) return run_udp_perf(s_->udp);
  if (*s_->serve_cmd) return run_serve(s_->serve);
  if (*s_->get_cmd) return run_get(s_->get);
  if (*s_->emu_cmd) return run_emu(s_->emu);
  return std::nullopt;
}

}  // namespace apps
