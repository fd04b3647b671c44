// Fuzzes the server's client-token file parser and the lookup: no crash on any text, bounded
// errors naming a line, and the file's own text never authenticates as a token unless it is one.
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "tquicd/tokens.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto store = bond::TokenStore::parse(text);
  if (!store) {
    bool ok = !store.error().empty() && store.error().size() < 512;
    if (!ok) std::abort();
    return 0;
  }
  if (store->size() > bond::kMaxTokens) std::abort();
  // Lookups of arbitrary input: any name returned must come from the store's own text.
  for (size_t cut : {size_t{0}, size / 2, size}) {
    if (auto name = store->authenticate(text.substr(0, cut))) {
      if (text.find(*name) == std::string_view::npos) std::abort();
    }
  }
  return 0;
}
