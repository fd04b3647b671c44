#include "tquicd/nft.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace bond {

namespace {

// nft takes a quoted interface name verbatim; refuse anything that could end the string.
bool plain_ifname(const std::string& name) {
  if (name.size() > kMaxInterfaceNameLength) return false;
  for (char c : name) {
    if (c <= ' ' || c > '~' || c == '"' || c == '\\') return false;
  }
  return true;
}

// The prefix with its host bits cleared ("10.77.0.9/24" -> "10.77.0.0/24"): nft refuses a
// prefix whose address is not the network's.
std::string network_of(IpPrefix p) {
  size_t bytes = p.v6 ? 16 : 4;
  for (size_t i = 0; i < bytes; ++i) {
    size_t bit = i * 8;
    if (bit >= p.length) {
      p.ip[i] = 0;
    } else if (p.length - bit < 8) {
      p.ip[i] &= static_cast<uint8_t>(0xff << (8 - (p.length - bit)));
    }
  }
  return p.to_string();
}

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

std::expected<std::string, std::string> nft_ruleset(const std::vector<IpPrefix>& pools,
                                                    const std::string& tunnel,
                                                    const std::string& uplink) {
  if (tunnel.empty() || !plain_ifname(tunnel)) return std::unexpected("bad tunnel name '" + tunnel + "'");
  if (!plain_ifname(uplink)) return std::unexpected("bad uplink name '" + uplink + "'");
  if (pools.empty()) return std::unexpected("no pools");
  const std::string tun = "\"" + tunnel + "\"";
  const std::string out = uplink.empty() ? "oifname != " + tun : "oifname \"" + uplink + "\"";
  std::string t = "table " + std::string(kNftTable) + "\ndelete table " + std::string(kNftTable) + "\n";
  t += "table " + std::string(kNftTable) + " {\n";
  t += "  chain postrouting {\n    type nat hook postrouting priority srcnat; policy accept;\n";
  for (const IpPrefix& p : pools) {
    t += std::string("    ") + (p.v6 ? "ip6" : "ip") + " saddr " + network_of(p) + " " + out +
         " masquerade\n";
  }
  t += "  }\n";
  // RFC 879 / RFC 6691: a SYN crossing the tunnel may announce no larger segment than the
  // route's MTU allows, or full-size segments would not fit the tunnel and die in a PMTU
  // black hole wherever ICMP is filtered.
  t += "  chain forward {\n    type filter hook forward priority mangle; policy accept;\n";
  t += "    iifname " + tun + " tcp flags syn / syn,rst tcp option maxseg size set rt mtu\n";
  t += "    oifname " + tun + " tcp flags syn / syn,rst tcp option maxseg size set rt mtu\n";
  t += "  }\n}\n";
  return t;
}

std::string nft_teardown() {
  return "delete table " + std::string(kNftTable) + "\n";
}

std::expected<void, std::string> nft_apply(const std::string& text) {
  int in[2], err[2];
  if (::pipe2(in, O_CLOEXEC) != 0) return std::unexpected(std::string("pipe: ") + std::strerror(errno));
  Fd in_r{in[0]}, in_w{in[1]};
  if (::pipe2(err, O_CLOEXEC) != 0) return std::unexpected(std::string("pipe: ") + std::strerror(errno));
  Fd err_r{err[0]}, err_w{err[1]};
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in_r.fd, 0);
  posix_spawn_file_actions_adddup2(&fa, err_w.fd, 1);
  posix_spawn_file_actions_adddup2(&fa, err_w.fd, 2);
  char arg0[] = "nft", arg1[] = "-f", arg2[] = "-";
  char* argv[] = {arg0, arg1, arg2, nullptr};
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, "nft", &fa, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return std::unexpected(std::string("cannot run nft: ") + std::strerror(rc));
  ::close(in_r.fd), in_r.fd = -1;
  ::close(err_w.fd), err_w.fd = -1;
  // The ruleset is far smaller than a pipe's buffer, so writing all before reading is safe.
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(in_w.fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  ::close(in_w.fd), in_w.fd = -1;
  std::string output;
  char buf[512];
  for (;;) {
    ssize_t n = ::read(err_r.fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    size_t room = kMaxNftOutput - std::min(kMaxNftOutput, output.size());
    output.append(buf, std::min(static_cast<size_t>(n), room));
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
  while (!output.empty() && (output.back() == '\n' || output.back() == ' ')) output.pop_back();
  return std::unexpected("nft failed (status " + std::to_string(status) + "): " + output);
}

}  // namespace bond
