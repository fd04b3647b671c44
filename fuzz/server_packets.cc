// Whole datagrams into a server Endpoint with null packet protection: Initial/Handshake/1-RTT
// packets are plaintext, so the fuzzer mutates frames inside packets that pass decryption.
// The input format and the handshake-prefix modes are described in server_packets_driver.h.
#include <cstddef>
#include <cstdint>

#include "server_packets_driver.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz_server_packets::run_input(data, size);
  return 0;
}
