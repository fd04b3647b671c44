#include "qlog_test_util.h"

#include <unistd.h>

#include <fstream>
#include <sstream>

namespace obs::test {

TempDir::TempDir(const std::string& tag) {
  path_ = std::filesystem::temp_directory_path() /
          ("tquic_obs_" + tag + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(path_);
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

SeqFile read_seq(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  SeqFile f;
  if (text.empty() || text[0] != '\x1e') f.well_framed = false;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t start = text[pos] == '\x1e' ? pos + 1 : pos;
    size_t next = text.find('\x1e', start);
    if (next == std::string::npos) next = text.size();
    std::string rec = text.substr(start, next - start);
    if (rec.empty() || rec.back() != '\n') f.well_framed = false;
    auto j = nlohmann::json::parse(rec, nullptr, false);
    if (j.is_discarded()) {
      ++f.invalid;
    } else {
      f.records.push_back(std::move(j));
    }
    pos = next;
  }
  return f;
}

std::vector<nlohmann::json> events_named(const SeqFile& f, const std::string& name) {
  std::vector<nlohmann::json> out;
  for (size_t i = 1; i < f.records.size(); ++i) {
    if (f.records[i].value("name", "") == name) out.push_back(f.records[i]);
  }
  return out;
}

}  // namespace obs::test
