// Frames sealed with the real Initial AEAD into a server Endpoint (fuzz/sealed_packets_driver.h):
// the decrypted path of real packet protection, which server_packets (null AEAD) skips.
#include <cstddef>
#include <cstdint>

#include "sealed_packets_driver.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz_sealed_packets::run_input(data, size);
  return 0;
}
