// One bulk stream between two quic::Endpoints in memory (issue #16): the whole packet path of
// both sides (packet assembly, AEAD, frames, ACKs, loss detection, stream buffers) without the
// kernel, so that a change to it shows in a CPU figure undisturbed by the sockets' share and
// the machine's other load. The client uploads on one bidirectional stream, writing in place
// (stream_write_with) as `tquic perf` does; the server reads in place (stream_read_with) and
// acknowledges. Datagrams cross at once (virtual time, no network model), in GSO runs of up to
// 64 as io::EndpointDriver asks for them. bench/transfer_bench.cc times it.
#pragma once

#include <cstdint>

namespace harness {

struct BulkTransfer {
  uint64_t delivered = 0;       // stream bytes the server read
  bool fin = false;             // and the stream's end
  uint64_t datagrams_to_server = 0, datagrams_to_client = 0;
  size_t paths = 0;             // the client's paths at the end
};

struct BulkOptions {
  bool multipath = false;    // both sides offer draft-ietf-quic-multipath
  bool second_path = false;  // and the client opens a second path from another address
};

// Moves `bytes` from client to server; stops early (delivered < bytes) only if the transfer
// stalls, which a bound on the loop's turns catches.
BulkTransfer run_bulk_upload(uint64_t bytes, const BulkOptions& options = {});

}  // namespace harness
