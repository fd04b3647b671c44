// NewReno as specified by RFC 9002 §7 and Appendix B.
#pragma once

#include "cc/window_controller.h"

namespace quic {

// RFC 9002 §7.3.2 / §B.1.
inline constexpr double kLossReductionFactor = 0.5;

class NewReno final : public WindowController {
 public:
  explicit NewReno(uint32_t max_datagram_size) : WindowController(max_datagram_size) {}
  const char* name() const override { return "newreno"; }

 protected:
  void grow_in_avoidance(Instant now, const SentPacket& packet, const RttEstimator& rtt) override;
  void reduce_window(Instant now) override;
  void on_window_collapsed() override { bytes_acked_ = 0; }

 private:
  uint64_t bytes_acked_ = 0;  // RFC 3465 §2.1 byte counting: one datagram per window acked
};

}  // namespace quic
