// The text form of a relay link profile (docs/emu.md):
//   --link IP=KEY=VALUE[,KEY=VALUE...]      e.g. 127.0.0.2=rate=50mbit,delay=10ms,loss=1%
//   --default-link KEY=VALUE[,...]          for client addresses without their own --link
//   --down IP@START-END                     e.g. 127.0.0.2@5s-8s: the link is dark in between
// A KEY applies to both directions; "up." (client to server) or "down." (server to client) in
// front of it applies it to one. Keys map onto sim::LinkConfig, so a profile means the same in
// the simulator and through the relay. Errors name the offending text.
#pragma once

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>
#include <vector>

#include "common/address.h"
#include "sim/link_config.h"

namespace emu {

template <typename T>
using Parsed = std::expected<T, std::string>;

// Bounds on what a profile may ask for; each one keeps the relay's memory or timers sane.
inline constexpr double kMaxRateBps = 1e12;                      // 1 Tbit/s
inline constexpr quic::Duration kMaxDelay = std::chrono::seconds(60);  // delay, jitter, reorder
inline constexpr size_t kMaxQueueBytes = size_t{256} << 20;     // per direction
inline constexpr size_t kMaxHeaderBytes = 1024;
inline constexpr int kMaxBurst = 1000;
inline constexpr size_t kMaxSpecLength = 4096;
inline constexpr size_t kMaxBlackholeWindows = 64;  // --down windows in all
inline constexpr quic::Duration kMaxScheduleTime = std::chrono::hours(24);  // --down END

// A profile for both directions. up = client to server, down = server to client.
struct LinkProfile {
  sim::LinkConfig up, down;
  bool queue_set[2] = {false, false};  // queue= given (else sized from rate and delay)
};

// The relay's neutral starting point: no rate limit, no delay, no impairment, 28 bytes of
// IPv4+UDP header counted against the rate.
LinkProfile transparent_profile();

// Applies "KEY=VALUE[,KEY=VALUE...]" to `base`.
Parsed<LinkProfile> parse_profile(std::string_view text, LinkProfile base);

struct LinkArg {
  quic::SocketAddress ip;  // port 0
  LinkProfile profile;
};
// "IP=KEY=VALUE,..." (IPv6 as "[::1]=..." or "::1=...").
Parsed<LinkArg> parse_link_arg(std::string_view text, const LinkProfile& base);

struct DownArg {
  quic::SocketAddress ip;
  quic::Duration start, end;
};
// "IP@START-END", e.g. "127.0.0.2@5s-8s" (END > START; times from the relay's start).
Parsed<DownArg> parse_down_arg(std::string_view text);

// Value parsers (exposed for tests): "50mbit", "10ms", "64k" / "40p", "0.01" / "1%".
Parsed<double> parse_rate(std::string_view v);
// At most `max` (kMaxDelay for link delays, kMaxScheduleTime for --down windows).
Parsed<quic::Duration> parse_duration(std::string_view v, quic::Duration max = kMaxDelay);
Parsed<size_t> parse_bytes(std::string_view v);
Parsed<double> parse_probability(std::string_view v);
// An IP without port: "127.0.0.2", "::1", "[::1]".
Parsed<quic::SocketAddress> parse_ip(std::string_view v);

// When queue= was not given: one bandwidth-delay product (rate x 2 x delay) of the direction,
// at least 16 full-size packets, so a single flow can fill the link.
void size_default_queues(LinkProfile& p);

// "rate=50mbit delay=10ms queue=125000B loss=0.01 ..." for the relay's start-up banner.
std::string describe(const sim::LinkConfig& c);

}  // namespace emu
