#include "cc/coupled.h"

#include <algorithm>

namespace quic {

namespace {

// OLIA's path quality (Khalili et al. §3): l_r / rtt_r^2, the square of the rate a TCP with
// loss probability 1/l_r would reach, up to a constant.
double olia_quality(const CoupledPathState& s) {
  double rtt = rtt_seconds(s.srtt);
  return static_cast<double>(s.inter_loss_bytes()) / (rtt * rtt);
}

}  // namespace

void CoupledGroup::join(const CoupledPathState* state) {
  if (std::find(members_.begin(), members_.end(), state) == members_.end()) {
    members_.push_back(state);
  }
}

void CoupledGroup::leave(const CoupledPathState* state) {
  std::erase(members_, state);
}

bool CoupledGroup::counts(const CoupledPathState& member, const CoupledPathState& self,
                          Instant now) const {
  if (&member == &self) return true;
  if (!member.has_rtt) return false;
  Duration idle = now > member.last_ack ? now - member.last_ack : Duration(0);
  return idle <= std::max(member.srtt, Duration(1ms)) * kCoupledStaleRtts;
}

CoupledGroup::Sums CoupledGroup::sums(const CoupledPathState& self, Instant now) const {
  Sums s;
  auto add = [&](const CoupledPathState& m) {
    double rtt = rtt_seconds(m.srtt);
    double w = static_cast<double>(m.cwnd);
    ++s.paths;
    s.total_cwnd += m.cwnd;
    s.max_cwnd_over_rtt2 = std::max(s.max_cwnd_over_rtt2, w / (rtt * rtt));
    s.sum_cwnd_over_rtt += w / rtt;
    s.max_cwnd_over_rtt = std::max(s.max_cwnd_over_rtt, w / rtt);
  };
  bool self_listed = false;
  for (const CoupledPathState* m : members_) {
    self_listed |= m == &self;
    if (counts(*m, self, now)) add(*m);
  }
  if (!self_listed) add(self);
  return s;
}

bool CoupledGroup::olia_in_best(const CoupledPathState& member, const CoupledPathState& self,
                                Instant now) const {
  double best = olia_quality(self);
  for (const CoupledPathState* m : members_) {
    if (counts(*m, self, now)) best = std::max(best, olia_quality(*m));
  }
  return olia_quality(member) >= best;
}

bool CoupledGroup::olia_in_max_window(const CoupledPathState& member, const CoupledPathState& self,
                                      Instant now) const {
  uint64_t largest = self.cwnd;
  for (const CoupledPathState* m : members_) {
    if (counts(*m, self, now)) largest = std::max(largest, m->cwnd);
  }
  return member.cwnd >= largest;
}

double CoupledGroup::olia_alpha(const CoupledPathState& self, Instant now) const {
  std::vector<const CoupledPathState*> paths;
  for (const CoupledPathState* m : members_) {
    if (counts(*m, self, now)) paths.push_back(m);
  }
  if (std::find(paths.begin(), paths.end(), &self) == paths.end()) paths.push_back(&self);
  size_t collected = 0, max_window = 0;  // |B \ M| and |M|
  bool self_collected = false, self_max = false;
  for (const CoupledPathState* m : paths) {
    bool in_max = olia_in_max_window(*m, self, now);
    bool in_collected = !in_max && olia_in_best(*m, self, now);
    max_window += in_max;
    collected += in_collected;
    if (m == &self) {
      self_collected = in_collected;
      self_max = in_max;
    }
  }
  if (collected == 0) return 0;
  double n = static_cast<double>(paths.size());
  if (self_collected) return 1.0 / (n * static_cast<double>(collected));
  if (self_max) return -1.0 / (n * static_cast<double>(max_window));
  return 0;
}

bool is_coupled(CcAlgorithm algorithm) {
  return algorithm == CcAlgorithm::kLia || algorithm == CcAlgorithm::kOlia ||
         algorithm == CcAlgorithm::kBalia;
}

std::unique_ptr<CoupledGroup> make_coupled_group_if_needed(CcAlgorithm algorithm) {
  if (!is_coupled(algorithm)) return nullptr;
  return std::make_unique<CoupledGroup>();
}

}  // namespace quic
