#include <algorithm>
#include <cctype>
#include <string>

#include "cc/bbr.h"
#include "cc/congestion_controller.h"
#include "cc/coupled_controller.h"
#include "cc/delay_bound.h"
#include "cc/cubic.h"
#include "cc/new_reno.h"

namespace quic {

namespace {
std::unique_ptr<CongestionController> make_unbounded(CcAlgorithm algorithm,
                                                     uint32_t max_datagram_size,
                                                     CoupledGroup* group) {
  switch (algorithm) {
    case CcAlgorithm::kNewReno:
      return std::make_unique<NewReno>(max_datagram_size);
    case CcAlgorithm::kCubic:
      return std::make_unique<Cubic>(max_datagram_size);
    case CcAlgorithm::kLia:
    case CcAlgorithm::kOlia:
    case CcAlgorithm::kBalia:
      return std::make_unique<CoupledController>(algorithm, max_datagram_size, group);
    case CcAlgorithm::kBbr:
      return std::make_unique<Bbr>(max_datagram_size);
  }
  return std::make_unique<NewReno>(max_datagram_size);
}
}  // namespace

std::unique_ptr<CongestionController> make_congestion_controller(CcAlgorithm algorithm,
                                                                 uint32_t max_datagram_size,
                                                                 CoupledGroup* group,
                                                                 bool delay_bound) {
  auto cc = make_unbounded(algorithm, max_datagram_size, group);
  if (!delay_bound) return cc;
  return std::make_unique<DelayBoundedController>(std::move(cc), max_datagram_size);
}

std::optional<CcAlgorithm> parse_cc_name(std::string_view name) {
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == "newreno" || lower == "reno") return CcAlgorithm::kNewReno;
  if (lower == "cubic") return CcAlgorithm::kCubic;
  if (lower == "lia") return CcAlgorithm::kLia;
  if (lower == "olia") return CcAlgorithm::kOlia;
  if (lower == "balia") return CcAlgorithm::kBalia;
  if (lower == "bbr") return CcAlgorithm::kBbr;
  return std::nullopt;
}

}  // namespace quic
