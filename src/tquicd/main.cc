// tquicd: the WAN-bonding daemons (docs/tquicd.md, docs/tquicd-config.md). `tquicd server` and
// `tquicd client` run the daemons (daemon.h); `tquicd check` validates a configuration file,
// `tquicd diff` tells which changes SIGHUP would apply live and `tquicd gen-token` makes a
// client token.
#include <sys/random.h>

#include <array>
#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>

#include "tquicd/config.h"
#include "tquicd/daemon.h"

namespace {

// Exit codes: 0 fine, 1 could not run, 2 the configuration is refused (errors on stderr).
constexpr int kExitRefused = 2;

int print_errors(const std::vector<std::string>& errors) {
  for (const std::string& e : errors) std::fprintf(stderr, "%s\n", e.c_str());
  return kExitRefused;
}

int run_check(const std::string& path, bool quiet, bool print) {
  auto config = bond::load_config(path);
  if (!config) return print_errors(config.error());
  if (print) {
    for (const auto& [key, value] : config->values) {
      std::printf("%s = %s (%s)\n", key.c_str(), value.c_str(), bond::key_is_live(key) ? "live" : "restart");
    }
  } else if (!quiet) {
    std::printf("%s: ok (role %s, %zu link%s)\n", path.c_str(), bond::to_string(config->role),
                config->links.size(), config->links.size() == 1 ? "" : "s");
  }
  return 0;
}

int run_diff(const std::string& before_path, const std::string& after_path) {
  auto before = bond::load_config(before_path);
  if (!before) return print_errors(before.error());
  auto after = bond::load_config(after_path);
  if (!after) return print_errors(after.error());
  bool restart = false;
  for (const bond::ConfigChange& c : bond::diff_configs(*before, *after)) {
    std::printf("%-8s %s: '%s' -> '%s'\n", c.live ? "live" : "restart", c.key.c_str(), c.before.c_str(),
                c.after.c_str());
    restart = restart || !c.live;
  }
  std::printf("%s\n", restart ? "a restart is needed" : "SIGHUP applies every change");
  return 0;
}

// Prints "NAME TOKEN" for server.tokens_file (and TOKEN alone for the client's token_file):
// 32 random bytes from the kernel, base64url without padding (43 characters).
int run_gen_token(const std::string& name) {
  std::array<uint8_t, 32> raw{};
  if (getrandom(raw.data(), raw.size(), 0) != static_cast<ssize_t>(raw.size())) {
    std::perror("getrandom");
    return 1;
  }
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string token;
  uint32_t bits = 0, nbits = 0;
  for (uint8_t b : raw) {
    bits = (bits << 8) | b, nbits += 8;
    for (; nbits >= 6; nbits -= 6) token += kAlphabet[(bits >> (nbits - 6)) & 63];
  }
  if (nbits > 0) token += kAlphabet[(bits << (6 - nbits)) & 63];
  std::printf("%s %s\n", name.c_str(), token.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"tquicd: bonds a site's WAN links into one multipath QUIC tunnel"};
  app.require_subcommand(1);

  std::string path(bond::kDefaultConfigPath);
  bool quiet = false, print = false;
  auto* check = app.add_subcommand("check", "validate a configuration file (exit 0, or 2 with the errors)");
  check->add_option("-c,--config", path, "configuration file")->capture_default_str();
  check->add_flag("-q,--quiet", quiet, "print nothing when the file is fine");
  check->add_flag("--print", print, "print every key's value (defaults included) and whether SIGHUP applies it");

  std::string before, after;
  auto* diff = app.add_subcommand("diff", "list the keys that differ and whether SIGHUP applies them");
  diff->add_option("old", before, "the running configuration")->required();
  diff->add_option("new", after, "the edited configuration")->required();

  std::string client_name;
  auto* gen = app.add_subcommand("gen-token", "print 'NAME TOKEN' with a fresh random token for server.tokens_file");
  gen->add_option("name", client_name, "the client's name")->required();

  std::string daemon_path(bond::kDefaultConfigPath);
  auto* server = app.add_subcommand("server", "run the bonding server (until SIGTERM)");
  server->add_option("-c,--config", daemon_path, "configuration file")->capture_default_str();
  auto* client = app.add_subcommand("client", "run the bonding client (until SIGTERM)");
  client->add_option("-c,--config", daemon_path, "configuration file")->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : kExitRefused;
  }
  if (*check) return run_check(path, quiet, print);
  if (*diff) return run_diff(before, after);
  if (*gen) return run_gen_token(client_name);
  if (*server) return bond::run_server_daemon(daemon_path, {});
  if (*client) return bond::run_client_daemon(daemon_path, {});
  return kExitRefused;
}
