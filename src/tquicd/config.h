// tquicd's configuration: one TOML file per daemon (docs/tquicd-config.md lists every key with
// its type, default and whether SIGHUP applies it live). Parsing is strict: unknown keys,
// duplicates, out-of-range values, link name clashes and world- or group-readable secret files
// are refused, each error naming file, line, column and key:
//   tquicd.toml:12:5: link.rate: bad rate '50mbps'
#pragma once

#include <array>
#include <cstdint>
#include <expected>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/address.h"
#include "common/time.h"

namespace bond {

inline constexpr std::string_view kDefaultConfigPath = "/etc/tquic/tquicd.toml";
// Limits on what a configuration may hold (each a key's documented range).
inline constexpr size_t kMaxConfigBytes = 1 << 20;
inline constexpr size_t kMaxLinks = 16;
inline constexpr size_t kMaxListEntries = 64;  // addresses, pools, ports, DSCP values
inline constexpr size_t kMaxErrors = 32;       // errors reported per file before giving up
inline constexpr size_t kMaxLinkNameLength = 15;
inline constexpr size_t kMaxInterfaceNameLength = 15;  // IFNAMSIZ - 1
inline constexpr uint32_t kMinTunnelMtu = 1280;         // IPv6's minimum link MTU
inline constexpr uint32_t kMaxTunnelMtu = 65535;

enum class DaemonRole { kClient, kServer };
enum class LinkRole { kPrimary, kSecondary, kBackup };
enum class LogLevel { kError, kWarn, kInfo, kDebug };
// What the server does with its NAT and MSS-clamping rules (nft.h).
enum class NftMode { kApply, kPrint, kOff };

const char* to_string(DaemonRole r);
const char* to_string(LinkRole r);

// An address with a prefix length, "10.8.0.1/24" or "fd00::1/64".
struct IpPrefix {
  std::array<uint8_t, 16> ip{};
  uint8_t length = 0;
  bool v6 = false;
  std::string to_string() const;
  friend bool operator==(const IpPrefix&, const IpPrefix&) = default;
};
std::optional<IpPrefix> parse_prefix(std::string_view text);

struct TunnelConfig {
  std::string name = "tquic0";
  uint32_t mtu = 1400;
  std::vector<IpPrefix> addresses;  // empty: taken from the server's ADDRESS_ASSIGN
  // Cap each link's congestion window by the queueing delay its RTT shows (docs/tquicd.md
  // "Latency under load"), so the link's own buffer does not fill. On by default: without it
  // CUBIC fills the buffer and ping's p99 under one upload is the full buffer (2.25x the idle
  // median in bench/bond.sh, issue 15's goal is 2x); with it 1.78x at 97 % of the goodput.
  // Off where other traffic shares the links' buffers (a delay-based bound yields to it).
  bool delay_bound = true;
};

struct ServerConfig {
  quic::SocketAddress listen = quic::SocketAddress::v4(0, 0, 0, 0, 443);
  std::string certificate, key;   // PEM files; key is a secret
  std::string tokens_file;        // secret: one "name token" per line
  std::string client_ca;          // PEM: client certificates under it authenticate by their CN
  std::vector<IpPrefix> pools;    // client addresses are handed out from these
  uint64_t client_rate_bps = 0;   // 0: no per-client limit
  uint32_t max_clients = 256;
  NftMode nft = NftMode::kApply;  // masquerade + MSS clamp: applied, printed, or left alone
  std::string uplink;             // interface the pools are masqueraded out of; "": any but the tunnel
};

struct ClientConfig {
  std::string server_url;   // "https://host:port/.well-known/masque/ip/*/*/"
  std::string token_file;   // secret
  std::string pinned_cert;  // PEM file of the server certificate, empty: system trust
  std::string certificate, key;  // PEM: presented when the server asks (key is a secret)
};

struct LinkConfig {
  std::string name;
  std::string interface;                     // SO_BINDTODEVICE, may be empty if source is set
  std::optional<quic::SocketAddress> source; // port 0
  uint32_t mark = 0;                         // SO_MARK for policy routing; 0: none
  LinkRole role = LinkRole::kPrimary;
  uint32_t weight = 1;
  uint64_t rate_bps = 0;           // 0: uncapped
  uint64_t quota_bytes = 0;        // 0: unmetered
  uint32_t quota_reset_day = 1;    // day of month (1..28) the quota period starts
  uint64_t keepalive_budget_bytes = 1'000'000;  // per quota period, while a backup idles
  quic::Duration keepalive{0};  // PING interval of the link's idle path; 0: the connection's
};

struct ReorderConfig {
  quic::Duration max_hold = std::chrono::milliseconds(300);
  uint32_t max_packets = 4096;
  uint64_t max_bytes = 4 << 20;
};

struct IngressConfig {
  quic::Duration target = std::chrono::milliseconds(5);
  quic::Duration interval = std::chrono::milliseconds(100);
  uint64_t max_bytes = 2 << 20;
};

// (Built by functions: g++ 12 warns "maybe uninitialized" on an initializer_list of uint8_t
// as a default member initializer.)
std::vector<uint16_t> default_interactive_ports();  // 22, 53, 123, 3478
std::vector<uint8_t> default_interactive_dscp();    // EF, AF41, AF42, AF43

struct ClassifierConfig {
  std::vector<uint16_t> interactive_ports = default_interactive_ports();
  std::vector<uint8_t> interactive_dscp = default_interactive_dscp();
  uint32_t small_packet_bytes = 256;
  uint32_t max_flows = 65536;
  bool udp_unordered = true;  // UDP and ICMP bypass the reorder buffer
};

struct LogConfig {
  LogLevel level = LogLevel::kInfo;
  bool json = false;
  std::string qlog_dir;  // empty: no qlog
};

struct Config {
  DaemonRole role = DaemonRole::kClient;
  std::string state_dir = "/var/lib/tquicd";
  TunnelConfig tunnel;
  ServerConfig server;
  ClientConfig client;
  std::vector<LinkConfig> links;
  ReorderConfig reorder;
  IngressConfig ingress;
  ClassifierConfig classifier;
  std::string control_socket = "/run/tquicd/control.sock";
  std::optional<quic::SocketAddress> metrics_listen = quic::SocketAddress::v4(127, 0, 0, 1, 9477);
  LogConfig log;
  // Every key's canonical value ("reorder.max_hold" -> "300ms", "link[lte].rate" -> "50mbit"),
  // defaults included: what `diff` compares.
  std::map<std::string, std::string> values;
};

// What a file-path key names; secrets must be readable by their owner only.
enum class FileKind { kPlain, kSecret };
// Returns an error phrase ("mode 0644 readable by others", "no such file") or empty when fine.
using FileCheck = std::function<std::string(const std::string& path, FileKind kind)>;
// The real check: stat() the file, require a regular file, and for secrets mode & 077 == 0.
std::string check_file_on_disk(const std::string& path, FileKind kind);

// `name` is the file name errors start with; relative paths in the file are taken relative to
// `base_dir`. Returns the config or the error lines (at most kMaxErrors).
std::expected<Config, std::vector<std::string>> parse_config(std::string_view text,
                                                             std::string_view name,
                                                             const std::string& base_dir,
                                                             const FileCheck& check_file);
// The file's text (at most kMaxConfigBytes + 1 bytes are read, so an over-long file is refused
// by parse_config), or "path: reason".
std::expected<std::string, std::string> read_config_file(const std::string& path);
// The directory relative paths in `path` are taken from.
std::string config_base_dir(const std::string& path);
// Reads and parses `path` (check_file_on_disk for referenced files).
std::expected<Config, std::vector<std::string>> load_config(const std::string& path);

// One changed key between two configs and whether SIGHUP can apply it.
struct ConfigChange {
  std::string key;  // "reorder.max_hold", "link[lte].rate", "link[lte]" (added or removed)
  std::string before, after;  // canonical values, "" when absent
  bool live = false;
};
std::vector<ConfigChange> diff_configs(const Config& before, const Config& after);
// True when SIGHUP may apply `key` ("link[lte].rate" is looked up as "link.rate").
bool key_is_live(std::string_view key);

}  // namespace bond
