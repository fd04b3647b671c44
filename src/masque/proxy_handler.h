// How a MASQUE proxy application answers extended CONNECT requests whose handler (extension.h)
// must decide first: validation, name resolution and access control can take time, so the
// response is either known at once or sent later. The application calls on_request() when the
// request head arrived (its kHeaders event) and sends what it returns, or what the handler
// later passes to `respond` (always from the loop, outside session calls, so the application
// may call Session::send_response right away or queue it).
//
// A handler that is a plain h3::StreamHandler (no ProxyHandler) is answered 200 with
// capsule-protocol: ?1 by the application (apps/masque_proxy.h).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "h3/extension.h"
#include "masque/proxy_status.h"

namespace masque {

struct ConnectResponse {
  uint16_t status = 200;
  std::vector<h3::Field> fields;  // :status included
};

// 2xx: the tunnel is up; capsule-protocol: ?1 (RFC 9297 §3.4, RFC 9298 §3.5).
ConnectResponse established_response();
// :status plus `proxy-status` (RFC 9209 §2) naming `proxy_name`.
ConnectResponse refusal_response(std::string_view proxy_name, const Refusal& r);

class ProxyHandler : public h3::StreamHandler {
 public:
  using Respond = std::function<void(ConnectResponse)>;
  // Called once, on the request head: the response now, or nullopt when `respond` will be
  // called later (once, and never after on_closed()).
  virtual std::optional<ConnectResponse> on_request(Respond respond) = 0;
};

}  // namespace masque
