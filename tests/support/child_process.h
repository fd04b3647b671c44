// Running the built binaries from end-to-end tests: fork/exec with the child's stdout on a pipe,
// reading lines as they come, waiting with a timeout (the child is killed past it).
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace test_support {

struct Child {
  pid_t pid = -1;
  int out = -1;  // the child's stdout
};

// merge_stderr: the child's stderr goes to the same pipe as its stdout.
inline Child spawn(const std::vector<std::string>& args, bool merge_stderr = false) {
  int fds[2];
  if (pipe(fds) != 0) return {};
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], 1);
    if (merge_stderr) dup2(fds[1], 2);
    close(fds[0]);
    close(fds[1]);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(fds[1]);
  return Child{pid, fds[0]};
}

inline std::string read_all(int fd) {
  std::string s;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) s.append(buf, static_cast<size_t>(n));
  return s;
}

// Reads lines until one starts with `prefix`; returns the rest of it ("" at end of output).
// Everything read is appended to `seen`.
inline std::string read_line_with(int fd, const std::string& prefix, std::string& seen) {
  char ch;
  std::string line;
  while (read(fd, &ch, 1) == 1) {
    seen += ch;
    if (ch != '\n') {
      line += ch;
      continue;
    }
    if (line.rfind(prefix, 0) == 0) return line.substr(prefix.size());
    line.clear();
  }
  return "";
}

// The exit code, or -1 when it was killed (by us past `timeout`, or by a signal).
inline int wait_for(pid_t pid, std::chrono::seconds timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  for (;;) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (std::chrono::steady_clock::now() > end) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

struct Outcome {
  int rc;
  std::string out;
};

// Runs argv with stdout captured (stderr passes through unless merged). Killed after `timeout`.
inline Outcome run(const std::vector<std::string>& args,
                   std::chrono::seconds timeout = std::chrono::seconds(30),
                   bool merge_stderr = false) {
  Child c = spawn(args, merge_stderr);
  std::string out;
  std::thread reader([&] { out = read_all(c.out); });
  int rc = wait_for(c.pid, timeout);
  reader.join();
  close(c.out);
  return {rc, out};
}

// A long-running child (server, relay) started with a "ready" line to wait for; stop() sends
// SIGTERM and collects the rest of its output.
struct Daemon {
  Child child;
  std::string log;
  std::string start(const std::vector<std::string>& args, const std::string& ready_prefix) {
    child = spawn(args);
    if (child.pid < 0) return "";
    return read_line_with(child.out, ready_prefix, log);
  }
  std::string wait_line(const std::string& prefix) {
    return read_line_with(child.out, prefix, log);
  }
  int stop() {
    if (child.pid < 0) return 0;
    kill(child.pid, SIGTERM);
    int rc = wait_for(child.pid, std::chrono::seconds(10));
    log += read_all(child.out);
    close(child.out);
    child.pid = -1;
    return rc;
  }
  ~Daemon() { stop(); }
};

// A `tquic server` / `tquic perf server` child, ready once it printed its address and its
// certificate's hash.
struct Server : Daemon {
  std::string address, sha256;
  bool start_server(const std::vector<std::string>& args) {
    address = start(args, "listening on ");
    sha256 = wait_line("certificate sha256 ");
    return !address.empty();
  }
  std::string port() const { return address.substr(address.rfind(':') + 1); }
};

}  // namespace test_support
