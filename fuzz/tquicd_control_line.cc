// Fuzzes the control protocol (tquicd/control.h): arbitrary bytes, delivered in chunks whose
// sizes the input chooses, into a session over a small state. No crash; a session that saw a
// bad line stops; output stays bounded; every reply is "ok N" + N bytes or "error ..." lines.
#include <cstdlib>
#include <string_view>

#include "tquicd/control.h"

namespace {

class Backend : public bond::ControlBackend {
 public:
  Backend() {
    status_.links.resize(2);
    status_.links[0].name = "fibre";
    status_.links[1].name = "lte";
    status_.bond = bond::derive_bond_state(status_.links);
    log_.add({0, 1, bond::EventKind::kPathUp, "fibre", ""});
  }
  const bond::Status& status() override { return status_; }
  const bond::EventLog& events() override { return log_; }
  std::expected<std::string, std::string> set(std::string_view k, std::string_view) override {
    if (k == "log.level") return "ok";
    return std::unexpected("unknown key");
  }
  std::expected<std::string, std::string> link_admin(std::string_view n, bool up) override {
    for (auto& l : status_.links)
      if (l.name == n) {
        l.admin_down = !up;
        return "";
      }
    return std::unexpected("no such link");
  }
  bond::EventLog log_{8};

 private:
  bond::Status status_;
};

// Checks the framing of everything a session wrote before it started monitoring.
void check_replies(std::string_view out) {
  while (!out.empty()) {
    size_t nl = out.find('\n');
    if (nl == std::string_view::npos) std::abort();
    std::string_view head = out.substr(0, nl);
    out.remove_prefix(nl + 1);
    if (head.starts_with("error ")) continue;
    if (head == "ok monitor") return;  // the stream that follows is not framed
    if (!head.starts_with("ok ")) std::abort();
    size_t n = std::strtoul(std::string(head.substr(3)).c_str(), nullptr, 10);
    if (n > out.size()) std::abort();
    out.remove_prefix(n);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  (void)bond::parse_control_line(in);
  Backend backend;
  bond::ControlSession session(backend);
  std::string all;
  // The first byte picks the chunk size, so lines split across reads are covered.
  size_t chunk = in.empty() ? 1 : static_cast<unsigned char>(in[0]) % 64 + 1;
  for (size_t i = 0; i < in.size(); i += chunk) {
    session.on_input(in.substr(i, chunk));
    if (i % 3 == 0) backend.log_.add({0, i, bond::EventKind::kFailover, "lte", ""});
    session.pump_events();
    all += session.output();
    session.consume(session.output().size());
    if (all.size() > 64 * (size + 1) * 1024) std::abort();  // replies stay proportionate
  }
  session.on_eof();
  if (!session.closing()) std::abort();
  check_replies(all);
  return 0;
}
