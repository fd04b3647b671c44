#include "masque/connect_udp_request.h"

#include <arpa/inet.h>

#include <cctype>
#include <charconv>
#include <cstring>

namespace masque {

namespace {

bool is_label_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_';
}

// RFC 1123 §2.1 host names (with '_', which DNS carries in practice), the last label not
// numeric.
bool valid_dns_name(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  if (name.empty()) return false;
  std::string_view last;
  while (!name.empty()) {
    size_t dot = name.find('.');
    std::string_view label = name.substr(0, dot);
    if (label.empty() || label.size() > kMaxHostLabel) return false;
    if (label.front() == '-' || label.back() == '-') return false;
    for (char c : label) {
      if (!is_label_char(c)) return false;
    }
    last = label;
    name = dot == std::string_view::npos ? std::string_view{} : name.substr(dot + 1);
  }
  for (char c : last) {
    if (std::isdigit(static_cast<unsigned char>(c)) == 0) return true;
  }
  return false;
}

std::string_view field(std::span<const h3::Field> fields, std::string_view name) {
  for (const auto& f : fields) {
    if (f.name == name) return f.value;
  }
  return {};
}

}  // namespace

std::optional<quic::SocketAddress> parse_ip_literal(std::string_view text) {
  char buf[64];
  if (text.empty() || text.size() >= sizeof(buf)) return std::nullopt;
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  quic::SocketAddress a;
  if (inet_pton(AF_INET, buf, a.ip.data()) == 1) return a;
  if (inet_pton(AF_INET6, buf, a.ip.data()) == 1) {
    a.v6 = true;
    return a;
  }
  return std::nullopt;
}

std::optional<uint16_t> parse_port(std::string_view text) {
  if (text.empty() || text.size() > 5 || text.front() == '0') return std::nullopt;
  unsigned v = 0;
  auto r = std::from_chars(text.data(), text.data() + text.size(), v);
  if (r.ec != std::errc() || r.ptr != text.data() + text.size() || v == 0 || v > 65535) {
    return std::nullopt;
  }
  return static_cast<uint16_t>(v);
}

std::expected<UdpTarget, std::string> parse_target(std::string_view host, std::string_view port) {
  auto p = parse_port(port);
  if (!p) return std::unexpected("target_port is not a port number (1-65535)");
  if (host.empty()) return std::unexpected("empty target_host");
  if (host.size() > kMaxTargetHost) return std::unexpected("target_host too long");
  UdpTarget t;
  t.host = std::string(host);
  t.port = *p;
  if (auto lit = parse_ip_literal(host)) {
    lit->port = *p;
    t.literal = lit;
    return t;
  }
  if (host.find(':') != std::string_view::npos || host.front() == '[') {
    return std::unexpected("target_host is not a valid IPv6 literal (no brackets or zone IDs)");
  }
  if (!valid_dns_name(host)) return std::unexpected("target_host is not a valid host name");
  return t;
}

quic::Result<h3::UriTemplate> make_udp_template(std::string_view text,
                                                std::string_view authority) {
  if (!text.empty() && text.front() == '/') {
    return h3::UriTemplate::parse("https://" + std::string(authority) + std::string(text));
  }
  return h3::UriTemplate::parse(text);
}

bool capsule_protocol_true(std::string_view value) {
  // sf-item: a boolean "?1", optionally followed by parameters (";key=value").
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.substr(0, 2) != "?1") return false;
  value.remove_prefix(2);
  return value.empty() || value.front() == ';';
}

std::expected<UdpTarget, Refusal> validate_connect_udp(std::span<const h3::Field> fields,
                                                       const h3::UriTemplate& tmpl) {
  auto bad = [](std::string why) { return std::unexpected(refuse(ProxyError::kHttpRequestError, std::move(why))); };
  if (field(fields, ":method") != "CONNECT") return bad("method is not CONNECT");
  if (field(fields, ":protocol") != kConnectUdpProtocol) return bad(":protocol is not connect-udp");
  if (field(fields, ":scheme") != "https") return bad(":scheme is not https");
  auto vars = tmpl.match(field(fields, ":path"));
  if (!vars) {
    Refusal r = refuse(ProxyError::kHttpRequestError, "path does not match the UDP proxy template");
    r.status = 404;
    return std::unexpected(r);
  }
  if (!capsule_protocol_true(field(fields, "capsule-protocol"))) {
    return bad("capsule-protocol: ?1 missing");
  }
  auto host = vars->find("target_host");
  auto port = vars->find("target_port");
  if (host == vars->end() || port == vars->end()) return bad("target_host or target_port missing");
  auto target = parse_target(host->second, port->second);
  if (!target) return bad(target.error());
  return *target;
}

std::vector<h3::Field> connect_udp_request(const h3::UriTemplate& tmpl, std::string_view host,
                                           uint16_t port) {
  auto t = tmpl.expand({{"target_host", std::string(host)}, {"target_port", std::to_string(port)}});
  return {{":method", "CONNECT"},
          {":protocol", std::string(kConnectUdpProtocol)},
          {":scheme", t.scheme},
          {":authority", t.authority},
          {":path", t.path},
          {"capsule-protocol", "?1"}};
}

}  // namespace masque
