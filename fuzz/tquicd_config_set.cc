// Fuzzes `tquicctl set`'s value path (tquicd/config_set.h): up to two KEY/VALUE pairs (input
// lines: key, value, key, value) laid over a fixed configuration and parsed with the file's
// rules. No crash; a refusal is one non-empty line without the re-written text's positions;
// the same overrides give the same result (nothing depends on earlier calls).
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "tquicd/config_set.h"

namespace {

constexpr std::string_view kBase = R"([daemon]
role = "client"
[client]
server_url = "https://bond.example.net/.well-known/masque/ip/*/*/"
token_file = "client.token"
[[link]]
name = "fibre"
interface = "eth1"
[reorder]
max_hold = "200ms"
)";

std::expected<bond::Config, std::string> run(const std::vector<bond::KeyValue>& kv) {
  static const bond::FileCheck any = [](const std::string&, bond::FileKind) { return std::string(); };
  return bond::parse_config_with(kBase, "f", "/etc/tquic", any, kv);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 8192) return 0;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> lines;
  while (lines.size() < 4) {
    size_t nl = in.find('\n');
    lines.emplace_back(in.substr(0, nl));
    if (nl == std::string_view::npos) break;
    in.remove_prefix(nl + 1);
  }
  std::vector<bond::KeyValue> kv;
  for (size_t i = 0; i + 1 < lines.size(); i += 2) kv.push_back({lines[i], lines[i + 1]});
  auto a = run(kv);
  if (!a) {
    if (a.error().empty() || a.error().find('\n') != std::string::npos) std::abort();
    if (a.error().starts_with("f:") && a.error().size() > 2 && a.error()[2] >= '0' &&
        a.error()[2] <= '9') {
      std::abort();  // a position of the re-written text leaked into the message
    }
  }
  auto b = run(kv);
  if (a.has_value() != b.has_value()) std::abort();
  if (a ? a->values != b->values : a.error() != b.error()) std::abort();
  return 0;
}
