// The state the per-path controllers of one connection share for coupled congestion control
// (LIA RFC 6356, OLIA draft-khalili-mptcp-congestion-control, BALIA
// draft-walid-mptcp-congestion-control). Each path's controller owns one CoupledPathState,
// joins the connection's group on creation and leaves it in its destructor; the group only
// reads the members' states to form the sums the coupled increase needs. Sans-I/O: the caller
// passes `now`, which decides which members still count (a path nobody acknowledges any more,
// e.g. a failed link, must not hold the others back).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "cc/congestion_controller.h"

namespace quic {

// A member without an acknowledgement for this many of its smoothed RTTs no longer counts in
// the sums: it is idle, backup, or its link is gone.
inline constexpr uint32_t kCoupledStaleRtts = 4;

struct CoupledPathState {
  uint64_t cwnd = 0;  // bytes
  Duration srtt{0};
  bool has_rtt = false;  // at least one ACK arrived (srtt is a measurement)
  Instant last_ack{};
  // OLIA (Khalili et al. §3): bytes acknowledged between the last two congestion events
  // (l1) and since the last one (l2).
  uint64_t bytes_between_losses = 0;
  uint64_t bytes_since_loss = 0;

  uint64_t inter_loss_bytes() const {
    return bytes_between_losses > bytes_since_loss ? bytes_between_losses : bytes_since_loss;
  }
};

class CoupledGroup {
 public:
  // The sums of RFC 6356 §3 (and BALIA's max rate), over the members that count. RTTs are
  // in seconds and windows in bytes.
  struct Sums {
    size_t paths = 0;
    uint64_t total_cwnd = 0;
    double max_cwnd_over_rtt2 = 0;  // max_i cwnd_i / rtt_i^2
    double sum_cwnd_over_rtt = 0;   // sum_i cwnd_i / rtt_i
    double max_cwnd_over_rtt = 0;   // max_i cwnd_i / rtt_i (BALIA's max x_k)
  };

  CoupledGroup() = default;
  CoupledGroup(const CoupledGroup&) = delete;
  CoupledGroup& operator=(const CoupledGroup&) = delete;

  // The group never owns a state; its owner must leave before destroying it. The number of
  // members is bounded by the connection's path limit (kMaxPathsLimit).
  void join(const CoupledPathState* state);
  void leave(const CoupledPathState* state);
  size_t size() const { return members_.size(); }

  // Whether `member` takes part in the sums at `now`; `self` always does.
  bool counts(const CoupledPathState& member, const CoupledPathState& self, Instant now) const;
  Sums sums(const CoupledPathState& self, Instant now) const;

  // OLIA's alpha_r for `self` (draft-khalili §3): with B the best paths (largest
  // l_r / rtt_r^2), M the paths with the largest window and |P| the number of paths,
  // 1/(|P|·|B\M|) on B\M, -1/(|P|·|M|) on M when B\M is not empty, 0 otherwise.
  double olia_alpha(const CoupledPathState& self, Instant now) const;
  // Test and diagnostics view of OLIA's sets.
  bool olia_in_best(const CoupledPathState& member, const CoupledPathState& self,
                    Instant now) const;
  bool olia_in_max_window(const CoupledPathState& member, const CoupledPathState& self,
                          Instant now) const;

 private:
  std::vector<const CoupledPathState*> members_;
};

// A group for the coupled algorithms, nullptr for the uncoupled ones.
std::unique_ptr<CoupledGroup> make_coupled_group_if_needed(CcAlgorithm algorithm);
bool is_coupled(CcAlgorithm algorithm);

}  // namespace quic
