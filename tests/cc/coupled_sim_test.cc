// LIA, OLIA and BALIA on the issue #6 multipath scenarios in virtual time: every byte arrives
// and the goodput share stays within reach of the uncoupled figures (docs/cc.md).
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "harness/mp_scenario.h"

namespace harness {
namespace {

using namespace std::chrono_literals;

MpResult run(const char* name, quic::CcAlgorithm cc) {
  auto s = named_mp_scenario(name);
  EXPECT_TRUE(s.has_value());
  if (!s) return {};
  s->cc = cc;
  MpResult r = run_mp_scenario(*s);
  std::printf("%s cc=%d: ok=%d goodput=%.1f Mbit/s share=%.1f%% stall=%.0f ms\n", name,
              static_cast<int>(cc), r.ok, r.goodput_bps / 1e6, 100 * r.share,
              std::chrono::duration<double, std::milli>(r.stall).count());
  for (const auto& p : r.paths) {
    std::printf("  path %lu: %lu stream bytes, %lu lost%s\n", static_cast<unsigned long>(p.id),
                static_cast<unsigned long>(p.stream_bytes),
                static_cast<unsigned long>(p.packets_lost), p.failed ? " failed" : "");
  }
  EXPECT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.bytes, s->bytes);  // byte-exact, verified against the pattern
  return r;
}

class CoupledScenario : public ::testing::TestWithParam<quic::CcAlgorithm> {};

// BALIA's loss response keeps only a quarter of the slower path's window (alpha_r >= 1.5),
// and the window then grows back at a coupled NewReno pace: it leaves more of the second link
// unused than LIA and OLIA do (docs/cc.md has the figures).
TEST_P(CoupledScenario, AggregationTwoLinksCompletesUsingBoth) {
  MpResult r = run("aggregation-a", GetParam());
  ASSERT_EQ(r.paths.size(), 2u);
  for (const auto& p : r.paths) EXPECT_GT(p.stream_bytes, 8u << 20) << "path " << p.id;
  EXPECT_GE(r.share, GetParam() == quic::CcAlgorithm::kBalia ? 0.75 : 0.90);
}

TEST_P(CoupledScenario, FailoverCompletesByteExact) {
  MpResult r = run("failover", GetParam());
  ASSERT_EQ(r.paths.size(), 2u);
  EXPECT_TRUE(r.paths[0].failed);
  EXPECT_GT(r.reinjected_packets, 0u);
  EXPECT_LE(r.stall, GetParam() == quic::CcAlgorithm::kBalia ? 700ms : 200ms);
}

std::string cc_label(const ::testing::TestParamInfo<quic::CcAlgorithm>& p) {
  switch (p.param) {
    case quic::CcAlgorithm::kOlia:
      return "Olia";
    case quic::CcAlgorithm::kBalia:
      return "Balia";
    default:
      return "Lia";
  }
}

INSTANTIATE_TEST_SUITE_P(Coupled, CoupledScenario,
                         ::testing::Values(quic::CcAlgorithm::kLia, quic::CcAlgorithm::kOlia,
                                           quic::CcAlgorithm::kBalia),
                         cc_label);

}  // namespace
}  // namespace harness
