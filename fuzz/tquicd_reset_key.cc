// Fuzzes the server's reset key file parser (reset_key.h): anything but a well-formed key is
// refused (the server then makes a new one), never a crash; an accepted key formats back to
// text that parses to the same key.
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "tquicd/reset_key.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto key = bond::parse_reset_key(text);
  if (key && bond::parse_reset_key(bond::format_reset_key(*key)) != key) {
    std::fprintf(stderr, "tquicd_reset_key fuzz invariant broken: round trip\n");
    std::abort();
  }
  return 0;
}
