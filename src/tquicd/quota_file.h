// The quota state file on disk (the I/O half of quota.h): written atomically -- a temporary
// file in the same directory, fsync, rename over the old one, fsync of the directory -- so a
// crash or power cut leaves either the old or the new usage, never a torn file.
#pragma once

#include <expected>
#include <optional>
#include <string>

namespace bond {

// Writes `text` to `path` (mode 0600). Returns an error phrase naming the failing step.
std::expected<void, std::string> write_state_file(const std::string& path, const std::string& text);
// The file's text; nullopt when there is no file (a first start); an error when it cannot be
// read or is larger than kMaxQuotaStateBytes.
std::expected<std::optional<std::string>, std::string> read_state_file(const std::string& path);

}  // namespace bond
