// The metrics/dashboard HTTP server: the request parser's limits and refusals, and the server
// on a real loop: a scrape parsed back, /api/status, the dashboard page, garbage → 400 and
// close, an over-long head → 431, a non-GET → 405, a slow client cut off by the timeout, and
// the connection limit.
#include "tquicd/metrics_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "status_fake.h"
#include "tquicd/dashboard.h"

namespace bond {
namespace {

using namespace std::chrono_literals;

TEST(HttpParse, ValidRequests) {
  auto r = parse_http_request("GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n");
  ASSERT_EQ(r.state, HttpParseState::kDone);
  EXPECT_EQ(r.request.method, "GET");
  EXPECT_EQ(r.request.path, "/metrics");
  auto q = parse_http_request("HEAD /api/events?after=5 HTTP/1.0\n\n");  // bare LF accepted
  ASSERT_EQ(q.state, HttpParseState::kDone);
  EXPECT_EQ(q.request.query, "after=5");
  EXPECT_EQ(parse_http_request("GET / HTTP/1.1\r\nContent-Length: 0\r\n\r\n").state,
            HttpParseState::kDone);
}

TEST(HttpParse, IncompleteUntilTheEmptyLine) {
  std::string req = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  for (size_t n = 0; n < req.size(); ++n)
    EXPECT_EQ(parse_http_request(req.substr(0, n)).state, HttpParseState::kIncomplete) << n;
}

TEST(HttpParse, Refusals) {
  for (std::string_view bad : std::initializer_list<std::string_view>{
           std::string_view("\x16\x03\x01\x00\xa5\x01\n", 7), "GET\r\n\r\n", "GET /\r\n\r\n",
           "GET / HTTP/2.0\r\n\r\n", "GET  / HTTP/1.1\r\n\r\n", "GET http://x/ HTTP/1.1\r\n\r\n",
           "G(T / HTTP/1.1\r\n\r\n", "GET /a\x01 HTTP/1.1\r\n\r\n",
           "GET / HTTP/1.1\r\nNoColon\r\n\r\n", "GET / HTTP/1.1\r\nBad Name: x\r\n\r\n",
           "GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n",
           "GET / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello",
           "GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
           "GET / HTTP/1.1\r\nA: \x7f\r\n\r\n", "\r\nGET / HTTP/1.1\r\n\r\n"})
    EXPECT_EQ(parse_http_request(bad).state, HttpParseState::kBad) << bad;
  EXPECT_EQ(parse_http_request("POST /metrics HTTP/1.1\r\n\r\n").state,
            HttpParseState::kNotAllowed);
}

TEST(HttpParse, Limits) {
  std::string big = "GET / HTTP/1.1\r\nX: " + std::string(kMaxHttpHead, 'a');
  EXPECT_EQ(parse_http_request(big).state, HttpParseState::kTooLarge);
  EXPECT_EQ(parse_http_request("GET /" + std::string(kMaxHttpHead, 'a')).state,
            HttpParseState::kTooLarge);
  std::string many = "GET / HTTP/1.1\r\n";
  for (size_t i = 0; i <= kMaxHttpFields; ++i) many += "A: b\r\n";
  EXPECT_EQ(parse_http_request(many + "\r\n").state, HttpParseState::kTooLarge);
  // Exactly at the limit is fine.
  std::string head = "GET / HTTP/1.1\r\nX: ";
  head += std::string(kMaxHttpHead - head.size() - 4, 'a') + "\r\n\r\n";
  ASSERT_EQ(head.size(), kMaxHttpHead);
  EXPECT_EQ(parse_http_request(head).state, HttpParseState::kDone);
}

struct MetricsFixture : ::testing::Test {
  test::TestLoop loop;
  test::FakeBackend backend;
  std::unique_ptr<MetricsServer> server;

  void SetUp() override {
    ASSERT_TRUE(loop.driver && loop.driver->ok());
    MetricsServerOptions o;
    o.listen = quic::SocketAddress::v4(127, 0, 0, 1, 0);
    o.max_clients = 4;
    o.request_timeout = 300ms;
    auto s = MetricsServer::open(
        *loop.driver,
        [this](const HttpRequest& r) { return dashboard_route(r, backend.state, backend.log); }, o);
    ASSERT_TRUE(s) << s.error();
    server = std::move(*s);
  }

  int connect_tcp() {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(server->local_address().port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      close(fd);
      return -1;
    }
    return fd;
  }

  // Sends `chunks` (pausing `gap` between them) and reads to EOF, the loop serving meanwhile.
  std::string exchange(std::vector<std::string> chunks, std::chrono::milliseconds gap = 0ms) {
    std::atomic<bool> done{false};
    std::string out;
    std::thread t([&] {
      int fd = connect_tcp();
      for (const auto& c : chunks) {
        (void)!send(fd, c.data(), c.size(), MSG_NOSIGNAL);
        std::this_thread::sleep_for(gap);
      }
      char buf[16384];
      for (int i = 0; i < 1000; ++i) {
        pollfd pf{fd, POLLIN, 0};
        if (poll(&pf, 1, 3000) <= 0) break;
        ssize_t n = read(fd, buf, sizeof buf);
        if (n <= 0) break;
        out.append(buf, static_cast<size_t>(n));
      }
      close(fd);
      done = true;
      loop.driver->wake();
    });
    loop.run([&] { return done.load(); }, 10);
    t.join();
    return out;
  }

  static std::string body(const std::string& resp) {
    size_t p = resp.find("\r\n\r\n");
    return p == std::string::npos ? "" : resp.substr(p + 4);
  }
};

TEST_F(MetricsFixture, ScrapeAndApi) {
  std::string m = exchange({"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"});
  ASSERT_EQ(m.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << m;
  EXPECT_NE(m.find("Content-Type: text/plain; version=0.0.4"), std::string::npos);
  std::string b = body(m);
  EXPECT_NE(m.find("Content-Length: " + std::to_string(b.size()) + "\r\n"), std::string::npos);
  EXPECT_NE(b.find("tquicd_bond_state{state=\"bonded\"} 1\n"), std::string::npos) << b;
  EXPECT_NE(b.find("tquicd_link_rtt_seconds{link=\"lte\"} 0.050000000000000003\n"),
            std::string::npos);
  backend.state = test::fake_status(9);
  std::string j = body(exchange({"GET /api/status HTTP/1.1\r\n\r\n"}));
  EXPECT_EQ(j.rfind("{\"bond\":\"degraded\"", 0), 0u) << j;
  backend.log.add({0, 1, EventKind::kFailover, "lte", ""});
  backend.log.add({0, 2, EventKind::kPathDown, "lte", ""});
  std::string e = body(exchange({"GET /api/events?after=1 HTTP/1.1\r\n\r\n"}));
  EXPECT_EQ(e, R"([{"seq":2,"time_ms":2,"event":"path_down","link":"lte","detail":""}])");
  std::string page = exchange({"GET / HTTP/1.1\r\n\r\n"});
  EXPECT_NE(page.find("text/html"), std::string::npos);
  EXPECT_NE(page.find("chart-throughput"), std::string::npos);
  EXPECT_EQ(page.find("<script src"), std::string::npos);  // nothing loaded from elsewhere
  EXPECT_EQ(exchange({"GET /nope HTTP/1.1\r\n\r\n"}).rfind("HTTP/1.1 404", 0), 0u);
  std::string head = exchange({"HEAD /metrics HTTP/1.1\r\n\r\n"});
  EXPECT_EQ(body(head), "");
  EXPECT_EQ(server->stats().served, 6u);
}

TEST_F(MetricsFixture, BadRequestsAnsweredAndClosed) {
  EXPECT_EQ(exchange({std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\r\n\r\n", 13)})
                .rfind("HTTP/1.1 400 ", 0),
            0u);
  EXPECT_EQ(exchange({"hello there\n"}).rfind("HTTP/1.1 400 ", 0), 0u);
  // Garbage followed by more bytes than we read still gets its 400 (half-close, drain).
  EXPECT_EQ(exchange({"BAD\r\n", std::string(100'000, 'x')}).rfind("HTTP/1.1 400 ", 0), 0u);
  EXPECT_EQ(
      exchange({"GET / HTTP/1.1\r\nX: " + std::string(20'000, 'a')}).rfind("HTTP/1.1 431 ", 0), 0u);
  std::string post = exchange({"POST /metrics HTTP/1.1\r\n\r\n"});
  EXPECT_EQ(post.rfind("HTTP/1.1 405 ", 0), 0u);
  EXPECT_NE(post.find("Allow: GET, HEAD\r\n"), std::string::npos);
  EXPECT_EQ(server->stats().bad_requests, 5u);
  loop.run([&] { return server->clients() == 0; }, 5);  // the last client's EOF seen
  EXPECT_EQ(server->clients(), 0u);
}

TEST_F(MetricsFixture, SlowClientTimedOut) {
  // A byte every 100 ms never completes the head; the 300 ms deadline ends it with 408.
  auto start = std::chrono::steady_clock::now();
  std::string r = exchange({"G", "E", "T", " ", "/", " "}, 100ms);
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.rfind("HTTP/1.1 408 ", 0), 0u) << r;
  EXPECT_EQ(server->stats().timed_out, 1u);
  EXPECT_LT(took, 2s);
  // A client that connects and sends nothing is cut off too.
  EXPECT_EQ(exchange({}).rfind("HTTP/1.1 408 ", 0), 0u);
  EXPECT_EQ(server->stats().timed_out, 2u);
}

TEST_F(MetricsFixture, ConnectionLimit) {
  std::vector<int> held;
  for (int i = 0; i < 4; ++i) held.push_back(connect_tcp());
  loop.run([&] { return server->clients() == 4; }, 5);
  ASSERT_EQ(server->clients(), 4u);
  EXPECT_EQ(exchange({"GET /metrics HTTP/1.1\r\n\r\n"}), "");  // closed on accept
  EXPECT_EQ(server->stats().refused, 1u);
  for (int fd : held) close(fd);
  loop.run([&] { return server->clients() == 0; }, 5);
  EXPECT_EQ(exchange({"GET /metrics HTTP/1.1\r\n\r\n"}).rfind("HTTP/1.1 200", 0), 0u);
}

}  // namespace
}  // namespace bond
