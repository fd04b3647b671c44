// Renders the status model (tquicd/status.h) as human tables and as JSON, for the control
// socket (`tquicctl`), /api/status and the dashboard. The bond state heads every view.
#pragma once

#include <string>
#include <string_view>

#include "tquicd/status.h"

namespace bond {

enum class StatusView { kStatus, kLinks, kPaths, kConns, kFlows };

// Human-readable: a "bond: bonded ..." headline, then the view's table(s); ends with '\n'.
std::string format_text(const Status& s, StatusView view);
// One JSON object, no trailing newline: {"bond":"bonded",...,"links":[...]} with only the
// arrays the view names (kStatus: all of them).
std::string format_json(const Status& s, StatusView view);

// An event as one line: "#12 +5.250s failover lte: to fibre" and as a JSON object.
std::string format_event_text(const Event& e);
std::string format_event_json(const Event& e);

// Appends `text` as a JSON string literal (quotes included), escaping what RFC 8259 §7 needs.
void append_json_string(std::string& out, std::string_view text);

}  // namespace bond
