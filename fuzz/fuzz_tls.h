// TLS contexts for the fuzz drivers: a self-signed "localhost" server and a client trusting it.
// Certificate generation and credential loading cost milliseconds, so each ALPN's pair is made
// once per process.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

#include "tls/test_certs.h"

namespace fuzz_support {

inline const quic::TestTlsPair& test_tls(const std::string& alpn) {
  static std::map<std::string, quic::TestTlsPair> cache;
  auto it = cache.find(alpn);
  if (it == cache.end()) {
    auto t = quic::make_test_tls_pair({alpn});
    if (!t) {
      std::fprintf(stderr, "fuzz: TLS contexts: %s\n", t.error().reason.c_str());
      std::abort();
    }
    it = cache.emplace(alpn, *t).first;
  }
  return it->second;
}

}  // namespace fuzz_support
