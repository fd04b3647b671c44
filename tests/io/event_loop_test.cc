// The driver as an application's event loop: registered descriptors and their handlers
// (including handlers that unregister themselves and others mid-dispatch), application timers,
// deferred callbacks, a cross-thread wake, and sockets added and removed while it runs.
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "harness/transfer_app.h"
#include "io/clock.h"
#include "io/endpoint_driver.h"
#include "io/os_random.h"
#include "test_endpoint_config.h"

namespace io {
namespace {

using namespace std::chrono_literals;
using test::endpoint_config;

// A non-blocking pipe that closes what is still open when the test ends.
struct Pipe {
  int rd = -1, wr = -1;
  Pipe() {
    int fds[2];
    if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0) {
      rd = fds[0];
      wr = fds[1];
    }
  }
  ~Pipe() {
    if (rd >= 0) close(rd);
    if (wr >= 0) close(wr);
  }
  void put() { EXPECT_EQ(write(wr, "x", 1), 1); }
  void close_read() {
    close(rd);
    rd = -1;
  }
};

// A driver over one idle socket and a server endpoint with no connections: only the
// application's descriptors, timers and callbacks make anything happen.
struct Loop {
  std::unique_ptr<UdpSocket> socket;
  OsRandom random;
  quic::Endpoint endpoint{endpoint_config(true), random};
  std::unique_ptr<EndpointDriver> driver;
  Loop() {
    auto s = UdpSocket::open(*quic::SocketAddress::parse("127.0.0.1:0"));
    EXPECT_TRUE(s);
    if (s) socket = std::move(*s);
    driver = std::make_unique<EndpointDriver>(endpoint, std::vector<UdpSocket*>{socket.get()});
    EXPECT_TRUE(driver->ok());
  }
  bool run(const std::function<bool()>& done, quic::Duration limit = 5s) {
    auto r = driver->run_until(done, monotonic_now() + limit);
    EXPECT_TRUE(r.has_value());
    return r.value_or(false);
  }
};

TEST(EventLoop, HandlerFiresAndUnregistersItself) {
  Loop loop;
  Pipe p;
  // The handler's captures die when it unregisters itself; it must still be safe to finish.
  auto alive = std::make_shared<int>(0);
  std::weak_ptr<int> watch = alive;
  std::vector<uint32_t> seen;
  ASSERT_TRUE(loop.driver->register_fd(p.rd, kReadable,
                                       [&, alive](int fd, uint32_t ready) {
                                         seen.push_back(ready);
                                         char buf[8];
                                         EXPECT_EQ(read(fd, buf, sizeof(buf)), 1);
                                         EXPECT_TRUE(loop.driver->unregister_fd(fd));
                                         ++*alive;  // after unregistering: captures still valid
                                         p.close_read();
                                       }));
  alive.reset();
  p.put();
  EXPECT_TRUE(loop.run([&] { return !seen.empty(); }));
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0], kReadable);
  EXPECT_TRUE(watch.expired()) << "the unregistered handler was not destroyed";
  EXPECT_FALSE(loop.driver->unregister_fd(p.rd));
  EXPECT_EQ(loop.driver->stats().fd_events, 1u);
  // Nothing registered any more: the loop sleeps to its deadline.
  EXPECT_FALSE(loop.run([] { return false; }, 30ms));
  EXPECT_EQ(seen.size(), 1u);
}

// Both pipes are readable in one epoll batch. Whichever handler runs first unregisters and
// closes the other and registers a fresh pipe, which the kernel gives the closed fd's number:
// the event already collected for the old fd must reach neither the old handler nor the new.
TEST(EventLoop, HandlerUnregistersAnotherWithAnEventPending) {
  Loop loop;
  auto a = std::make_unique<Pipe>();
  auto b = std::make_unique<Pipe>();
  std::unique_ptr<Pipe> fresh;
  int first = -1, calls = 0, fresh_calls = 0;
  auto handler = [&](int fd, uint32_t) {
    ++calls;
    if (first >= 0) return;
    first = fd;
    std::unique_ptr<Pipe>& other = fd == a->rd ? b : a;
    int other_fd = other->rd;
    EXPECT_TRUE(loop.driver->unregister_fd(other_fd));
    other->close_read();
    fresh = std::make_unique<Pipe>();
    EXPECT_EQ(fresh->rd, other_fd);  // the lowest free number: the one just closed
    fresh->put();                     // readable at once: a stale event would look real
    EXPECT_TRUE(loop.driver->register_fd(fresh->rd, kReadable, [&](int f, uint32_t) {
      ++fresh_calls;
      char c;
      EXPECT_EQ(read(f, &c, 1), 1);
    }));
  };
  ASSERT_TRUE(loop.driver->register_fd(a->rd, kReadable, handler));
  ASSERT_TRUE(loop.driver->register_fd(b->rd, kReadable, handler));
  a->put();
  b->put();
  // One pass of dispatch: the first handler runs; the second event is stale.
  EXPECT_TRUE(loop.run([&] { return calls > 0; }));
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(fresh_calls, 0) << "the stale event reached the fd's new handler";
  // The next wait delivers the fresh pipe's own readiness (and the first pipe's, unread).
  EXPECT_TRUE(loop.run([&] { return fresh_calls > 0; }));
  EXPECT_EQ(fresh_calls, 1);
}

TEST(EventLoop, ModifyChangesInterestAndErrorsAreReported) {
  Loop loop;
  Pipe p;
  int writable = 0;
  ASSERT_TRUE(loop.driver->register_fd(p.wr, 0, [&](int fd, uint32_t ready) {
    EXPECT_EQ(ready & kWritable, kWritable);
    ++writable;
    EXPECT_TRUE(loop.driver->modify_fd(fd, 0));  // once is enough
  }));
  EXPECT_FALSE(loop.run([] { return false; }, 20ms));
  EXPECT_EQ(writable, 0) << "interest 0 must stay quiet";
  ASSERT_TRUE(loop.driver->modify_fd(p.wr, kWritable));
  EXPECT_TRUE(loop.run([&] { return writable > 0; }));
  EXPECT_FALSE(loop.run([] { return false; }, 20ms));
  EXPECT_EQ(writable, 1);

  auto twice = loop.driver->register_fd(p.wr, kReadable, [](int, uint32_t) {});
  ASSERT_FALSE(twice);
  EXPECT_NE(twice.error().reason.find("already registered"), std::string::npos);
  auto unknown = loop.driver->modify_fd(p.rd, kReadable);
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().reason.find("not registered"), std::string::npos);
  auto bad = loop.driver->register_fd(1000000, kReadable, [](int, uint32_t) {});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().reason.find("EBADF"), std::string::npos) << bad.error().reason;
  // A socket the driver already watches cannot be registered a second time.
  auto dup = loop.driver->register_fd(loop.socket->fd(), kReadable, [](int, uint32_t) {});
  ASSERT_FALSE(dup);
  EXPECT_NE(dup.error().reason.find("EEXIST"), std::string::npos) << dup.error().reason;
}

TEST(EventLoop, HangupIsReported) {
  Loop loop;
  Pipe p;
  uint32_t got = 0;
  ASSERT_TRUE(loop.driver->register_fd(p.rd, kReadable, [&](int fd, uint32_t ready) {
    got = ready;
    loop.driver->unregister_fd(fd);
  }));
  close(p.wr);
  p.wr = -1;
  EXPECT_TRUE(loop.run([&] { return got != 0; }));
  EXPECT_EQ(got & kHangup, kHangup);
}

TEST(EventLoop, TimersFireInOrderAndCancelled) {
  Loop loop;
  std::vector<int> fired;
  quic::Instant start = monotonic_now();
  auto t1 = loop.driver->add_timer(start + 20ms, [&](quic::Instant) { fired.push_back(20); });
  auto t2 = loop.driver->add_timer(start + 40ms, [&](quic::Instant) { fired.push_back(40); });
  loop.driver->add_timer(start + 10ms, [&](quic::Instant now) {
    fired.push_back(10);
    EXPECT_GE(now, start + 10ms);
    EXPECT_TRUE(loop.driver->cancel_timer(t2));
    // Re-arming from a handler: fires in a later pass, after the 20 ms one.
    loop.driver->add_timer(start + 30ms, [&](quic::Instant) { fired.push_back(30); });
  });
  EXPECT_TRUE(loop.run([&] { return fired.size() == 3; }));
  EXPECT_EQ(fired, (std::vector<int>{10, 20, 30}));
  EXPECT_GE(monotonic_now() - start, 30ms);
  EXPECT_FALSE(loop.driver->cancel_timer(t1));  // fired
  EXPECT_FALSE(loop.driver->cancel_timer(t2));  // cancelled
  EXPECT_FALSE(loop.run([] { return false; }, 50ms));
  EXPECT_EQ(fired.size(), 3u) << "the cancelled timer fired";
  EXPECT_EQ(loop.driver->stats().app_timers_fired, 3u);
  // Slept between timers rather than spinning.
  EXPECT_LT(loop.driver->stats().iterations, 20u);
}

TEST(EventLoop, DeferredRunsWithoutSleepingAndWakeCrossesThreads) {
  Loop loop;
  int hook_calls = 0, deferred_ran = 0;
  bool armed = false;
  loop.driver->set_app([&](quic::Endpoint&, quic::Instant) {
    ++hook_calls;
    if (armed) return;
    armed = true;
    // Deferred from the hook: runs in the next iteration, which must not wait for a deadline.
    loop.driver->defer([&] {
      ++deferred_ran;
      loop.driver->defer([&] { ++deferred_ran; });  // deferred again: one more iteration
    });
  });
  quic::Instant start = monotonic_now();
  EXPECT_TRUE(loop.run([&] { return deferred_ran == 2; }, 10s));
  EXPECT_LT(monotonic_now() - start, 1s);
  EXPECT_EQ(loop.driver->stats().wakeups, 0u);
  EXPECT_EQ(hook_calls, 3);

  // Another thread sets a flag and wakes the loop blocked in epoll_wait with no deadline near.
  std::atomic<bool> flag{false};
  std::thread other([&] {
    std::this_thread::sleep_for(30ms);
    flag = true;
    loop.driver->wake();
  });
  start = monotonic_now();
  EXPECT_TRUE(loop.run([&] { return flag.load(); }, 20s));
  other.join();
  EXPECT_LT(monotonic_now() - start, 5s);
}

// A server endpoint starts on socket A; a timer adds socket B while the loop runs; a client
// reaches the server through B (the replies must leave through B: its address is the path's
// local address). Then B is removed from the loop (and could be destroyed): a second client
// gets no answer and B is no longer read.
TEST(EventLoop, SocketAddedWhileRunningCarriesTrafficAndRemovedOneStops) {
  auto a = UdpSocket::open(*quic::SocketAddress::parse("127.0.0.1:0"));
  auto b = UdpSocket::open(*quic::SocketAddress::parse("127.0.0.1:0"));
  ASSERT_TRUE(a && b);
  OsRandom server_random;
  quic::Endpoint server_ep(endpoint_config(true), server_random);
  harness::TransferServer server_app;
  std::atomic<bool> stop{false}, added{false}, remove{false}, removed{false};
  std::thread server([&] {
    EndpointDriver d(server_ep, {a->get()});
    d.add_timer(monotonic_now() + 20ms, [&](quic::Instant) {
      EXPECT_TRUE(d.add_socket(b->get()));
      EXPECT_FALSE(d.add_socket(b->get())) << "added twice";
      added = true;
    });
    d.set_app([&](quic::Endpoint& e, quic::Instant now) {
      server_app.on_activity(e, now);
      if (remove && !removed) {
        d.remove_socket(b->get());
        removed = true;
      }
    });
    while (!stop) (void)d.run_until([&] { return stop.load(); }, monotonic_now() + 20ms);
  });
  auto client = [&](quic::Duration limit) {
    auto cs = UdpSocket::open(*quic::SocketAddress::parse("127.0.0.1:0"));
    EXPECT_TRUE(cs);
    OsRandom random;
    quic::Endpoint ep(endpoint_config(false), random);
    harness::TransferPlan plan;
    plan.sizes = {1 << 20};
    harness::TransferClient app((*cs)->local_address(), (*b)->local_address(), plan);
    EndpointDriver d(ep, {cs->get()});
    d.set_app([&](quic::Endpoint& e, quic::Instant now) { app.on_activity(e, now); });
    auto r = d.run_until([&] { return app.done(); }, monotonic_now() + limit);
    return r && *r && !app.failed() && app.bytes_received() == (1u << 20);
  };
  while (!added) std::this_thread::sleep_for(1ms);
  EXPECT_TRUE(client(60s)) << "no transfer through the added socket";

  remove = true;
  while (!removed) std::this_thread::sleep_for(1ms);
  // The server thread no longer touches B: its counters can be read here.
  EXPECT_GT((*b)->stats().datagrams_sent, 700u);  // 1 MiB left through B
  uint64_t received_at_removal = (*b)->stats().datagrams_received;
  EXPECT_FALSE(client(1500ms)) << "a removed socket still served a client";
  EXPECT_EQ((*b)->stats().datagrams_received, received_at_removal) << "B still read";
  stop = true;
  server.join();
  EXPECT_EQ((*a)->stats().datagrams_sent, 0u);
  EXPECT_EQ((*a)->stats().datagrams_received, 0u);
}

// A socket whose receive fails (its fd now names a pipe: ENOTSOCK) stops the loop with that
// error, or, with an error handler, is dropped from the loop while the loop goes on.
TEST(EventLoop, FailedSocketStopsTheLoopOrIsDroppedByTheHandler) {
  for (bool with_handler : {false, true}) {
    Loop loop;
    auto extra = UdpSocket::open(*quic::SocketAddress::parse("127.0.0.1:0"));
    ASSERT_TRUE(extra);
    ASSERT_TRUE(loop.driver->add_socket(extra->get()));
    Pipe p;
    ASSERT_EQ(dup2(p.rd, (*extra)->fd()), (*extra)->fd());
    std::vector<std::string> errors;
    if (with_handler) {
      loop.driver->set_socket_error_handler([&](UdpSocket& s, const quic::Error& e) {
        EXPECT_EQ(&s, extra->get());
        errors.push_back(e.reason);
      });
    }
    auto r = loop.driver->run_until([] { return false; }, monotonic_now() + 30ms);
    const std::string name = "recvmmsg on " + (*extra)->local_address().to_string();
    if (!with_handler) {
      ASSERT_FALSE(r);
      EXPECT_NE(r.error().reason.find(name), std::string::npos) << r.error().reason;
      EXPECT_NE(r.error().reason.find("ENOTSOCK"), std::string::npos) << r.error().reason;
      EXPECT_EQ(loop.driver->socket_count(), 2u);
    } else {
      ASSERT_TRUE(r) << r.error().reason;
      EXPECT_FALSE(*r);
      ASSERT_EQ(errors.size(), 1u);
      EXPECT_NE(errors[0].find(name), std::string::npos) << errors[0];
      EXPECT_EQ(loop.driver->socket_count(), 1u);
    }
  }
}

// Transmits whose local address no socket has are dropped and counted, even with no socket.
TEST(EventLoop, TransmitsWithoutASocketAreCountedAndDropped) {
  for (bool with_socket : {true, false}) {
    auto s = UdpSocket::open(*quic::SocketAddress::parse("127.0.0.1:0"));
    ASSERT_TRUE(s);
    OsRandom random;
    quic::Endpoint ep(endpoint_config(false), random);
    std::vector<UdpSocket*> sockets;
    if (with_socket) sockets.push_back(s->get());
    EndpointDriver d(ep, sockets);
    ASSERT_TRUE(d.ok());
    // The connection's local address is port 9 of 127.0.0.1, where no socket of ours is.
    auto local = *quic::SocketAddress::parse("127.0.0.1:9");
    auto remote = *quic::SocketAddress::parse("127.0.0.1:4433");
    ASSERT_TRUE(ep.connect(local, remote, monotonic_now()));
    EXPECT_FALSE(*d.run_until([] { return false; }, monotonic_now() + 30ms));
    EXPECT_GE(d.stats().unrouted, 1u);
    EXPECT_EQ(d.stats().unrouted, d.stats().transmits);
    EXPECT_EQ((*s)->stats().datagrams_sent, 0u);
  }
}

}  // namespace
}  // namespace io
