#include "tquicd/control.h"

#include <algorithm>
#include <array>
#include <utility>
#include <vector>

namespace bond {
namespace {

// Splits on runs of spaces/tabs; at most kMaxWords words (more is an error, not a truncation).
constexpr size_t kMaxWords = 4;

bool split(std::string_view line, std::vector<std::string_view>& words) {
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    if (i == line.size()) break;
    size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t') ++j;
    if (words.size() == kMaxWords) return false;
    words.push_back(line.substr(i, j - i));
    i = j;
  }
  return true;
}

constexpr std::array<std::pair<std::string_view, StatusView>, 5> kViews{{
    {"status", StatusView::kStatus},
    {"links", StatusView::kLinks},
    {"paths", StatusView::kPaths},
    {"conns", StatusView::kConns},
    {"flows", StatusView::kFlows},
}};

// "--json" as the only optional argument of views and monitor.
std::expected<bool, std::string> json_flag(const std::vector<std::string_view>& w) {
  if (w.size() == 1) return false;
  if (w.size() == 2 && w[1] == "--json") return true;
  return std::unexpected(std::string(w[0]) + ": usage: " + std::string(w[0]) + " [--json]");
}

}  // namespace

std::expected<ControlRequest, std::string> parse_control_line(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.size() >= kMaxControlLine) return std::unexpected("line too long");
  for (char c : line) {
    auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u >= 0x7f) return std::unexpected("bad character in line");
  }
  std::vector<std::string_view> w;
  if (!split(line, w)) return std::unexpected("too many words");
  if (w.empty()) return std::unexpected("empty line");
  ControlRequest r;
  for (const auto& [name, view] : kViews) {
    if (w[0] != name) continue;
    auto json = json_flag(w);
    if (!json) return std::unexpected(json.error());
    r.view = view;
    r.json = *json;
    return r;
  }
  if (w[0] == "monitor") {
    auto json = json_flag(w);
    if (!json) return std::unexpected(json.error());
    r.command = ControlCommand::kMonitor;
    r.json = *json;
    return r;
  }
  if (w[0] == "set") {
    if (w.size() != 3) return std::unexpected("set: usage: set KEY VALUE");
    r.command = ControlCommand::kSet;
    r.key = w[1];
    r.value = w[2];
    return r;
  }
  if (w[0] == "link") {
    if (w.size() != 3 || (w[1] != "up" && w[1] != "down"))
      return std::unexpected("link: usage: link up|down NAME");
    r.command = ControlCommand::kLink;
    r.up = w[1] == "up";
    r.key = w[2];
    return r;
  }
  return std::unexpected("unknown command '" + std::string(w[0].substr(0, 32)) + "'");
}

void ControlSession::on_input(std::string_view bytes) {
  if (closing_) return;
  if (monitor_) {
    // A monitor takes no further requests: any input ends it.
    closing_ = true;
    return;
  }
  // Lines are cut out of `bytes` as they complete; `in_` holds only an unfinished line, and
  // never more than kMaxControlLine bytes of it.
  while (!bytes.empty() && !closing_ && !monitor_) {
    size_t nl = bytes.find('\n');
    size_t take = nl == std::string_view::npos ? bytes.size() : nl;
    if (in_.size() + take >= kMaxControlLine) return fail("line too long");
    in_.append(bytes.substr(0, take));
    if (nl == std::string_view::npos) return;
    bytes.remove_prefix(nl + 1);
    std::string line = std::move(in_);
    in_.clear();
    handle_line(line);
  }
}

void ControlSession::on_eof() {
  closing_ = true;
  in_.clear();
}

void ControlSession::handle_line(std::string_view line) {
  auto req = parse_control_line(line);
  if (!req) return fail(req.error());
  switch (req->command) {
    case ControlCommand::kView: {
      const Status& s = backend_.status();
      reply_ok(req->json ? format_json(s, req->view) + "\n" : format_text(s, req->view));
      return;
    }
    case ControlCommand::kSet: {
      auto r = backend_.set(req->key, req->value);
      if (!r) return fail(r.error());
      return reply_ok(r->empty() ? *r : *r + "\n");
    }
    case ControlCommand::kLink: {
      auto r = backend_.link_admin(req->key, req->up);
      if (!r) return fail(r.error());
      return reply_ok(r->empty() ? *r : *r + "\n");
    }
    case ControlCommand::kMonitor:
      monitor_ = true;
      monitor_json_ = req->json;
      // The stream starts with the bond state, then follows events logged from now on.
      last_seq_ = backend_.events().last_seq();
      out_ += "ok monitor\n";
      out_ += req->json ? format_json(backend_.status(), StatusView::kLinks) + "\n"
                        : format_text(backend_.status(), StatusView::kLinks);
      in_.clear();
      return;
  }
}

void ControlSession::pump_events() {
  if (!monitor_ || closing_) return;
  uint64_t missed = 0;
  auto events = backend_.events().since(last_seq_, kMaxControlEventsPerPoll, &missed);
  if (missed) {
    out_ += monitor_json_ ? "{\"missed\":" + std::to_string(missed) + "}\n"
                          : "missed " + std::to_string(missed) + " events\n";
  }
  for (const auto& e : events) {
    out_ += monitor_json_ ? format_event_json(e) : format_event_text(e);
    out_ += '\n';
    last_seq_ = e.seq;
  }
  // A reader that does not keep up is cut off rather than buffered without bound.
  if (out_.size() > kMaxControlOutput) {
    out_.clear();
    fail("monitor output overflow");
  }
}

void ControlSession::reply_ok(std::string_view body) {
  out_ += "ok " + std::to_string(body.size()) + "\n";
  out_ += body;
}

void ControlSession::fail(std::string_view message) {
  out_ += "error ";
  out_ += message;
  out_ += '\n';
  closing_ = true;
  in_.clear();
}

}  // namespace bond
