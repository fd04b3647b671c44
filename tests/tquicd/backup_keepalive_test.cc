// A backup link's keepalives on the wire, through a connection pair on tquicd's figures (30 s
// idle timeout, the connection-wide 1 s keepalive on both ends): the client PINGs the backup
// path at the interval its budget gives (link_keepalive), the server spaces its own PINGs on the
// path the client marked backup (space_peer_backup_keepalives), and every packet on the idle
// path fits the 64 bytes of QUIC the budget's arithmetic counts (link_policy.h).
#include <gtest/gtest.h>

#include "core/config.h"
#include "support/pair.h"
#include "tquicd/backup_keepalive.h"
#include "tquicd/link_policy.h"

namespace bond {
namespace {

using namespace std::chrono_literals;
using ::test::Dir;
using ::test::Pair;
using ::test::PairConfig;
using ::test::Verdict;

const quic::SocketAddress kBackupAddr = quic::SocketAddress::v4(192, 0, 2, 11, 50001);

PairConfig tquicd_pair() {
  PairConfig c;
  c.client.connection.multipath = c.server.connection.multipath = true;
  c.client.connection.idle_timeout = c.server.connection.idle_timeout = 30s;
  c.net.extra_client_addrs = {kBackupAddr};
  c.net.to_server = c.net.to_client = ::test::NetConfig::instant_link(5ms);
  return c;
}

// What crossed the backup path in either direction during `d` of virtual time.
struct Wire {
  size_t to_server = 0, to_client = 0;
  size_t largest = 0;    // the largest UDP payload
  uint64_t on_wire = 0;  // payloads plus 48 bytes of IPv6 and UDP headers each
};

Wire watch_backup(Pair& p, quic::Duration d) {
  Wire w;
  p.intercept = [&w](Dir dir, sim::Datagram& dg, quic::Instant) {
    bool backup = dir == Dir::kToServer ? dg.src == kBackupAddr : dg.dst == kBackupAddr;
    if (!backup) return Verdict::kPass;
    ++(dir == Dir::kToServer ? w.to_server : w.to_client);
    w.largest = std::max(w.largest, dg.payload.size());
    w.on_wire += dg.payload.size() + kKeepaliveIpUdpBytes;
    return Verdict::kPass;
  };
  p.run_for(d);
  p.intercept = nullptr;
  return w;
}

LinkConfig backup_link(uint64_t budget) {
  LinkConfig l;
  l.name = "lte";
  l.role = LinkRole::kBackup;
  l.keepalive_budget_bytes = budget;
  return l;
}

TEST(BackupKeepaliveWire, BothEndsSpacedAndEachPacketWithinTheBudgetsFigure) {
  Pair p(tquicd_pair());
  ASSERT_TRUE(p.handshake());
  ASSERT_TRUE(p.settle(100ms));
  ASSERT_TRUE(p.client()->add_path(kBackupAddr, p.server()->path().local, true).has_value());
  ASSERT_TRUE(p.drive_until([&] {
    const quic::Path* s = p.server()->find_path(1);
    return s != nullptr && s->role.peer_backup() && p.client()->find_path(1) != nullptr &&
           p.client()->find_path(1)->usable();
  }));
  // The client's side: 100 MB per period gives 6.857 s.
  const uint64_t budget = 100'000'000;
  const quic::Duration client_every = link_keepalive(backup_link(budget));
  ASSERT_EQ(client_every, 6857ms);
  ASSERT_TRUE(p.client()->set_path_keepalive(1, client_every));
  p.run_for(10s);  // the validation's traffic is over
  // Without the server's spacing, the server PINGs the idle backup every second.
  Wire before = watch_backup(p, 30s);
  EXPECT_GE(before.to_client, 29u);
  // The server's side: the path its peer marked backup gets the longest interval, in force
  // uncapped because the client's other path keeps the connection alive at 1 s.
  EXPECT_EQ(space_peer_backup_keepalives(*p.server()), 0u);
  EXPECT_EQ(p.server()->path_keepalive(1), kPeerBackupKeepalive);
  EXPECT_EQ(p.server()->path_keepalive(0), 1s);
  EXPECT_EQ(space_peer_backup_keepalives(*p.server()), 0u);  // again: nothing changes
  EXPECT_EQ(p.server()->path_keepalive(1), kPeerBackupKeepalive);
  p.run_for(2s);  // the PING the server had scheduled at 1 s is answered
  const quic::Duration window = 120s;
  Wire after = watch_backup(p, window);
  // 120 s: the client's PINGs every 6.857 s (17 or 18), each answered by one ACK; the server's
  // own PINGs are deferred by the client's, so it sends nothing else.
  const size_t exchanges = 18;
  EXPECT_GE(after.to_server, 17u);
  EXPECT_LE(after.to_server, exchanges);
  EXPECT_LE(after.to_client, exchanges);
  // What the arithmetic assumes: each packet at most 64 bytes of QUIC (about 50 here, with
  // 8-byte connection IDs), one exchange 224 bytes with headers; and the budget lasts: the
  // window's bytes, over a 31-day period, fit in 7/8 of it.
  EXPECT_LE(after.largest, kKeepalivePacketBytes);
  EXPECT_LE(after.on_wire, exchanges * kKeepaliveExchangeBytes);
  EXPECT_LE(after.on_wire * static_cast<uint64_t>(kKeepaliveBudgetPeriod / window),
            budget - budget / 8);
  EXPECT_FALSE(p.client()->is_closed());
  // The client makes the path available again (its primary failed): the server goes back to
  // the connection-wide interval.
  ASSERT_TRUE(p.client()->set_path_backup(1, false).has_value());
  ASSERT_TRUE(p.drive_until([&] { return !p.server()->find_path(1)->role.peer_backup(); }));
  EXPECT_EQ(space_peer_backup_keepalives(*p.server()), 0u);
  EXPECT_EQ(p.server()->path_keepalive(1), 1s);
}

}  // namespace
}  // namespace bond
