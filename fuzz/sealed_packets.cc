// Frames sealed with real packet protection (Initial AES-128-GCM, 1-RTT ChaCha20-Poly1305) into a
// server Endpoint (fuzz/sealed_packets_driver.h): the decrypted path of the real AEAD, which
// server_packets (null AEAD) never takes.
#include <cstddef>
#include <cstdint>

#include "sealed_packets_driver.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz_sealed_packets::run_input(data, size);
  return 0;
}
