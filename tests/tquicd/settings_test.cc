// The shipped client example mapped onto the data-path components' settings.
#include <gtest/gtest.h>

#include <fstream>

#include "tquicd/settings.h"

namespace bond {
namespace {

using namespace std::chrono_literals;

Config example_client() {
  std::ifstream in(std::string(TQUICD_EXAMPLES_DIR) + "/tquicd-client.toml");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto c = parse_config(text, "tquicd-client.toml", "/etc/tquic", [](const std::string&, FileKind) {
    return std::string();
  });
  EXPECT_TRUE(c);
  return c ? *c : Config{};
}

TEST(TquicdSettings, ComponentsGetTheConfiguredValues) {
  Config c = example_client();
  ReorderLimits r = reorder_limits(c);
  EXPECT_EQ(r.max_hold, 300ms);
  EXPECT_EQ(r.max_packets, 4096u);
  EXPECT_EQ(r.max_bytes, size_t{4} << 20);
  IngressLimits i = ingress_limits(c);
  EXPECT_EQ(i.target, 5ms);
  EXPECT_EQ(i.interval, 100ms);
  EXPECT_EQ(i.max_bytes, size_t{2} << 20);
  FlowPolicy f = flow_policy(c);
  EXPECT_EQ(f.interactive_ports, (std::vector<uint16_t>{22, 53, 123, 3478}));
  EXPECT_EQ(f.small_packet_bytes, 256u);
  EXPECT_EQ(f.max_flows, 65536u);
  auto q = quota_links(c);
  ASSERT_EQ(q.size(), 3u);
  EXPECT_EQ(q[2].name, "lte");
  EXPECT_EQ(q[2].quota_bytes, 20'000'000'000u);
  EXPECT_EQ(q[2].reset_day, 15u);
  EXPECT_EQ(q[2].keepalive_budget, 5'000'000u);
  EXPECT_EQ(q[0].keepalive_budget, 0u);  // a primary link has no keepalive budget
  EXPECT_EQ(quota_state_path(c), "/var/lib/tquicd/quota.state");
}

}  // namespace
}  // namespace bond
