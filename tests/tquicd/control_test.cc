// The control protocol, sans-I/O: every command parsed, every kind of bad line refused with an
// error reply that ends the session, over-long lines bounded, replies framed, monitor streaming.
#include "tquicd/control.h"

#include <gtest/gtest.h>

#include "status_fake.h"

namespace bond {
namespace {

TEST(ControlParse, EveryCommand) {
  struct Case {
    const char* line;
    ControlCommand cmd;
    StatusView view;
    bool json;
  };
  for (const Case& c : std::initializer_list<Case>{
           {"status", ControlCommand::kView, StatusView::kStatus, false},
           {"links --json", ControlCommand::kView, StatusView::kLinks, true},
           {"  paths\t", ControlCommand::kView, StatusView::kPaths, false},
           {"conns\r", ControlCommand::kView, StatusView::kConns, false},
           {"flows --json", ControlCommand::kView, StatusView::kFlows, true},
           {"monitor", ControlCommand::kMonitor, StatusView::kStatus, false},
           {"monitor --json", ControlCommand::kMonitor, StatusView::kStatus, true}}) {
    auto r = parse_control_line(c.line);
    ASSERT_TRUE(r) << c.line << ": " << r.error();
    EXPECT_EQ(r->command, c.cmd) << c.line;
    EXPECT_EQ(r->view, c.view) << c.line;
    EXPECT_EQ(r->json, c.json) << c.line;
  }
  auto set = parse_control_line("set log.level debug");
  ASSERT_TRUE(set);
  EXPECT_EQ(set->command, ControlCommand::kSet);
  EXPECT_EQ(set->key, "log.level");
  EXPECT_EQ(set->value, "debug");
  auto down = parse_control_line("link down lte");
  ASSERT_TRUE(down);
  EXPECT_EQ(down->command, ControlCommand::kLink);
  EXPECT_FALSE(down->up);
  EXPECT_EQ(down->key, "lte");
  EXPECT_TRUE(parse_control_line("link up lte")->up);
}

TEST(ControlParse, BadLines) {
  for (std::string_view bad : std::initializer_list<std::string_view>{
           "", "   ", "bogus", "status --xml", "status --json extra", "set onlykey", "set a b c",
           "link sideways lte", "link up", "monitor now", "a b c d e",
           std::string_view("status\0", 7),
           "st\x01"
           "atus",
           "status \xff", "\x7f"}) {
    auto r = parse_control_line(bad);
    EXPECT_FALSE(r) << "accepted: " << bad;
  }
  EXPECT_FALSE(parse_control_line(std::string(kMaxControlLine, 'a')));
  EXPECT_EQ(parse_control_line("bogus").error(), "unknown command 'bogus'");
}

// Splits "ok N\n<body>" into its body; fails the test on anything else.
std::string body_of(std::string_view out) {
  size_t nl = out.find('\n');
  EXPECT_NE(nl, std::string_view::npos);
  std::string head(out.substr(0, nl));
  EXPECT_EQ(head.rfind("ok ", 0), 0u) << head;
  size_t n = std::stoul(head.substr(3));
  EXPECT_EQ(out.size(), nl + 1 + n);
  return std::string(out.substr(nl + 1));
}

TEST(ControlSession, ViewsAreFramedAndShowTheBond) {
  test::FakeBackend b;
  ControlSession s(b);
  s.on_input("links\n");
  std::string body = body_of(s.output());
  EXPECT_EQ(body.rfind("bond: bonded", 0), 0u) << body;
  EXPECT_NE(body.find("lte"), std::string::npos);
  EXPECT_FALSE(s.closing());
  s.consume(s.output().size());
  // Two requests in one read, split across reads.
  s.on_input("status --js");
  EXPECT_TRUE(s.output().empty());
  s.on_input("on\nconns\n");
  EXPECT_NE(s.output().find("{\"bond\":\"bonded\""), std::string::npos);
  EXPECT_NE(s.output().find("CLIENT"), std::string::npos);
  s.on_eof();
  EXPECT_TRUE(s.closing());
}

TEST(ControlSession, SetAndLinkGoToTheBackend) {
  test::FakeBackend b;
  ControlSession s(b);
  s.on_input("set log.level debug\nlink down lte\n");
  EXPECT_EQ(b.calls, (std::vector<std::string>{"set log.level debug", "link down lte"}));
  EXPECT_TRUE(b.state.links[1].admin_down);
  EXPECT_EQ(s.output(), "ok 18\nlog.level = debug\nok 9\nlte down\n");
  ControlSession bad(b);
  bad.on_input("link up nosuch\nstatus\n");
  EXPECT_EQ(bad.output(), "error no link 'nosuch'\n");  // the status after it is not served
  EXPECT_TRUE(bad.closing());
}

TEST(ControlSession, GarbageGetsErrorAndClose) {
  test::FakeBackend b;
  ControlSession s(b);
  s.on_input(std::string_view("\x16\x03\x01\x02\x00\n", 6));  // a TLS ClientHello's start
  EXPECT_EQ(s.output(), "error bad character in line\n");
  EXPECT_TRUE(s.closing());
  s.on_input("status\n");  // ignored once closing
  EXPECT_EQ(s.output(), "error bad character in line\n");
}

TEST(ControlSession, OverLongLineRefusedWithoutBufferingIt) {
  test::FakeBackend b;
  ControlSession s(b);
  std::string chunk(1000, 'a');
  for (int i = 0; i < 4; ++i) s.on_input(chunk);
  EXPECT_FALSE(s.closing());  // 4000 bytes, still under the limit
  s.on_input(std::string(200, 'a'));
  EXPECT_EQ(s.output(), "error line too long\n");
  EXPECT_TRUE(s.closing());
  // The longest allowed line (4095 bytes and '\n') is parsed (and refused as unknown).
  ControlSession edge(b);
  edge.on_input(std::string(kMaxControlLine - 1, 'x') + "\n");
  EXPECT_EQ(edge.output().rfind("error unknown command", 0), 0u);
  // One megabyte in a single read: refused at once.
  ControlSession big(b);
  big.on_input(std::string(1 << 20, 'z'));
  EXPECT_EQ(big.output(), "error line too long\n");
}

TEST(ControlSession, MonitorStreamsEventsAndReportsMissed) {
  test::FakeBackend b;
  b.log.add({0, 1, EventKind::kLinkUp, "fibre", ""});  // before monitor: not streamed
  ControlSession s(b);
  s.on_input("monitor\n");
  ASSERT_TRUE(s.monitoring());
  EXPECT_EQ(s.output().rfind("ok monitor\nbond: bonded", 0), 0u);
  s.consume(s.output().size());
  s.pump_events();
  EXPECT_TRUE(s.output().empty());
  b.log.add({0, 5250, EventKind::kFailover, "lte", "to fibre"});
  s.pump_events();
  EXPECT_EQ(s.output(), "#2 +5.250s failover lte: to fibre\n");
  s.consume(s.output().size());
  for (int i = 0; i < 20; ++i) b.log.add({0, 0, EventKind::kQuotaReached, "lte", ""});  // ring 16
  s.pump_events();
  EXPECT_EQ(s.output().rfind("missed 4 events\n#7 ", 0), 0u) << s.output();
  s.on_input("anything");  // a monitor takes no requests
  EXPECT_TRUE(s.closing());
}

TEST(ControlSession, MonitorJson) {
  test::FakeBackend b;
  ControlSession s(b);
  s.on_input("monitor --json\n");
  s.consume(s.output().size());
  b.log.add({0, 7, EventKind::kQuotaReached, "lte", "5000000 bytes"});
  s.pump_events();
  EXPECT_EQ(s.output(),
            "{\"seq\":1,\"time_ms\":7,\"event\":\"quota_reached\",\"link\":\"lte\","
            "\"detail\":\"5000000 bytes\"}\n");
}

TEST(ControlSession, SlowMonitorCutOff) {
  test::FakeBackend b;
  b.log = EventLog(4096);
  ControlSession s(b);
  s.on_input("monitor\n");
  std::string detail(400, 'd');
  bool closed = false;
  for (int round = 0; round < 100 && !closed; ++round) {
    for (int i = 0; i < 256; ++i) b.log.add({0, 0, EventKind::kPathUp, "fibre", detail});
    s.pump_events();  // never consumed: the reader is stuck
    EXPECT_LE(s.output().size(), kMaxControlOutput + 64);
    closed = s.closing();
  }
  EXPECT_TRUE(closed);
  EXPECT_EQ(s.output(), "error monitor output overflow\n");
}

}  // namespace
}  // namespace bond
