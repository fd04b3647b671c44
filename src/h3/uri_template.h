// URI Templates (RFC 6570) as MASQUE uses them: the proxy is configured with a template such as
// "https://proxy/.well-known/masque/udp/{target_host}/{target_port}/" (RFC 9298 §2) or
// ".../masque/ip/{target}/{ipproto}/" (RFC 9484 §3). Clients expand it into :scheme,
// :authority and :path; servers match a request's :path against it and extract the variables.
//
// Supported: the subset those RFCs allow (a level-3 template without reserved, fragment,
// label, path-segment or path-style expansion): simple string expansion "{var}" and "{a,b}",
// form-style query "{?a,b}" and continuation "{&a,b}". Values are percent-encoded with only
// the unreserved set left as is (RFC 6570 §3.2.1), so an IPv6 literal's colons become %3A and a
// prefix's slash %2F, exactly as RFC 9298 §2 and RFC 9484 §4.6 require. Variables may only
// appear in the path and query, each once; the template is absolute with a non-empty authority.
//
// Matching is deterministic and linear: a simple expression takes the longest run of
// characters an expansion can produce (unreserved, %XX, and "," between several variables),
// stopping early where the literal that follows it begins.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace h3 {

// Bounds on templates (local configuration) and on request paths matched against them (peer
// input: longer ones simply do not match).
inline constexpr size_t kMaxUriTemplateSize = 2048;
inline constexpr size_t kMaxUriTemplateExpressions = 16;
inline constexpr size_t kMaxUriTemplateVariables = 16;
inline constexpr size_t kMaxMatchedPath = 8192;

using UriVariables = std::map<std::string, std::string, std::less<>>;

class UriTemplate {
 public:
  // Fails (H3_INTERNAL_ERROR: a configuration error) on anything outside the supported
  // subset, with the reason.
  static quic::Result<UriTemplate> parse(std::string_view text);

  struct Target {
    std::string scheme, authority, path;  // path includes the query
  };
  // Undefined variables expand to nothing (RFC 6570 §3.2.1); a defined empty one to "".
  Target expand(const UriVariables& vars) const;
  // The variables of a request :path (percent-decoded); nullopt when it does not match.
  std::optional<UriVariables> match(std::string_view path) const;

  const std::string& scheme() const { return scheme_; }
  const std::string& authority() const { return authority_; }
  std::vector<std::string> variables() const;

 private:
  struct Part {
    char op = 0;  // 0: a literal; ' ': simple expansion; '?', '&': form-style
    std::string literal;
    std::vector<std::string> vars;
  };
  bool match_simple(const Part& p, const Part* next, std::string_view& in, UriVariables& out) const;
  bool match_form(const Part& p, std::string_view& in, UriVariables& out) const;

  std::string scheme_, authority_;
  std::vector<Part> parts_;
};

// RFC 3986 §2.1 percent-encoding of everything but the unreserved set (uppercase hex).
std::string pct_encode(std::string_view s);
// nullopt on a malformed %-triplet.
std::optional<std::string> pct_decode(std::string_view s);

}  // namespace h3
