// The typed key reader behind parse_config (config.cc): each getter reads one key of a TOML
// table, checks its type and range, stores the value, records its canonical text for diffs
// and marks the key as known; errors are collected with the key's file:line:column.
#pragma once

#include <toml++/toml.h>

#include <initializer_list>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "tquicd/config.h"
#include "tquicd/units.h"

namespace bond {

class ConfigReader {
 public:
  ConfigReader(std::string_view file, std::string base_dir, const FileCheck& check, Config& out)
      : file_(file), base_dir_(std::move(base_dir)), check_(check), out_(out) {}

  // Enters a table: keys are named "<err_prefix>.key" in errors and "<flat_prefix>.key" in
  // Config::values. Call finish_table() after reading every key to refuse unknown ones.
  void begin_table(const toml::table& t, std::string err_prefix, std::string flat_prefix);
  void finish_table();

  void string(std::string_view key, std::string& out, size_t max_length);
  void boolean(std::string_view key, bool& out);
  void integer(std::string_view key, uint32_t& out, uint32_t min, uint32_t max);
  void rate(std::string_view key, uint64_t& out, uint64_t max);
  void size(std::string_view key, uint64_t& out, uint64_t min, uint64_t max);
  void duration(std::string_view key, quic::Duration& out, quic::Duration min, quic::Duration max);
  void path(std::string_view key, std::string& out, FileKind kind);
  void prefixes(std::string_view key, std::vector<IpPrefix>& out);
  void address(std::string_view key, std::optional<quic::SocketAddress>& out, bool want_port);
  void ports(std::string_view key, std::vector<uint16_t>& out);
  void dscps(std::string_view key, std::vector<uint8_t>& out);
  template <typename E>
  void choice(std::string_view key, E& out, std::initializer_list<std::pair<std::string_view, E>> names) {
    const toml::node* n = lookup(key);
    if (n != nullptr) {
      const auto* s = n->as_string();
      bool found = false;
      for (const auto& [name, value] : names) {
        if (s != nullptr && s->get() == name) out = value, found = true;
      }
      if (!found) return error_at(*n, key, "must be one of " + join_names(names));
    }
    for (const auto& [name, value] : names) {
      if (value == out) record(key, std::string(name));
    }
  }

  // Whether the current table has `key` (marks it known).
  bool has(std::string_view key) { return lookup(key) != nullptr; }
  // An error at the current table's (or a key's) position.
  void table_error(std::string_view key, std::string message);
  void error_at(const toml::node& n, std::string_view key, std::string message);
  void error_at(const toml::source_region& where, std::string_view key, std::string message);
  void record(std::string_view key, std::string value);

  std::vector<std::string>& errors() { return errors_; }
  const std::string& flat_prefix() const { return flat_prefix_; }

 private:
  const toml::node* lookup(std::string_view key);
  std::string resolve(const std::string& p) const;
  template <typename E>
  static std::string join_names(std::initializer_list<std::pair<std::string_view, E>> names) {
    std::string s;
    for (const auto& [name, value] : names) s += (s.empty() ? "" : "|") + std::string(name);
    return s;
  }
  template <typename T, typename Fmt>
  void unit_value(std::string_view key, T& out, T min, T max, Parsed<T> (*parse)(std::string_view), Fmt fmt);

  std::string_view file_;
  std::string base_dir_;
  const FileCheck& check_;
  Config& out_;
  const toml::table* table_ = nullptr;
  std::string err_prefix_, flat_prefix_;
  std::set<std::string, std::less<>> seen_;
  std::vector<std::string> errors_;
};

}  // namespace bond
