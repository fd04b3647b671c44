#include "tquicd/config_set.h"

#include <toml++/toml.h>

#include <algorithm>
#include <sstream>

namespace bond {

namespace {

// What a control line may carry (and toml++ parses without surprises): printable ASCII.
bool printable(std::string_view s) {
  return s.size() <= kMaxConfigBytes &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
}

// VALUE as a TOML value: `v = VALUE` parsed; what does not parse (a bare word such as 300ms)
// is taken as a string.
toml::node_view<toml::node> parse_value(toml::table& holder, std::string_view value) {
  toml::parse_result r = toml::parse("v = " + std::string(value));
  if (r && r.table().size() == 1 && r.table().contains("v")) {
    holder = std::move(r.table());
  } else {
    holder = toml::table{{"v", std::string(value)}};
  }
  return holder["v"];
}

// The table the key's last part lives in: "reorder" -> root.reorder (made if absent),
// "link[NAME]" -> the [[link]] whose name is NAME.
std::expected<toml::table*, std::string> table_for(toml::table& root, std::string_view section) {
  if (size_t open = section.find('['); open != std::string_view::npos) {
    if (section.substr(0, open) != "link" || !section.ends_with(']')) {
      return std::unexpected(std::string(section) + ": not a key");
    }
    std::string_view name = section.substr(open + 1, section.size() - open - 2);
    toml::array* links = root["link"].as_array();
    for (size_t i = 0; links != nullptr && i < links->size(); ++i) {
      toml::table* t = links->get(i)->as_table();
      if (t != nullptr && (*t)["name"].value<std::string>() == name) return t;
    }
    return std::unexpected(std::string(section) + ": no such link");
  }
  if (toml::node* n = root.get(section)) {
    if (toml::table* t = n->as_table()) return t;
    return std::unexpected(std::string(section) + ": not a table in the file");
  }
  return root.insert_or_assign(section, toml::table{}).first->second.as_table();
}

// "name:12:5: key: message" -> "key: message": the positions are those of the re-written text.
std::string without_position(const std::string& error, std::string_view name) {
  std::string_view e = error;
  if (!e.starts_with(name)) return error;
  e.remove_prefix(name.size());
  for (int fields = 0; fields < 2 && e.starts_with(':'); ++fields) {
    e.remove_prefix(1);
    while (!e.empty() && e.front() >= '0' && e.front() <= '9') e.remove_prefix(1);
  }
  if (e.starts_with(": ")) e.remove_prefix(2);
  return std::string(e);
}

}  // namespace

std::expected<Config, std::string> parse_config_with(std::string_view text, std::string_view name,
                                                     const std::string& base_dir,
                                                     const FileCheck& check,
                                                     const std::vector<KeyValue>& overrides) {
  // The file as it is first: its own errors keep their positions, and toml++ only ever sees
  // text that parse_config's checks (ASCII outside comments, size) let through.
  if (auto plain = parse_config(text, name, base_dir, check); !plain) {
    return std::unexpected(plain.error().front());
  }
  for (const KeyValue& kv : overrides) {
    if (!printable(kv.key) || !printable(kv.value)) {
      return std::unexpected(printable(kv.key) ? kv.key + ": the value must be printable ASCII"
                                               : std::string("a key must be printable ASCII"));
    }
  }
  toml::parse_result parsed = toml::parse(text, name);
  if (!parsed) {
    return std::unexpected(std::string(name) + ": " + std::string(parsed.error().description()));
  }
  toml::table root = std::move(parsed.table());
  for (const KeyValue& kv : overrides) {
    size_t dot = kv.key.rfind('.');
    if (dot == std::string::npos || dot == 0 || dot + 1 == kv.key.size()) {
      return std::unexpected(kv.key + ": not a key (section.key or link[NAME].key)");
    }
    auto table = table_for(root, std::string_view(kv.key).substr(0, dot));
    if (!table) return std::unexpected(table.error());
    toml::table holder;
    toml::node_view<toml::node> v = parse_value(holder, kv.value);
    (*table)->insert_or_assign(kv.key.substr(dot + 1), *v.node());
  }
  std::ostringstream out;
  out << root;
  auto config = parse_config(out.str(), name, base_dir, check);
  if (!config) return std::unexpected(without_position(config.error().front(), name));
  return std::move(*config);
}

std::expected<Config, std::string> config_set(const std::string& path, const Config& running,
                                              std::vector<KeyValue>& overrides,
                                              std::string_view key, std::string_view value,
                                              const std::function<bool(std::string_view)>& applies,
                                              const FileCheck& check) {
  std::string k(key);
  if (!running.values.contains(k)) return std::unexpected(k + ": unknown key");
  if (!key_is_live(k)) return std::unexpected(k + ": needs a restart, not set live");
  if (!applies(k)) return std::unexpected(k + ": this daemon applies it only on restart");
  std::vector<KeyValue> next = overrides;
  auto same = std::find_if(next.begin(), next.end(), [&](const KeyValue& kv) { return kv.key == k; });
  if (same != next.end()) {
    same->value = std::string(value);
  } else if (next.size() >= kMaxLiveOverrides) {
    return std::unexpected(k + ": too many keys set since the last reload (SIGHUP resets)");
  } else {
    next.push_back({k, std::string(value)});
  }
  auto text = read_config_file(path);
  if (!text) return std::unexpected(text.error());
  auto config = parse_config_with(*text, "set", config_base_dir(path), check, next);
  if (!config) return std::unexpected(config.error());
  for (const ConfigChange& c : diff_configs(running, *config)) {
    if (c.key != k) {
      return std::unexpected(k + ": not set: " + path + " changed since it was loaded (" + c.key +
                             "); reload it with SIGHUP first");
    }
  }
  overrides = std::move(next);
  return std::move(*config);
}

}  // namespace bond
