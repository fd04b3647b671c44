#include "h3/uri_template.h"

#include <algorithm>

#include "h3/frames.h"

namespace h3 {

namespace {

bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
int hex_value(char c) {
  if (is_digit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
// RFC 3986 §2.3.
bool is_unreserved(char c) {
  return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}
bool is_triplet(std::string_view s, size_t at) {
  return at + 2 < s.size() && s[at] == '%' && hex_value(s[at + 1]) >= 0 &&
         hex_value(s[at + 2]) >= 0;
}
// RFC 6570 §2.1: literals are printable ASCII but for these (and '%' outside a triplet).
// RFC 9484 §3 also keeps templates within 0x21-0x7E.
bool is_literal_char(char c) {
  if (c < 0x21 || c > 0x7e) return false;
  for (char bad : std::string_view("\"'<>\\^`{|}")) {
    if (c == bad) return false;
  }
  return true;
}
// RFC 6570 §2.3: varchar = ALPHA / DIGIT / "_" / pct-encoded, with single dots between.
bool valid_varname(std::string_view n) {
  if (n.empty() || n.front() == '.' || n.back() == '.') return false;
  for (size_t i = 0; i < n.size(); ++i) {
    char c = n[i];
    if (c == '%') {
      if (!is_triplet(n, i)) return false;
      i += 2;
    } else if (c == '.') {
      if (n[i + 1] == '.') return false;
    } else if (!is_alpha(c) && !is_digit(c) && c != '_') {
      return false;
    }
  }
  return true;
}

[[nodiscard]] std::unexpected<quic::Error> bad(std::string reason) {
  return fail(err::kInternalError, "URI template: " + std::move(reason));
}

// Splits a varlist "a,b" onto `names` (every variable of the template so far), checking each
// name (RFC 6570 §2.3), refusing level-4 modifiers and a name used twice (one value, one
// place: what a server extracts must be what a client expanded).
quic::Status parse_varlist(std::string_view body, std::vector<std::string>& names) {
  for (size_t at = 0; at <= body.size();) {
    size_t comma = std::min(body.find(',', at), body.size());
    std::string_view name = body.substr(at, comma - at);
    if (name.find_first_of(":*") != std::string_view::npos) {
      return bad("prefix and explode modifiers are level 4");
    }
    if (!valid_varname(name)) return bad("bad variable name");
    if (std::find(names.begin(), names.end(), name) != names.end()) {
      return bad("a variable named twice");
    }
    if (names.size() >= kMaxUriTemplateVariables) return bad("too many variables");
    names.emplace_back(name);
    at = comma + 1;
  }
  return {};
}

// The length of the run of characters a simple expansion can produce at the front of `in`.
size_t expansion_run(std::string_view in, bool commas, std::string_view stop_at) {
  size_t n = 0;
  while (n < in.size()) {
    if (!stop_at.empty() && in.substr(n).starts_with(stop_at)) break;
    char c = in[n];
    if (c == '%' && is_triplet(in, n)) {
      n += 3;
    } else if (is_unreserved(c) || (commas && c == ',')) {
      ++n;
    } else {
      break;
    }
  }
  return n;
}

}  // namespace

std::string pct_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (is_unreserved(c)) {
      out.push_back(c);
    } else {
      auto b = static_cast<unsigned char>(c);
      out.push_back('%');
      out.push_back(kHex[b >> 4]);
      out.push_back(kHex[b & 0xf]);
    }
  }
  return out;
}

std::optional<std::string> pct_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (!is_triplet(s, i)) return std::nullopt;
    out.push_back(static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2])));
    i += 2;
  }
  return out;
}

quic::Result<UriTemplate> UriTemplate::parse(std::string_view text) {
  if (text.size() > kMaxUriTemplateSize) return bad("too long");
  UriTemplate t;
  size_t sep = text.find("://");
  if (sep == std::string_view::npos || sep == 0) return bad("not absolute (scheme://...)");
  t.scheme_ = std::string(text.substr(0, sep));
  for (char c : t.scheme_) {
    if (!is_alpha(c) && !is_digit(c) && c != '+' && c != '-' && c != '.') {
      return bad("bad scheme");
    }
  }
  std::string_view rest = text.substr(sep + 3);
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return bad("no path (it must start with '/')");
  t.authority_ = std::string(rest.substr(0, slash));
  if (t.authority_.empty()) return bad("empty authority");
  for (char c : t.authority_) {
    if (!is_literal_char(c) || c == '?' || c == '#') {
      return bad("variables and these characters are not allowed in the authority");
    }
  }
  rest = rest.substr(slash);
  size_t exprs = 0;
  std::vector<std::string> names;  // every variable so far
  while (!rest.empty()) {
    if (rest[0] != '{') {
      if (rest[0] == '%' && !is_triplet(rest, 0)) return bad("'%' outside a %XX triplet");
      if (!is_literal_char(rest[0])) return bad("character not allowed in a literal");
      if (t.parts_.empty() || t.parts_.back().op != 0) t.parts_.push_back({});
      t.parts_.back().literal.push_back(rest[0]);
      rest = rest.substr(1);
      continue;
    }
    size_t close = rest.find('}');
    if (close == std::string_view::npos) return bad("unterminated expression");
    std::string_view body = rest.substr(1, close - 1);
    rest = rest.substr(close + 1);
    if (++exprs > kMaxUriTemplateExpressions) return bad("too many expressions");
    Part p{' ', {}, {}};
    if (!body.empty() && (body[0] == '?' || body[0] == '&')) {
      p.op = body[0];
      body = body.substr(1);
    } else if (!body.empty() &&
               std::string_view("+#./;=,!@|").find(body[0]) != std::string_view::npos) {
      return bad(std::string("operator '") + body[0] +
                 "' is not allowed (RFC 9484 §3, RFC 9298 §2)");
    }
    size_t before = names.size();
    if (auto st = parse_varlist(body, names); !st) return std::unexpected(st.error());
    p.vars.assign(names.begin() + static_cast<std::ptrdiff_t>(before), names.end());
    t.parts_.push_back(std::move(p));
  }
  return t;
}

std::vector<std::string> UriTemplate::variables() const {
  std::vector<std::string> out;
  for (const Part& p : parts_) out.insert(out.end(), p.vars.begin(), p.vars.end());
  return out;
}

UriTemplate::Target UriTemplate::expand(const UriVariables& vars) const {
  Target out{scheme_, authority_, {}};
  for (const Part& p : parts_) {
    if (p.op == 0) {
      out.path += p.literal;
      continue;
    }
    bool first = true;
    for (const std::string& name : p.vars) {
      auto v = vars.find(name);
      if (v == vars.end()) continue;  // undefined: omitted (RFC 6570 §3.2.1)
      if (p.op == ' ') {
        if (!first) out.path += ',';
      } else {
        out.path += first && p.op == '?' ? '?' : '&';
        out.path += name;
        out.path += '=';
      }
      out.path += pct_encode(v->second);
      first = false;
    }
  }
  return out;
}

bool UriTemplate::match_simple(const Part& p, const Part* next, std::string_view& in,
                               UriVariables& out) const {
  std::string_view stop = next != nullptr && next->op == 0 ? next->literal : std::string_view();
  size_t n = expansion_run(in, p.vars.size() > 1, stop);
  std::string_view run = in.substr(0, n);
  in = in.substr(n);
  // "a,b" for two variables; fewer pieces mean trailing ones were undefined.
  size_t var = 0;
  for (size_t at = 0; at <= run.size(); ++var) {
    size_t comma = std::min(run.find(',', at), run.size());
    if (var >= p.vars.size()) return false;
    auto v = pct_decode(run.substr(at, comma - at));
    if (!v) return false;
    if (!(run.empty() && p.vars.size() > 1)) out[p.vars[var]] = std::move(*v);
    at = comma + 1;
  }
  return true;
}

bool UriTemplate::match_form(const Part& p, std::string_view& in, UriVariables& out) const {
  bool first = true;
  for (;;) {
    char lead = first && p.op == '?' ? '?' : '&';
    if (in.empty() || in[0] != lead) return true;
    size_t eq = in.find('=');
    if (eq == std::string_view::npos) return true;
    std::string_view name = in.substr(1, eq - 1);
    bool ours = false;
    for (const std::string& v : p.vars) ours |= v == name && !out.contains(v);
    if (!ours) return true;  // not one of this expression's: left for what follows
    std::string_view value = in.substr(eq + 1);
    size_t n = expansion_run(value, false, {});
    auto v = pct_decode(value.substr(0, n));
    if (!v) return false;
    out[std::string(name)] = std::move(*v);
    in = value.substr(n);
    first = false;
  }
}

std::optional<UriVariables> UriTemplate::match(std::string_view path) const {
  if (path.size() > kMaxMatchedPath) return std::nullopt;
  UriVariables out;
  for (size_t i = 0; i < parts_.size(); ++i) {
    const Part& p = parts_[i];
    if (p.op == 0) {
      if (!path.starts_with(p.literal)) return std::nullopt;
      path = path.substr(p.literal.size());
      continue;
    }
    const Part* next = i + 1 < parts_.size() ? &parts_[i + 1] : nullptr;
    bool ok = p.op == ' ' ? match_simple(p, next, path, out) : match_form(p, path, out);
    if (!ok) return std::nullopt;
  }
  if (!path.empty()) return std::nullopt;
  return out;
}

}  // namespace h3
