#include "apps/body_pump.h"

#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace apps {

PumpStatus pump_body(uint64_t& offset, uint64_t end, size_t chunk, const BodyRead& read,
                     const BodyWrite& write, size_t budget) {
  size_t used = 0;
  for (;;) {
    if (used >= budget && offset < end) return PumpStatus::kMore;
    size_t len = static_cast<size_t>(std::min<uint64_t>({end - offset, chunk, budget - used}));
    std::span<const uint8_t> data;
    if (len > 0) {
      auto got = read(offset, len);
      if (!got || got->empty() || got->size() > len) return PumpStatus::kReadError;
      data = *got;
    }
    const bool fin = offset + data.size() == end;
    auto n = write(data, fin);
    if (!n) return PumpStatus::kWriteError;
    offset += std::min(*n, data.size());
    used += data.size();  // what was read counts, accepted or not: it is the hook's work
    if (fin && *n == data.size()) return PumpStatus::kDone;
    if (*n < data.size()) return PumpStatus::kMore;  // send buffer full
  }
}

PumpStatus pump_file(int fd, uint64_t& offset, uint64_t end, quic::MutBytes scratch,
                     const BodyWriteWith& write_with, size_t budget) {
  size_t used = 0;
  for (;;) {
    if (used >= budget && offset < end) return PumpStatus::kMore;
    const size_t len =
        static_cast<size_t>(std::min<uint64_t>({end - offset, scratch.size(), budget - used}));
    uint64_t at = offset;
    bool failed = false;
    // Only what the stream has room for is read: nothing is read twice.
    auto fill = [&](quic::MutBytes dst) -> size_t {
      ssize_t got = pread(fd, scratch.data(), dst.size(), static_cast<off_t>(at));
      if (got <= 0) {
        failed = true;  // an error, or the end of a file that shrank since it was opened
        return 0;
      }
      std::memcpy(dst.data(), scratch.data(), static_cast<size_t>(got));
      at += static_cast<uint64_t>(got);
      return static_cast<size_t>(got);
    };
    auto n = write_with(len, fill, offset + len == end);  // fin only with all of it written
    if (n) {
      offset += *n;
      used += *n;
    }
    if (failed) return PumpStatus::kReadError;  // (a writer may refuse a short fill)
    if (!n) return PumpStatus::kWriteError;
    if (*n == len && offset == end) return PumpStatus::kDone;
    if (*n < len) return PumpStatus::kMore;  // the send buffer is full (or a short read)
  }
}

bool write_all(int fd, const uint8_t* p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

bool writev_all(int fd, std::span<const quic::Bytes> spans) {
  while (!spans.empty()) {
    iovec iov[quic::kMaxTakeSpans];
    const size_t count = std::min(spans.size(), quic::kMaxTakeSpans);
    for (size_t i = 0; i < count; ++i) {
      iov[i] = iovec{const_cast<uint8_t*>(spans[i].data()), spans[i].size()};
    }
    ssize_t w = writev(fd, iov, static_cast<int>(count));
    if (w < 0) return false;
    // A short writev: the rest of a partly written span goes with write_all, then the others.
    auto left = static_cast<size_t>(w);
    size_t i = 0;
    for (; i < count && left >= spans[i].size(); ++i) left -= spans[i].size();
    if (i < count && !write_all(fd, spans[i].data() + left, spans[i].size() - left)) return false;
    spans = spans.subspan(std::min(count, i + 1));
  }
  return true;
}

}  // namespace apps
