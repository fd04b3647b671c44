#include "tquicd/config_reader.h"

#include <algorithm>

#include "tquicd/units.h"

namespace bond {

void ConfigReader::begin_table(const toml::table& t, std::string err_prefix, std::string flat_prefix) {
  table_ = &t;
  err_prefix_ = std::move(err_prefix);
  flat_prefix_ = std::move(flat_prefix);
  seen_.clear();
}

void ConfigReader::finish_table() {
  for (const auto& [k, v] : *table_) {
    if (!seen_.contains(k.str())) error_at(k.source(), k.str(), "unknown key");
  }
  table_ = nullptr;
}

const toml::node* ConfigReader::lookup(std::string_view key) {
  seen_.emplace(key);
  return table_ != nullptr ? table_->get(key) : nullptr;
}

void ConfigReader::error_at(const toml::source_region& where, std::string_view key, std::string message) {
  if (errors_.size() >= kMaxErrors) return;
  std::string name = err_prefix_.empty() ? std::string(key) : err_prefix_ + "." + std::string(key);
  // A key the file lacks has no position of its own; such errors point at the file's start.
  uint32_t line = where.begin.line == 0 ? 1 : where.begin.line;
  uint32_t column = where.begin.line == 0 ? 1 : where.begin.column;
  errors_.push_back(std::string(file_) + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " +
                    name + ": " + message);
}

void ConfigReader::error_at(const toml::node& n, std::string_view key, std::string message) {
  error_at(n.source(), key, std::move(message));
}

void ConfigReader::table_error(std::string_view key, std::string message) {
  if (table_ != nullptr) {
    error_at(table_->source(), key, std::move(message));
  } else {
    error_at(toml::source_region{}, key, std::move(message));
  }
}

void ConfigReader::record(std::string_view key, std::string value) {
  out_.values[flat_prefix_ + "." + std::string(key)] = std::move(value);
}

void ConfigReader::string(std::string_view key, std::string& out, size_t max_length) {
  if (const toml::node* n = lookup(key)) {
    const auto* s = n->as_string();
    if (s == nullptr) return error_at(*n, key, "expects a string");
    if (s->get().size() > max_length) {
      return error_at(*n, key, "longer than " + std::to_string(max_length) + " characters");
    }
    if (s->get().find('\0') != std::string::npos) return error_at(*n, key, "contains a NUL");
    out = s->get();
  }
  record(key, out);
}

void ConfigReader::boolean(std::string_view key, bool& out) {
  if (const toml::node* n = lookup(key)) {
    const auto* b = n->as_boolean();
    if (b == nullptr) return error_at(*n, key, "expects true or false");
    out = b->get();
  }
  record(key, out ? "true" : "false");
}

void ConfigReader::integer(std::string_view key, uint32_t& out, uint32_t min, uint32_t max) {
  if (const toml::node* n = lookup(key)) {
    const auto* i = n->as_integer();
    if (i == nullptr) return error_at(*n, key, "expects an integer");
    if (i->get() < min || i->get() > max) {
      return error_at(*n, key, std::to_string(i->get()) + " out of range " + std::to_string(min) + ".." +
                                   std::to_string(max));
    }
    out = static_cast<uint32_t>(i->get());
  }
  record(key, std::to_string(out));
}

template <typename T, typename Fmt>
void ConfigReader::unit_value(std::string_view key, T& out, T min, T max,
                              Parsed<T> (*parse)(std::string_view), Fmt fmt) {
  if (const toml::node* n = lookup(key)) {
    const auto* s = n->as_string();
    if (s == nullptr) return error_at(*n, key, "expects a string with a unit, e.g. '" + fmt(max) + "'");
    Parsed<T> v = parse(s->get());
    if (!v) return error_at(*n, key, v.error());
    if (*v < min || *v > max) {
      return error_at(*n, key, "'" + s->get() + "' out of range " + fmt(min) + ".." + fmt(max));
    }
    out = *v;
  }
  record(key, fmt(out));
}

void ConfigReader::rate(std::string_view key, uint64_t& out, uint64_t max) {
  unit_value<uint64_t>(key, out, 0, max, parse_rate, format_rate);
}

void ConfigReader::size(std::string_view key, uint64_t& out, uint64_t min, uint64_t max) {
  unit_value<uint64_t>(key, out, min, max, parse_size, format_size);
}

void ConfigReader::duration(std::string_view key, quic::Duration& out, quic::Duration min,
                            quic::Duration max) {
  unit_value<quic::Duration>(key, out, min, max, parse_duration, format_duration);
}

std::string ConfigReader::resolve(const std::string& p) const {
  if (p.empty() || p.front() == '/' || base_dir_.empty()) return p;
  return base_dir_ + "/" + p;
}

void ConfigReader::path(std::string_view key, std::string& out, FileKind kind) {
  if (const toml::node* n = lookup(key)) {
    const auto* s = n->as_string();
    if (s == nullptr || s->get().empty()) return error_at(*n, key, "expects a file name");
    if (s->get().size() > 4096 || s->get().find('\0') != std::string::npos) {
      return error_at(*n, key, "bad file name");
    }
    std::string resolved = resolve(s->get());
    if (std::string problem = check_(resolved, kind); !problem.empty()) {
      return error_at(*n, key, "'" + s->get() + "': " + problem);
    }
    out = std::move(resolved);
  }
  record(key, out);
}

static bool same_scalar(const toml::node& a, const toml::node& b) {
  if (a.is_string() && b.is_string()) return a.as_string()->get() == b.as_string()->get();
  if (a.is_integer() && b.is_integer()) return a.as_integer()->get() == b.as_integer()->get();
  return false;
}

// Reads an array of at most kMaxListEntries strings or integers, calling `each` per element;
// refuses duplicate elements.
template <typename Each>
static void read_list(ConfigReader& r, const toml::node* n, std::string_view key, Each each) {
  const auto* a = n->as_array();
  if (a == nullptr) return r.error_at(*n, key, "expects an array");
  if (a->size() > kMaxListEntries) {
    return r.error_at(*n, key, "more than " + std::to_string(kMaxListEntries) + " entries");
  }
  for (size_t i = 0; i < a->size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (same_scalar(*a->get(i), *a->get(j))) return r.error_at(*a->get(i), key, "duplicate entry");
    }
    if (!each(*a->get(i))) return;
  }
}

void ConfigReader::prefixes(std::string_view key, std::vector<IpPrefix>& out) {
  if (const toml::node* n = lookup(key)) {
    std::vector<IpPrefix> list;
    bool ok = true;
    read_list(*this, n, key, [&](const toml::node& e) {
      const auto* s = e.as_string();
      auto p = s != nullptr ? parse_prefix(s->get()) : std::nullopt;
      if (!p) error_at(e, key, "bad address/prefix (e.g. '10.8.0.1/24', 'fd00::1/64')");
      if (p) list.push_back(*p);
      ok = ok && p.has_value();
      return ok;
    });
    if (ok && n->is_array() && list.size() == n->as_array()->size()) out = std::move(list);
  }
  std::string canon;
  for (const IpPrefix& p : out) canon += (canon.empty() ? "" : ",") + p.to_string();
  record(key, canon);
}

void ConfigReader::address(std::string_view key, std::optional<quic::SocketAddress>& out, bool want_port) {
  if (const toml::node* n = lookup(key)) {
    const auto* s = n->as_string();
    if (s == nullptr) return error_at(*n, key, "expects a string");
    if (s->get().empty() && want_port) {
      out.reset();  // "" switches a listener off
    } else if (want_port) {
      auto a = quic::SocketAddress::parse(s->get());
      if (!a || a->port == 0) return error_at(*n, key, "bad address '" + s->get() + "' (e.g. '127.0.0.1:9477')");
      out = *a;
    } else {
      auto p = parse_prefix(s->get());
      if (!p || p->length != (p->v6 ? 128 : 32)) {
        return error_at(*n, key, "bad address '" + s->get() + "' (e.g. '192.0.2.7')");
      }
      quic::SocketAddress a;
      a.ip = p->ip, a.v6 = p->v6;
      out = a;
    }
  }
  std::string canon;
  if (out) canon = want_port ? out->to_string() : IpPrefix{out->ip, uint8_t(out->v6 ? 128 : 32), out->v6}.to_string();
  record(key, canon);
}

// Integer lists: each element in [0, max], kept in the order written.
template <typename T>
static void integer_list(ConfigReader& r, const toml::node* n, std::string_view key, std::vector<T>& out,
                         int64_t min, int64_t max) {
  std::vector<T> list;
  bool ok = true;
  read_list(r, n, key, [&](const toml::node& e) {
    const auto* i = e.as_integer();
    ok = i != nullptr && i->get() >= min && i->get() <= max;
    if (!ok) r.error_at(e, key, "entries must be integers " + std::to_string(min) + ".." + std::to_string(max));
    if (ok) list.push_back(static_cast<T>(i->get()));
    return ok;
  });
  if (ok && n->is_array() && list.size() == n->as_array()->size()) out = std::move(list);
}

template <typename T>
static std::string join(const std::vector<T>& v) {
  std::string s;
  for (T x : v) s += (s.empty() ? "" : ",") + std::to_string(x);
  return s;
}

void ConfigReader::ports(std::string_view key, std::vector<uint16_t>& out) {
  if (const toml::node* n = lookup(key)) integer_list(*this, n, key, out, 1, 65535);
  record(key, join(out));
}

void ConfigReader::dscps(std::string_view key, std::vector<uint8_t>& out) {
  if (const toml::node* n = lookup(key)) integer_list(*this, n, key, out, 0, 63);
  record(key, join(out));
}

}  // namespace bond
