// tquicctl: the command-line client of tquicd's control socket (docs/tquicd-control.md).
//   tquicctl [-s SOCKET] status|links|paths|conns|flows [--json]
//   tquicctl [-s SOCKET] set KEY VALUE | link up|down NAME | monitor [--json]
// Exit status: 0 ok, 1 the daemon answered with an error, 2 usage or connection failure.
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "tquicd/control.h"

namespace {

constexpr int kReplyTimeoutMs = 10'000;  // a one-shot request; monitor waits forever
constexpr size_t kMaxReplyBytes = 64u << 20;

int usage() {
  fprintf(stderr,
          "usage: tquicctl [-s SOCKET] COMMAND\n"
          "  status|links|paths|conns|flows [--json]\n"
          "  set KEY VALUE\n"
          "  link up|down NAME\n"
          "  monitor [--json]\n"
          "SOCKET defaults to /run/tquicd/control.sock\n");
  return 2;
}

int connect_to(const std::string& path) {
  sockaddr_un addr{};
  if (path.size() >= sizeof addr.sun_path) return -1;
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  addr.sun_family = AF_UNIX;
  memcpy(addr.sun_path, path.data(), path.size());
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Reads into `buf` until it holds `want` bytes, or a newline when want == 0. -1 on timeout.
int read_more(int fd, std::string& buf, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  int r = poll(&p, 1, timeout_ms);
  if (r == 0) return -1;
  char chunk[16384];
  ssize_t n = read(fd, chunk, sizeof chunk);
  if (n < 0 && errno == EINTR) return 1;
  if (n <= 0) return 0;
  buf.append(chunk, static_cast<size_t>(n));
  return 1;
}

// Streams a monitor until the daemon closes it (or the user interrupts).
int stream(int fd, std::string buf) {
  for (;;) {
    fwrite(buf.data(), 1, buf.size(), stdout);
    fflush(stdout);
    buf.clear();
    if (read_more(fd, buf, -1) <= 0) return 0;
  }
}

int run(const std::string& socket_path, const std::string& line) {
  int fd = connect_to(socket_path);
  if (fd < 0) {
    fprintf(stderr, "tquicctl: %s: %s\n", socket_path.c_str(), strerror(errno));
    return 2;
  }
  if (!write_all(fd, line + "\n")) {
    fprintf(stderr, "tquicctl: write: %s\n", strerror(errno));
    return 2;
  }
  std::string buf;
  size_t nl;
  // The head line is short, but one read can bring it with much of the body (a status of
  // many clients): only a head that is still without its newline past kMaxControlLine is bad.
  while ((nl = buf.find('\n')) == std::string::npos) {
    if (buf.size() > bond::kMaxControlLine) {
      fprintf(stderr, "tquicctl: reply line too long\n");
      return 2;
    }
    int r = read_more(fd, buf, kReplyTimeoutMs);
    if (r <= 0) {
      fprintf(stderr, "tquicctl: %s\n", r < 0 ? "no reply from tquicd" : "connection closed");
      return 2;
    }
  }
  std::string head = buf.substr(0, nl);
  buf.erase(0, nl + 1);
  if (head.starts_with("error ")) {
    fprintf(stderr, "tquicctl: %s\n", head.c_str() + 6);
    return 1;
  }
  if (head == "ok monitor") return stream(fd, std::move(buf));
  size_t want = 0;
  auto [p, ec] = std::from_chars(head.data() + std::min<size_t>(3, head.size()),
                                 head.data() + head.size(), want);
  if (!head.starts_with("ok ") || ec != std::errc() || p != head.data() + head.size() ||
      want > kMaxReplyBytes) {
    fprintf(stderr, "tquicctl: bad reply '%s'\n", head.substr(0, 80).c_str());
    return 2;
  }
  while (buf.size() < want) {
    if (read_more(fd, buf, kReplyTimeoutMs) <= 0) {
      fprintf(stderr, "tquicctl: reply cut short\n");
      return 2;
    }
  }
  fwrite(buf.data(), 1, want, stdout);
  close(fd);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string socket_path(bond::kDefaultControlSocket);
  std::vector<std::string> words;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "-s" && i + 1 < argc) {
      socket_path = argv[++i];
    } else if (a == "-h" || a == "--help") {
      usage();
      return 0;
    } else {
      words.emplace_back(a);
    }
  }
  if (words.empty()) return usage();
  std::string line;
  for (const auto& w : words) line += (line.empty() ? "" : " ") + w;
  // Checked here too, so a typo gets the usage text rather than a round trip.
  auto req = bond::parse_control_line(line);
  if (!req) {
    fprintf(stderr, "tquicctl: %s\n", req.error().c_str());
    return usage();
  }
  return run(socket_path, line);
}
