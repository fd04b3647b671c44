// Capsule reader fuzz target: the input (after one control byte choosing the fragment size) is
// the DATA of a capsule-protocol stream. Checks: no crash; only known types are delivered, each
// within its cap; an error is one of the table's codes; the same bytes fed whole and in
// fragments give the same capsules and the same verdict.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <utility>
#include <vector>

#include "h3/capsule.h"

namespace {

[[noreturn]] void violated(const char* what) {
  std::fprintf(stderr, "h3_capsules: %s\n", what);
  std::abort();
}

struct Outcome {
  std::vector<std::pair<uint64_t, std::vector<uint8_t>>> capsules;
  uint64_t error = 0;
  bool operator==(const Outcome&) const = default;
};

Outcome run(quic::Bytes data, size_t step) {
  h3::CapsuleReader r;
  Outcome o;
  for (size_t at = 0; at < data.size(); at += step) {
    quic::Bytes in = data.subspan(at, std::min(step, data.size() - at));
    for (;;) {
      auto c = r.next(in);
      if (!c) {
        o.error = c.error().code;
        if (o.error != h3::err::kMessageError && o.error != h3::err::kExcessiveLoad) {
          violated("unexpected error code");
        }
        return o;
      }
      if (!*c) break;
      auto* t = h3::find_capsule_type(h3::known_capsule_types(), (*c)->type);
      if (t == nullptr) violated("unknown capsule delivered");
      if ((*c)->payload.size() > t->max_length) violated("capsule beyond its cap");
      o.capsules.emplace_back((*c)->type,
                              std::vector<uint8_t>((*c)->payload.begin(), (*c)->payload.end()));
    }
    if (!in.empty()) violated("input left unconsumed");
  }
  if (auto s = r.finish(); !s) o.error = s.error().code;
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  size_t step = (data[0] & 0x3f) + 1;  // fragment sizes 1..64
  quic::Bytes rest(data + 1, size - 1);
  Outcome whole = run(rest, rest.size() + 1);
  if (!(run(rest, step) == whole)) violated("fragmentation changed the outcome");
  return 0;
}
