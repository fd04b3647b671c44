#include "h3/priority.h"

namespace h3 {

namespace {

void skip_ows(std::string_view& s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
}

bool is_key_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.' ||
         c == '*';
}

}  // namespace

Priority parse_priority(std::string_view s) {
  Priority out, p;
  // A small RFC 8941 dictionary parser: key[=item][;params], comma separated. Parameters and
  // unknown members are skipped; any syntax error voids the whole field.
  skip_ows(s);
  while (!s.empty()) {
    size_t k = 0;
    if (!(s[0] >= 'a' && s[0] <= 'z') && s[0] != '*') return out;
    while (k < s.size() && is_key_char(s[k])) ++k;
    std::string_view key = s.substr(0, k);
    s.remove_prefix(k);
    std::string_view value;  // raw bare item, empty for boolean true
    if (!s.empty() && s[0] == '=') {
      s.remove_prefix(1);
      size_t v = 0;
      while (v < s.size() && s[v] != ';' && s[v] != ',' && s[v] != ' ' && s[v] != '\t') ++v;
      value = s.substr(0, v);
      s.remove_prefix(v);
      if (value.empty()) return out;
    }
    while (!s.empty() && s[0] == ';') {  // parameters: skipped
      size_t v = 1;
      while (v < s.size() && s[v] != ';' && s[v] != ',') ++v;
      s.remove_prefix(v);
    }
    if (key == "u" && !value.empty()) {
      if (value.size() == 1 && value[0] >= '0' && value[0] <= '0' + kMaxUrgency) {
        p.urgency = static_cast<uint8_t>(value[0] - '0');
      }
    } else if (key == "i") {
      if (value.empty()) {
        p.incremental = true;
      } else if (value == "?1" || value == "?0") {
        p.incremental = value == "?1";
      }
    }
    skip_ows(s);
    if (s.empty()) break;
    if (s[0] != ',') return out;
    s.remove_prefix(1);
    skip_ows(s);
    if (s.empty()) return out;  // trailing comma
  }
  return p;
}

std::string format_priority(const Priority& p) {
  std::string out;
  if (p.urgency != 3) out = "u=" + std::to_string(p.urgency);
  if (p.incremental) out += out.empty() ? "i" : ", i";
  return out;
}

}  // namespace h3
