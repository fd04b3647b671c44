// CONNECT-UDP request fuzz target (RFC 9298 §3). The input is header fields, one per line as
// "name<TAB>value"; the first byte picks the default template or one with a query. Checks: no
// crash; a refusal is 400 or 404 and its Proxy-Status reads back with the same error; an
// accepted target is well-formed and a client request built for it validates to the same
// target. The same bytes also go through the --allow and Proxy-Status parsers.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "masque/access.h"
#include "masque/connect_udp_request.h"
#include "masque/proxy_status.h"

namespace {

[[noreturn]] void violated(const char* what) {
  std::fprintf(stderr, "connect_udp_request: %s\n", what);
  std::abort();
}

std::vector<h3::Field> fields_of(std::string_view in) {
  std::vector<h3::Field> out;
  while (!in.empty() && out.size() < 64) {
    size_t nl = in.find('\n');
    std::string_view line = in.substr(0, nl);
    in = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);
    size_t tab = line.find('\t');
    if (tab == std::string_view::npos) continue;
    out.push_back({std::string(line.substr(0, tab)), std::string(line.substr(tab + 1))});
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  (void)masque::parse_allow_rule(in);
  (void)masque::parse_proxy_status(in);
  if (in.empty()) return 0;
  static const auto plain = *masque::make_udp_template(masque::kDefaultUdpPathTemplate, "p:443");
  static const auto query = *masque::make_udp_template("/u?h={target_host}&p={target_port}", "p");
  const h3::UriTemplate& tmpl = (in.front() & 1) != 0 ? query : plain;
  auto fields = fields_of(in.substr(1));
  auto r = masque::validate_connect_udp(fields, tmpl);
  if (!r) {
    if (r.error().status != 400 && r.error().status != 404) violated("refusal status");
    std::string ps = masque::format_proxy_status("tquic", r.error().proxy_status);
    auto back = masque::parse_proxy_status(ps);
    if (!back || back->error != masque::error_token(r.error().proxy_status.error)) {
      violated("Proxy-Status does not read back");
    }
    return 0;
  }
  if (r->host.empty() || r->host.size() > masque::kMaxTargetHost || r->port == 0) {
    violated("accepted a malformed target");
  }
  if (r->literal.has_value() != masque::parse_ip_literal(r->host).has_value()) {
    violated("literal flag disagrees with the host");
  }
  auto again = masque::validate_connect_udp(masque::connect_udp_request(tmpl, r->host, r->port), tmpl);
  if (!again || again->host != r->host || again->port != r->port) {
    violated("a client request for the target does not validate to it");
  }
  return 0;
}
