#include "tquicd/config.h"

#include <arpa/inet.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "mp/path_manager.h"
#include "tquicd/config_reader.h"
#include "tquicd/units.h"

namespace bond {

std::vector<uint16_t> default_interactive_ports() { return {22, 53, 123, 3478}; }
std::vector<uint8_t> default_interactive_dscp() { return {46, 34, 36, 38}; }

const char* to_string(DaemonRole r) { return r == DaemonRole::kServer ? "server" : "client"; }
const char* to_string(LinkRole r) {
  switch (r) {
    case LinkRole::kPrimary: return "primary";
    case LinkRole::kSecondary: return "secondary";
    case LinkRole::kBackup: return "backup";
  }
  return "?";
}

std::optional<IpPrefix> parse_prefix(std::string_view text) {
  if (text.size() > 64) return std::nullopt;
  std::string s(text);
  IpPrefix p;
  size_t slash = s.find('/');
  std::string ip = s.substr(0, slash);
  p.v6 = ip.find(':') != std::string::npos;
  if (inet_pton(p.v6 ? AF_INET6 : AF_INET, ip.c_str(), p.ip.data()) != 1) return std::nullopt;
  int max = p.v6 ? 128 : 32;
  p.length = static_cast<uint8_t>(max);
  if (slash != std::string::npos) {
    std::string len = s.substr(slash + 1);
    if (len.empty() || len.size() > 3 || len.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
    int l = std::stoi(len);
    if (l > max) return std::nullopt;
    p.length = static_cast<uint8_t>(l);
  }
  return p;
}

std::string IpPrefix::to_string() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(v6 ? AF_INET6 : AF_INET, ip.data(), buf, sizeof buf);
  return std::string(buf) + "/" + std::to_string(length);
}

std::string check_file_on_disk(const std::string& path, FileKind kind) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::strerror(errno);
  if (!S_ISREG(st.st_mode)) return "not a regular file";
  if (kind == FileKind::kSecret && (st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return std::string("secret file has mode ") + mode + ", must be readable by its owner only (chmod 600)";
  }
  return {};
}

namespace {

// A TUN or link interface name as the kernel accepts it (IFNAMSIZ, no '/', no blanks).
bool valid_ifname(std::string_view n) {
  if (n.empty() || n.size() > kMaxInterfaceNameLength || n == "." || n == "..") return false;
  return n.find_first_of("/: \t\n") == std::string_view::npos;
}

bool valid_link_name(std::string_view n) {
  if (n.empty() || n.size() > kMaxLinkNameLength) return false;
  return n.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") ==
         std::string_view::npos;
}

// The table [name], or an empty one when the file has none (its keys then take their defaults,
// which are still recorded for diffs).
const toml::table& section(ConfigReader& r, const toml::table& root, std::string_view name) {
  static const toml::table kEmpty;
  const toml::node* n = root.get(name);
  if (n == nullptr) return kEmpty;
  if (!n->is_table()) {
    r.error_at(*n, name, "expects a table [" + std::string(name) + "]");
    return kEmpty;
  }
  return *n->as_table();
}

void read_daemon(ConfigReader& r, const toml::table& t, Config& c) {
  r.begin_table(t, "daemon", "daemon");
  r.choice(std::string_view("role"), c.role, {{"client", DaemonRole::kClient}, {"server", DaemonRole::kServer}});
  r.string("state_dir", c.state_dir, 1024);
  if (c.state_dir.empty() || c.state_dir.front() != '/') r.table_error("state_dir", "must be an absolute path");
  r.finish_table();
}

void read_tunnel(ConfigReader& r, const toml::table& t, Config& c) {
  r.begin_table(t, "tunnel", "tunnel");
  r.string("name", c.tunnel.name, 64);
  if (!valid_ifname(c.tunnel.name)) r.table_error("name", "'" + c.tunnel.name + "' is not an interface name (1-15 characters)");
  r.integer("mtu", c.tunnel.mtu, kMinTunnelMtu, kMaxTunnelMtu);
  r.prefixes("addresses", c.tunnel.addresses);
  r.boolean("delay_bound", c.tunnel.delay_bound);
  r.finish_table();
}

void read_server(ConfigReader& r, const toml::table& t, Config& c) {
  r.begin_table(t, "server", "server");
  std::optional<quic::SocketAddress> listen = c.server.listen;
  r.address("listen", listen, true);
  if (listen) c.server.listen = *listen;
  r.path("certificate", c.server.certificate, FileKind::kPlain);
  r.path("key", c.server.key, FileKind::kSecret);
  r.path("tokens_file", c.server.tokens_file, FileKind::kSecret);
  r.path("client_ca", c.server.client_ca, FileKind::kPlain);
  r.prefixes("pools", c.server.pools);
  r.rate("client_rate", c.server.client_rate_bps, kMaxRateBps);
  r.integer("max_clients", c.server.max_clients, 1, 65536);
  r.choice(std::string_view("nft"), c.server.nft,
           {{"apply", NftMode::kApply}, {"print", NftMode::kPrint}, {"off", NftMode::kOff}});
  r.string("uplink", c.server.uplink, 64);
  if (!c.server.uplink.empty() && !valid_ifname(c.server.uplink)) {
    r.table_error("uplink", "'" + c.server.uplink + "' is not an interface name");
  }
  // (a present but refused key has its own error already)
  for (const char* k : {"certificate", "key"}) {
    if (!t.contains(k)) r.table_error(k, "required");
  }
  if (!t.contains("tokens_file") && !t.contains("client_ca")) {
    r.table_error("tokens_file", "required (or client_ca): how clients authenticate");
  }
  const toml::node* pools = t.get("pools");
  if (pools == nullptr || (pools->is_array() && pools->as_array()->empty())) {
    r.table_error("pools", "required: at least one address pool");
  }
  r.finish_table();
}

void read_client(ConfigReader& r, const toml::table& t, Config& c) {
  r.begin_table(t, "client", "client");
  r.string("server_url", c.client.server_url, 2048);
  if (c.client.server_url.rfind("https://", 0) != 0 || c.client.server_url.size() <= 8) {
    r.table_error("server_url", "required: an https:// URL of the server");
  }
  r.path("token_file", c.client.token_file, FileKind::kSecret);
  r.path("pinned_cert", c.client.pinned_cert, FileKind::kPlain);
  r.path("certificate", c.client.certificate, FileKind::kPlain);
  r.path("key", c.client.key, FileKind::kSecret);
  if (t.contains("certificate") != t.contains("key")) {
    r.table_error(t.contains("key") ? "certificate" : "key", "certificate and key go together");
  }
  if (!t.contains("token_file") && !t.contains("certificate")) {
    r.table_error("token_file", "required (or certificate and key): how the client authenticates");
  }
  r.finish_table();
}

void read_link(ConfigReader& r, const toml::table& t, Config& c) {
  LinkConfig l;
  r.begin_table(t, "link", "link");
  r.string("name", l.name, 64);
  if (!valid_link_name(l.name)) {
    // Without a name the link's other keys cannot be recorded; they are not checked further.
    const toml::node* n = t.get("name");
    std::string problem = "1-15 characters of A-Z a-z 0-9 _ -";
    if (n == nullptr) return r.table_error("name", "required: " + problem);
    return r.error_at(*n, "name", "'" + l.name + "': " + problem);
  }
  for (const LinkConfig& other : c.links) {
    if (other.name == l.name) r.error_at(*t.get("name"), "name", "'" + l.name + "' used by two links");
  }
  c.values.erase("link.name");
  r.begin_table(t, "link", "link[" + l.name + "]");
  r.has("name");
  c.values["link[" + l.name + "]"] = "present";
  r.string("interface", l.interface, 64);
  if (!l.interface.empty() && !valid_ifname(l.interface)) r.table_error("interface", "'" + l.interface + "' is not an interface name");
  r.address("source", l.source, false);
  if (l.interface.empty() && !l.source) r.table_error("interface", "a link needs an interface, a source address or both");
  r.choice(std::string_view("role"), l.role,
           {{"primary", LinkRole::kPrimary}, {"secondary", LinkRole::kSecondary}, {"backup", LinkRole::kBackup}});
  r.integer("mark", l.mark, 0, UINT32_MAX);
  r.integer("weight", l.weight, 1, 1000);
  r.rate("rate", l.rate_bps, kMaxRateBps);
  r.size("quota", l.quota_bytes, 0, kMaxSizeBytes);
  r.integer("quota_reset_day", l.quota_reset_day, 1, 28);
  r.size("keepalive_budget", l.keepalive_budget_bytes, 0, kMaxSizeBytes);
  // 0: the connection-wide interval; else the path's own (Connection::set_path_keepalive).
  r.duration("keepalive", l.keepalive, quic::Duration::zero(), quic::mp::kMaxPathKeepalive);
  if (l.keepalive.count() != 0 && l.keepalive < quic::mp::kMinPathKeepalive) {
    r.error_at(*t.get("keepalive"), "keepalive",
               "'" + format_duration(l.keepalive) + "' out of range " +
                   format_duration(quic::mp::kMinPathKeepalive) + ".." +
                   format_duration(quic::mp::kMaxPathKeepalive) + " (or 0)");
  }
  for (const LinkConfig& other : c.links) {
    if (other.name != l.name && other.interface == l.interface && other.source == l.source) {
      r.table_error("interface", "same interface and source as link '" + other.name + "'");
    }
  }
  r.finish_table();
  c.links.push_back(std::move(l));
}

void read_links(ConfigReader& r, const toml::node& n, Config& c) {
  const auto* a = n.as_array();
  if (a == nullptr || !a->is_array_of_tables()) return r.error_at(n, "link", "expects [[link]] tables");
  if (a->size() > kMaxLinks) return r.error_at(n, "link", "more than " + std::to_string(kMaxLinks) + " links");
  for (const toml::node& e : *a) read_link(r, *e.as_table(), c);
}

void read_datapath(ConfigReader& r, const toml::table& root, Config& c) {
  r.begin_table(section(r, root, "reorder"), "reorder", "reorder");
  r.duration("max_hold", c.reorder.max_hold, quic::Duration::zero(), std::chrono::seconds(2));
  r.integer("max_packets", c.reorder.max_packets, 16, 65536);
  r.size("max_bytes", c.reorder.max_bytes, 64 << 10, 256 << 20);
  r.finish_table();

  r.begin_table(section(r, root, "ingress"), "ingress", "ingress");
  r.duration("target", c.ingress.target, std::chrono::milliseconds(1), std::chrono::seconds(1));
  r.duration("interval", c.ingress.interval, std::chrono::milliseconds(10), std::chrono::seconds(10));
  if (c.ingress.target >= c.ingress.interval) r.table_error("target", "must be shorter than ingress.interval");
  r.size("max_bytes", c.ingress.max_bytes, 64 << 10, 256 << 20);
  r.finish_table();

  r.begin_table(section(r, root, "classifier"), "classifier", "classifier");
  r.ports("interactive_ports", c.classifier.interactive_ports);
  r.dscps("interactive_dscp", c.classifier.interactive_dscp);
  r.integer("small_packet", c.classifier.small_packet_bytes, 40, 1500);
  r.integer("max_flows", c.classifier.max_flows, 64, 1 << 20);
  r.boolean("udp_unordered", c.classifier.udp_unordered);
  r.finish_table();
}

void read_admin(ConfigReader& r, const toml::table& root, Config& c) {
  r.begin_table(section(r, root, "control"), "control", "control");
  r.string("socket", c.control_socket, 107);  // sun_path holds 108 bytes with the NUL
  if (c.control_socket.empty() || c.control_socket.front() != '/') r.table_error("socket", "must be an absolute path");
  r.finish_table();

  r.begin_table(section(r, root, "metrics"), "metrics", "metrics");
  r.address("listen", c.metrics_listen, true);
  r.finish_table();

  r.begin_table(section(r, root, "log"), "log", "log");
  r.choice(std::string_view("level"), c.log.level,
           {{"error", LogLevel::kError}, {"warn", LogLevel::kWarn}, {"info", LogLevel::kInfo}, {"debug", LogLevel::kDebug}});
  r.choice(std::string_view("format"), c.log.json, {{"text", false}, {"json", true}});
  r.string("qlog_dir", c.log.qlog_dir, 1024);
  r.finish_table();
}

// The role decides which of [server] / [client] / [[link]] a file must and may have.
void read_role_sections(ConfigReader& r, const toml::table& root, Config& c) {
  bool server = c.role == DaemonRole::kServer;
  const char* other = server ? "client" : "server";
  if (const toml::node* n = root.get(other)) {
    r.begin_table(root, "", "");
    r.error_at(*n, other, std::string("[") + other + "] is not used by role " + to_string(c.role));
  }
  if (server) {
    read_server(r, section(r, root, "server"), c);
  } else {
    read_client(r, section(r, root, "client"), c);
  }
  if (const toml::node* links = root.get("link")) {
    read_links(r, *links, c);
  } else if (!server) {
    r.begin_table(root, "", "");
    r.table_error("link", "role client needs at least one [[link]]");
  }
}

// toml++ 3.3.0 (Debian bookworm) reaches __builtin_unreachable() -- undefined behaviour --
// when it tests some non-ASCII characters (e.g. U+00A1..U+0499, U+FB26..U+FEFE) for
// whitespace between tokens (is_non_ascii_horizontal_whitespace). Found by
// fuzz/tquicd_config.cc. Comments are safe (read without that test), so outside comments the
// file must be ASCII; every value tquicd reads is ASCII anyway. Returns the first offending
// position as "line:column", or empty.
std::string non_ascii_outside_comments(std::string_view text) {
  enum { kCode, kComment, kBasic, kLiteral, kMultiBasic, kMultiLiteral } state = kCode;
  size_t line = 1, column = 1;
  auto at = [&](size_t i, std::string_view s) { return text.substr(i, s.size()) == s; };
  for (size_t i = 0; i < text.size(); ++i, ++column) {
    char c = text[i];
    if (c == '\n') {
      ++line, column = 0;
      if (state != kMultiBasic && state != kMultiLiteral) state = kCode;
      continue;
    }
    if (static_cast<unsigned char>(c) >= 0x80 && state != kComment) {
      return std::to_string(line) + ":" + std::to_string(column);
    }
    bool escape = c == '\\' && (state == kBasic || state == kMultiBasic) && i + 1 < text.size() && text[i + 1] != '\n';
    if (escape) {
      ++i, ++column;  // the escaped character cannot end the string
    } else if (state == kCode && c == '#') {
      state = kComment;
    } else if (state == kCode && (c == '"' || c == '\'')) {
      bool multi = at(i, c == '"' ? "\"\"\"" : "'''");
      state = c == '"' ? (multi ? kMultiBasic : kBasic) : (multi ? kMultiLiteral : kLiteral);
      if (multi) i += 2, column += 2;
    } else if ((state == kBasic && c == '"') || (state == kLiteral && c == '\'')) {
      state = kCode;
    } else if ((state == kMultiBasic && at(i, "\"\"\"")) || (state == kMultiLiteral && at(i, "'''"))) {
      state = kCode;
      i += 2, column += 2;
    }
  }
  return {};
}

constexpr std::string_view kSections[] = {"daemon", "tunnel", "server", "client", "link", "reorder",
                                          "ingress", "classifier", "control", "metrics", "log"};

}  // namespace

std::expected<Config, std::vector<std::string>> parse_config(std::string_view text, std::string_view name,
                                                             const std::string& base_dir,
                                                             const FileCheck& check_file) {
  if (text.size() > kMaxConfigBytes) {
    return std::unexpected(std::vector<std::string>{std::string(name) + ":1:1: file larger than " +
                                                    std::to_string(kMaxConfigBytes) + " bytes"});
  }
  if (std::string where = non_ascii_outside_comments(text); !where.empty()) {
    return std::unexpected(std::vector<std::string>{std::string(name) + ":" + where +
                                                    ": non-ASCII character outside a comment"});
  }
  toml::parse_result parsed = toml::parse(text, name);
  if (!parsed) {
    const toml::parse_error& e = parsed.error();
    return std::unexpected(std::vector<std::string>{
        std::string(name) + ":" + std::to_string(e.source().begin.line) + ":" +
        std::to_string(e.source().begin.column) + ": " + std::string(e.description())});
  }
  const toml::table& root = parsed.table();
  Config c;
  ConfigReader r(name, base_dir, check_file, c);
  r.begin_table(root, "", "");
  for (const auto& [k, v] : root) {
    if (std::find(std::begin(kSections), std::end(kSections), k.str()) == std::end(kSections)) {
      r.error_at(k.source(), k.str(), "unknown section");
    }
  }
  read_daemon(r, section(r, root, "daemon"), c);
  read_tunnel(r, section(r, root, "tunnel"), c);
  read_role_sections(r, root, c);
  read_datapath(r, root, c);
  read_admin(r, root, c);
  if (!r.errors().empty()) return std::unexpected(std::move(r.errors()));
  return c;
}

std::expected<std::string, std::string> read_config_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::unexpected(path + ": " + std::strerror(errno));
  std::string text;
  text.resize(kMaxConfigBytes + 1);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  return text;
}

std::string config_base_dir(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash);
}

std::expected<Config, std::vector<std::string>> load_config(const std::string& path) {
  auto text = read_config_file(path);
  if (!text) return std::unexpected(std::vector<std::string>{text.error()});
  return parse_config(*text, path, config_base_dir(path), check_file_on_disk);
}

}  // namespace bond
