// Short-lived certificates for WebTransport's serverCertificateHashes (W3C WebTransport,
// "verify a certificate hash"): a browser accepts a self-signed certificate named by its
// SHA-256 only if it is X.509v3, ECDSA P-256, currently valid, and valid for at most two
// weeks. `tquic serve --webtransport-echo` mints one at start-up unless given --cert/--key.
#pragma once

#include <array>
#include <cstdint>
#include <ctime>
#include <string>

#include "common/error.h"
#include "tls/test_certs.h"

namespace quic {

// The browsers' bound on the validity period (not_after - not_before).
inline constexpr time_t kMaxHashCertValidity = 14 * 24 * 3600;
// Backdating for clock skew between server and browser; counted inside the validity.
inline constexpr time_t kHashCertBackdate = 3600;

// An ECDSA P-256 self-signed certificate for `host` (CN and SAN dNSName), valid from
// now - kHashCertBackdate for `validity` seconds. Fails for a validity above
// kMaxHashCertValidity or not above the backdate (it would not be valid now).
Result<PemCertKey> mint_hash_certificate(const std::string& host, time_t now, time_t validity);

// SHA-256 of the leaf's DER SubjectPublicKeyInfo (what Chromium's
// --ignore-certificate-errors-spki-list pins, base64-encoded).
Result<std::array<uint8_t, 32>> spki_sha256(const std::string& cert_pem);

}  // namespace quic
