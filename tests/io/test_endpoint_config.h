// Endpoint configurations for the io tests: a server with a self-signed "localhost"
// certificate and a client that trusts it, both speaking hq-interop.
#pragma once

#include "core/endpoint.h"
#include "tls/test_certs.h"

namespace io::test {

inline quic::EndpointConfig endpoint_config(bool server) {
  static auto cert = quic::make_self_signed("localhost");
  quic::TlsConfig tc;
  tc.server = server;
  tc.alpn = {"hq-interop"};
  if (server) {
    tc.cert_pem = cert->cert_pem;
    tc.key_pem = cert->key_pem;
  } else {
    tc.ca_pem = cert->ca_pem;
    tc.server_name = "localhost";
  }
  quic::EndpointConfig ec;
  ec.server = server;
  ec.tls = *quic::make_tls_context(tc);
  return ec;
}

}  // namespace io::test
