// Helpers shared by the QPACK tests.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace h3::qpack::test {

// "510b 2f69" -> {0x51, 0x0b, 0x2f, 0x69}; spaces and newlines ignored.
inline std::vector<uint8_t> hex(const std::string& s) {
  std::vector<uint8_t> out;
  int hi = -1;
  for (char c : s) {
    int v;
    if (c >= '0' && c <= '9')
      v = c - '0';
    else if (c >= 'a' && c <= 'f')
      v = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      v = c - 'A' + 10;
    else
      continue;
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(static_cast<uint8_t>(hi << 4 | v));
      hi = -1;
    }
  }
  return out;
}

}  // namespace h3::qpack::test

#include <fstream>
#include <ostream>
#include <sstream>

#include "h3/qpack/field.h"

namespace h3::qpack {
inline void PrintTo(const Field& f, std::ostream* os) {
  *os << f.name << ": " << f.value;
}
}  // namespace h3::qpack

namespace h3::qpack::test {

inline std::vector<Field> fields(std::initializer_list<std::pair<const char*, const char*>> l) {
  std::vector<Field> out;
  for (const auto& [n, v] : l) out.push_back(Field{n, v});
  return out;
}

// A .qif file: header lists separated by empty lines, "name<TAB>value" lines, '#' comments.
inline std::vector<std::vector<Field>> read_qif(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::vector<Field>> lists;
  std::vector<Field> cur;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty() && line[0] == '#') continue;
    if (line.empty()) {
      if (!cur.empty()) lists.push_back(std::move(cur));
      cur.clear();
      continue;
    }
    const size_t tab = line.find('\t');
    if (tab == std::string::npos) {
      cur.push_back(Field{line, ""});
    } else {
      cur.push_back(Field{line.substr(0, tab), line.substr(tab + 1)});
    }
  }
  if (!cur.empty()) lists.push_back(std::move(cur));
  return lists;
}

inline std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string s = ss.str();
  return {s.begin(), s.end()};
}

}  // namespace h3::qpack::test
