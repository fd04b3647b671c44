#include "tquicd/link_policy.h"

#include <algorithm>

#include "mp/path_manager.h"

namespace bond {

LinkPlan plan_link(const LinkConfig& link, const InterfaceTable& interfaces, bool v6) {
  const char* family = v6 ? "IPv6" : "IPv4";
  if (link.source) {
    if (link.source->v6 != v6) return {std::nullopt, "source is not the server's family"};
    if (!interfaces.has_address(link.interface, *link.source)) {
      return {std::nullopt, "source " + link.source->to_string() + " not on a running interface"};
    }
    return {link.source, {}};
  }
  if (!interfaces.running(link.interface)) return {std::nullopt, "interface " + link.interface + " down"};
  auto a = interfaces.first_address(link.interface, v6);
  if (!a) return {std::nullopt, "interface " + link.interface + " has no " + family + " address"};
  return {a, {}};
}

std::vector<size_t> race_order(const std::vector<LinkConfig>& links) {
  std::vector<size_t> order;
  for (LinkRole role : {LinkRole::kPrimary, LinkRole::kSecondary, LinkRole::kBackup}) {
    for (size_t i = 0; i < links.size(); ++i) {
      if (links[i].role == role) order.push_back(i);
    }
  }
  return order;
}

uint64_t quota_margin(uint64_t quota_bytes, uint64_t cwnd_bytes) {
  uint64_t cap = std::max(kMinQuotaMargin, quota_bytes / 8);
  uint64_t want = cwnd_bytes > UINT64_MAX / 2 ? UINT64_MAX : 2 * cwnd_bytes;
  return std::clamp(want, kMinQuotaMargin, cap);
}

QuotaStage quota_stage(uint64_t quota_bytes, uint64_t remaining, uint64_t margin) {
  if (quota_bytes == 0) return QuotaStage::kOpen;
  if (remaining == 0) return QuotaStage::kStopped;
  return remaining <= margin ? QuotaStage::kDraining : QuotaStage::kOpen;
}

bool backup_path_wanted(const LinkConfig& link, bool others_work, bool keepalive_budget_left) {
  if (link.role != LinkRole::kBackup || !others_work) return true;
  return keepalive_budget_left;
}

quic::Duration keepalive_for_budget(uint64_t budget_bytes) {
  using Ms = std::chrono::milliseconds;
  auto ms_of = [](quic::Duration d) {
    return static_cast<uint64_t>(std::chrono::duration_cast<Ms>(d).count());
  };
  // 31 days in ms times 224 is about 6.0e11: no overflow.
  const uint64_t period_cost = ms_of(kKeepaliveBudgetPeriod) * kKeepaliveExchangeBytes;
  const uint64_t spendable = budget_bytes - budget_bytes / 8;
  if (spendable == 0) return kMaxBudgetKeepalive;  // cannot last: the close decides
  // Rounded up, so the budget lasts.
  const uint64_t ms = std::min(period_cost / spendable + (period_cost % spendable != 0),
                               ms_of(kMaxBudgetKeepalive));
  return std::max<quic::Duration>(Ms(static_cast<int64_t>(ms)), quic::mp::kMinPathKeepalive);
}

quic::Duration link_keepalive(const LinkConfig& link) {
  if (link.keepalive.count() != 0) return link.keepalive;
  if (link.role == LinkRole::kBackup) return keepalive_for_budget(link.keepalive_budget_bytes);
  return quic::Duration::zero();
}

}  // namespace bond
