// Fuzzes decode_transport_params for both sender roles; whatever decodes must re-encode and
// decode to the same value (unknown parameters and non-minimal varints are normalised away).
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "wire/transport_params.h"

namespace {

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "transport_params fuzz invariant broken: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  quic::Bytes in(data, size);
  for (quic::Role role : {quic::Role::kClient, quic::Role::kServer}) {
    auto p = quic::decode_transport_params(in, role);
    if (!p) {
      check(!p.error().reason.empty(), "error without reason");
      continue;
    }
    // Re-encoding drops defaults, unknown IDs and padding in varints: never longer.
    std::vector<uint8_t> out(size);
    auto n = quic::encode_transport_params(*p, out);
    check(n.has_value(), "decoded parameters do not re-encode");
    auto q = quic::decode_transport_params(quic::Bytes(out).first(*n), role);
    check(q.has_value(), "re-encoded parameters do not decode");
    check(*q == *p, "round trip differs");
  }
  return 0;
}
