// A response body fed into a stream a bounded amount per application-hook call. The servers'
// hook runs before the driver sends, so a hook that copied a big file up to the stream's send
// buffer (16 MiB) would hold back everything queued with it — among them HANDSHAKE_DONE, which
// RFC 9001 §4.1.2 wants sent as soon as the handshake completes — and stall every other
// connection on the event loop. With at most kMaxBodyBytesPerActivity read per stream per
// call, what was queued leaves, its ACKs wake the hook, and the next slice follows.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>

#include "core/stream_buffers.h"

namespace apps {

inline constexpr size_t kMaxBodyBytesPerActivity = 256 * 1024;
// The unit the HTTP tools read and write bodies in (files, stream reads).
inline constexpr size_t kChunk = 64 * 1024;

enum class PumpStatus : uint8_t {
  kMore,        // send room or the budget ran out: call again on the next activity
  kDone,        // everything written, FIN included
  kReadError,   // the source failed or ended early (a file shrank since it was opened)
  kWriteError,  // the stream refused (reset by the peer, connection closing)
};

// read(offset, len): the body's next bytes (1..len of them; they may point into a scratch
// buffer), or nullopt/empty on failure. write(data, fin): bytes accepted (fin counts only when
// all were), or nullopt when the stream is gone.
using BodyRead = std::function<std::optional<std::span<const uint8_t>>(uint64_t offset, size_t len)>;
using BodyWrite = std::function<std::optional<size_t>(std::span<const uint8_t> data, bool fin)>;

// Writes body bytes [offset, end) in reads of at most `chunk`, advancing `offset` by what the
// stream accepted, until the stream is full, the body is done, or `budget` bytes were read.
// An empty rest (offset == end) writes the FIN alone.
PumpStatus pump_body(uint64_t& offset, uint64_t end, size_t chunk, const BodyRead& read,
                     const BodyWrite& write, size_t budget = kMaxBodyBytesPerActivity);

// The same for a file body, written into the stream's send buffer with its zero-copy write
// (write_with(max, fill, fin): quic::Connection::stream_write_with or h3::Session::
// send_body_with), so a writer's own buffering is skipped and only what the stream has room
// for is read. The file is read (pread) into `scratch` (kChunk bytes) and copied from there:
// measured, a pread straight into a large send ring was slower than this copy out of a hot
// buffer (docs/performance.md).
using BodyWriteWith =
    std::function<std::optional<size_t>(size_t max, quic::FillBytes fill, bool fin)>;
PumpStatus pump_file(int fd, uint64_t& offset, uint64_t end, quic::MutBytes scratch,
                     const BodyWriteWith& write_with, size_t budget = kMaxBodyBytesPerActivity);

// Writes all n bytes to fd (a blocking file); false on an error.
bool write_all(int fd, const uint8_t* p, size_t n);
// The same for the spans in order, with writev (a stream's receive blocks, in place).
bool writev_all(int fd, std::span<const quic::Bytes> spans);

}  // namespace apps
