// Backend factories behind make_aead()/make_header_protector() (aead.cc). Internal to
// src/crypto: callers go through aead.h. Keys are already length-checked.
#pragma once

#include <memory>

#include "crypto/aead.h"

namespace quic::backend {

std::unique_ptr<Aead> openssl_aead(CipherSuite suite, Bytes key);
std::unique_ptr<HeaderProtector> openssl_hp(CipherSuite suite, Bytes hp_key);
std::unique_ptr<Aead> gnutls_aead(CipherSuite suite, Bytes key);
std::unique_ptr<HeaderProtector> gnutls_hp(CipherSuite suite, Bytes hp_key);
std::unique_ptr<Aead> null_aead();
std::unique_ptr<HeaderProtector> null_hp();

}  // namespace quic::backend
