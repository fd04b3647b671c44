// URI template fuzz target. The input is "template\npath": the template is parsed; when it
// parses, the path is matched against it, and every match is expanded again. Checks: no
// crash; expanding the matched variables reproduces a path that matches with the same values
// (what a server extracts, a client would have sent).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "h3/uri_template.h"

namespace {

[[noreturn]] void violated(const char* what) {
  std::fprintf(stderr, "uri_template: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t nl = in.find('\n');
  std::string_view text = in.substr(0, nl);
  std::string_view path = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);
  auto t = h3::UriTemplate::parse(text);
  if (!t) return 0;
  auto vars = t->match(path);
  if (!vars) return 0;
  for (const auto& [name, value] : *vars) {
    bool declared = false;
    for (const auto& v : t->variables()) declared |= v == name;
    if (!declared) violated("matched a variable the template does not name");
  }
  auto again = t->expand(*vars);
  auto back = t->match(again.path);
  if (!back) violated("an expansion of matched variables does not match");
  if (*back != *vars) violated("round trip changed the variables");
  return 0;
}
