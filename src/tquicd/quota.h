// Metered-link accounting (docs/tquicd-datapath.md "Quota accounting"): bytes per link (both
// directions) against a monthly quota that restarts on a configured day of the month (UTC),
// a keepalive byte budget for backup links idling on a metered connection, events when either
// runs out, and the usage as text for a state file so it survives restarts. Sans-I/O: the
// wall-clock time is passed in; quota_file.h reads and writes the file.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <expected>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace bond {

using WallTime = std::chrono::sys_seconds;  // UTC

inline constexpr size_t kMaxQuotaLinks = 64;         // lines accepted in a state file
inline constexpr size_t kMaxQuotaStateBytes = 64 << 10;
inline constexpr size_t kMaxQuotaEvents = 256;       // pending events; older ones are dropped
inline constexpr uint64_t kUnmetered = std::numeric_limits<uint64_t>::max();

struct QuotaLink {
  std::string name;
  uint64_t quota_bytes = 0;       // 0: unmetered
  uint32_t reset_day = 1;         // 1..28
  uint64_t keepalive_budget = 0;  // bytes per period for keepalives while a backup idles
};

enum class QuotaEventKind { kQuotaReached, kKeepaliveBudgetExhausted, kPeriodReset };
const char* to_string(QuotaEventKind k);

struct QuotaEvent {
  QuotaEventKind kind;
  std::string link;
  uint64_t used = 0;   // bytes (or keepalive bytes) used when it happened
  uint64_t limit = 0;  // the quota (or budget)
};

// The first day of the quota period containing `now` for a reset on `reset_day`.
std::chrono::year_month_day period_start(WallTime now, uint32_t reset_day);

class QuotaLedger {
 public:
  // Sets the links (on start and on SIGHUP); usage of links that keep their name is kept.
  void configure(WallTime now, const std::vector<QuotaLink>& links);

  // Bytes sent or received on `link`; `keepalive` bytes also count against the keepalive
  // budget. Unknown links are ignored.
  void on_bytes(WallTime now, std::string_view link, uint64_t bytes, bool keepalive = false);
  // Bytes left before the quota (kUnmetered for unmetered or unknown links). The scheduler
  // asks before each packet, so a link stops at its quota, not after it.
  uint64_t remaining(WallTime now, std::string_view link);
  // Whether a keepalive of `bytes` fits the budget (and the quota).
  bool keepalive_allowed(WallTime now, std::string_view link, uint64_t bytes);

  // The link was stopped at its quota (by the daemon, which stops a little before the quota to
  // let what is in flight land, or by reaching it): stays so until the period ends, across
  // restarts (the REACHED field of the state file).
  void stop(std::string_view link);
  bool stopped(std::string_view link) const;

  uint64_t used(std::string_view link) const;
  uint64_t keepalive_used(std::string_view link) const;
  bool poll_event(QuotaEvent& out);
  // True when usage changed since the last serialize(): time to write the state file.
  bool dirty() const { return dirty_; }

  // State file text: "tquicd-quota 1" then one "link NAME YYYY-MM-DD USED KEEPALIVE REACHED"
  // line per link.
  std::string serialize();
  // Restores usage from state text; periods that ended since are started afresh, links no
  // longer configured are ignored. A malformed text changes nothing and says which line.
  std::expected<void, std::string> restore(WallTime now, std::string_view text);

 private:
  struct Account {
    QuotaLink config;
    std::chrono::year_month_day period{};
    uint64_t used = 0, keepalive_used = 0;
    bool reached_reported = false, keepalive_reported = false;
  };
  Account* find(std::string_view link);
  const Account* find(std::string_view link) const;
  void roll(WallTime now, Account& a);  // starts a new period when `now` is past this one
  void check_limits(Account& a);
  void emit(QuotaEventKind kind, const Account& a, uint64_t used, uint64_t limit);

  std::vector<Account> accounts_;
  std::deque<QuotaEvent> events_;
  bool dirty_ = false;
};

}  // namespace bond
