// The control socket on a real event loop: file mode 0600, every command through the tquicctl
// binary (tables, JSON, set, link, errors, monitor), garbage and over-long lines closed, the
// client limit, and peer credentials: a client running as another uid (a forked child that
// drops to nobody with setresuid) is refused and counted.
#include "tquicd/control_server.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <thread>

#include "status_fake.h"

namespace bond {
namespace {

using namespace std::chrono_literals;

struct ControlFixture : ::testing::Test {
  test::TestLoop loop;
  test::FakeBackend backend;
  std::string dir, path;
  std::unique_ptr<ControlServer> server;

  void SetUp() override {
    char tmpl[] = "/tmp/tquicctl-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir = tmpl;
    path = dir + "/control.sock";
    ASSERT_TRUE(loop.driver && loop.driver->ok());
    auto s = ControlServer::open(*loop.driver, backend, {path, geteuid(), 3});
    ASSERT_TRUE(s) << s.error();
    server = std::move(*s);
  }
  void TearDown() override {
    server.reset();
    rmdir(dir.c_str());
  }

  // Runs tquicctl with `args` in a child while the loop serves it; returns exit code + stdout.
  std::pair<int, std::string> ctl(const std::string& args) {
    std::string cmd = std::string(TQUICCTL_BINARY) + " -s " + path + " " + args + " 2>&1";
    std::atomic<bool> done{false};
    std::string out;
    int rc = -1;
    std::thread t([&] {
      FILE* f = popen(cmd.c_str(), "r");
      char buf[4096];
      size_t n;
      while (f && (n = fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
      rc = f ? pclose(f) : -1;
      done = true;
      loop.driver->wake();
    });
    loop.run([&] { return done.load(); }, 10);
    t.join();
    return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, out};
  }

  // A raw client: connect, send `data` (then half-close unless `shut` is false), read until
  // EOF (or 5 s) while the loop runs.
  std::string raw(const std::string& data, bool shut = true) {
    std::atomic<bool> done{false};
    std::string out;
    std::thread t([&] {
      out = exchange(path, data, shut);
      done = true;
      loop.driver->wake();
    });
    loop.run([&] { return done.load(); }, 10);
    t.join();
    return out;
  }

  static int connect_unix(const std::string& p) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    memcpy(a.sun_path, p.data(), p.size());
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      close(fd);
      return -1;
    }
    return fd;
  }

  static std::string exchange(const std::string& p, const std::string& data, bool shut) {
    int fd = connect_unix(p);
    if (fd < 0) return "connect failed: " + std::string(strerror(errno));
    (void)!send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (shut) shutdown(fd, SHUT_WR);
    std::string out;
    char buf[4096];
    for (int i = 0; i < 100; ++i) {
      pollfd pf{fd, POLLIN, 0};
      if (poll(&pf, 1, 5000) <= 0) break;
      ssize_t n = read(fd, buf, sizeof buf);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    close(fd);
    return out;
  }
};

TEST_F(ControlFixture, SocketIsOwnerOnly) {
  struct stat st;
  ASSERT_EQ(lstat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

// A server's status with hundreds of clients is far longer than one read: tquicctl must not
// take the head line plus the body's start for an over-long head (it did, at 100 clients).
TEST_F(ControlFixture, TquicctlReadsAReplyLongerThanOneRead) {
  for (int i = 0; i < 300; ++i) {
    backend.state.conns.push_back({"client" + std::to_string(i), "198.18.200." + std::to_string(i % 250),
                                   "198.18.10.2:40000", 2, 1000, 2000, 5000});
  }
  auto [rc, out] = ctl("conns --json");
  EXPECT_EQ(rc, 0) << out.substr(0, 200);
  EXPECT_GT(out.size(), 16384u);
  EXPECT_NE(out.find("\"client299\""), std::string::npos);
  EXPECT_EQ(out.back(), '\n');
}

TEST_F(ControlFixture, EveryCommandThroughTquicctl) {
  auto [rc, out] = ctl("status");
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(out.rfind("bond: bonded", 0), 0u) << out;
  EXPECT_NE(out.find("fibre"), std::string::npos);
  for (const char* view : {"links", "paths", "conns", "flows"}) {
    auto [r, o] = ctl(std::string(view) + " --json");
    EXPECT_EQ(r, 0) << view << o;
    EXPECT_EQ(o.rfind("{\"bond\":\"bonded\"", 0), 0u) << view << o;
    EXPECT_NE(o.find(std::string("\"") + view + "\":["), std::string::npos) << view << o;
  }
  auto set = ctl("set log.level debug");
  EXPECT_EQ(set, std::make_pair(0, std::string("log.level = debug\n")));
  auto bad_key = ctl("set no.such 1");
  EXPECT_EQ(bad_key.first, 1);
  EXPECT_EQ(bad_key.second, "tquicctl: unknown key 'no.such'\n");
  auto down = ctl("link down lte");
  EXPECT_EQ(down.first, 0);
  EXPECT_TRUE(backend.state.links[1].admin_down);
  EXPECT_NE(ctl("links").second.find("down*"), std::string::npos);
  EXPECT_EQ(ctl("link up lte").first, 0);
  EXPECT_FALSE(backend.state.links[1].admin_down);
  auto usage = ctl("frobnicate");
  EXPECT_EQ(usage.first, 2);
  EXPECT_NE(usage.second.find("usage:"), std::string::npos);
  EXPECT_EQ(server->accepted(), 10u);
  EXPECT_EQ(server->refused(), 0u);
}

TEST_F(ControlFixture, MonitorStreamsEvents) {
  std::string cmd = std::string(TQUICCTL_BINARY) + " -s " + path + " monitor --json";
  FILE* f = popen(cmd.c_str(), "r");
  ASSERT_NE(f, nullptr);
  int fd = fileno(f);
  fcntl(fd, F_SETFL, O_NONBLOCK);
  std::string out;
  auto drain = [&] {
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  };
  // Wait until the monitor has started (its opening bond line arrived), then log events.
  loop.run([&] {
    drain();
    return out.find('\n') != std::string::npos;
  }, 5);
  ASSERT_EQ(server->clients(), 1u);
  backend.log.add({0, 1500, EventKind::kFailover, "lte", "to fibre"});
  server->notify_events();
  backend.log.add({0, 1600, EventKind::kQuotaReached, "lte", "5000000 bytes"});
  server->notify_events();
  loop.run([&] {
    drain();
    return out.find("quota_reached") != std::string::npos;
  }, 5);
  EXPECT_EQ(out.rfind("{\"bond\":\"bonded\"", 0), 0u) << out;
  EXPECT_NE(out.find("\"event\":\"failover\",\"link\":\"lte\""), std::string::npos) << out;
  EXPECT_NE(out.find("\"event\":\"quota_reached\""), std::string::npos) << out;
  server.reset();  // closing the server ends the stream; tquicctl exits 0
  int rc = pclose(f);
  EXPECT_EQ(WEXITSTATUS(rc), 0);
}

TEST_F(ControlFixture, GarbageAndOverLongLinesClosed) {
  EXPECT_EQ(raw(std::string("\x80\x81garbage\n")), "error bad character in line\n");
  EXPECT_EQ(raw(std::string(64 * 1024, 'A')), "error line too long\n");
  // Served up to the bad line, which ends the session.
  std::string two = raw("status\nbogus\nstatus\n");
  EXPECT_EQ(two.substr(0, 3), "ok ");
  EXPECT_TRUE(two.ends_with("\nerror unknown command 'bogus'\n")) << two;
  EXPECT_EQ(two.find("ok ", 3), std::string::npos);
  EXPECT_EQ(server->clients(), 0u);
  // A request followed by EOF is still answered; an unfinished line is not.
  EXPECT_EQ(raw("paths"), "");
  EXPECT_EQ(raw("paths\n").substr(0, 3), "ok ");
}

TEST_F(ControlFixture, ClientLimit) {
  std::vector<int> held;
  for (int i = 0; i < 3; ++i) held.push_back(connect_unix(path));
  loop.run([&] { return server->clients() == 3; }, 5);
  ASSERT_EQ(server->clients(), 3u);
  EXPECT_EQ(raw("status\n"), "error too many clients\n");
  EXPECT_EQ(server->refused(), 1u);
  for (int fd : held) close(fd);
  loop.run([&] { return server->clients() == 0; }, 5);
  EXPECT_EQ(server->clients(), 0u);
  EXPECT_EQ(raw("status\n").substr(0, 3), "ok ");
}

TEST_F(ControlFixture, OtherUidRefused) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to run a client under another uid";
  constexpr uid_t kNobody = 65534;
  // 1. With the socket at 0600 the kernel itself refuses the connect (EACCES).
  // 2. Made world-writable (a misconfiguration), SO_PEERCRED still refuses the peer.
  for (bool open_mode : {false, true}) {
    if (open_mode) {
      ASSERT_EQ(chmod(path.c_str(), 0666), 0);
    }
    ASSERT_EQ(chmod(dir.c_str(), 0755), 0);
    int pipefd[2];
    ASSERT_EQ(pipe(pipefd), 0);
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(pipefd[0]);
      if (setresgid(kNobody, kNobody, kNobody) != 0 || setresuid(kNobody, kNobody, kNobody) != 0)
        _exit(3);
      std::string r = exchange(path, "status\n", true);
      (void)!write(pipefd[1], r.data(), r.size());
      _exit(0);
    }
    close(pipefd[1]);
    int status = 0;
    loop.run([&] { return waitpid(pid, &status, WNOHANG) == pid; }, 10);
    std::string reply;
    char buf[512];
    ssize_t n;
    while ((n = read(pipefd[0], buf, sizeof buf)) > 0) reply.append(buf, static_cast<size_t>(n));
    close(pipefd[0]);
    ASSERT_TRUE(WIFEXITED(status));
    ASSERT_EQ(WEXITSTATUS(status), 0) << "child could not drop to uid 65534";
    if (!open_mode) {
      EXPECT_EQ(reply, "connect failed: Permission denied");
      EXPECT_EQ(server->refused(), 0u);
    } else {
      EXPECT_EQ(reply, "error permission denied\n");
      EXPECT_EQ(server->refused(), 1u);
    }
  }
  EXPECT_EQ(server->accepted(), 0u);
  // Root is still served.
  EXPECT_EQ(raw("status\n").substr(0, 3), "ok ");
}

TEST_F(ControlFixture, IdleClientClosedMonitorKept) {
  server.reset();
  auto s = ControlServer::open(*loop.driver, backend, {path, geteuid(), 3, 200ms});
  ASSERT_TRUE(s) << s.error();
  server = std::move(*s);
  int idle = connect_unix(path);
  int monitor = connect_unix(path);
  ASSERT_EQ(send(monitor, "monitor\n", 8, MSG_NOSIGNAL), 8);
  loop.run([&] { return server->clients() == 2; }, 5);
  auto start = std::chrono::steady_clock::now();
  loop.run([&] { return server->timed_out() == 1; }, 5);
  EXPECT_EQ(server->timed_out(), 1u);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  loop.run([] { return false; }, 0.4);  // the monitor outlives the idle timeout
  EXPECT_EQ(server->clients(), 1u);
  char c;
  EXPECT_EQ(read(idle, &c, 1), 0);  // closed
  close(idle);
  close(monitor);
}

TEST(ControlServerOpen, RefusesNonSocketPathAndLongPath) {
  test::TestLoop loop;
  test::FakeBackend b;
  char tmpl[] = "/tmp/tquicctl-test-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string file = std::string(tmpl) + "/plain";
  close(open(file.c_str(), O_CREAT | O_WRONLY, 0600));
  auto r = ControlServer::open(*loop.driver, b, {file, 0, 1});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("not a socket"), std::string::npos);
  EXPECT_FALSE(ControlServer::open(*loop.driver, b, {"/" + std::string(200, 'x'), 0, 1}));
  unlink(file.c_str());
  rmdir(tmpl);
}

}  // namespace
}  // namespace bond
