// tquicd configuration: units, every refusal naming file:line:column and key, secrets, diffs,
// the shipped example files and the `tquicd check` command's exit codes.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "tquicd/config.h"
#include "tquicd/tokens.h"
#include "tquicd/units.h"
#include "tquicd_test_util.h"

namespace bond {
namespace {

using namespace std::chrono_literals;

// Accepts every referenced file: these tests are about the text, not the disk.
using testutil::any_file;

constexpr std::string_view kClientBase = R"([daemon]
role = "client"
[client]
server_url = "https://bond.example.net/.well-known/masque/ip/*/*/"
token_file = "client.token"
[[link]]
name = "fibre"
interface = "eth1"
)";

auto parse(std::string_view text) { return parse_config(text, "tquicd.toml", "/etc/tquic", any_file); }

// The single error of parsing `text`, or a failure when it parses or gives several.
std::string only_error(std::string_view text) {
  auto c = parse(text);
  if (c) return "(parsed)";
  EXPECT_EQ(c.error().size(), 1u) << c.error().front();
  return c.error().front();
}

TEST(TquicdUnits, ParsesRatesSizesDurations) {
  EXPECT_EQ(parse_rate("50mbit").value(), 50'000'000u);
  EXPECT_EQ(parse_rate("1gbit").value(), 1'000'000'000u);
  EXPECT_EQ(parse_rate("800kbit").value(), 800'000u);
  EXPECT_EQ(parse_rate("1.5Gbit").value(), 1'500'000'000u);
  EXPECT_EQ(parse_size("5MB").value(), 5'000'000u);
  EXPECT_EQ(parse_size("64KiB").value(), 65536u);
  EXPECT_EQ(parse_size("0").value(), 0u);
  EXPECT_EQ(parse_duration("300ms").value(), 300ms);
  EXPECT_EQ(parse_duration("2s").value(), 2s);
  EXPECT_EQ(parse_duration("1.5s").value(), 1500ms);
  EXPECT_EQ(parse_duration("5min").value(), 300s);
}

TEST(TquicdUnits, RefusesBadText) {
  EXPECT_EQ(parse_rate("50mbps").error(), "bad rate '50mbps'");
  for (const char* t : {"", "mbit", "50", "-5mbit", "5.mbit", ".5mbit", "5..5mbit", "5e3mbit", "50 mbit"}) {
    EXPECT_FALSE(parse_rate(t).has_value()) << t;
  }
  EXPECT_FALSE(parse_size("5mb").has_value());  // sizes are case-sensitive: mb is not MB
  EXPECT_FALSE(parse_size("5 MB").has_value());
  EXPECT_FALSE(parse_duration("5").has_value());
  EXPECT_FALSE(parse_duration("5m").has_value());  // minutes are "min"
  EXPECT_NE(parse_rate("99999tbit").error().find("too large"), std::string::npos);
  EXPECT_FALSE(parse_size(std::string(100, '9') + "B").has_value());
}

TEST(TquicdUnits, FormatsCanonically) {
  EXPECT_EQ(format_rate(50'000'000), "50mbit");
  EXPECT_EQ(format_rate(1'500'000), "1500kbit");
  EXPECT_EQ(format_size(65536), "64KiB");
  EXPECT_EQ(format_size(5'000'000), "5MB");
  EXPECT_EQ(format_duration(300ms), "300ms");
  EXPECT_EQ(format_duration(120s), "2min");
  for (const char* t : {"50mbit", "800kbit", "2gbit"}) EXPECT_EQ(format_rate(parse_rate(t).value()), t);
  for (const char* t : {"64KiB", "5MB", "123B"}) EXPECT_EQ(format_size(parse_size(t).value()), t);
}

TEST(TquicdConfig, MinimalClientTakesDefaults) {
  auto c = parse(kClientBase);
  ASSERT_TRUE(c) << c.error().front();
  EXPECT_EQ(c->role, DaemonRole::kClient);
  EXPECT_EQ(c->client.token_file, "/etc/tquic/client.token");  // relative to the config's dir
  ASSERT_EQ(c->links.size(), 1u);
  EXPECT_EQ(c->links[0].role, LinkRole::kPrimary);
  EXPECT_EQ(c->reorder.max_hold, 300ms);
  EXPECT_EQ(c->ingress.target, 5ms);
  EXPECT_EQ(c->values.at("reorder.max_hold"), "300ms");
  EXPECT_EQ(c->values.at("link[fibre].interface"), "eth1");
  EXPECT_EQ(c->values.at("link[fibre]"), "present");
}

TEST(TquicdConfig, ErrorsNameFileLineColumnAndKey) {
  std::string text = std::string(kClientBase) + "rate = \"50mbps\"\n";
  EXPECT_EQ(only_error(text), "tquicd.toml:9:8: link.rate: bad rate '50mbps'");
  text = std::string(kClientBase) + "  colour = \"blue\"\n";
  EXPECT_EQ(only_error(text), "tquicd.toml:9:3: link.colour: unknown key");
  text = std::string(kClientBase) + "[reorder]\nmax_hold = \"3s\"\n";
  EXPECT_EQ(only_error(text), "tquicd.toml:10:12: reorder.max_hold: '3s' out of range 0..2s");
  text = std::string(kClientBase) + "[reorder]\nmax_packets = 8\n";
  EXPECT_EQ(only_error(text), "tquicd.toml:10:15: reorder.max_packets: 8 out of range 16..65536");
  text = std::string(kClientBase) + "[frobnicate]\n";
  EXPECT_EQ(only_error(text), "tquicd.toml:9:2: frobnicate: unknown section");
  text = std::string(kClientBase) + "weight = \"heavy\"\n";
  EXPECT_EQ(only_error(text), "tquicd.toml:9:10: link.weight: expects an integer");
  text = std::string(kClientBase) + "mark = -1\n";
  EXPECT_EQ(only_error(text), "tquicd.toml:9:8: link.mark: -1 out of range 0..4294967295");
  text = std::string(kClientBase) + "[log]\nlevel = \"chatty\"\n";
  EXPECT_EQ(only_error(text), "tquicd.toml:10:9: log.level: must be one of error|warn|info|debug");
}

TEST(TquicdConfig, LinkMarkForPolicyRouting) {
  auto c = parse(std::string(kClientBase) + "mark = 4242\n");
  ASSERT_TRUE(c) << c.error().front();
  EXPECT_EQ(c->links.at(0).mark, 4242u);
  auto none = parse(kClientBase);
  ASSERT_TRUE(none);
  EXPECT_EQ(none->links.at(0).mark, 0u);  // no SO_MARK
}

// link.keepalive: the link's path's own PING interval (Connection::set_path_keepalive).
// [tunnel] delay_bound (docs/tquicd-config.md): on unless set false, a boolean, applied on
// restart.
TEST(TquicdConfig, TunnelDelayBound) {
  auto on = parse(kClientBase);
  ASSERT_TRUE(on);
  EXPECT_TRUE(on->tunnel.delay_bound);
  auto off = parse(std::string(kClientBase) + "[tunnel]\ndelay_bound = false\n");
  ASSERT_TRUE(off) << off.error().front();
  EXPECT_FALSE(off->tunnel.delay_bound);
  EXPECT_EQ(only_error(std::string(kClientBase) + "[tunnel]\ndelay_bound = \"yes\"\n"),
            "tquicd.toml:10:15: tunnel.delay_bound: expects true or false");
  auto changes = diff_configs(*off, *on);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].key, "tunnel.delay_bound");
  EXPECT_FALSE(changes[0].live);
}

TEST(TquicdConfig, LinkKeepalive) {
  auto c = parse(std::string(kClientBase) + "keepalive = \"25s\"\n");
  ASSERT_TRUE(c) << c.error().front();
  EXPECT_EQ(c->links.at(0).keepalive, 25s);
  EXPECT_EQ(c->values.at("link[fibre].keepalive"), "25s");
  auto none = parse(kClientBase);
  ASSERT_TRUE(none);
  EXPECT_EQ(none->links.at(0).keepalive, 0s);  // the connection-wide interval
  EXPECT_EQ(parse(std::string(kClientBase) + "keepalive = \"0\"\n")->links.at(0).keepalive, 0s);
  EXPECT_EQ(parse(std::string(kClientBase) + "keepalive = \"100ms\"\n")->links.at(0).keepalive, 100ms);
  EXPECT_EQ(parse(std::string(kClientBase) + "keepalive = \"10min\"\n")->links.at(0).keepalive, 600s);
  EXPECT_EQ(only_error(std::string(kClientBase) + "keepalive = \"50ms\"\n"),
            "tquicd.toml:9:13: link.keepalive: '50ms' out of range 100ms..10min (or 0)");
  EXPECT_EQ(only_error(std::string(kClientBase) + "keepalive = \"601s\"\n"),
            "tquicd.toml:9:13: link.keepalive: '601s' out of range 0..10min");
  EXPECT_EQ(only_error(std::string(kClientBase) + "keepalive = \"often\"\n"),
            "tquicd.toml:9:13: link.keepalive: bad duration 'often'");
  EXPECT_EQ(only_error(std::string(kClientBase) + "keepalive = 25\n"),
            "tquicd.toml:9:13: link.keepalive: expects a string with a unit, e.g. '10min'");
  // SIGHUP applies it (LinkManager::configure re-applies the link's path policy).
  auto changes = diff_configs(*none, *c);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].key, "link[fibre].keepalive");
  EXPECT_TRUE(changes[0].live);
}

TEST(TquicdConfig, RefusesTomlSyntaxAndDuplicateKeys) {
  std::string e = only_error(std::string(kClientBase) + "interface = \"eth2\"\n");
  EXPECT_EQ(e.rfind("tquicd.toml:9:", 0), 0u) << e;  // toml++ refuses the redefinition
  e = only_error("[daemon\nrole = 1\n");
  EXPECT_EQ(e.rfind("tquicd.toml:1:", 0), 0u) << e;
}

TEST(TquicdConfig, RefusesLinkClashesAndMissingPieces) {
  std::string two = std::string(kClientBase) + "[[link]]\nname = \"fibre\"\ninterface = \"eth2\"\n";
  EXPECT_EQ(only_error(two), "tquicd.toml:10:8: link.name: 'fibre' used by two links");
  std::string same_if = std::string(kClientBase) + "[[link]]\nname = \"dsl\"\ninterface = \"eth1\"\n";
  EXPECT_NE(only_error(same_if).find("same interface and source as link 'fibre'"), std::string::npos);
  std::string bare = std::string(kClientBase) + "[[link]]\nname = \"dsl\"\n";
  EXPECT_NE(only_error(bare).find("link.interface: a link needs an interface"), std::string::npos);
  std::string bad_name = std::string(kClientBase) + "[[link]]\nname = \"my link\"\ninterface = \"x\"\n";
  EXPECT_EQ(only_error(bad_name), "tquicd.toml:10:8: link.name: 'my link': 1-15 characters of A-Z a-z 0-9 _ -");
  EXPECT_NE(only_error(std::string(kClientBase) + "[[link]]\ninterface = \"x\"\n").find("link.name: required"),
            std::string::npos);
  EXPECT_NE(only_error("[daemon]\nrole = \"client\"\n[client]\nserver_url = \"https://x\"\ntoken_file = \"t\"\n")
                .find("at least one [[link]]"),
            std::string::npos);
  std::string many = std::string(kClientBase);
  for (size_t i = 0; i < kMaxLinks; ++i) many += "[[link]]\nname = \"l" + std::to_string(i) + "\"\ninterface = \"e" + std::to_string(i) + "\"\n";
  EXPECT_NE(only_error(many).find("more than 16 links"), std::string::npos);
}

TEST(TquicdConfig, RoleDecidesSections) {
  std::string e = only_error(std::string(kClientBase) + "[server]\nlisten = \"0.0.0.0:443\"\n");
  EXPECT_NE(e.find("[server] is not used by role client"), std::string::npos) << e;
  auto c = parse("[daemon]\nrole = \"server\"\n");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().size(), 4u);  // certificate, key, tokens_file, pools
  EXPECT_EQ(c.error().front(), "tquicd.toml:1:1: server.certificate: required");
}

// server.nft and server.uplink (docs/tquicd.md "NAT and MSS clamping").
TEST(TquicdConfig, ServerFirewallKeys) {
  constexpr std::string_view kServer = R"([daemon]
role = "server"
[server]
certificate = "c.pem"
key = "k.pem"
tokens_file = "tokens"
pools = ["10.77.0.0/24"]
)";
  auto c = parse(kServer);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->server.nft, NftMode::kApply);
  EXPECT_EQ(c->server.uplink, "");
  c = parse(std::string(kServer) + "nft = \"print\"\nuplink = \"eth0\"\n");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->server.nft, NftMode::kPrint);
  EXPECT_EQ(c->server.uplink, "eth0");
  EXPECT_EQ(only_error(std::string(kServer) + "nft = \"maybe\"\n"),
            "tquicd.toml:8:7: server.nft: must be one of apply|print|off");
  EXPECT_EQ(only_error(std::string(kServer) + "uplink = \"eth/0\"\n"),
            "tquicd.toml:3:1: server.uplink: 'eth/0' is not an interface name");
}

TEST(TquicdConfig, ListsAreBoundedAndDeduplicated) {
  std::string text = std::string(kClientBase) + "[classifier]\ninteractive_ports = [22, 22]\n";
  EXPECT_NE(only_error(text).find("duplicate entry"), std::string::npos);
  text = std::string(kClientBase) + "[classifier]\ninteractive_dscp = [64]\n";
  EXPECT_NE(only_error(text).find("entries must be integers 0..63"), std::string::npos);
  std::string ports = "[";
  for (size_t i = 1; i <= kMaxListEntries + 1; ++i) ports += std::to_string(i) + ",";
  ports.back() = ']';
  text = std::string(kClientBase) + "[classifier]\ninteractive_ports = " + ports + "\n";
  EXPECT_NE(only_error(text).find("more than 64 entries"), std::string::npos);
  text = "[tunnel]\naddresses = [\"10.0.0.1/33\"]\n" + std::string(kClientBase);
  EXPECT_NE(only_error(text).find("tunnel.addresses: bad address/prefix"), std::string::npos);
}

// toml++ 3.3.0 has undefined behaviour on some non-ASCII characters between tokens, so they
// are refused before it sees them; comments may hold any UTF-8.
TEST(TquicdConfig, NonAsciiOnlyInComments) {
  EXPECT_EQ(only_error("[daemon]\nrole = \"cli\u00e9nt\"\n"), "tquicd.toml:2:12: non-ASCII character outside a comment");
  EXPECT_EQ(only_error("[t\u00e9]\n"), "tquicd.toml:1:3: non-ASCII character outside a comment");
  EXPECT_EQ(only_error("a = '''x\n\u00e9'''\n"), "tquicd.toml:2:1: non-ASCII character outside a comment");
  auto c = parse("# \u0420\u043e\u0443\u0442\u0435\u0440 \"quoted # \u00e9\n" + std::string(kClientBase) +
                 "rate = \"1mbit\" # \u00e9 \"\\\" '\n");
  EXPECT_TRUE(c) << c.error().front();
  EXPECT_NE(only_error("x = \"a\\\"#\u00e9\"\n").find("non-ASCII"), std::string::npos);
}

TEST(TquicdConfig, ErrorListIsBounded) {
  std::string text(kClientBase);
  for (int i = 0; i < 100; ++i) text += "unknown" + std::to_string(i) + " = 1\n";
  auto c = parse(text);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().size(), kMaxErrors);
  for (const std::string& e : c.error()) EXPECT_NE(e.find(": unknown key"), std::string::npos) << e;
}

TEST(TquicdConfig, OversizedFileIsRefusedBeforeParsing) {
  std::string huge(kMaxConfigBytes + 1, '#');
  EXPECT_NE(only_error(huge).find("larger than"), std::string::npos);
}

// Files on disk: a secret readable by group or others is refused, mode 0600 accepted.
class TquicdConfigFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("tquicd-config-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text, mode_t mode) {
    std::string p = (dir_ / name).string();
    std::ofstream(p) << text;
    ::chmod(p.c_str(), mode);
    return p;
  }
  std::filesystem::path dir_;
};

TEST_F(TquicdConfigFiles, SecretsMustBeOwnerOnly) {
  write("client.token", "secret\n", 0644);
  std::string path = write("tquicd.toml", std::string(kClientBase), 0644);
  auto c = load_config(path);
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().front().find(":5:14: client.token_file: 'client.token': secret file has mode 0644"),
            std::string::npos)
      << c.error().front();
  ::chmod((dir_ / "client.token").c_str(), 0600);
  c = load_config(path);
  ASSERT_TRUE(c) << c.error().front();
  EXPECT_EQ(c->client.token_file, (dir_ / "client.token").string());
  std::filesystem::remove(dir_ / "client.token");
  c = load_config(path);
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().front().find("No such file"), std::string::npos);
  EXPECT_FALSE(load_config((dir_ / "absent.toml").string()));
}

TEST(TquicdConfigDiff, SplitsLiveFromRestart) {
  auto a = parse(kClientBase);
  std::string edited = std::string(kClientBase) + "rate = \"20mbit\"\n[[link]]\nname = \"lte\"\ninterface = \"wwan0\"\n" +
                       "[tunnel]\nmtu = 1350\n[reorder]\nmax_hold = \"200ms\"\n";
  auto b = parse(edited);
  ASSERT_TRUE(a && b);
  auto changes = diff_configs(*a, *b);
  std::map<std::string, bool> live;
  for (const auto& ch : changes) live[ch.key] = ch.live;
  EXPECT_TRUE(live.at("link[fibre].rate"));
  EXPECT_TRUE(live.at("link[lte]"));
  EXPECT_TRUE(live.at("reorder.max_hold"));
  EXPECT_FALSE(live.at("tunnel.mtu"));
  EXPECT_TRUE(diff_configs(*a, *a).empty());
  for (const auto& ch : changes) {
    if (ch.key == "link[fibre].rate") {
      EXPECT_EQ(ch.before + "->" + ch.after, "0->20mbit");
    }
  }
  EXPECT_FALSE(key_is_live("client.server_url"));
  EXPECT_FALSE(key_is_live("link[x"));
}

// docs/tquicd-config.md against the parser: every key the parser knows has a row, every row is
// a key the parser knows, "live"/"restart" agrees with key_is_live, and the documented default
// is the value a minimal file gets.
TEST(TquicdConfigDoc, KeyTableMatchesTheParser) {
  std::ifstream in(std::string(TQUICD_EXAMPLES_DIR) + "/../tquicd-config.md");
  ASSERT_TRUE(in);
  auto client = parse(kClientBase);
  auto server = parse("[daemon]\nrole = \"server\"\n[server]\ncertificate = \"c\"\nkey = \"k\"\n"
                      "tokens_file = \"t\"\npools = [\"10.77.0.0/24\"]\n");
  ASSERT_TRUE(client && server);
  // Generic key ("link.rate") -> canonical value: [server] keys from the server's file,
  // everything else from the client's.
  std::map<std::string, std::string> defaults;
  for (const auto& [key, value] : client->values) {
    size_t dot = key.find('.');
    if (key.rfind("link[", 0) == 0 && dot != std::string::npos) defaults.emplace("link" + key.substr(dot), value);
    if (key.rfind("link[", 0) != 0) defaults.emplace(key, value);
  }
  for (const auto& [key, value] : server->values) {
    if (key.rfind("server.", 0) == 0) defaults.emplace(key, value);
  }
  auto strip = [](std::string s) {
    if (size_t paren = s.find(" ("); paren != std::string::npos) s.erase(paren);
    std::erase_if(s, [](char ch) { return ch == '`' || ch == '"' || ch == ' ' || ch == '[' || ch == ']'; });
    return s == "none" ? std::string() : s;
  };
  std::string section, line;
  std::set<std::string> documented;
  while (std::getline(in, line)) {
    if (line.rfind("### `[", 0) == 0) {
      section = line.substr(5, line.find('`', 5) - 5);
      std::erase_if(section, [](char ch) { return ch == '[' || ch == ']'; });
      continue;
    }
    if (line.rfind("| `", 0) != 0 || section.empty()) continue;
    std::vector<std::string> cells;
    for (size_t at = 1; at < line.size();) {
      size_t bar = line.find(" | ", at);
      if (bar == std::string::npos) bar = line.size();
      cells.push_back(line.substr(at + (line[at] == ' '), bar - at - (line[at] == ' ')));
      at = bar + 2;
    }
    ASSERT_GE(cells.size(), 5u) << line;
    std::string key = strip(cells[0]);
    if (key.find('.') == std::string::npos) key = section + "." + key;
    documented.insert(key);
    if (key == "link.name") continue;  // identity, no default
    ASSERT_TRUE(defaults.contains(key)) << "documented but unknown to the parser: " << key;
    EXPECT_EQ(cells[3] == "live", key_is_live(key)) << key;
    EXPECT_TRUE(cells[3] == "live" || cells[3] == "restart") << key;
    // ("required", "required unless ...": the minimal files set them, as link.interface)
    if (cells[2].rfind("required", 0) != 0 && key != "link.interface") {
      EXPECT_EQ(strip(cells[2]), defaults.at(key)) << key;
    }
  }
  for (const auto& [key, value] : defaults) EXPECT_TRUE(documented.contains(key)) << "undocumented key " << key;
  EXPECT_EQ(documented.size(), defaults.size() + 1);  // + link.name
}

TEST(TquicdConfigExamples, ShippedExamplesParse) {
  for (const char* name : {"tquicd-client.toml", "tquicd-server.toml"}) {
    std::ifstream in(std::string(TQUICD_EXAMPLES_DIR) + "/" + name);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ASSERT_FALSE(text.empty()) << name;
    auto c = parse_config(text, name, "/etc/tquic", any_file);
    ASSERT_TRUE(c) << c.error().front();
    if (c->role == DaemonRole::kClient) {
      ASSERT_EQ(c->links.size(), 3u);
      EXPECT_EQ(c->links[2].role, LinkRole::kBackup);
      EXPECT_EQ(c->links[2].quota_bytes, 20'000'000'000u);
    } else {
      EXPECT_EQ(c->server.pools.size(), 2u);
      EXPECT_EQ(c->server.client_rate_bps, 500'000'000u);
    }
  }
}

TEST_F(TquicdConfigFiles, CheckCommandExitCodes) {
  write("client.token", "secret\n", 0600);
  std::string good = write("good.toml", std::string(kClientBase), 0644);
  std::string bad = write("bad.toml", std::string(kClientBase) + "rate = \"50mbps\"\n", 0644);
  std::string out = (dir_ / "out.txt").string();
  std::string cmd = std::string(TQUICD_BINARY) + " check -q -c ";
  EXPECT_EQ(std::system((cmd + good + " >" + out + " 2>&1").c_str()), 0);
  int rc = std::system((cmd + bad + " 2>" + out).c_str());
  ASSERT_TRUE(WIFEXITED(rc));
  EXPECT_EQ(WEXITSTATUS(rc), 2);
  std::ifstream in(out);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, bad + ":9:8: link.rate: bad rate '50mbps'");
  rc = std::system((std::string(TQUICD_BINARY) + " diff " + good + " " + bad + " >/dev/null 2>&1").c_str());
  EXPECT_EQ(WEXITSTATUS(rc), 2);
  ASSERT_EQ(std::system((cmd + good + " --print >" + out).c_str()), 0);
  std::ifstream printed(out);
  std::string all((std::istreambuf_iterator<char>(printed)), std::istreambuf_iterator<char>());
  EXPECT_NE(all.find("reorder.max_hold = 300ms (live)\n"), std::string::npos) << all;
  EXPECT_NE(all.find("tunnel.mtu = 1400 (restart)\n"), std::string::npos);
  EXPECT_NE(all.find("link[fibre].interface = eth1 (live)\n"), std::string::npos);
  std::string edited = write("edited.toml", std::string(kClientBase) + "rate = \"10mbit\"\n[tunnel]\nmtu = 1300\n", 0644);
  ASSERT_EQ(std::system((std::string(TQUICD_BINARY) + " diff " + good + " " + edited + " >" + out).c_str()), 0);
  std::ifstream diffed(out);
  std::string d((std::istreambuf_iterator<char>(diffed)), std::istreambuf_iterator<char>());
  EXPECT_NE(d.find("live     link[fibre].rate: '0' -> '10mbit'"), std::string::npos) << d;
  EXPECT_NE(d.find("restart  tunnel.mtu: '1400' -> '1300'"), std::string::npos) << d;
  EXPECT_NE(d.find("a restart is needed"), std::string::npos);
  // gen-token: a line the server's tokens file accepts, different every time.
  std::string tokens = (dir_ / "tokens").string();
  ASSERT_EQ(std::system((std::string(TQUICD_BINARY) + " gen-token alice >" + tokens).c_str()), 0);
  ASSERT_EQ(std::system((std::string(TQUICD_BINARY) + " gen-token bob >>" + tokens).c_str()), 0);
  std::ifstream tin(tokens);
  std::string lines((std::istreambuf_iterator<char>(tin)), std::istreambuf_iterator<char>());
  auto store = TokenStore::parse(lines);
  ASSERT_TRUE(store) << store.error();
  EXPECT_EQ(store->size(), 2u);
  EXPECT_EQ(store->authenticate(lines.substr(6, 43)), "alice");
}

}  // namespace
}  // namespace bond
