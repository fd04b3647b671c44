// SO_BINDTODEVICE and SO_MARK in SocketOptions: applied and read back, and every failure is an
// open() error naming the option and the errno.
#include <linux/capability.h>
#include <net/if.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include <gtest/gtest.h>

#include "io/udp_socket.h"

namespace io {
namespace {

quic::Result<std::unique_ptr<UdpSocket>> open_with(const SocketOptions& o) {
  return UdpSocket::open(*quic::SocketAddress::parse("127.0.0.1:0"), o);
}

bool contains(const std::string& text, const char* part) {
  return text.find(part) != std::string::npos;
}

// The capability bits of this thread (effective set, first 32 capabilities).
uint32_t effective_caps() {
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (syscall(SYS_capget, &hdr, data) != 0) return 0;
  return data[0].effective;
}

bool has_cap(int cap) {
  return (effective_caps() >> cap) & 1u;
}

TEST(SocketOptions, BindToDeviceLoopbackCarriesTraffic) {
  SocketOptions o;
  o.bind_device = "lo";
  auto bound = open_with(o);
  ASSERT_TRUE(bound) << bound.error().reason;
  char name[IFNAMSIZ] = {};
  socklen_t len = sizeof(name);
  ASSERT_EQ(getsockopt((*bound)->fd(), SOL_SOCKET, SO_BINDTODEVICE, name, &len), 0);
  EXPECT_STREQ(name, "lo");
  // Traffic over lo still flows both ways.
  auto peer = open_with({});
  ASSERT_TRUE(peer);
  const uint8_t payload[3] = {1, 2, 3};
  SendMessage m{(*peer)->local_address(), (*bound)->local_address(), 0, quic::Bytes(payload, 3)};
  ASSERT_EQ(*(*peer)->send(std::span(&m, 1)), 1u);
  std::vector<RecvDatagram> rx;
  for (int i = 0; i < 100 && rx.empty(); ++i) {
    ASSERT_TRUE((*bound)->recv(rx));
    if (rx.empty()) usleep(1000);
  }
  ASSERT_EQ(rx.size(), 1u);
  EXPECT_EQ(rx[0].data.size(), 3u);
  EXPECT_EQ(rx[0].remote, (*peer)->local_address());
}

TEST(SocketOptions, BindToMissingDeviceFailsWithErrno) {
  SocketOptions o;
  o.bind_device = "tquic-none0";
  auto r = open_with(o);
  ASSERT_FALSE(r);
  EXPECT_TRUE(contains(r.error().reason, "SO_BINDTODEVICE \"tquic-none0\"")) << r.error().reason;
  EXPECT_TRUE(contains(r.error().reason, "ENODEV")) << r.error().reason;

  o.bind_device = std::string(kMaxInterfaceName + 1, 'x');
  r = open_with(o);
  ASSERT_FALSE(r);
  EXPECT_TRUE(contains(r.error().reason, "not an interface name")) << r.error().reason;
  o.bind_device = std::string("lo\0x", 4);
  r = open_with(o);
  ASSERT_FALSE(r);
  EXPECT_TRUE(contains(r.error().reason, "not an interface name")) << r.error().reason;
}

// With CAP_NET_ADMIN (root) the mark is set and reads back; without it (and CAP_NET_RAW, which
// the kernel also accepts) open() fails with EPERM.
TEST(SocketOptions, MarkIsSetOrRefusedWithEperm) {
  SocketOptions o;
  o.mark = 0x5eed;
  auto r = open_with(o);
  if (has_cap(CAP_NET_ADMIN) || has_cap(CAP_NET_RAW)) {
    ASSERT_TRUE(r) << r.error().reason;
    uint32_t mark = 0;
    socklen_t len = sizeof(mark);
    ASSERT_EQ(getsockopt((*r)->fd(), SOL_SOCKET, SO_MARK, &mark, &len), 0);
    EXPECT_EQ(mark, 0x5eedu);
  } else {
    ASSERT_FALSE(r);
    EXPECT_TRUE(contains(r.error().reason, "EPERM")) << r.error().reason;
  }
}

// The error path, also when the test runs as root: a child process drops both capabilities
// from its effective set and must get EPERM with the option and the needed capability named.
TEST(SocketOptions, MarkWithoutCapabilityReportsEperm) {
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2]{};
    if (syscall(SYS_capget, &hdr, data) != 0) _exit(10);
    data[0].effective &= ~((1u << CAP_NET_ADMIN) | (1u << CAP_NET_RAW));
    if (syscall(SYS_capset, &hdr, data) != 0) _exit(11);
    SocketOptions o;
    o.mark = 7;
    auto r = open_with(o);
    if (r) _exit(12);  // the mark was set without the capability
    const std::string& why = r.error().reason;
    bool named = contains(why, "SO_MARK 7") && contains(why, "EPERM") &&
                 contains(why, "CAP_NET_ADMIN") && contains(why, "Operation not permitted");
    _exit(named ? 0 : 13);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "10/11: capget/capset, 12: no error, 13: wrong message";
}

TEST(SocketOptions, ErrnoMessageNamesTheError) {
  EXPECT_EQ(errno_message("bind 1.2.3.4:5", EADDRINUSE),
            std::string("bind 1.2.3.4:5: ") + std::strerror(EADDRINUSE) + " (EADDRINUSE)");
  EXPECT_TRUE(contains(errno_message("x", 100000), "(errno 100000)"));
}

}  // namespace
}  // namespace io
