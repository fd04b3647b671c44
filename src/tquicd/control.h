// tquicd's control protocol, sans-I/O (docs/tquicd-control.md). One line per request, at most
// kMaxControlLine bytes including the '\n', printable ASCII only:
//   status | links | paths | conns | flows   [--json]
//   set KEY VALUE
//   link up|down NAME
//   monitor [--json]
// Replies: "ok <n>\n" followed by exactly n bytes of body, or "error <message>\n". A bad line
// (over-long, non-printable bytes, unknown command, wrong arguments) gets an error reply and the
// session ends. `monitor` answers "ok monitor\n" and then streams one line per event (text or
// JSON) until the client closes; a monitor whose output backs up past kMaxControlOutput is ended.
// The daemon implements ControlBackend; the socket glue is control_server.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

#include "tquicd/status.h"
#include "tquicd/status_format.h"

namespace bond {

inline constexpr const char* kDefaultControlSocket = "/run/tquicd/control.sock";  // control.socket
inline constexpr size_t kMaxControlLine = 4096;          // request line, '\n' included
inline constexpr size_t kMaxControlOutput = 1 << 20;     // unsent reply/monitor bytes per client
inline constexpr size_t kMaxControlEventsPerPoll = 256;  // events appended per pump

// What the daemon provides to the control plane.
class ControlBackend {
 public:
  virtual ~ControlBackend() = default;
  // The current state; called once per request (the daemon refreshes it or keeps it current).
  virtual const Status& status() = 0;
  virtual const EventLog& events() = 0;
  // `set KEY VALUE`: applies a live setting. Returns a message for the operator (may be empty)
  // or an error ("unknown key", "bad value ...").
  virtual std::expected<std::string, std::string> set(std::string_view key,
                                                      std::string_view value) = 0;
  // `link up|down NAME`: administratively enables or disables a link.
  virtual std::expected<std::string, std::string> link_admin(std::string_view name, bool up) = 0;
};

enum class ControlCommand { kView, kSet, kLink, kMonitor };

struct ControlRequest {
  ControlCommand command = ControlCommand::kView;
  StatusView view = StatusView::kStatus;
  bool json = false;
  bool up = false;           // link up|down
  std::string key, value;    // set KEY VALUE; link NAME in key
};

// Parses one line without its '\n' (a trailing '\r' is allowed). Errors are the message for
// the "error" reply.
std::expected<ControlRequest, std::string> parse_control_line(std::string_view line);

// One client's session: bytes in, bytes out. Not thread-safe; lives on the daemon's loop.
class ControlSession {
 public:
  explicit ControlSession(ControlBackend& backend) : backend_(backend) {}

  // Feeds received bytes; handles every complete line. After an error no more input is read.
  void on_input(std::string_view bytes);
  // Appends events logged since the last pump to a monitor's output (no-op otherwise).
  void pump_events();
  // The client closed its sending side: the session ends once its replies are flushed.
  void on_eof();

  std::string_view output() const { return out_; }
  void consume(size_t n) { out_.erase(0, n); }
  // The session is over once its output is flushed.
  bool closing() const { return closing_; }
  bool monitoring() const { return monitor_; }

 private:
  void handle_line(std::string_view line);
  void reply_ok(std::string_view body);
  void fail(std::string_view message);

  ControlBackend& backend_;
  std::string in_, out_;
  bool closing_ = false;
  bool monitor_ = false, monitor_json_ = false;
  uint64_t last_seq_ = 0;
};

}  // namespace bond
