// The server's NAT and MSS clamping (docs/tquicd.md "NAT and MSS clamping"): one nftables
// table of tquicd's own, `inet tquicd`, that masquerades the pools' addresses out of the
// uplink and clamps the MSS of TCP SYNs crossing the tunnel to the route's MTU. The rule text
// is built here (tested as text) and handed to `nft -f -`; on exit the table is deleted, which
// removes every rule tquicd made and nothing else.
#pragma once

#include <expected>
#include <string>
#include <vector>

#include "tquicd/config.h"

namespace bond {

inline constexpr std::string_view kNftTable = "inet tquicd";
// Bound on what `nft` may print (its stderr, read for the log): a chatty failure is cut.
inline constexpr size_t kMaxNftOutput = 4096;

// The ruleset for the pools, the tunnel device and the uplink ("" = every interface but the
// tunnel). It first creates and deletes the table, so applying it replaces an older one left
// by a crash. Refuses interface names that would need quoting beyond nft's "..." strings.
std::expected<std::string, std::string> nft_ruleset(const std::vector<IpPrefix>& pools,
                                                    const std::string& tunnel,
                                                    const std::string& uplink);
// The text that removes the table.
std::string nft_teardown();

// Runs `nft -f -` with `text` on its standard input; the error names nft's exit and output.
std::expected<void, std::string> nft_apply(const std::string& text);

}  // namespace bond
