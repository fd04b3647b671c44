// Fuzzes the packet header parsers: parse_header, coalesced iteration, Version Negotiation and
// Retry. Every view handed back must lie inside the input, and builders must reproduce what the
// parsers accepted.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "wire/packet.h"

namespace {

using quic::Bytes;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "packet_header fuzz invariant broken: %s\n", what);
    std::abort();
  }
}

bool inside(Bytes view, Bytes in) {
  if (view.empty()) return true;
  return view.data() >= in.data() && view.data() + view.size() <= in.data() + in.size();
}

void check_header(const quic::PacketHeader& h, Bytes in) {
  check(h.packet_size <= in.size(), "packet_size beyond input");
  check(h.pn_offset <= h.packet_size, "pn_offset beyond packet");
  check(inside(h.dcid_raw, in) && inside(h.scid_raw, in) && inside(h.token, in), "view outside");
  check(h.dcid.len <= quic::kMaxCidLength && h.scid.len <= quic::kMaxCidLength, "cid length");
  if (h.long_header && h.has_packet_number()) check(h.pn_offset + h.length == h.packet_size, "Length mismatch");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Bytes in(data, size);
  for (size_t cid_len : {size_t{0}, size_t{8}, quic::kMaxCidLength}) {
    if (auto h = quic::parse_header(in, cid_len)) check_header(*h, in);

    quic::CoalescedPackets it(in, cid_len);
    size_t total = 0;
    while (auto p = it.next()) {
      check(p->offset == total, "packets not contiguous");
      check(inside(p->bytes, in) && p->bytes.size() == p->header.packet_size, "packet view");
      check_header(p->header, p->bytes);
      total += p->bytes.size();
    }
    check(it.count() <= quic::kMaxCoalescedPackets, "too many packets");
    check(total + it.dropped_bytes() == size, "bytes lost in iteration");
  }

  if (auto vn = quic::parse_version_negotiation(in, quic::kVersion1)) {
    check(inside(vn->dcid, in) && inside(vn->scid, in), "VN view outside");
    check(!vn->versions.empty() && vn->versions.size() <= quic::kMaxVnVersions, "VN count");
    size_t listed = (size - 7 - vn->dcid.size() - vn->scid.size()) / 4;
    if (listed == vn->versions.size() && (data[0] & 0x40)) {
      std::vector<uint8_t> out(size);
      size_t n = quic::build_version_negotiation(out, vn->dcid, vn->scid, vn->versions, data[0]);
      check(n == size && std::memcmp(out.data(), data, size) == 0, "VN rebuild differs");
    }
  }

  if (auto r = quic::parse_retry(in)) {
    check(r->tag.size() == quic::kRetryTagLength, "tag size");
    check(r->without_tag.size() + r->tag.size() == size, "Retry split");
    check(inside(r->token, in) && !r->token.empty(), "Retry token");
    if (data[0] & 0x40) {
      std::vector<uint8_t> out(size);
      size_t n = quic::write_retry(out, r->version, r->dcid, r->scid, r->token, data[0]);
      check(n == r->without_tag.size() && std::memcmp(out.data(), data, n) == 0,
            "Retry rebuild differs");
    }
  }
  return 0;
}
