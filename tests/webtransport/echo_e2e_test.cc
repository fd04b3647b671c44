// `tquic serve --webtransport-echo` as a real process on 127.0.0.1, driven by a client built on
// the public API only (tquic::wt::WebTransport over io::Driver and a UDP socket): a session,
// a 300 KB bidi stream echoed byte-exact, a uni stream echoed on a server uni stream, datagrams
// echoed, a close whose code and reason the server logs, and a path other than PATH refused
// with 404. The server presents a minted certificate given with --cert/--key, which the client
// trusts as its CA.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <set>

#include "support/child_process.h"
#include "tls/cert_mint.h"
#include "tquic/tquic.h"

namespace {

using tquic::wt::EventKind;

std::span<const uint8_t> as_bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

struct Server {
  test_support::Child child;
  std::string log;
  uint16_t port = 0;
  ~Server() {
    if (child.pid > 0) {
      kill(child.pid, SIGTERM);
      test_support::wait_for(child.pid, std::chrono::seconds(10));
    }
    if (child.out >= 0) close(child.out);
  }
};

TEST(WebTransportEcho, ServeEchoesStreamsAndDatagramsToAnApiClient) {
  char tmpl[] = "/tmp/tquic_wt_echo_XXXXXX";
  std::string dir = mkdtemp(tmpl);
  auto cert = quic::mint_hash_certificate("localhost", std::time(nullptr), 24 * 3600 * 2);
  ASSERT_TRUE(cert);
  std::ofstream(dir + "/cert.pem") << cert->cert_pem;
  std::ofstream(dir + "/key.pem") << cert->key_pem;
  Server srv;
  srv.child = test_support::spawn(
      {TQUIC_BINARY, "serve", dir, "--listen", "127.0.0.1:0", "--cert", dir + "/cert.pem", "--key",
       dir + "/key.pem", "--webtransport-echo", "/echo"},
      true);
  std::string addr = test_support::read_line_with(srv.child.out, "listening on ", srv.log);
  ASSERT_FALSE(addr.empty()) << srv.log;
  auto remote = tquic::Address::parse(addr);
  ASSERT_TRUE(remote);

  tquic::EndpointOptions o;
  o.tls.alpn = {"h3"};
  o.tls.ca_pem = cert->cert_pem;
  o.tls.server_name = "localhost";
  tquic::wt::configure(o.connection);
  auto ep = tquic::Endpoint::create(o);
  ASSERT_TRUE(ep);
  auto sock = tquic::io::UdpSocket::open(*tquic::Address::parse("127.0.0.1:0"));
  ASSERT_TRUE(sock);
  auto driver = tquic::io::Driver::create(*ep, {&*sock});
  ASSERT_TRUE(driver);
  auto conn = ep->connect(sock->local_address(), *remote, tquic::io::monotonic_now());
  ASSERT_TRUE(conn);
  auto wt = tquic::wt::WebTransport::create(*conn, tquic::wt::Role::client);
  ASSERT_TRUE(wt);

  std::string big(300 * 1024, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 31 + 7);
  std::optional<uint64_t> sid, lost, bidi, uni;
  size_t sent = 0;
  std::map<uint64_t, std::string> got;
  std::set<uint64_t> fins;
  std::set<std::string> dgrams;
  std::optional<uint64_t> rejected_status;
  auto pump_big = [&] {
    while (bidi && sent < big.size()) {
      auto n = wt->write(*bidi, as_bytes(big).subspan(sent), true);
      if (!n) break;
      sent += *n;
    }
  };
  driver->set_app([&](tquic::Endpoint&, tquic::Instant now) {
    wt->drive(now);
    while (auto e = wt->poll_event()) {
      if (e->kind == EventKind::ready) {
        sid = *wt->connect("localhost", "/echo", "https://localhost");
        lost = *wt->connect("localhost", "/elsewhere", "https://localhost");
      } else if (e->kind == EventKind::session_established && e->session_id == *sid) {
        bidi = *wt->open_stream(*sid, true);
        uni = *wt->open_stream(*sid, false);
        ASSERT_TRUE(wt->write(*uni, as_bytes("uni payload"), true));
        for (int i = 0; i < 5; ++i) {
          ASSERT_TRUE(wt->send_datagram(*sid, as_bytes("dgram " + std::to_string(i))));
        }
      } else if (e->kind == EventKind::session_rejected) {
        rejected_status = e->code;
      } else if (e->kind == EventKind::stream_readable) {
        uint8_t buf[16384];
        for (;;) {
          auto r = wt->read(e->stream_id, buf);
          if (!r) break;
          got[e->stream_id].append(reinterpret_cast<char*>(buf), r->bytes);
          if (r->fin) fins.insert(e->stream_id);
        }
      } else if (e->kind == EventKind::datagram) {
        uint8_t buf[256];
        while (auto n = wt->recv_datagram(e->session_id, buf)) {
          dgrams.emplace(reinterpret_cast<char*>(buf), *n);
        }
      }
    }
    pump_big();
    wt->drive(now);
  });
  auto deadline = tquic::io::monotonic_now() + std::chrono::seconds(15);
  auto done = driver->run_until(
      [&] { return fins.size() == 2 && dgrams.size() >= 3 && rejected_status; }, deadline);
  ASSERT_TRUE(done && *done) << "fins " << fins.size() << " datagrams " << dgrams.size();
  EXPECT_EQ(*rejected_status, 404u);
  EXPECT_EQ(wt->version(), tquic::wt::Version::draft15);
  EXPECT_EQ(got[*bidi], big);
  for (uint64_t id : fins) {
    if (id != *bidi) {
      EXPECT_EQ(got[id], "uni payload");
    }
  }
  ASSERT_TRUE(wt->close_session(*sid, 77, "e2e done"));
  wt->drive(tquic::io::monotonic_now());
  (void)driver->run_until([] { return false; },
                          tquic::io::monotonic_now() + std::chrono::milliseconds(300));
  kill(srv.child.pid, SIGTERM);
  srv.log += test_support::read_all(srv.child.out);
  EXPECT_NE(srv.log.find("\"CONNECT /echo\" webtransport accepted"), std::string::npos) << srv.log;
  EXPECT_NE(srv.log.find("\"CONNECT /elsewhere\" webtransport 404"), std::string::npos);
  EXPECT_NE(srv.log.find("closed: code 77 \"e2e done\""), std::string::npos) << srv.log;
  std::string rm = "rm -rf " + dir;
  (void)std::system(rm.c_str());
}

}  // namespace
