#include "tquicd/quota_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "tquicd/quota.h"

namespace bond {

namespace {

std::string failure(const std::string& step, const std::string& path) {
  return step + " " + path + ": " + std::strerror(errno);
}

// Closes the descriptor on every path out.
struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

bool write_all(int fd, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

std::expected<void, std::string> write_state_file(const std::string& path, const std::string& text) {
  std::string tmp = path + ".tmp";
  {
    Fd f{::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)};
    if (f.fd < 0) return std::unexpected(failure("open", tmp));
    if (!write_all(f.fd, text)) return std::unexpected(failure("write", tmp));
    if (::fsync(f.fd) != 0) return std::unexpected(failure("fsync", tmp));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string e = failure("rename", tmp);
    ::unlink(tmp.c_str());
    return std::unexpected(e);
  }
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash);
  Fd d{::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (d.fd < 0 || ::fsync(d.fd) != 0) return std::unexpected(failure("fsync directory", dir));
  return {};
}

std::expected<std::optional<std::string>, std::string> read_state_file(const std::string& path) {
  Fd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (f.fd < 0) {
    if (errno == ENOENT) return std::optional<std::string>{};
    return std::unexpected(failure("open", path));
  }
  std::string text;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(f.fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::unexpected(failure("read", path));
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > kMaxQuotaStateBytes) return std::unexpected(path + ": larger than 64 KiB");
  }
  return std::optional<std::string>(std::move(text));
}

}  // namespace bond
