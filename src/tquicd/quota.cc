#include "tquicd/quota.h"

#include <algorithm>
#include <charconv>
#include <cstdio>

namespace bond {

using namespace std::chrono;

const char* to_string(QuotaEventKind k) {
  switch (k) {
    case QuotaEventKind::kQuotaReached: return "quota_reached";
    case QuotaEventKind::kKeepaliveBudgetExhausted: return "keepalive_budget_exhausted";
    case QuotaEventKind::kPeriodReset: return "quota_period_reset";
  }
  return "?";
}

year_month_day period_start(WallTime now, uint32_t reset_day) {
  year_month_day today{floor<days>(now)};
  year_month month = today.year() / today.month();
  if (today.day() < day{reset_day}) month -= months{1};
  return month / day{reset_day};
}

QuotaLedger::Account* QuotaLedger::find(std::string_view link) {
  auto it = std::ranges::find_if(accounts_, [&](const Account& a) { return a.config.name == link; });
  return it == accounts_.end() ? nullptr : &*it;
}

const QuotaLedger::Account* QuotaLedger::find(std::string_view link) const {
  return const_cast<QuotaLedger*>(this)->find(link);
}

void QuotaLedger::configure(WallTime now, const std::vector<QuotaLink>& links) {
  std::vector<Account> next;
  for (const QuotaLink& l : links) {
    Account a;
    if (const Account* old = find(l.name)) a = *old;
    a.config = l;
    a.config.reset_day = std::clamp<uint32_t>(l.reset_day, 1, 28);
    roll(now, a);
    next.push_back(std::move(a));
  }
  accounts_ = std::move(next);
  for (Account& a : accounts_) check_limits(a);
}

void QuotaLedger::emit(QuotaEventKind kind, const Account& a, uint64_t used, uint64_t limit) {
  if (events_.size() >= kMaxQuotaEvents) events_.pop_front();
  events_.push_back({kind, a.config.name, used, limit});
}

void QuotaLedger::roll(WallTime now, Account& a) {
  year_month_day start = period_start(now, a.config.reset_day);
  if (a.period == start) return;
  bool had_period = a.period.ok();
  a.period = start;
  a.used = a.keepalive_used = 0;
  a.reached_reported = a.keepalive_reported = false;
  dirty_ = true;
  if (had_period) emit(QuotaEventKind::kPeriodReset, a, 0, a.config.quota_bytes);
}

void QuotaLedger::check_limits(Account& a) {
  if (a.config.quota_bytes != 0 && a.used >= a.config.quota_bytes && !a.reached_reported) {
    a.reached_reported = true;
    emit(QuotaEventKind::kQuotaReached, a, a.used, a.config.quota_bytes);
  }
  if (a.keepalive_used >= a.config.keepalive_budget && a.keepalive_used > 0 && !a.keepalive_reported) {
    a.keepalive_reported = true;
    emit(QuotaEventKind::kKeepaliveBudgetExhausted, a, a.keepalive_used, a.config.keepalive_budget);
  }
}

void QuotaLedger::on_bytes(WallTime now, std::string_view link, uint64_t bytes, bool keepalive) {
  Account* a = find(link);
  if (a == nullptr || bytes == 0) return;
  roll(now, *a);
  a->used = a->used > kUnmetered - bytes ? kUnmetered : a->used + bytes;
  if (keepalive) a->keepalive_used = std::min(a->keepalive_used, kUnmetered - bytes) + bytes;
  dirty_ = true;
  check_limits(*a);
}

uint64_t QuotaLedger::remaining(WallTime now, std::string_view link) {
  Account* a = find(link);
  if (a == nullptr || a->config.quota_bytes == 0) return kUnmetered;
  roll(now, *a);
  return a->used >= a->config.quota_bytes ? 0 : a->config.quota_bytes - a->used;
}

bool QuotaLedger::keepalive_allowed(WallTime now, std::string_view link, uint64_t bytes) {
  Account* a = find(link);
  if (a == nullptr) return true;
  roll(now, *a);
  bool budget = a->keepalive_used <= a->config.keepalive_budget &&
                bytes <= a->config.keepalive_budget - a->keepalive_used;
  return budget && remaining(now, link) >= bytes;
}

void QuotaLedger::stop(std::string_view link) {
  Account* a = find(link);
  if (a == nullptr || a->reached_reported) return;
  a->reached_reported = true;  // no kQuotaReached later: the daemon reports its own stop
  dirty_ = true;
}

bool QuotaLedger::stopped(std::string_view link) const {
  const Account* a = find(link);
  return a != nullptr && a->config.quota_bytes != 0 && a->reached_reported;
}

uint64_t QuotaLedger::used(std::string_view link) const {
  const Account* a = find(link);
  return a == nullptr ? 0 : a->used;
}

uint64_t QuotaLedger::keepalive_used(std::string_view link) const {
  const Account* a = find(link);
  return a == nullptr ? 0 : a->keepalive_used;
}

bool QuotaLedger::poll_event(QuotaEvent& out) {
  if (events_.empty()) return false;
  out = std::move(events_.front());
  events_.pop_front();
  return true;
}

namespace {

constexpr std::string_view kHeader = "tquicd-quota 1";

std::string format_date(year_month_day d) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(d.year()), static_cast<unsigned>(d.month()),
                static_cast<unsigned>(d.day()));
  return buf;
}

bool parse_u64(std::string_view s, uint64_t& out) {
  if (s.empty() || s.size() > 20) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

bool parse_date(std::string_view s, year_month_day& out) {
  uint64_t y = 0, m = 0, d = 0;
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  if (!parse_u64(s.substr(0, 4), y) || !parse_u64(s.substr(5, 2), m) || !parse_u64(s.substr(8, 2), d)) return false;
  out = year{static_cast<int>(y)} / month{static_cast<unsigned>(m)} / day{static_cast<unsigned>(d)};
  return out.ok();
}

std::vector<std::string_view> split(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size() && out.size() <= 6) {
    size_t j = line.find(' ', i);
    if (j == std::string_view::npos) j = line.size();
    out.push_back(line.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

struct SavedLine {
  std::string_view name;
  year_month_day period{};
  uint64_t used = 0, keepalive = 0;
  bool reached = false;
};

// Up to 32 characters of a field for an error message, bytes outside printable ASCII shown as
// '?': a corrupt file must not put megabytes or control bytes into the log.
std::string excerpt(std::string_view field) {
  constexpr size_t kMax = 32;
  std::string out;
  for (char c : field.substr(0, kMax)) out += c >= 0x20 && c < 0x7f ? c : '?';
  if (field.size() > kMax) out += "...";
  return out;
}

// One "link NAME DATE USED KEEPALIVE REACHED" line, or an error phrase.
std::expected<SavedLine, std::string> parse_line(std::string_view line) {
  std::vector<std::string_view> f = split(line);
  if (f.size() != 6 || f[0] != "link") return std::unexpected("expected 'link NAME DATE USED KEEPALIVE REACHED'");
  SavedLine s{f[1]};
  if (s.name.empty() || s.name.size() > 15 ||
      s.name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") !=
          std::string_view::npos) {
    return std::unexpected("bad link name");
  }
  if (!parse_date(f[2], s.period)) return std::unexpected("bad date '" + excerpt(f[2]) + "'");
  if (!parse_u64(f[3], s.used) || !parse_u64(f[4], s.keepalive)) return std::unexpected("bad byte count");
  if (f[5] != "0" && f[5] != "1") return std::unexpected("bad reached flag");
  s.reached = f[5] == "1";
  return s;
}

}  // namespace

std::string QuotaLedger::serialize() {
  std::string out(kHeader);
  out += '\n';
  for (const Account& a : accounts_) {
    out += "link " + a.config.name + " " + format_date(a.period) + " " + std::to_string(a.used) + " " +
           std::to_string(a.keepalive_used) + " " + (a.reached_reported ? "1" : "0") + "\n";
  }
  dirty_ = false;
  return out;
}

std::expected<void, std::string> QuotaLedger::restore(WallTime now, std::string_view text) {
  if (text.size() > kMaxQuotaStateBytes) return std::unexpected("state file larger than 64 KiB");
  std::vector<SavedLine> lines;
  size_t number = 0;
  for (size_t pos = 0; pos < text.size();) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) return std::unexpected("line " + std::to_string(number + 1) + ": no newline");
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    auto where = [&] { return "line " + std::to_string(number) + ": "; };
    if (++number == 1) {
      if (line != kHeader) return std::unexpected(where() + "not a tquicd quota file");
      continue;
    }
    if (lines.size() == kMaxQuotaLinks) return std::unexpected(where() + "more than 64 links");
    auto parsed = parse_line(line);
    if (!parsed) return std::unexpected(where() + parsed.error());
    lines.push_back(*parsed);
  }
  if (number == 0) return std::unexpected("line 1: empty file");
  for (const SavedLine& s : lines) {
    Account* a = find(s.name);
    if (a == nullptr) continue;
    roll(now, *a);
    if (s.period != a->period) continue;  // a period that has ended: its usage no longer counts
    a->used = s.used;
    a->keepalive_used = s.keepalive;
    a->reached_reported = s.reached;
    a->keepalive_reported = s.keepalive >= a->config.keepalive_budget && s.keepalive > 0;
    check_limits(*a);
  }
  return {};
}

}  // namespace bond
