// Fuzzes the quota state-file parser (QuotaLedger::restore): a corrupt file is an error that
// changes nothing, never a crash; whatever is accepted serialises back to text that restores
// to the same usage.
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "tquicd/quota.h"

namespace {

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "tquicd_quota_state fuzz invariant broken: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace std::chrono;
  const bond::WallTime now = sys_days{year{2026} / 12 / 20};
  const std::vector<bond::QuotaLink> links{{"lte", 5'000'000, 15, 100'000}, {"a", 0, 1, 0}};
  bond::QuotaLedger ledger;
  ledger.configure(now, links);
  ledger.on_bytes(now, "lte", 7);
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto r = ledger.restore(now, text);
  if (!r) {
    check(!r.error().empty() && r.error().size() < 512, "error message");
    check(ledger.used("lte") == 7, "a refused file changed the usage");
    return 0;
  }
  std::string saved = ledger.serialize();
  bond::QuotaLedger again;
  again.configure(now, links);
  check(again.restore(now, saved).has_value(), "own output refused");
  check(again.used("lte") == ledger.used("lte") && again.used("a") == ledger.used("a"), "round trip");
  check(again.keepalive_used("lte") == ledger.keepalive_used("lte"), "keepalive round trip");
  return 0;
}
