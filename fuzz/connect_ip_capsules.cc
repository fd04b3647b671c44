// CONNECT-IP capsule fuzz target: the first byte picks ADDRESS_ASSIGN, ADDRESS_REQUEST or
// ROUTE_ADVERTISEMENT, the rest is the capsule value. Checks: no crash; whatever decodes is
// within the entry bounds and re-encodes to a value that decodes to the same entries (a
// decoder and encoder that agree on every §4.7 rule).
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "masque/connect_ip_capsules.h"

namespace {

[[noreturn]] void violated(const char* what) {
  std::fprintf(stderr, "connect_ip_capsules: %s\n", what);
  std::abort();
}

template <class Decode, class Encode>
void round_trip(quic::Bytes value, Decode decode, Encode encode, size_t bound) {
  auto d = decode(value);
  if (!d) {
    if (masque::capsule_error_name(d.error())[0] == '?') violated("unnamed error");
    return;
  }
  if (d->size() > bound) violated("entry bound exceeded");
  auto e = encode(*d);
  if (!e) violated("decoded list refused by the encoder");
  auto again = decode(*e);
  if (!again || *again != *d) violated("re-encoding changed the entries");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  quic::Bytes value(data + 1, size - 1);
  switch (data[0] % 3) {
    case 0:
      round_trip(
          value, masque::decode_address_assign,
          [](const auto& v) { return masque::encode_address_assign(v); },
          masque::kMaxAddressesPerCapsule);
      break;
    case 1:
      round_trip(
          value, masque::decode_address_request,
          [](const auto& v) { return masque::encode_address_request(v); },
          masque::kMaxAddressesPerCapsule);
      break;
    default:
      round_trip(
          value, masque::decode_route_advertisement,
          [](const auto& v) { return masque::encode_route_advertisement(v); },
          masque::kMaxRoutesPerCapsule);
      break;
  }
  return 0;
}
