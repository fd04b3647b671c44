// Helpers for qlog tests: a scratch directory and a JSON-SEQ reader.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace obs::test {

// A fresh, empty directory under the system temp dir, removed by the destructor.
class TempDir {
 public:
  explicit TempDir(const std::string& tag);
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

struct SeqFile {
  std::vector<nlohmann::json> records;
  size_t invalid = 0;       // records that are not valid JSON
  bool well_framed = true;  // every record is RS + text + '\n'
};

// Splits a JSON-SEQ file (RFC 7464) on 0x1E and parses every record.
SeqFile read_seq(const std::filesystem::path& file);

// Events (records after the header) with this name.
std::vector<nlohmann::json> events_named(const SeqFile& f, const std::string& name);

}  // namespace obs::test
