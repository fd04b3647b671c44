// Small helpers shared by the examples: command-line flags and whole-file I/O.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace example {

// "--name value" pairs; a flag given without a value is an error.
inline std::optional<std::map<std::string, std::string>> parse_flags(int argc, char** argv) {
  std::map<std::string, std::string> flags;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) != 0 || i + 1 >= argc) return std::nullopt;
    flags[a.substr(2)] = argv[++i];
  }
  return flags;
}

inline std::string flag(const std::map<std::string, std::string>& f, const std::string& name,
                        const std::string& fallback) {
  auto it = f.find(name);
  return it == f.end() ? fallback : it->second;
}

inline std::optional<std::vector<uint8_t>> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

inline bool write_file(const std::string& path, const void* data, size_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
  return static_cast<bool>(out);
}

}  // namespace example
