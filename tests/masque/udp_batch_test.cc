// UdpSendBatch / UdpRecvBatch over real loopback sockets: datagram boundaries and order survive
// sendmmsg + GSO, failures are counted per datagram, the byte bound holds, and recvmmsg returns
// what is queued in slot-sized steps; with UDP_GRO a GSO burst arrives as one message and is
// split back into its datagrams.
#include "masque/udp_batch.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <vector>

namespace {

struct Sock {
  int fd = -1;
  uint16_t port = 0;
  Sock() {
    fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    int big = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
    socklen_t len = sizeof(a);
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
  }
  ~Sock() { close(fd); }
  void connect_to(uint16_t p) const {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(p);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  }
};

std::vector<uint8_t> payload(size_t size, uint8_t tag) {
  std::vector<uint8_t> p(size);
  for (size_t i = 0; i < size; ++i) p[i] = static_cast<uint8_t>(tag + i);
  return p;
}

// Everything waiting on `fd` (bounded: stops after 50 ms without a datagram).
std::vector<std::vector<uint8_t>> drain(int fd) {
  std::vector<std::vector<uint8_t>> out;
  std::vector<uint8_t> buf(70000);
  for (int idle = 0; idle < 5 && out.size() < 100000;) {
    ssize_t n = recv(fd, buf.data(), buf.size(), MSG_DONTWAIT);
    if (n < 0) {
      pollfd p{fd, POLLIN, 0};
      poll(&p, 1, 10);
      ++idle;
      continue;
    }
    out.emplace_back(buf.begin(), buf.begin() + n);
  }
  return out;
}

TEST(UdpSendBatch, KeepsBoundariesAndOrderAcrossSocketsAndGso) {
  Sock rx1, rx2, tx1, tx2;
  tx1.connect_to(rx1.port);
  tx2.connect_to(rx2.port);
  masque::UdpSendBatch batch;
  std::vector<std::vector<uint8_t>> want1, want2;
  // 30 equal datagrams then a shorter one (one GSO message where the kernel has GSO), then
  // mixed sizes, interleaved with another socket.
  for (int i = 0; i < 30; ++i) want1.push_back(payload(1200, static_cast<uint8_t>(i)));
  want1.push_back(payload(300, 99));
  for (const auto& p : want1) batch.add(tx1.fd, p);
  for (int i = 0; i < 10; ++i) {
    want2.push_back(payload(static_cast<size_t>(100 + 37 * i), static_cast<uint8_t>(i)));
    batch.add(tx2.fd, want2.back());
  }
  want1.push_back(payload(5000, 7));
  batch.add(tx1.fd, want1.back());
  EXPECT_FALSE(batch.empty());
  batch.flush();
  EXPECT_TRUE(batch.empty());
  EXPECT_EQ(batch.queued_bytes(), 0u);
  EXPECT_EQ(batch.totals().sent, want1.size() + want2.size());
  EXPECT_EQ(batch.totals().failed, 0u);
  // Three runs (tx1, tx2, tx1): at most one call each when everything fits.
  EXPECT_LE(batch.totals().syscalls, 3u);
  if (batch.gso()) {
    EXPECT_GE(batch.totals().gso_messages, 1u);
  }
  EXPECT_EQ(drain(rx1.fd), want1);
  EXPECT_EQ(drain(rx2.fd), want2);
}

TEST(UdpSendBatch, WithoutGsoSendsTheSameDatagrams) {
  Sock rx, tx;
  tx.connect_to(rx.port);
  masque::UdpSendBatch batch;
  batch.set_gso(false);
  std::vector<std::vector<uint8_t>> want;
  for (int i = 0; i < 20; ++i) want.push_back(payload(800, static_cast<uint8_t>(i)));
  for (const auto& p : want) batch.add(tx.fd, p);
  batch.flush();
  EXPECT_EQ(batch.totals().gso_messages, 0u);
  EXPECT_EQ(batch.totals().sent, want.size());
  EXPECT_EQ(drain(rx.fd), want);
}

TEST(UdpSendBatch, BoundsMemoryAndCountsEachFailure) {
  Sock rx, tx;
  tx.connect_to(rx.port);
  masque::UdpSendBatch batch;
  // More than the datagram and byte bounds: full batches go out as they fill.
  size_t n = masque::kSendBatchDatagrams * 3 + 5;
  for (size_t i = 0; i < n; ++i) {
    batch.add(tx.fd, payload(1400, static_cast<uint8_t>(i)));
    ASSERT_LE(batch.queued_bytes(), masque::kSendBatchBytes);
  }
  for (int i = 0; i < 3; ++i) {
    batch.add(tx.fd, payload(60000, 1));
    ASSERT_LE(batch.queued_bytes(), masque::kSendBatchBytes);
  }
  // Above the IPv4 UDP maximum: refused by the kernel, counted, the rest still sent.
  batch.add(tx.fd, payload(65520, 2));
  batch.add(tx.fd, payload(10, 3));
  // Above the batch's own bound: refused without a system call.
  batch.add(tx.fd, payload(masque::kSendBatchBytes + 1, 4));
  batch.flush();
  EXPECT_EQ(batch.totals().failed, 2u);
  EXPECT_EQ(batch.totals().sent, n + 4);
  auto got = drain(rx.fd);
  ASSERT_EQ(got.size(), n + 4);
  EXPECT_EQ(got.back(), payload(10, 3));
}

TEST(UdpRecvBatch, ReadsInSlotSizedStepsWithSourcesAndTruncation) {
  Sock rx, tx;
  tx.connect_to(rx.port);
  for (int i = 0; i < 40; ++i) {
    auto p = payload(i == 39 ? 600 : 100, static_cast<uint8_t>(i));
    ASSERT_EQ(send(tx.fd, p.data(), p.size(), 0), static_cast<ssize_t>(p.size()));
  }
  masque::UdpRecvBatch batch(16, 512);
  std::vector<int> counts;
  int got = 0;
  for (int round = 0; round < 10; ++round) {
    int r = batch.recv(rx.fd, 100);
    ASSERT_GE(r, 0);
    if (r == 0) break;
    counts.push_back(r);
    for (int i = 0; i < r; ++i) {
      const auto& d = batch[static_cast<size_t>(i)];
      auto* from = reinterpret_cast<const sockaddr_in*>(d.from);
      EXPECT_EQ(ntohs(from->sin_port), tx.port);
      if (got + i == 39) {
        EXPECT_TRUE(d.truncated);
        EXPECT_EQ(d.data.size(), 512u);
      } else {
        EXPECT_FALSE(d.truncated);
        EXPECT_EQ(d.data.size(), 100u);
        EXPECT_EQ(d.data[0], static_cast<uint8_t>(got + i));
      }
    }
    got += r;
  }
  EXPECT_EQ(got, 40);
  EXPECT_EQ(counts, (std::vector<int>{16, 16, 8}));
  EXPECT_EQ(batch.recv(rx.fd, 100), 0);  // nothing waiting: 0, not an error
  EXPECT_EQ(batch.recv(rx.fd, 0), 0);
}

// Reads every datagram waiting (bounded rounds), returning the payloads and the number of
// recv() calls that returned something.
std::vector<std::vector<uint8_t>> read_all(masque::UdpRecvBatch& batch, int fd, size_t max,
                                           int& calls) {
  std::vector<std::vector<uint8_t>> out;
  calls = 0;
  for (int idle = 0, round = 0; idle < 5 && round < 1000; ++round) {
    int r = batch.recv(fd, max);
    EXPECT_GE(r, 0);
    if (r <= 0) {
      pollfd p{fd, POLLIN, 0};
      poll(&p, 1, 10);
      ++idle;
      continue;
    }
    ++calls;
    for (int i = 0; i < r; ++i) {
      const auto& d = batch[static_cast<size_t>(i)];
      EXPECT_FALSE(d.truncated);
      out.emplace_back(d.data.begin(), d.data.end());
    }
  }
  return out;
}

TEST(UdpRecvBatch, GroMessagesAreSplitBackIntoTheirDatagrams) {
  Sock rx, tx;
  tx.connect_to(rx.port);
  if (!masque::enable_udp_gro(rx.fd)) GTEST_SKIP() << "this kernel has no UDP_GRO (Linux < 5.0)";
  // Two GSO bursts (40 x 1,200 + a 500-byte tail; 20 x 700) and single datagrams between them.
  std::vector<std::vector<uint8_t>> want;
  for (int i = 0; i < 40; ++i) want.push_back(payload(1200, static_cast<uint8_t>(i)));
  want.push_back(payload(500, 40));
  want.push_back(payload(64, 41));
  for (int i = 0; i < 20; ++i) want.push_back(payload(700, static_cast<uint8_t>(50 + i)));
  want.push_back(payload(0, 0));  // an empty datagram stays one (empty) datagram
  masque::UdpSendBatch batch;
  for (const auto& p : want) batch.add(tx.fd, p);
  batch.flush();
  ASSERT_EQ(batch.totals().sent, want.size());
  masque::UdpRecvBatch rb(4, masque::kMaxGsoBytes + 1);
  int calls = 0;
  auto got = read_all(rb, rx.fd, 1, calls);  // one message per call
  EXPECT_EQ(got, want);
  if (batch.totals().gso_messages > 0) {
    // Each GSO message came up as one GRO message: far fewer calls than datagrams.
    EXPECT_LE(calls, 6);
  }
}

TEST(UdpRecvBatch, WithoutGroAGsoBurstArrivesOneDatagramPerMessage) {
  Sock rx, tx;
  tx.connect_to(rx.port);
  std::vector<std::vector<uint8_t>> want;
  for (int i = 0; i < 10; ++i) want.push_back(payload(1000, static_cast<uint8_t>(i)));
  masque::UdpSendBatch batch;
  for (const auto& p : want) batch.add(tx.fd, p);
  batch.flush();
  masque::UdpRecvBatch rb(4, 2048);
  int calls = 0;
  EXPECT_EQ(read_all(rb, rx.fd, 1, calls), want);
  EXPECT_EQ(calls, 10);
}

TEST(UdpRecvBatch, ATruncatedGroMessageIsOneTruncatedEntry) {
  Sock rx, tx;
  tx.connect_to(rx.port);
  if (!masque::enable_udp_gro(rx.fd)) GTEST_SKIP() << "this kernel has no UDP_GRO (Linux < 5.0)";
  masque::UdpSendBatch batch;
  for (int i = 0; i < 10; ++i) batch.add(tx.fd, payload(200, static_cast<uint8_t>(i)));
  batch.flush();
  if (batch.totals().gso_messages == 0) GTEST_SKIP() << "no UDP GSO: nothing to coalesce";
  masque::UdpRecvBatch rb(2, 1000);  // smaller than the 2,000-byte GRO message
  int r = 0;
  for (int i = 0; i < 50 && r == 0; ++i) {
    r = rb.recv(rx.fd, 2);
    if (r == 0) {
      pollfd p{rx.fd, POLLIN, 0};
      poll(&p, 1, 10);
    }
  }
  ASSERT_EQ(r, 1);
  EXPECT_TRUE(rb[0].truncated);
  EXPECT_EQ(rb[0].data.size(), 1000u);
}

}  // namespace
