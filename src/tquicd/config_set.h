// `tquicctl set KEY VALUE` on a running daemon (docs/tquicd-control.md "set"): the value is
// checked exactly as the configuration file's would be — the file is read again, every `set`
// made since the last load is laid over it as TOML values, and the result goes through
// parse_config — so `set` accepts what the file accepts and its errors name the key. Only keys
// SIGHUP applies live (key_is_live) and that this daemon applies are accepted; the file itself
// is not changed, so a reload or restart returns to it.
#pragma once

#include <cstddef>
#include <expected>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "tquicd/config.h"

namespace bond {

// Distinct keys a daemon keeps `set` values for (one more is refused until a reload).
inline constexpr size_t kMaxLiveOverrides = 64;

struct KeyValue {
  std::string key;    // "reorder.max_hold", "link[lte].rate"
  std::string value;  // as typed: a TOML value (300, true, "x", [1, 2]); a bare word is a string
};

// `text` (the file named `name`) with each override laid over it, parsed by parse_config.
// The error is one line: the first error with its file position dropped ("reorder.max_hold:
// bad duration 'soon'"), or what is wrong with an override ("link[x]: no such link").
std::expected<Config, std::string> parse_config_with(std::string_view text, std::string_view name,
                                                     const std::string& base_dir,
                                                     const FileCheck& check,
                                                     const std::vector<KeyValue>& overrides);

// The whole `set`: checks the key (known, live, applied by this daemon: `applies`), lays it over
// the file at `path` with the earlier overrides, and requires that nothing but this key changes
// against `running` (else the file was edited since it was loaded: SIGHUP first). On success
// `overrides` holds the key and the new configuration is returned for the daemon to apply.
std::expected<Config, std::string> config_set(const std::string& path, const Config& running,
                                              std::vector<KeyValue>& overrides,
                                              std::string_view key, std::string_view value,
                                              const std::function<bool(std::string_view)>& applies,
                                              const FileCheck& check = check_file_on_disk);

}  // namespace bond
